"""Views must fold the same when events they applied come again (decision 23).

A subscription tracks its position after applying a batch (shared.messaging.subscription):
stopped in between (a store outage, a kill, a power cut under durable views), its next
round applies the start of that batch again. So applying the last few records once more
must leave every view as it was.
"""
from services.audit.registry import discover
from services.audit.replay import Replay, ScratchStore, dump
from services.audit.sources import LedgerSources

AGAIN = (1, 2, 5)   # how many of the last records are applied again, after every so many


def refold_differences(store_uri, services=None) -> dict:
    """view key -> {again: the collections and keys that came out otherwise}, for every
    view of these services (all when None) that differs; {} when none does."""
    registry = discover()
    sources = LedgerSources(store_uri)   # as a rebuild reads them: Replay upcasts
    sources.discover()
    found = {}
    try:
        for spec in registry.views:
            if services is not None and spec.service not in services:
                continue
            straight = _fold(spec, sources, registry, 0)
            assert straight, f"{spec.key} folded nothing: add its service's events to the scenario"
            for again in AGAIN:
                folded = _fold(spec, sources, registry, again)
                if folded != straight:
                    found.setdefault(spec.key, {})[again] = _differing(straight, folded)
    finally:
        sources.close()
    return found


def _fold(spec, sources, registry, again):
    store = ScratchStore(spec.service)
    replay = Replay(spec, store, sources, registry.upcasters.get(spec.service))
    for name in spec.sources(sources.names):
        done = []
        for record in sources.get(name).iter_records():
            replay.apply(record)
            done.append(record)
            if again and len(done) % again == 0:
                for repeated in done[-again:]:
                    replay.apply(repeated)
    assert not replay.problems, replay.problems
    return dump(store, store.collection_names)


def _differing(straight, folded):
    return sorted((collection, key)
                  for collection in set(straight) | set(folded)
                  for key in set(straight.get(collection, {})) | set(folded.get(collection, {}))
                  if straight.get(collection, {}).get(key) != folded.get(collection, {}).get(key))
