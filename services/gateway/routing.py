"""Routes: one declaration per HTTP operation, read by the service (entrypoints), the
pipeline (validation, scope, idempotency) and openapi.py (the document), so the three
cannot disagree.

    Route("POST", "/api/v1/villages", "register_village", "Register a village",
          "villages", rpc("registration", "register_village", body, keyed=True),
          body=RegisterVillageSchema, status=201, scope=from_body("code"))
"""
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .web import MAX_BODY_BYTES

READ_ONLY_ROLES = ("auditor",)   # may call GET routes only
# A route that takes no body still reads a small one to say so (400, field body); a
# larger one is refused unread (413): on the public routes anyone could otherwise make
# the gateway hold a megabyte per connection
NO_BODY_LIMIT = 1024


@dataclass(frozen=True)
class Route:
    method: str
    path: str                      # OpenAPI template, e.g. /api/v1/villages/{code}
    name: str                      # operationId and the entrypoint's method name
    summary: str
    tag: str
    action: Callable               # (Call) -> result, or a Reply for full control
    body: Any = None               # Schema class (or factory) validating the JSON body
    query: Any = None              # Schema class validating the query string
    path_params: Any = None        # Schema class validating the path's {parameters}
    response: Any = None           # Schema class (or instance) documenting the answer
    status: int = 200
    public: bool = False           # no credentials needed (they are checked if given)
    credentials: bool = True       # False: credentials sent along are not even read (a
                                   # login must not fail on the client's stale token)
    any_role: bool = False         # a non-GET every role may call (own account, read-only)
    replayable: bool = True        # a write's answer is kept for Idempotency-Key retries;
                                   # False where it holds a secret (a token, passwords)
                                   # or the call writes nothing (a bundle: large)
    location: bool = False         # its 201 names the new resource in `Location`
    scope: Callable | None = None  # (Call) -> (field, region code it touches), checked
    description: str = ""
    max_body: int | None = None    # bytes; larger bodies get 413 before they are read
                                   # (None: MAX_BODY_BYTES, or NO_BODY_LIMIT without a body)
    errors: tuple = ()             # statuses beyond those every route can answer
    responses: dict = field(default_factory=dict)  # extra documented successes

    @property
    def writes(self) -> bool:
        return self.method != "GET"

    @property
    def idempotent(self) -> bool:
        """Takes an Idempotency-Key: a write of a principal whose answer may be kept."""
        return self.writes and not self.public and self.replayable

    @property
    def body_limit(self) -> int:
        if self.max_body is not None:
            return self.max_body
        return MAX_BODY_BYTES if self.body is not None else NO_BODY_LIMIT

    @property
    def rule(self) -> str:
        """The Werkzeug rule: {code} -> <code>."""
        return re.sub(r"{(\w+)}", r"<\1>", self.path)


@dataclass(frozen=True)
class Reply:
    """An answer other than `status` of the route with the result as JSON."""
    status: int
    body: Any
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"


# -- building actions ---------------------------------------------------------------------

def rpc(service, method, arguments=lambda call: (), keyed=False, present=None):
    """An action calling service.method(*arguments(call)); keyed passes the request's
    idempotency key down as idempotency_key=; present(call, result) shapes the answer."""
    def action(call):
        kwargs = {"idempotency_key": call.service_key} if keyed and call.service_key else {}
        result = call.upstream.call(service, method, *arguments(call), **kwargs)
        return present(call, result) if present else result
    action.rpc = f"{service}.{method}"
    return action


def body(call):
    return (call.body,)


def path(*names):
    return lambda call: tuple(call.path[name] for name in names)


def path_and_body(*names):
    return lambda call: tuple(call.path[name] for name in names) + (call.body,)


def from_path(name):
    """scope= of a route whose path names the region code: (field, code). Known from the
    request's head, it is judged before the body is read (pipeline.judge_head)."""
    def scope(call):
        return name, call.path[name]
    scope.in_path = True
    return scope


def from_body(name):
    return lambda call: (name, call.body.get(name) if isinstance(call.body, dict) else None)


def paged(call, items):
    """A list as one page: {items, total, page, page_size} (query page, page_size)."""
    page, size = call.query.get("page", 1), call.query.get("page_size", 50)
    return {"items": items[(page - 1) * size:page * size], "total": len(items), "page": page,
            "page_size": size}
