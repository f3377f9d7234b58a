"""docs/events.md is the contract between producers and consumers: every payload field
another service reads must be listed there, and the reading service named, or the
producer can change it without knowing it breaks them. Planning reads where a village's
cycle stands (services/planning/cycle_stage.py) from the cycle's CycleOpened and
StageCompleted."""
from dataclasses import replace

from services.planning import cycle_stage

from ..test_events_doc_matches_catalogs import events_doc_sections, payload_fields
from .support import opened, walk_to_stage


def documented(event_type):
    """(top-level payload fields, consumers) of an event type's row in docs/events.md,
    read as tests/unit/test_events_doc_matches_catalogs.py reads (and checks) them."""
    for section in events_doc_sections():
        for type_, payload, (consumers, *_) in section.rows:
            if type_ == event_type:
                return {name for name in payload_fields(payload)[0] if "." not in name}, \
                    consumers
    raise AssertionError(f"{event_type} is not in docs/events.md")


def only_documented(record):
    fields, _ = documented(record.type)
    return replace(record, payload={k: v for k, v in record.payload.items() if k in fields})


def test_planning_reads_only_what_events_md_lists_of_the_cycle_events():
    events = walk_to_stage(opened("2024-04-01"), 5).events
    records = [e for e in events if e.type in ("CycleOpened", "StageCompleted")]
    as_documented = [only_documented(r) for r in records]
    assert cycle_stage.standing(as_documented) == cycle_stage.standing(records)
    assert cycle_stage.standing(records)["stage"] == 5


def test_events_md_names_planning_as_a_reader_of_the_cycle_events():
    for event_type in ("CycleOpened", "StageCompleted"):
        assert "planning" in documented(event_type)[1], event_type
