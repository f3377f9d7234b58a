"""The cycle's event payload schemas (services/cycle/schemas.py, EVENTS): each type the
domain records has its schema, each schema a type the domain records, and a payload its
schema does not describe is refused before anything is recorded."""
import pytest

from services.cycle import domain, schemas
from shared.chassis.payloads import PayloadMismatch
from shared.ledger import NewEvent

from .support import CODE, activity, opened, walk_to_stage

WHY = "TIPP dikukuhkan dalam musyawarah desa sebelum program"


def every_event_type():
    """Events of each type the cycle domain records, each checked by the catalog on the
    way (Stream decides as the platform does)."""
    stream = opened("2026-01-05")
    stream.do(activity("lokakarya_kota", "2026-01-06", notes="Dihadiri Bappeda"),
              domain.WaiveOutput("tipp_dikukuhkan", WHY, "2026-01-07"))
    walk_to_stage(stream, 6)
    stream.do(activity("evaluasi_partisipatif", "2026-12-01"),
              domain.CompleteStage("2026-12-02"))
    assert stream.state.completed
    return stream.events


def test_every_type_the_domain_records_has_a_schema_and_every_schema_is_recorded():
    events = every_event_type()
    assert {event.type for event in events} == set(schemas.EVENTS.schemas)
    assert any("members" in e.payload for e in events)                  # optional fields
    assert any("notes" in e.payload for e in events)
    assert any("next_due_on" in e.payload for e in events)


def test_the_cycle_decider_names_the_catalog():
    assert domain.CYCLE.payloads is schemas.EVENTS


@pytest.mark.parametrize("event_type, change, named", [
    ("StageCompleted", {"outputs": {"laporan_rpk": "done"}}, "outputs"),   # not a way done
    ("StageCompleted", {"on_time": "yes"}, "on_time"),
    ("CycleOpened", {"due_on": "3 Februari 2026"}, "due_on"),
    ("ActivityRecorded", {"attendance": {"men": 1, "women": 1, "poor": -1}}, "poor"),
    ("OutputSatisfied", {"by": {"ledger": "planning"}}, "event_id"),
])
def test_a_payload_its_schema_does_not_describe_is_refused(event_type, change, named):
    event = next(e for e in every_event_type() if e.type == event_type)
    schemas.EVENTS.check(event)
    with pytest.raises(PayloadMismatch, match=named):
        schemas.EVENTS.check(NewEvent(event_type, {**event.payload, **change}))


def test_a_stage_completed_before_evidence_was_recorded_still_validates():
    """StageCompleted's `evidence` came on 2026-11-29 (1d7a8a1): earlier records lack it."""
    event = next(e for e in every_event_type() if e.type == "StageCompleted")
    schemas.EVENTS.check(NewEvent("StageCompleted", {
        k: v for k, v in event.payload.items() if k != "evidence"}))


def test_a_malformed_event_decided_records_nothing():
    stream = opened("2026-01-05")
    before = list(stream.events)
    with pytest.raises(PayloadMismatch, match="facilitator"):
        stream.do(domain.RecordActivity("lokakarya_kota", "2026-01-06", "Balai desa",
                                        {"men": 2, "women": 2, "poor": 0}, None, ["BA-1"]))
    assert stream.events == before and stream.state.code == CODE
