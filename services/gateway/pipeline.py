"""One request through the gateway: the same steps for every route.

correlation id -> what the head alone decides (credentials, role, path parameters, a
region named in the path) -> query and body validated with the route's schemas -> region
scope -> (writes with Idempotency-Key: the first answer again, or) the route's action ->
JSON answer with X-Correlation-Id.

Every failure on the way is a CommandRejected with a status and the field at fault,
answered as {"error", "message", "field"}; nothing here lets an exception escape.
"""
import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from marshmallow import ValidationError, fields, validate
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from shared.chassis.access import in_scope
from shared.chassis.errors import CommandRejected, Forbidden, InvalidInput, load
from shared.patterns import whole_number

from . import idempotency
from .auth import Principal
from .errors import (PayloadTooLarge, Unauthorized, UnsupportedMediaType, error_body,
                     error_headers)
from .metrics import IDEMPOTENT_REPLAYS
from .routing import READ_ONLY_ROLES, Reply, Route
from .web import CORRELATION_HEADER, CORRELATION_PATTERN, error_response, json_response

log = logging.getLogger(__name__)


@dataclass
class Call:
    """What an action gets: the request, validated, and who asks."""
    route: Route
    request: Any                 # werkzeug Request
    correlation_id: str
    principal: Principal | None = None
    path: dict = None            # path parameters, validated
    query: dict = None           # query parameters, loaded (typed)
    query_args: dict = None      # query parameters as sent, numbers as numbers, for services
    body: Any = None             # the JSON body as sent, for services (they validate too)
    loaded: Any = None           # the body loaded by the route's schema
    service_key: str | None = None   # idempotency key passed down to services
    upstream: Any = None         # services.gateway.upstream.Upstream
    tools: Any = None            # the gateway's own capabilities (login, health, ...)


def respond(route, request, path_values, tools) -> Any:
    correlation_id = uuid.uuid4().hex
    try:
        correlation_id = _correlation_id(request.headers) or correlation_id
        call = Call(route, request, correlation_id, tools=tools)
        judge_head(call, path_values, tools.authenticate)
        _validate(call)
        _authorize(call)
        if call.principal is not None:
            tools.act_as(call.principal, correlation_id)
        call.upstream = tools.upstream
        response = _answer(call, tools)
    except CommandRejected as error:
        response = error_response(error)
    response.headers[CORRELATION_HEADER] = correlation_id
    return response


def judge_head(call, path_values, authenticate):
    """What the request's head alone decides, in this order: who asks, whether its role
    may call the route, the path's parameters, and a region the path names. Judged again
    before the body is read (runtime.refusal_before_body), so that a caller refused for
    any of them is told so before sending its body (or being asked for it)."""
    route = call.route
    call.principal = principal_of(route, call.request.headers, authenticate)
    _refuse_read_only(call.principal, route)
    if route.path_params:
        schema = route.path_params()
        call.path = load(schema, _typed(schema, path_values))
    else:
        call.path = path_values
    if getattr(route.scope, "in_path", False):
        _authorize(call)


def principal_of(route, headers, authenticate) -> Principal | None:
    """Who asks (None on a public route asked without credentials), or Unauthorized."""
    principal = authenticate(headers) if route.credentials else None
    if principal is None and not route.public:
        raise Unauthorized("credentials needed: 'Authorization: Bearer <token>' "
                           "(POST /api/v1/auth/login) or 'X-API-Key: <key>'",
                           "Authorization")
    return principal


def _correlation_id(headers):
    given = headers.get(CORRELATION_HEADER)
    if given is not None and not CORRELATION_PATTERN.fullmatch(given):
        raise InvalidInput("must be 1-128 letters, digits or . _ : -", CORRELATION_HEADER)
    return given


# -- validation ---------------------------------------------------------------------------

def _validate(call):
    """The query and the body (the path is judge_head's)."""
    route = call.route
    given = _query_values(call.request.query_string)
    if route.query:
        schema = route.query()
        call.query_args = _typed(schema, given)
        call.query = load(schema, call.query_args)
    elif given:
        name = next(iter(given))
        raise InvalidInput(f"this operation takes no query parameter {name!r}", name)
    else:
        call.query_args = call.query = {}
    call.body = _json_body(call.request, expected=route.body is not None)
    if route.body:
        call.loaded = load(route.body(), call.body)


def _query_values(query_string: bytes):
    """The query's parameters as sent: UTF-8 text (Werkzeug would fail on a raw 0xFF and
    turn a %FF into U+FFFD), each named and given once."""
    try:
        pairs = parse_qsl(query_string.decode("utf-8"), keep_blank_values=True,
                          errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput("the query string is not UTF-8 text", "query") from None
    values = {}
    for name, value in pairs:
        if not name:
            raise InvalidInput(f"a query parameter has no name (={value})", "query")
        if name in values:
            raise InvalidInput("given more than once", name)
        values[name] = value
    return values


def _typed(schema, given):
    """Query strings and path segments are text; for Integer fields they must be whole
    numbers in the digits 0-9 (shared.patterns.whole_number: int() alone would take
    '٢', ' 2', '+2' or '2_0'), else 400 naming the parameter. They become numbers, so the
    services' schemas (some strict about types) read them as a JSON body would give them."""
    typed = dict(given)
    for name, value in given.items():
        field = schema.fields.get(name)
        if isinstance(field, fields.Integer) and isinstance(value, str):
            try:
                typed[name] = whole_number(value, negative=_may_be_negative(field))
            except ValidationError as exc:
                raise InvalidInput(f"{name}: {' '.join(exc.messages)}", name) from None
        elif isinstance(field, fields.Boolean) and isinstance(value, str):
            # marshmallow reads 'yes', 'on', '1', 'Y' or 'TRUE' as true; OpenAPI says boolean
            if value not in BOOLEAN_TEXT:
                raise InvalidInput(f"{name}: must be true or false", name)
            typed[name] = BOOLEAN_TEXT[value]
    return typed


BOOLEAN_TEXT = {"true": True, "false": False}


def _may_be_negative(field):
    """A leading minus only where the field's range admits negatives."""
    return not any(isinstance(check, validate.Range) and check.min is not None and
                   check.min >= 0 for check in field.validators)


def _json_body(request, expected):
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise PayloadTooLarge(f"the body may be at most {request.max_content_length} bytes",
                              "body") from None
    if not raw.strip():
        return {} if expected else None
    if not expected:
        raise InvalidInput("this operation takes no body", "body")
    coding = request.headers.get("Content-Encoding", "").strip().lower()
    if coding not in ("", "identity"):   # read as it came, gzip was 'not valid JSON'
        raise UnsupportedMediaType(f"a body in Content-Encoding {coding} is not read: send "
                                   "it uncompressed", "Content-Encoding")
    if request.mimetype != "application/json" or \
            request.mimetype_params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        raise UnsupportedMediaType("send the body as Content-Type: application/json "
                                   "(UTF-8, the only encoding of JSON)", "Content-Type")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON ({exc})", "body") from None
    _refuse_duplicate_keys(raw)
    if any(mark in raw for mark in CONTROL_MARKS):   # rare: only then walk the body
        _refuse_control_characters(body)
    return body


def _refuse_duplicate_keys(raw):
    """A key twice in one object: parsers disagree on which value counts (orjson keeps
    the last), so what an auditor reads in the request could differ from what is
    recorded. Refused, naming the key."""
    try:
        json.loads(raw, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise InvalidInput("the body is nested too deeply", "body") from None


def _unique_keys(pairs):
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise InvalidInput(f"{key}: given more than once in one object", key)
        seen.add(key)
    return None   # the body itself comes from orjson


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# How a control character can appear in JSON text: escaped as \u00XX, \b or \f, or
# raw (DEL, and C1 characters, which UTF-8 writes after a 0xC2 byte)
CONTROL_MARKS = (b"\\u00", b"\\b", b"\\f", b"\x7f", b"\xc2")


def _refuse_control_characters(body):
    """No control character but tab and line breaks in any text: a NUL or a bell would be
    recorded for good and break every report, CSV and PDF made of it later."""
    stack = [("", body)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if CONTROL.search(value):
                raise InvalidInput(f"{path or 'body'}: control characters are not accepted "
                                   "(only tab and line breaks)", path or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append((f"{path}.{key}" if path else key, item))
                if CONTROL.search(key):
                    raise InvalidInput(f"{path or 'body'}: a key holds control characters",
                                       path or "body")
        elif isinstance(value, list):
            stack.extend((f"{path}.{index}" if path else str(index), item)
                         for index, item in enumerate(value))


# -- access -------------------------------------------------------------------------------

def _refuse_read_only(principal, route):
    if principal is not None and route.writes and not route.any_role and \
            principal.role in READ_ONLY_ROLES:
        raise Forbidden(f"role {principal.role} is read-only", "role")


def _authorize(call):
    """Role and region scope: the whole judgement of who may ask this."""
    principal, route = call.principal, call.route
    _refuse_read_only(principal, route)
    if principal is None or route.scope is None:
        return
    field, code = route.scope(call)
    if isinstance(code, str) and not in_scope(principal, code):
        raise Forbidden(f"{code} is outside your region {principal.region or '(national)'}",
                        field)


# -- the answer ---------------------------------------------------------------------------

def _answer(call, tools):
    key = idempotency.parse_key(call.request.headers) if call.route.idempotent else None
    if key is None or call.principal is None:
        if call.route.writes:   # RabbitMQ redelivering this call (its service killed while
            call.service_key = idempotency.own_key()   # running it) records it once
        return _render(_run(call))
    slot = idempotency.slot_of(call.principal.id, key)
    request = call.request
    fingerprint = idempotency.fingerprint(request.method, request.path,
                                          request.query_string, request.get_data(cache=True))
    call.service_key = idempotency.service_key(slot, fingerprint)
    with tools.locks.hold(slot):
        first = tools.stored_responses.first_answer(slot, fingerprint)
        if first is not None:
            IDEMPOTENT_REPLAYS.inc()
            return _render(Reply(first["status"], first["body"],
                                 {**first["headers"], "Idempotent-Replayed": "true"}))
        try:
            reply = _run(call)
        except CommandRejected as error:  # a service's refusals are answers too: kept
            if not call.upstream.sent:    # the gateway's own (an import's row outside the
                raise                     # region): the key may come again, corrected
            reply = Reply(error.status, error_body(error), error_headers(error))
        tools.stored_responses.keep(slot, fingerprint, reply.status, reply.body,
                                    reply.headers)
        return _render(reply)


def _run(call) -> Reply:
    result = call.route.action(call)
    return result if isinstance(result, Reply) else Reply(call.route.status, result)


def _render(reply: Reply):
    if reply.content_type == "application/json" and not isinstance(reply.body, bytes):
        return json_response(reply.status, reply.body, reply.headers)
    return Response(reply.body, status=reply.status, headers=reply.headers,
                    content_type=reply.content_type)
