"""A village's history across every ledger, and why one decision was taken.

Each entry names who decided (actor id, role, region), when (occurred and recorded),
under which rule version, on which evidence (references to other recorded events),
with which attachments, what caused it (the event whose id is its causation id, in
any ledger) and what it caused (events whose causation id is its id).
"""
from shared.chassis.errors import NotFound

from . import index, references
from .records import records_at

MAX_DEPTH = 8   # how far `why` follows evidence and effects: far beyond any real chain


def summary(record) -> dict:
    return {"ledger": record.ledger, "position": record.position,
            "event_id": record.event_id, "type": record.type, "stream_id": record.stream_id,
            "recorded_at": record.recorded_at, "actor": record.actor}


class Explainer:
    """Describes records, resolving event ids through the index (one read per record)."""

    def __init__(self, sources, views):
        self.sources, self.views = sources, views
        self._records = {}

    def load(self, locations):
        missing = [loc for loc in locations if loc not in self._records]
        self._records.update(records_at(self.sources, missing))
        return [self._records[loc] for loc in locations if loc in self._records]

    def find(self, event_id):
        location = index.event_location(self.views, event_id)
        if location is None:
            return None
        found = self.load([location])
        return found[0] if found else None

    def evidence(self, record) -> list:
        """(paths, referenced record) per recorded event the payload refers to, in order."""
        paths = {}
        for path, event_id in references.uuid_references(record.payload):
            if event_id != record.event_id:
                paths.setdefault(event_id, []).append(path)
        return [(where, found) for event_id, where in paths.items()
                if (found := self.find(event_id)) is not None]

    def effects(self, record) -> list:
        return sorted(self.load(index.effect_locations(self.views, record.event_id)),
                      key=_order)

    def describe(self, record) -> dict:
        cause = self.find(record.causation_id) if record.causation_id else None
        return {
            **summary(record), "stream_version": record.stream_version,
            "schema_version": record.schema_version, "occurred_at": record.occurred_at,
            "correlation_id": record.correlation_id, "causation_id": record.causation_id,
            "caused_by": summary(cause) if cause else None,
            "caused": [summary(effect) for effect in self.effects(record)],
            "rule_versions": references.rule_versions(record.payload),
            "evidence": [{"paths": paths, **summary(found)}
                         for paths, found in self.evidence(record)],
            "attachments": references.attachments(record.payload),
            "payload": record.payload}


def _order(record):
    return (record.recorded_at, record.ledger, record.position)


def village_history(sources, views, code) -> list:
    locations = index.village_locations(views, code)
    if not locations:
        raise NotFound(f"no event about village {code} is recorded in any ledger", "code")
    explainer = Explainer(sources, views)
    return [explainer.describe(record) for record in sorted(explainer.load(locations),
                                                            key=_order)]


def why(sources, views, event_id, visible=lambda record: True) -> dict:
    """The decision, what it was based on (transitively), its causes and its effects.

    visible(record) hides events outside the asker's region: they appear as
    {"hidden": true} with their ledger and position only.
    """
    explainer = Explainer(sources, views)
    record = explainer.find(event_id)
    if record is None:
        raise NotFound(f"no event with id {event_id} is recorded in any ledger", "event_id")
    return {"event": explainer.describe(record),
            "rule_results": references.rule_results(record.payload),
            "based_on": _based_on(explainer, record, visible, {record.event_id}, 1),
            "caused_by": _causes(explainer, record, visible),
            "caused": _caused(explainer, record, visible, {record.event_id}, 1)}


def _shown(record, visible, entry):
    if visible(record):
        return entry
    return {"hidden": True, "ledger": record.ledger, "position": record.position,
            "reason": "outside your region"}


def _based_on(explainer, record, visible, seen, depth):
    found = []
    for paths, referenced in explainer.evidence(record):
        if referenced.event_id in seen or depth > MAX_DEPTH:
            continue
        seen.add(referenced.event_id)
        deeper = _based_on(explainer, referenced, visible, seen, depth + 1) \
            if visible(referenced) else []
        found.append({"paths": paths, **_shown(referenced, visible, {
            "event": explainer.describe(referenced), "based_on": deeper})})
    return found


def _causes(explainer, record, visible):
    """The chain of causes, nearest first, as far as causation ids name recorded events."""
    chain, seen = [], {record.event_id}
    while record.causation_id and record.causation_id not in seen and len(chain) < MAX_DEPTH:
        cause = explainer.find(record.causation_id)
        if cause is None:
            chain.append({"causation_id": record.causation_id, "recorded": False})
            break
        seen.add(cause.event_id)
        chain.append(_shown(cause, visible, summary(cause)))
        record = cause
    return chain


def _caused(explainer, record, visible, seen, depth):
    found = []
    for effect in explainer.effects(record):
        if effect.event_id in seen or depth > MAX_DEPTH:
            continue
        seen.add(effect.event_id)
        found.append(_shown(effect, visible, {
            "event": summary(effect),
            "caused": _caused(explainer, effect, visible, seen, depth + 1)}))
    return found
