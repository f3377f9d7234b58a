"""Folding services' own projection classes over records, into a scratch view store.

Used for the state of a village as of a moment (only its records, up to a cut) and
for rebuilding and checking whole read models. The projection code is the service's
own, so a replay shows exactly what the service would have shown.
"""
from shared.views.memory import MemoryCollection, MemoryViewStore


class ScratchCollection(MemoryCollection):
    def items(self):
        """(key, document) pairs in key order, without copies.

        For writing a finished fold elsewhere: the writer serialises each document anyway
        (copying a million first would double a rebuild's memory), and keys in order make
        B-tree inserts appends (about twice as fast into SQLite as random event ids).
        """
        return iter(sorted(self._docs.items(), key=lambda item: item[0]))


class ScratchStore(MemoryViewStore):
    """An in-memory view store that lists its collections and hands documents out cheaply."""

    @property
    def collection_names(self) -> list:
        return sorted(self._collections)

    def _open_collection(self, name):
        return ScratchCollection(name)


class ReplayContext:
    """What a projection is given during a replay: scratch views and read-only ledgers.

    It has no execute or append: a projection that tried to write would fail loudly.
    """

    def __init__(self, service, views, sources):
        self.name, self.views, self._sources = service, views, sources

    @property
    def ledger(self):
        return self._sources.get(self.name)

    def source(self, name):
        return self._sources.get(name)


class Replay:
    """One projection instance folding records; failures are collected, not raised."""

    def __init__(self, spec, views, sources, upcasters=None):
        self.spec = spec
        self.projection = spec.cls(ReplayContext(spec.service, views, sources))
        self.handlers = self.projection.handlers()
        self.upcasters = upcasters
        self.applied, self.problems = 0, []

    @property
    def handled_types(self):
        return None if "*" in self.handlers else list(self.handlers)

    def apply(self, record):
        handler = self.handlers.get(record.type) or self.handlers.get("*")
        if handler is None:
            return
        if self.upcasters and record.ledger == self.spec.service:
            record = self.upcasters.upcast(record)  # as the service's own platform does
        try:
            handler(record)
            self.applied += 1
        except Exception as exc:  # reported: the live service would have parked it
            self.problems.append({"view": self.spec.key, "ledger": record.ledger,
                                  "position": record.position, "type": record.type,
                                  "error": f"{type(exc).__name__}: {exc}"})


def dump(views, collection_names) -> dict:
    """collection -> {key: document} of the named collections that hold anything."""
    dumped = {}
    for name in collection_names:
        docs = views.collection(name).find()
        if docs:
            dumped[name] = {doc["_id"]: doc for doc in docs}
    return dumped
