"""An answer checked against the schema /openapi.json documents for it, as a client
generated from the document reads it (OpenAPI 3.0 `nullable` as JSON Schema's null)."""
import jsonschema_rs
import requests


def schema_errors(base, method, template, answer) -> list:
    """What in the answer the documented schema of its status refuses ([] when none)."""
    document = requests.get(f"{base}/openapi.json", timeout=60).json()
    responses = document["paths"][template][method.lower()]["responses"]
    documented = responses[str(answer.status_code)]
    if "$ref" in documented:
        documented = document["components"]["responses"][documented["$ref"].rsplit("/")[-1]]
    schema = _json_schema(documented["content"]["application/json"]["schema"])
    schema["definitions"] = _json_schema(document["components"]["schemas"])
    return [error.message for error in
            jsonschema_rs.Draft4Validator(schema).iter_errors(answer.json())]


def _json_schema(node):
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if isinstance(node.get("$ref"), str):
        node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/definitions/")
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node
