"""Another service's ledger, as a subscription (or a query) reads it: never created by us.

Opening a missing SQLite ledger creates it, and an empty ledger that nobody writes would
then show up in `plpbk ledgers`, `verify --all`, /health and the audit service. So a
source is opened read-only, and only once it exists; until then (its service comes
later: construction, for the cycle) it reads as an empty ledger, and the first read
after it appears opens it.
"""
import threading

from ..ledger import check_ledger_name, ledger_names, open_ledger
from ..ledger.base import EMPTY_HEAD


class _Absent:
    """What a ledger that does not exist yet reads as: no records. Its methods are also
    all a SourceLedger hands out: reading, never writing."""

    def head(self):
        return EMPTY_HEAD

    def read(self, after=0, **_options):
        return []

    def read_stream(self, stream_id, **_options):
        return []

    def iter_records(self, after=0, **_options):
        return iter(())

    def raw(self, after=0, limit=10000):
        return []

    def verification_rows(self, after=0, limit=10000):
        return []

    def index_mismatches(self):
        return iter(())

    def stream_version(self, stream_id):
        return 0

    def recorded(self, idempotency_key):
        return None

    def position_at(self, moment):
        return 0


_ABSENT = _Absent()


class SourceLedger:
    def __init__(self, store_uri, name, **options):
        """options: passed to the adapter (mongo_client_class in tests)."""
        check_ledger_name(name)   # a name no ledger can have would read as empty for ever
        self.name = name
        self._store_uri, self._options = store_uri, options
        self._ledger = None
        self._lock = threading.Lock()   # one open, however many readers ask at once

    def _current(self):
        if self._ledger is None:
            with self._lock:
                if self._ledger is None and \
                        self.name in ledger_names(self._store_uri, **self._options):
                    self._ledger = open_ledger(self._store_uri, self.name, read_only=True,
                                               **self._options)
        return self._ledger or _ABSENT

    def __getattr__(self, attribute):
        if attribute.startswith("_") or not hasattr(_Absent, attribute):
            raise AttributeError(f"ledger {self.name!r} is read here, never written "
                                 f"({attribute!r} refused)")
        return getattr(self._current(), attribute)

    def close(self):
        if self._ledger is not None:
            self._ledger.close()
