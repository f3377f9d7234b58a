"""The state of a village as of a moment, by replaying the ledgers up to that moment.

Each ledger is cut at the last position recorded at or before the moment (recorded_at
never decreases, so the cut is a binary search: Ledger.position_at). The village's
records up to the cuts are fed, in position order, to every service's own projection
classes in a scratch in-memory store per service; the documents those projections
build are the state the services would have shown at that moment.
"""
from shared.chassis.errors import NotFound

from . import index
from .records import records_at
from .replay import Replay, ScratchStore, dump


def state_as_of(sources, views, registry, code, moment: str) -> dict:
    locations = index.village_locations(views, code)
    if not locations:
        raise NotFound(f"no event about village {code} is recorded in any ledger", "code")
    cuts = {name: sources.get(name).position_at(moment)
            for name in sorted({ledger for ledger, _ in locations})}
    wanted = [(ledger, position) for ledger, position in locations
              if position <= cuts[ledger]]
    records = sorted(records_at(sources, wanted).values(),
                     key=lambda r: (r.ledger, r.position))
    stores, replays = {}, []
    for spec in registry.village_views():
        store = stores.setdefault(spec.service, ScratchStore(spec.service))
        replay = Replay(spec, store, sources, registry.upcasters.get(spec.service))
        for record in records:
            if record.ledger in spec.sources(cuts):
                replay.apply(record)
        replays.append(replay)
    state = {}
    for replay in replays:
        store = stores[replay.spec.service]
        docs = dump(store, replay.spec.cls.collections or store.collection_names)
        if docs:
            state[replay.spec.key] = docs
    return {"code": code, "as_of": moment, "cuts": cuts, "events": len(records),
            "last_event": _last(records), "views": state,
            "problems": [p for replay in replays for p in replay.problems],
            "skipped_services": registry.problems}


def _last(records):
    if not records:
        return None
    last = max(records, key=lambda r: r.recorded_at)
    return {"ledger": last.ledger, "position": last.position, "type": last.type,
            "recorded_at": last.recorded_at}
