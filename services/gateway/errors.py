"""What a request can go wrong with, as HTTP statuses and one JSON body shape.

Every answer that is not a success has the body {"error", "message", "field"}: the
error's name, a sentence for a person, and the field, header or parameter at fault
(None when no single one is). Service errors (shared.chassis.errors) cross RPC as
real instances and keep their own status; the classes here are the gateway's own.
"""
from shared.chassis.errors import CommandRejected


class Unauthorized(CommandRejected):
    """No credentials, or credentials that are not (or no longer) valid."""
    status = 401


class RouteNotFound(CommandRejected):
    status = 404

    def __init__(self, message="no such resource; see /openapi.json", field="path"):
        super().__init__(message, field)


class MethodNotAllowed(CommandRejected):
    status = 405

    def __init__(self, allowed, method):
        note = " (methods are case-sensitive)" if method != method.upper() else ""
        super().__init__(f"{method} is not a method of this path: use "
                         f"{', '.join(sorted(allowed))}{note}", "method")
        self.allowed = sorted(allowed)


class PayloadTooLarge(CommandRejected):
    status = 413


class RequestTimeout(CommandRejected):
    """The client stopped sending in the middle of its request."""
    status = 408


class UriTooLong(CommandRejected):
    status = 414


class HeaderTooLarge(CommandRejected):
    status = 431


class HttpVersionNotSupported(CommandRejected):
    """A request line naming HTTP/2 or later (the gateway speaks HTTP/1.1)."""
    status = 505


class UnsupportedMediaType(CommandRejected):
    status = 415


class TooManyRequests(CommandRejected):
    """Login attempts are being slowed down; retry_after is in whole seconds."""
    status = 429

    def __init__(self, message, field, retry_after):
        super().__init__(message, field)
        self.retry_after = retry_after


class BadGateway(CommandRejected):
    """A service answered with an error it does not declare: a bug there, logged here."""
    status = 502


class ServiceUnavailable(CommandRejected):
    """A service is not running, did not answer in time, or RabbitMQ is unreachable."""
    status = 503

    def __init__(self, message, field, retry_after=None):
        super().__init__(message, field)
        self.retry_after = retry_after   # whole seconds, when the gateway knows


def error_body(error: CommandRejected) -> dict:
    return {"error": type(error).__name__, "message": error.message, "field": error.field}


def error_headers(error: CommandRejected) -> dict:
    headers = {}
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="plpbk", ApiKey realm="plpbk"'
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.allowed)
    if isinstance(error, (TooManyRequests, ServiceUnavailable)) and error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, UnsupportedMediaType) and error.field == "Content-Encoding":
        headers["Accept-Encoding"] = "identity"   # the codings read: none (RFC 9110 15.5.16)
    return headers
