"""The cycle's pure domain: opening, activities, gates at the boundary, waivers, outputs
from other services, completion."""
import pytest

from services.cycle import domain
from services.cycle import template as templates
from shared.chassis.errors import CommandRejected, Conflict, InvalidInput, NotFound

from .support import (
    CODE,
    MEMBERS,
    PERSIAPAN,
    SELECTION,
    VILLAGE,
    activity,
    cycle,
    opened,
    persiapan_done,
    satisfied,
    walk_to_stage,
)


def test_opening_records_the_template_version_and_the_first_due_date():
    (event,) = opened("2026-01-05").events
    assert event.type == "CycleOpened"
    assert event.payload["template"] == {"id": "plpbk-cycle", "version": 1}
    assert (event.payload["stage"], event.payload["due_on"]) == (1, "2026-02-09")  # 35 days
    assert event.payload["selection"] == SELECTION


def test_opening_twice_is_refused():
    stream = opened()
    with pytest.raises(Conflict, match="already open") as refused:
        stream.do(domain.OpenCycle(VILLAGE, SELECTION, "2026-01-06"))
    assert refused.value.field == "code"
    assert len(stream.events) == 1


def test_nothing_but_satisfied_outputs_before_the_cycle_opens():
    early = cycle()
    with pytest.raises(NotFound, match="no cycle is open"):
        early.do(activity("lokakarya_kota"))
    with pytest.raises(NotFound):
        early.do(domain.CompleteStage("2026-01-05"))
    early.do(satisfied("rplp_disetujui", on="2026-01-01"))
    early.do(domain.OpenCycle(VILLAGE, SELECTION, "2026-01-05"))
    state = early.state
    assert state.opened and state.done["rplp_disetujui"]["how"] == "satisfied"


def test_an_activity_must_belong_to_the_current_stage():
    stream = opened()
    with pytest.raises(InvalidInput, match="not an activity of stage 1") as refused:
        stream.do(activity("pemetaan_swadaya"))
    assert refused.value.field == "activity"
    assert all(key in str(refused.value) for key in PERSIAPAN)


def test_the_same_activity_sent_again_records_nothing():
    # a double submission (no idempotency key) put one meeting on the timeline twice:
    # twice its attendance in every count, twice the TIPP confirmed
    stream = opened()
    [first] = stream.do(activity("pengukuhan_tipp"))
    assert stream.do(activity("pengukuhan_tipp")) == []
    assert len(stream.state.activities) == 1
    # another meeting of the same kind (another day, other minutes) is its own record
    [second] = stream.do(activity("lokakarya_kota", "2026-01-10"))
    [third] = stream.do(domain.RecordActivity(
        "lokakarya_kota", "2026-01-10", "Balai desa", {"men": 20, "women": 15, "poor": 10},
        "Faskel Ani", ["BA-002"]))
    assert third.payload["evidence"] == ["BA-002"] and len(stream.state.activities) == 3


def test_an_activity_cannot_predate_its_stage_and_the_tipp_needs_members():
    stream = opened("2026-01-05")
    with pytest.raises(InvalidInput, match="before stage 1 started") as early:
        stream.do(activity("lokakarya_kota", held_on="2026-01-04"))
    assert early.value.field == "held_on"
    with pytest.raises(InvalidInput) as no_members:
        stream.do(activity("pengukuhan_tipp", members=None))
    assert no_members.value.field == "members"
    assert stream.events[1:] == []


@pytest.mark.parametrize("key", ["lokakarya_kota", "lokakarya_kelurahan",
                                 "sosialisasi_massal"])
def test_only_the_tipp_confirmation_takes_members(key):
    """Members on another activity would put people on record as the TIPP without the
    activity that confirms them: refused, naming the field, nothing recorded."""
    stream = opened("2026-01-05")
    with pytest.raises(InvalidInput) as refused:
        stream.do(activity(key, members=MEMBERS))
    assert refused.value.field == "members"
    assert refused.value.message == (f"{key} takes no members; only pengukuhan_tipp records "
                                     "the TIPP's members")
    assert stream.events[1:] == [] and stream.state.activities == []


def test_an_activity_marks_its_outputs_done_and_joins_the_timeline():
    stream = opened()
    (recorded,) = stream.do(activity("pengukuhan_tipp"))
    assert recorded.payload["produces"] == ["tipp_dikukuhkan"]
    assert recorded.payload["members"][0]["name"] == "Siti"
    state = stream.state
    assert state.done["tipp_dikukuhkan"]["how"] == "activity"
    assert [a["activity"] for a in state.activities] == ["pengukuhan_tipp"]
    assert domain.missing_outputs(state) == ["lokakarya_kota", "lokakarya_kelurahan",
                                             "sosialisasi_massal"]


@pytest.mark.parametrize("left_out", PERSIAPAN)
def test_the_gate_refuses_with_exactly_the_one_missing_output(left_out):
    stream = opened()
    persiapan_done(stream, but=left_out)
    output = templates.activity(templates.CURRENT, 1, left_out)["produces"][0]
    with pytest.raises(CommandRejected, match=f"missing outputs: {output}$") as refused:
        stream.do(domain.CompleteStage("2026-02-01"))
    assert refused.value.field == "outputs"
    stream.do(activity(left_out))
    (completed,) = stream.do(domain.CompleteStage("2026-02-01"))
    assert completed.payload["outputs"][output] == "activity"


def test_a_completion_naming_its_stage_is_refused_once_the_cycle_moved_past_it():
    """A form sent twice (a double click, a retry without an idempotency key) must not
    complete the next stage too: naming the stage makes the second one a 409."""
    stream = opened("2026-01-05")
    persiapan_done(stream)
    with pytest.raises(Conflict, match="the cycle is at stage 1") as refused:
        stream.do(domain.CompleteStage("2026-02-01", stage=2))
    assert refused.value.field == "stage"
    stream.do(domain.CompleteStage("2026-02-01", stage=1))
    recorded = len(stream.events)
    with pytest.raises(Conflict, match="stage 1 is already complete; the cycle is at "
                                       "stage 2") as again:
        stream.do(domain.CompleteStage("2026-02-01", stage=1))
    assert again.value.field == "stage" and len(stream.events) == recorded


def test_completing_moves_to_the_next_stage_with_its_due_date():
    stream = opened("2026-01-05")
    persiapan_done(stream)
    (completed,) = stream.do(domain.CompleteStage("2026-02-01"))
    assert (completed.payload["days_taken"], completed.payload["on_time"]) == (27, True)
    assert completed.payload["next_due_on"] == "2026-03-01"  # RPK: 28 days
    state = stream.state
    assert (state.stage, state.stage_started_on, domain.due_on(state)) == (
        2, "2026-02-01", "2026-03-01")
    assert domain.missing_outputs(state) == ["laporan_rpk"]


def test_completion_cannot_predate_the_stage_or_its_outputs():
    stream = opened("2026-01-05")
    persiapan_done(stream, held_on="2026-01-20")
    with pytest.raises(InvalidInput, match="before stage 1 started"):
        stream.do(domain.CompleteStage("2026-01-04"))
    with pytest.raises(InvalidInput, match="lokakarya_kota on 2026-01-20") as refused:
        stream.do(domain.CompleteStage("2026-01-19"))
    assert refused.value.field == "completed_on"
    stream.do(domain.CompleteStage("2026-01-20"))


def test_a_waiver_satisfies_the_gate_and_is_its_own_event():
    stream = opened()
    persiapan_done(stream, but="lokakarya_kota")
    (waived,) = stream.do(domain.WaiveOutput("lokakarya_kota", "Held jointly with the "
                                             "city workshop of 2025.", "2026-01-20"))
    assert waived.type == "OutputWaived" and waived.payload["stage"] == 1
    (completed,) = stream.do(domain.CompleteStage("2026-01-20"))
    assert completed.payload["outputs"]["lokakarya_kota"] == "waived"
    assert stream.state.done["lokakarya_kota"]["justification"].startswith("Held jointly")


def test_what_cannot_be_waived():
    stream = opened()
    stream.do(activity("lokakarya_kota"))
    with pytest.raises(CommandRejected, match="belongs to stage 4") as later:
        stream.do(domain.WaiveOutput("rplp_disetujui", "x" * 25, "2026-01-21"))
    assert later.value.field == "output"
    with pytest.raises(NotFound, match="not an output"):
        stream.do(domain.WaiveOutput("nothing", "x" * 25, "2026-01-21"))
    with pytest.raises(Conflict, match="already done"):
        stream.do(domain.WaiveOutput("lokakarya_kota", "x" * 25, "2026-01-21"))


def test_outputs_of_other_services_complete_stage_four():
    stream = walk_to_stage(opened("2026-01-05"), 4)
    state = stream.state
    assert state.stage == 4 and state.stage_started_on == "2026-02-04"
    stream.do(satisfied("rplp_disetujui", "aturan_bersama_disetujui", "rtplp_disetujui",
                        on="2026-03-01"))
    with pytest.raises(CommandRejected, match="missing outputs: strategi_pemasaran_disetujui$"):
        stream.do(domain.CompleteStage("2026-03-02"))
    (event,) = stream.do(satisfied("strategi_pemasaran_disetujui", on="2026-03-02"))
    assert event.payload["by"]["ledger"] == "planning" and event.payload["stage"] == 4
    assert stream.do(satisfied("strategi_pemasaran_disetujui", on="2026-03-03")) == []
    stream.do(domain.CompleteStage("2026-03-02"))
    assert stream.state.stage == 5


def test_an_output_satisfied_before_its_stage_is_kept_for_the_gate():
    stream = opened("2026-01-05")
    stream.do(satisfied("rplp_disetujui", "rtplp_disetujui", "aturan_bersama_disetujui",
                        "strategi_pemasaran_disetujui", on="2026-01-06"))
    assert stream.state.stage == 1
    walk_to_stage(stream, 4)
    assert domain.missing_outputs(stream.state) == []


def test_an_output_the_cycle_template_does_not_have_is_ignored():
    stream = opened()
    foreign = domain.SatisfyOutputs(CODE, [{"output": "not_in_v1", "stage": 4}],
                                    {"ledger": "x"}, "2026-01-06")
    assert stream.do(foreign) == []


def test_the_whole_cycle_completes_once():
    stream = walk_to_stage(opened("2026-01-05"), 6)
    completed = stream.do(activity("evaluasi_partisipatif", "2026-03-01"),
                          domain.CompleteStage("2026-03-02"))
    assert [e.type for e in completed] == ["ActivityRecorded", "StageCompleted",
                                           "CycleCompleted"]
    cycle = completed[-1].payload
    assert (cycle["days_taken"], cycle["planned_days"], cycle["on_time"]) == (56, 427, True)
    state = stream.state
    assert state.completed and state.cycle_on_time and domain.due_on(state) is None
    assert not domain.overdue(state, "2030-01-01")
    with pytest.raises(Conflict, match="completed on 2026-03-02"):
        stream.do(activity("evaluasi_partisipatif", "2026-03-03"))
    assert stream.do(satisfied("rplp_disetujui")) == []


def test_a_stage_cannot_complete_before_an_activity_of_it_was_held():
    """A second sosialisasi on the 20th belongs to stage 1: completing stage 1 on the 15th
    would leave a stage-1 activity after the stage closed in the evaluation form."""
    stream = opened("2026-01-05")
    persiapan_done(stream, held_on="2026-01-10")
    stream.do(activity("sosialisasi_massal", "2026-01-20"))
    with pytest.raises(InvalidInput, match="sosialisasi_massal held on 2026-01-20") as early:
        stream.do(domain.CompleteStage("2026-01-15"))
    assert early.value.field == "completed_on"
    assert stream.state.stage == 1
    stream.do(domain.CompleteStage("2026-01-20"))
    assert stream.state.stage == 2


def test_an_activity_nobody_attended_is_refused():
    stream = opened("2026-01-05")
    with pytest.raises(InvalidInput, match="nobody attended") as empty:
        stream.do(domain.RecordActivity("sosialisasi_massal", "2026-01-10", "Balai desa",
                                        {"men": 0, "women": 0, "poor": 0}, "Faskel Ani",
                                        ["BA-001"]))
    assert empty.value.field == "attendance"
    assert stream.events[1:] == []


def test_a_completed_stage_names_the_events_that_did_its_outputs():
    """An auditor's `why` of a StageCompleted reaches the activity, approval or waiver
    behind each output (event ids in the payload), not only how it was done."""
    stream = opened("2026-01-05")
    recorded = {}
    for key in PERSIAPAN[1:]:
        (event,) = stream.do(activity(key, "2026-01-10"))
        recorded[event.payload["produces"][0]] = event.event_id
    (waived,) = stream.do(domain.WaiveOutput("lokakarya_kota", "Held jointly with the "
                                             "city workshop of 2025.", "2026-01-11"))
    (completed,) = stream.do(domain.CompleteStage("2026-01-11"))
    assert completed.payload["evidence"] == {**recorded, "lokakarya_kota": waived.event_id}
    walk_to_stage(stream, 4)
    (satisfaction,) = stream.do(satisfied("rplp_disetujui", on="2026-03-01"))
    assert stream.state.done["rplp_disetujui"]["event_id"] == satisfaction.event_id
