"""The OpenAPI 3 document, generated from the routes and the marshmallow schemas that
validate their requests (apispec), so the document cannot drift from the code."""
import re
from decimal import Decimal

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from services.audit.schemas import Moment as AuditMoment
from services.cycle.schemas import Moment as CycleMoment
from services.planning.content import ExactDecimal
from shared.moments import FORMS as MOMENT_FORMS
from shared.schema_forms import add_forms

from .event_payloads import ByEventType, named_payloads
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .schemas import DocumentSchema, ErrorSchema
from .web import CORRELATION_HEADER

# what shared.moments.read takes: a date, or a time with its zone (ECMA syntax, no (?P<>))
MOMENT_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
                  r"(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$")
SECURITY = [{"bearerAuth": []}, {"apiKeyAuth": []}]
# the headers errors.error_headers adds to an error's answer
ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"description": "The schemes to authenticate with",
                               "schema": {"type": "string"}}},
    415: {"Accept-Encoding": {"description": "`identity` when a compressed body was refused",
                              "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds until a login may be tried again",
                          "schema": {"type": "integer"}}},
}
ERRORS = {
    400: "Bad input: malformed JSON, a wrong type, an unknown field or parameter; "
         "`field` names it",
    401: "No credentials, or credentials that are not valid (any more)",
    403: "Outside the caller's role or region scope",
    404: "No such resource (unknown village code, ...)",
    408: "The body stopped arriving (nothing for GATEWAY_CLIENT_TIMEOUT seconds); the "
         "connection is closed: send the request again",
    409: "The state changed meanwhile (version conflict), or it already exists",
    413: "The body is larger than the operation allows (1 MiB; imports 8 MiB, "
         "attachments 28 MiB, a login 8 KiB; 1 KiB to an operation that takes none); "
         "refused unread, the connection closed",
    414: "The path and query string are longer than 8,192 characters (`field`: url)",
    415: "The body is not application/json in UTF-8, or is compressed (`field`: "
         "Content-Encoding, with `Accept-Encoding: identity`): send it as plain JSON",
    422: "Understood but refused (a rule of the programme, or an Idempotency-Key reused "
         "for a different request)",
    429: "Too many failed logins: wait for Retry-After seconds",
    431: "A header line is longer than 8,192 characters (`field` names the header), or "
         "more than 100 header lines or 64 KiB of headers in all (`field`: headers)",
    502: "A service failed on this request (logged)",
    503: "A service or RabbitMQ is unavailable or did not answer in time; retry later",
}


PAYLOADS = named_payloads()


def schema_name(schema) -> str:
    """Components named after their service, so two services' MemberSchema never meet;
    an event type's payload schema keeps its own name (`VillageRegisteredPayload`)."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema") or cls.__name__
    if cls in PAYLOADS:
        return name
    parts = cls.__module__.split(".")
    if len(parts) >= 3 and parts[0] == "services" and parts[1] != "gateway":
        return parts[1].capitalize() + name
    return name


def document(routes) -> dict:
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    spec = APISpec(
        title="PLPBK platform API", version="1.0.0", openapi_version="3.0.3",
        plugins=[plugin], info={"description": _DESCRIPTION})
    add_forms(plugin)
    plugin.converter.add_attribute_function(_checks_written_as_code)
    plugin.converter.add_attribute_function(_typed_by_event_type)
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "A token from POST /api/v1/auth/login (people)"})
    spec.components.security_scheme("apiKeyAuth", {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "A key from `plpbk keys issue` (systems)"})
    for status, text in ERRORS.items():
        spec.components.response(str(status), {
            "description": text, "headers": {**_correlation_header(), **ERROR_HEADERS.get(
                status, {})},
            "content": {"application/json": {"schema": "Error"}}})
    by_path = {}
    for route in routes:
        by_path.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    for path, operations in by_path.items():
        spec.path(path=path, operations=operations)
    return _plain(spec.to_dict())


def _operation(route) -> dict:
    operation = {
        "operationId": route.name, "summary": route.summary, "tags": [route.tag],
        "description": _description(route),
        "parameters": _parameters(route),
        "responses": _responses(route),
        "security": ([{}] + SECURITY) if route.public else SECURITY,
    }
    if route.body is not None:   # the schema instance the pipeline validates with
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": route.body()}}}
    return operation


def _description(route) -> str:
    rpc = getattr(route.action, "rpc", None)
    parts = [route.description] if route.description else []
    if rpc:
        parts.append(f"Calls `{rpc}` over nameko RPC as the authenticated principal.")
    if route.idempotent:
        parts.append(f"Send an `{IDEMPOTENCY_HEADER}` to make retries safe.")
    return "\n\n".join(parts)


def _parameters(route) -> list:
    parameters = []
    if route.path_params is not None:
        parameters.append({"in": "path", "schema": route.path_params})
    if route.query is not None:
        parameters.append({"in": "query", "schema": route.query})
    parameters.append({"in": "header", "name": CORRELATION_HEADER, "required": False,
                       "description": "Your id for this request (echoed back; logged with "
                                      "every step); one is made up when absent",
                       "schema": {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{1,128}$"}})
    if route.idempotent:
        parameters.append({
            "in": "header", "name": IDEMPOTENCY_HEADER, "required": False,
            "description": "Retries with the same key get the first answer and record "
                           "nothing twice (kept 24 h); a different request with a used "
                           "key is refused with 422",
            "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,200}$"}})
    return parameters


def _responses(route) -> dict:
    success = route.response if route.response is not None else DocumentSchema
    headers = _correlation_header()
    if route.location:
        headers["Location"] = {"description": "The path of what was created",
                               "schema": {"type": "string"}}
    responses = {str(route.status): {
        "description": route.summary, "headers": headers,
        "content": {route_content_type(route): {"schema": success}}}}
    for status, extra in route.responses.items():
        responses[str(status)] = extra
    statuses = [400, 401, 403, 404, 409, 414, 422, 431, 502, 503]  # services refuse reads too
    if route.body is not None:
        statuses += [408, 413, 415]
    statuses += list(route.errors)
    for status in sorted(set(statuses)):
        responses.setdefault(str(status), {"$ref": f"#/components/responses/{status}"})
    return responses


def route_content_type(route) -> str:
    return getattr(route.action, "content_type", "application/json")


def _correlation_header() -> dict:
    return {CORRELATION_HEADER: {"description": "The request's correlation id",
                                 "schema": {"type": "string"}}}


def _checks_written_as_code(self, field, **kwargs) -> dict:
    """The services' fields that check their text in code rather than with a Regexp
    validator (which apispec reads), stated as the pattern they enforce (the platform's
    own: shared/schema_forms.py)."""
    if isinstance(field, (AuditMoment, CycleMoment)):
        stated = {"pattern": MOMENT_PATTERN}
        if "ISO-8601" not in field.metadata.get("description", ""):
            stated["description"] = (field.metadata.get("description", "") +
                                     f" {MOMENT_FORMS[0].upper()}{MOMENT_FORMS[1:]}.").strip()
        return stated
    if isinstance(field, ExactDecimal):
        return {"pattern": rf"^[0-9]+(\.[0-9]{{1,{field.places}}})?$",
                "description": f"A decimal string above 0 and at most {field.maximum}."}
    return {}


def _typed_by_event_type(self, field, **kwargs) -> dict:
    """A recorded event typed by its `type` (event_payloads.ByEventType): a component
    oneOf its entry schemas, with a discriminator on `type` a generated client reads."""
    if not isinstance(field, ByEventType):
        return {}
    if field.union_name not in self.spec.components.schemas:
        mapping = {type_: self.resolve_nested_schema(entry)["$ref"]
                   for type_, entry in field.entries.items()}
        self.spec.components.schema(field.union_name, {
            "description": field.union_description,
            "oneOf": [{"$ref": ref} for ref in mapping.values()],
            "discriminator": {"propertyName": "type", "mapping": mapping}})
    return {"$ref": f"#/components/schemas/{field.union_name}"}


def _plain(node):
    """JSON-ready: Decimals into strings, without the x-decimal mark (schema_forms states
    a decimal's bounds in its description)."""
    if isinstance(node, dict):
        node.pop("x-decimal", None)
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    return str(node) if isinstance(node, Decimal) else node


_DESCRIPTION = re.sub(r"\s+", " ", """
The public HTTP/JSON API of the PLPBK platform. People log in at POST /api/v1/auth/login
and send the token as `Authorization: Bearer <token>`; systems send `X-API-Key`.
Every principal has a role and a region scope (a Kemendagri code prefix; empty =
national) and sees and changes nothing outside it. Every error answers
{"error", "message", "field"}. Lists are paged (page, page_size).
""").strip()
