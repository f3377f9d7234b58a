"""Rebuilding read models from the ledgers, and checking live ones against a rebuild.

Both start the same way: fold the service's own projection class over its source
ledgers into a scratch in-memory store (fast at any size, whatever the live store is).
- rebuild: replace the projection's collections in the durable view store (SQLite or
  MongoDB) with the scratch ones, in bulk, and set its tracking to the folded
  positions. The owning service must be stopped meanwhile (it would fold into the
  same collections). With VIEW_URI=memory:// there is nothing stored to rebuild: each
  service re-folds its views when it starts.
- check: fold up to exactly the positions the live view has reached, then compare
  documents collection by collection and key by key. The live side is the durable
  store, or, for in-memory views, the running service asked over RPC
  (shared.chassis.entrypoints: view_positions, view_documents). If the live view moves during the check, the check is
  repeated a few times before reporting it as moving.
"""
import os
from contextlib import nullcontext
from itertools import islice

from shared.chassis.subscribers import SHAPES
from shared.collector import quiet_collector
from shared.views import open_view_store

from .replay import Replay, ScratchStore

TRACKING = "tracking"


def fold_views(specs, sources, registry, upto=None, progress=None) -> dict:
    """spec.key -> (scratch store, replay, {source: position folded}), in one pass.

    Each ledger is read once and every record handed to each view that reads that ledger
    and handles its type: reading and parsing records costs as much as folding them.
    upto: {source: position} to fold to (a check), else each ledger's head now.
    """
    folds = {spec.key: (ScratchStore(spec.service), spec) for spec in specs}
    replays = {key: Replay(spec, store, sources, registry.upcasters.get(spec.service))
               for key, (store, spec) in folds.items()}
    cuts = {name: sources.get(name).head().position if upto is None else upto.get(name, 0)
            for spec in specs for name in spec.sources(sources.names)}
    with quiet_collector():
        done = 0
        for name, cut in sorted(cuts.items()):
            readers = [r for r in replays.values() if name in r.spec.sources(sources.names)]
            done = _fold_ledger(sources.get(name), cut, readers, progress, done)
    return {key: (store, replays[key],
                  {name: cuts[name] for name in spec.sources(sources.names)})
            for key, (store, spec) in folds.items()}


def _fold_ledger(ledger, cut, replays, progress, done, batch=5000):
    types = None if any(r.handled_types is None for r in replays) else \
        sorted({t for r in replays for t in r.handled_types})
    after = 0
    while after < cut:
        records = ledger.read(after, upto=cut, limit=batch, types=types)
        for record in records:
            for replay in replays:
                replay.apply(record)
        after = records[-1].position if len(records) == batch else cut
        if progress:
            progress(done + after)
    return done + cut


def fold_view(spec, sources, registry, upto=None, progress=None):
    """(scratch store, replay, {source: position folded}) of one view."""
    return fold_views([spec], sources, registry, upto, progress)[spec.key]


def collection_names(spec, store):
    return sorted(set(spec.cls.collections) | set(store.collection_names))


def total_records(specs, sources) -> int:
    names = {name for spec in specs for name in spec.sources(sources.names)}
    return sum(sources.get(name).head().position for name in names)


def rebuild_views(specs, sources, registry, view_uri, progress=None,
                  replacing=lambda key: nullcontext()) -> list:
    """Replace durable views with ones folded from the ledgers now. Each view is replaced
    inside replacing(key): the CLI keeps Ctrl-C from leaving one half-written."""
    results = []
    for key, (store, replay, positions) in fold_views(specs, sources, registry,
                                                      progress=progress).items():
        spec = replay.spec
        live = open_view_store(view_uri, spec.service)
        try:
            with replacing(key):
                tracking = live.collection(TRACKING)
                for source in positions:   # killed while replacing, the mark stays: the
                    # service applies nothing onto a half view (shared.messaging.HalfRebuilt)
                    tracking.put(f"{key}:{source}", {"position": 0, "source": source,
                                                     "subscriber": key, "rebuilding": True})
                documents = 0
                for name in collection_names(spec, store):
                    documents += _replace(store.collection(name), live.collection(name))
                for source, position in positions.items():
                    tracking.put(f"{key}:{source}", {"position": position, "source": source,
                                                     "subscriber": key})
                live.collection(SHAPES).put(key, {"shape": spec.cls.shape})
        finally:
            live.close()
        results.append({"view": key, "documents": documents, "positions": positions,
                        "problems": replay.problems})
    return results


def _replace(scratch, target, batch=10000) -> int:
    """Target's documents become scratch's; written in batches (one transaction each)."""
    target.clear()
    items = scratch.items()
    while chunk := list(islice(items, batch)):
        target.put_many(chunk)
    return scratch.count()


# -- checking -------------------------------------------------------------------------------

class NoLiveView(Exception):
    """The durable store holds no view of this service: there is nothing to compare."""


class DurableViews:
    """The live side of a check: a durable view store, read without creating anything.

    Opening a SQLite view store creates its file and every collection asked for: a check
    of the wrong folder filled it with empty views and found them "identical at no
    position". There, a missing file or tracking table is NoLiveView, and a collection
    the file lacks is read as empty without creating it."""

    def __init__(self, view_uri):
        self.view_uri, self._stores, self._tables = view_uri, {}, {}

    def _store(self, service):
        if service not in self._stores:
            self._tables[service] = self._sqlite_tables(service)
            self._stores[service] = open_view_store(self.view_uri, service)
        return self._stores[service]

    def _sqlite_tables(self, service):
        """The tables of the service's SQLite view file (None for MongoDB, whose
        collections are not created by reading them)."""
        if not self.view_uri.startswith("sqlite:///"):
            return None
        from shared.cli.state import sqlite_tables
        path = f"{self.view_uri[len('sqlite:///'):].rstrip('/') or '.'}/{service}.db"
        tables = sqlite_tables(path) if os.path.isfile(path) else set()
        if f"c_{TRACKING}" not in tables:
            raise NoLiveView(f"no live view of the {service} service at {self.view_uri} "
                             f"({path} {'holds no view' if tables else 'does not exist'}): "
                             "is --views (VIEW_URI) the folder the service uses?")
        return tables

    def _collection(self, spec, collection):
        store = self._store(spec.service)
        tables = self._tables[spec.service]
        if tables is not None and f"c_{collection}" not in tables:
            return None
        return store.collection(collection)

    def positions(self, spec) -> dict:
        prefix = f"{spec.key}:"
        return {doc["_id"][len(prefix):]: doc["position"]
                for doc in self._collection(spec, TRACKING).find(
                    {"_id": {"$prefix": prefix}})}

    def documents(self, spec, collection) -> dict:
        found = self._collection(spec, collection)
        return {} if found is None else {doc["_id"]: doc for doc in found.find()}

    def close(self):
        for store in self._stores.values():
            store.close()


class ServiceViews:
    """The live side of a check: in-memory views, read from the running service over RPC."""

    PAGE = 5000  # the most view_documents gives at once: fewer pages, fewer scans

    def __init__(self, cluster):
        self.cluster = cluster

    def positions(self, spec) -> dict:
        prefix = f"{spec.key}:"
        return {key[len(prefix):]: position for key, position in
                getattr(self.cluster, spec.service).view_positions().items()
                if key.startswith(prefix)}

    def documents(self, spec, collection) -> dict:
        service, found, skip = getattr(self.cluster, spec.service), {}, 0
        while True:
            page = service.view_documents(collection, skip, self.PAGE)
            found.update((doc["_id"], doc) for doc in page)
            if len(page) < self.PAGE:
                return found
            skip += self.PAGE

    def close(self):
        pass


def check_view(spec, sources, registry, live, attempts=3, progress=None) -> dict:
    """Differences between the live view and one folded to the same positions.

    progress(records folded) as rebuild_views reports it: a check folds as much."""
    for _attempt in range(attempts):
        positions = live.positions(spec)
        store, replay, _ = fold_view(spec, sources, registry, upto=positions,
                                     progress=progress)
        found = []
        for name in collection_names(spec, store):
            expected = {doc["_id"]: doc for doc in store.collection(name).find()}
            found.extend(differences(name, expected, live.documents(spec, name)))
        moved = live.positions(spec) != positions
        if not moved:
            break
    return {"view": spec.key, "positions": positions, "differences": found,
            "moving": moved, "problems": replay.problems}


def differences(collection, expected: dict, actual: dict, limit=10) -> list:
    """[{collection, key, difference}] between rebuilt (expected) and live (actual) docs."""
    found = []
    for key in sorted(set(expected) | set(actual)):
        if key not in actual:
            found.append({"collection": collection, "key": key,
                          "difference": "missing from the live view"})
        elif key not in expected:
            found.append({"collection": collection, "key": key,
                          "difference": "in the live view but not explained by the ledgers"})
        else:
            paths = changed_paths(_without_id(expected[key]), _without_id(actual[key]))
            if paths:
                shown = ", ".join(paths[:limit]) + (" ..." if len(paths) > limit else "")
                found.append({"collection": collection, "key": key,
                              "difference": f"fields differ: {shown}"})
    return found


def changed_paths(expected, actual, path="") -> list:
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual), key=str):
            found.extend(changed_paths(expected.get(key, _MISSING), actual.get(key, _MISSING),
                                       f"{path}.{key}" if path else str(key)))
        return found
    return [] if expected == actual else [path or "(document)"]


_MISSING = object()


def _without_id(doc):
    return {k: v for k, v in doc.items() if k != "_id"}
