"""Outages of a store or of RabbitMQ, as the loops that ride them out report them.

A catch-up or the relay retries every few seconds while a store or RabbitMQ is away;
a line (and a traceback) per retry would bury everything else in the log. OutageLog
says it once when something stops and once when it runs again.
"""
import logging

from ..ledger.errors import LedgerUnavailable
from ..views.base import ViewStoreUnavailable

# The environment failed, not the code or the event: retried, never parked
OUTAGES = (LedgerUnavailable, ViewStoreUnavailable)


class OutageLog:
    def __init__(self, logger):
        self._log = logger
        self._down = set()   # what is waiting for an outage to end

    def down(self, what, cause, level=logging.WARNING):
        """`what` (e.g. "catch-up of cycle.board") stopped because of cause."""
        if what not in self._down:
            self._down.add(what)
            self._log.log(level, "%s stopped: %s; retrying until it is back", what, cause)

    def up(self, what):
        """`what` ran through: if it was stopped, say it runs again."""
        if what in self._down:
            self._down.discard(what)
            self._log.info("%s resumed after an outage", what)
