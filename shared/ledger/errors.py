"""Errors the ledger raises. Each message says what was wrong and with which value."""


class LedgerError(Exception):
    """Base of every ledger error."""


class InvalidEvent(LedgerError, ValueError):
    """An event or its metadata cannot be recorded as given."""


class ConcurrencyError(LedgerError):
    """The stream moved on since the caller read it (expected-version check failed)."""

    def __init__(self, stream_id, expected, actual):
        self.stream_id, self.expected, self.actual = stream_id, expected, actual
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, the append expected {expected}")


class AppendOnlyViolation(LedgerError):
    """Something tried to change or remove a recorded event."""


class LedgerUnavailable(LedgerError):
    """The store behind the ledger cannot be reached or opened."""


class LedgerDamaged(LedgerError):
    """The store holds something that is not a readable ledger (a damaged or foreign file)."""
