"""Errors a command or query answers with, each naming what was wrong.

Services raise these; nameko carries them over RPC and, because each class is
registered with deserialize_to_instance, the caller (the gateway, the CLI) gets the
same class back with its message and field, and turns the class into an HTTP status.
Every other exception is a bug.
"""
import orjson
from marshmallow import ValidationError
from nameko.exceptions import deserialize_to_instance


@deserialize_to_instance
class CommandRejected(Exception):
    """The request is understood but refused."""
    status = 422

    def __init__(self, message, field=None):
        self.message, self.field = message, field
        # args rebuild the error on the caller's side; nameko sends each arg as text, so
        # a missing field is left out rather than sent as 'None'
        super().__init__(*((message,) if field is None else (message, field)))

    def __str__(self):
        if not self.field or str(self.message).startswith(f"{self.field}:"):
            return str(self.message)   # the message names its field already
        return f"{self.field}: {self.message}"

    def as_dict(self):
        return {"error": type(self).__name__, "message": self.message, "field": self.field}


@deserialize_to_instance
class InvalidInput(CommandRejected):
    """A field is missing, of the wrong type or out of range."""
    status = 400


@deserialize_to_instance
class NotFound(CommandRejected):
    status = 404


@deserialize_to_instance
class Conflict(CommandRejected):
    """The state changed meanwhile, or the thing already exists."""
    status = 409


@deserialize_to_instance
class Forbidden(CommandRejected):
    """Outside the caller's role or region scope."""
    status = 403


@deserialize_to_instance
class NotConfigured(CommandRejected):
    """The service lacks a setting this request needs: the operators' to fix, not the
    caller's (503, naming the setting)."""
    status = 503


@deserialize_to_instance
class StoreUnavailable(CommandRejected):
    """A store the request writes to cannot take it now (its disk is full, it is
    read-only): the operators' to fix, nothing of the request was recorded, the same
    request may be sent again later (503, naming the store)."""
    status = 503


class CannotStart(SystemExit):
    """A service whose stores cannot be opened does not start. A SystemExit, so that
    `nameko run` prints this one line and exits 1 (any other error is a traceback)."""

    def __init__(self, message):
        super().__init__(f"error: {message}")


EXPECTED = (CommandRejected,)


def load(schema, data, partial=False):
    """schema.load(data), or InvalidInput naming every bad field ("a.b: message; ...")."""
    if not isinstance(data, dict):
        raise InvalidInput("expected a JSON object", "body")
    where = lone_surrogate(data)
    if where is not None:
        raise InvalidInput(LONE_SURROGATE, where or "body")
    try:
        return schema.load(data, partial=partial)
    except ValidationError as exc:
        problems = flatten(exc.messages)
        raise InvalidInput("; ".join(f"{field}: {message}" for field, message in problems),
                           problems[0][0] if problems else None) from None


LONE_SURROGATE = ("holds a lone surrogate (\\ud800-\\udfff), half of a character that "
                  "no store can write: send the text as UTF-8")


def lone_surrogate(value, path=""):
    """The dotted path of the first text in value (keys too) that UTF-8 cannot hold, or
    None. JSON's "\\ud800" escape decodes to such a str, and every store refuses it."""
    try:
        orjson.dumps(value)   # the quick answer for the common input: nothing to find
        return None
    except orjson.JSONEncodeError:
        pass
    if isinstance(value, str):
        return path if not _encodable(value) else None
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        inner = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and not _encodable(key):
            return path
        found = lone_surrogate(item, inner)
        if found is not None:
            return found
    return None


def _encodable(text):
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def flatten(messages, prefix=""):
    """marshmallow's nested messages as [(dotted.field, text)]."""
    if isinstance(messages, dict):
        found = []
        for key, value in messages.items():
            # marshmallow files a nested object's own errors ("not a valid mapping",
            # schema validators) under "_schema": they belong to the object's field
            field = prefix if key == "_schema" else f"{prefix}.{key}" if prefix else str(key)
            found.extend(flatten(value, field))
        return found
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(prefix or "body", " ".join(messages))]
    if isinstance(messages, list):
        return [item for m in messages for item in flatten(m, prefix)]
    return [(prefix or "body", str(messages))]
