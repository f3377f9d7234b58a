"""Every ledger at STORE_URI, opened read-only, including ledgers that appear later.

The audit service appends nothing: it holds each ledger as a SourceLedger, opened
read-only and without any write method, as every subscription reads another service's.
New ledgers (a service deployed later) are found by `discover()`, which the audit
service calls at start, on every periodic catch-up and before answering a query.
"""
import threading

from shared.chassis.errors import NotFound
from shared.ledger import ledger_names
from shared.messaging.source import SourceLedger


class LedgerSources:
    def __init__(self, store_uri, upcasters_for=lambda name: None):
        self.store_uri = store_uri
        self._upcasters_for = upcasters_for
        self._ledgers = {}
        self._lock = threading.Lock()

    def discover(self) -> list:
        """Open ledgers that appeared since the last call; return their names."""
        with self._lock:
            new = [name for name in ledger_names(self.store_uri) if name not in self._ledgers]
            for name in new:
                self._ledgers[name] = SourceLedger(self.store_uri, name,
                                                   upcasters=self._upcasters_for(name))
            return new

    @property
    def names(self) -> list:
        return sorted(self._ledgers)

    def get(self, name) -> SourceLedger:
        if name not in self._ledgers:
            self.discover()
        if name not in self._ledgers:
            raise NotFound(f"there is no ledger named {name!r} (ledgers: "
                           f"{', '.join(self.names) or 'none'})", "ledger")
        return self._ledgers[name]

    def all(self) -> dict:
        return dict(self._ledgers)

    def close(self):
        for ledger in self._ledgers.values():
            ledger.close()
        self._ledgers.clear()
