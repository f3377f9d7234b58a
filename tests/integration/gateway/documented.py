"""An answer checked against the schema /openapi.json documents for it, as a client
generated from the document reads it (OpenAPI 3.0 `nullable` as JSON Schema's null)."""
import jsonschema_rs
import requests


def schema_errors(base, method, template, answer) -> list:
    """What in the answer the documented schema of its status refuses ([] when none)."""
    document, documented = _documented(base, method, template, answer)
    return refused(document, documented, answer.json())


def refused(document, documented, value) -> list:
    """What in value the schema `documented` (of the OpenAPI document) refuses."""
    schema = _json_schema(documented)
    schema["definitions"] = _json_schema(document["components"]["schemas"])
    return [error.message for error in
            jsonschema_rs.Draft4Validator(schema).iter_errors(value)]


def unnamed_fields(base, method, template, answer) -> list:
    """The answer's fields its documented schema does not name, as paths (a list's and a
    page's items too, an item of a oneOf by its discriminator): an open object admits
    them, but a generated client has no type for them ([] when it has one for each)."""
    document, documented = _documented(base, method, template, answer)
    schemas = document["components"]["schemas"]

    def resolved(schema, value):
        if "$ref" in schema:
            return resolved(schemas[schema["$ref"].rsplit("/")[-1]], value)
        chosen = schema.get("discriminator")   # oneOf by a property: the one it names
        if chosen and isinstance(value, dict):
            ref = chosen["mapping"].get(value.get(chosen["propertyName"]))
            return resolved({"$ref": ref}, value) if ref else {}
        return schema

    def unnamed(value, schema, path):
        schema = resolved(schema, value)
        if isinstance(value, list):
            return [found for index, item in enumerate(value)
                    for found in unnamed(item, schema.get("items", {}), f"{path}[{index}]")]
        named = schema.get("properties", {})
        found = [f"{path}.{key}" for key in value if key not in named]
        if isinstance(value.get("items"), list) and "items" in named:
            found += unnamed(value["items"], named["items"], f"{path}.items")
        return found

    return unnamed(answer.json(), documented, "answer")


def _documented(base, method, template, answer):
    """The document, and the schema it gives the answer's status."""
    document = requests.get(f"{base}/openapi.json", timeout=60).json()
    responses = document["paths"][template][method.lower()]["responses"]
    documented = responses[str(answer.status_code)]
    if "$ref" in documented:
        documented = document["components"]["responses"][documented["$ref"].rsplit("/")[-1]]
    return document, documented["content"]["application/json"]["schema"]


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
