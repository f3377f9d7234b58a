"""docs/events.md is the contract between producers and consumers: every payload field
another service reads must be listed there, and the reading service named, or the
producer can change it without knowing it breaks them. Planning reads where a village's
cycle stands (services/planning/cycle_stage.py) from the cycle's CycleOpened and
StageCompleted."""
import re
from dataclasses import replace
from pathlib import Path

from services.planning import cycle_stage

from .support import opened, walk_to_stage

EVENTS_DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def documented(event_type):
    """(payload fields, consumers) of an event type's row in docs/events.md."""
    for line in EVENTS_DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] == f"`{event_type}`":
            # top-level fields: backticked names outside any {...} or [...]
            top = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)", "", cells[1])
            return set(re.findall(r"`([a-z_]+)`", top)), cells[2]
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
