"""Errors a command or query answers with, each naming what was wrong.

Services raise these; nameko carries them to the caller as RemoteError with exc_type
set to the class name, and the gateway turns each class into its HTTP status. Every
other exception is a bug.
"""


class CommandRejected(Exception):
    """The request is understood but refused (400/422 family)."""
    status = 422

    def __init__(self, message, field=None):
        self.message, self.field = message, field
        super().__init__(f"{field}: {message}" if field else message)


class InvalidInput(CommandRejected):
    """A field is missing, of the wrong type or out of range."""
    status = 400


class NotFound(CommandRejected):
    status = 404


class Conflict(CommandRejected):
    """The state changed meanwhile, or the thing already exists."""
    status = 409


class Forbidden(CommandRejected):
    """Outside the caller's role or region scope."""
    status = 403


EXPECTED = (CommandRejected,)
