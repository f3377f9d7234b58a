"""Every ledger at STORE_URI, opened read-only, including ledgers that appear later.

The audit service appends nothing: it holds each ledger as a SourceLedger, opened
read-only and without any write method, as every subscription reads another service's.
New ledgers (a service deployed later) are found by `discover()`, which the audit
service calls at start, on every periodic catch-up and before answering a query. A file
there that is no readable ledger is named by every answer over all ledgers (`complete`)
and by the catch-up's log, once; answers about one healthy ledger are still given.
"""
import threading

from shared.chassis.errors import Conflict, NotFound, StoreUnavailable
from shared.ledger import LedgerDamaged, LedgerUnavailable, ledger_names
from shared.messaging.source import SourceLedger


class LedgerSources:
    def __init__(self, store_uri, upcasters_for=lambda name: None):
        self.store_uri = store_uri
        self._upcasters_for = upcasters_for
        self._ledgers = {}
        self.unreadable = {}   # name -> why it cannot be read now (looked at again)
        self._lock = threading.Lock()

    def discover(self) -> list:
        """Open ledgers that appeared since the last call; return their names. One that
        cannot be read (a foreign or damaged file; one that cannot be opened now) is kept
        in `unreadable`, not opened: it stopped every other ledger from being found."""
        with self._lock:
            new, unreadable = [], {}
            for name in ledger_names(self.store_uri):
                if name in self._ledgers:
                    continue
                source = SourceLedger(self.store_uri, name, upcasters=self._upcasters_for(name))
                try:
                    source.head()   # opened here (it opens lazily): its damage is named now
                except (LedgerDamaged, LedgerUnavailable) as exc:
                    source.close()
                    unreadable[name] = exc
                    continue
                self._ledgers[name] = source
                new.append(name)
            self.unreadable = unreadable
            return new

    def complete(self):
        """Refuse, naming a ledger that cannot be read: an answer over every ledger would
        leave its events out without a word."""
        for name in sorted(self.unreadable):
            raise self._refusal(name, f"; an answer over every ledger would leave ledger "
                                      f"{name} out")

    def _refusal(self, name, why=""):
        """Damage is a problem found (Conflict: move the file away or restore it); a
        ledger that cannot be opened now is the operators' outage (StoreUnavailable)."""
        exc = self.unreadable[name]
        if isinstance(exc, LedgerDamaged):
            return Conflict(f"{exc}{why}: move the file out of the ledger folder or restore "
                            "it (plpbk verify --all names it)", "ledger")
        return StoreUnavailable(f"{exc}{why}", "ledger")

    @property
    def names(self) -> list:
        return sorted(self._ledgers)

    def get(self, name) -> SourceLedger:
        if name not in self._ledgers:
            self.discover()
        if name in self.unreadable:
            raise self._refusal(name)
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
