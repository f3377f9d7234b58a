"""The cycle's pure domain: stages, gates at the boundary, waivers, time."""
import pytest

from services.cycle import domain
from services.cycle import template as templates
from shared.chassis.commands import decide_all, fold
from shared.chassis.errors import CommandRejected, Conflict, InvalidInput, NotFound

VILLAGE = {"code": "52.01.08.2006", "name": "Bajur",
           "kabupaten": {"code": "52.01", "name": "Kabupaten Lombok Barat"},
           "province": {"code": "52", "name": "Nusa Tenggara Barat"}}
SELECTION = {"rank": 1, "quota": 5, "round": 1, "event_id": "e-1"}
ATTENDANCE = {"men": 20, "women": 15, "poor": 10}
MEMBERS = [{"name": "Siti", "sex": "P", "role": "ketua"}]


class Cycle:
    """A stream in memory: decide commands on the folded state, keep the events."""

    def __init__(self):
        self.events = []

    @property
    def state(self):
        return fold(domain.CYCLE, self.events)

    def do(self, *commands):
        events, _ = decide_all(domain.CYCLE, self.state, list(commands))
        self.events.extend(events)
        return events


def activity(key, held_on="2026-01-10", **extra):
    return domain.RecordActivity(key, held_on, "Balai desa", ATTENDANCE, "Faskel Ani",
                                 ["BA-001"], **extra)


def opened(on="2026-01-05"):
    cycle = Cycle()
    cycle.do(domain.OpenCycle(VILLAGE, SELECTION, on))
    return cycle


def persiapan_done(cycle, but=None):
    for key in ("lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal",
                "pengukuhan_tipp"):
        if key != but:
            cycle.do(activity(key, members=MEMBERS if key == "pengukuhan_tipp" else None))


def test_opening_twice_is_refused():
    cycle = opened()
    (event,) = cycle.events
    assert event.payload["template"] == {"id": "plpbk-cycle", "version": 1}
    assert event.payload["due_on"] == "2026-02-09"  # Persiapan: 35 days
    with pytest.raises(Conflict, match="already open"):
        cycle.do(domain.OpenCycle(VILLAGE, SELECTION, "2026-01-06"))


def test_nothing_but_outputs_before_the_cycle_opens():
    with pytest.raises(NotFound):
        Cycle().do(activity("lokakarya_kota"))
    early = Cycle()
    early.do(domain.SatisfyOutput("rplp_disetujui", 4, {"code": VILLAGE["code"]}, "2026-01-01"))
    early.do(domain.OpenCycle(VILLAGE, SELECTION, "2026-01-05"))
    assert "rplp_disetujui" in early.state.done  # kept for when stage 4 is reached


def test_an_activity_must_belong_to_the_current_stage():
    cycle = opened()
    with pytest.raises(InvalidInput, match="not an activity of stage 1") as refused:
        cycle.do(activity("pemetaan_swadaya"))
    assert refused.value.field == "activity" and "lokakarya_kota" in str(refused.value)
    with pytest.raises(InvalidInput, match="members"):
        cycle.do(activity("pengukuhan_tipp"))
    with pytest.raises(InvalidInput, match="before the cycle opened"):
        cycle.do(activity("lokakarya_kota", held_on="2026-01-04"))


def test_the_gate_names_exactly_the_missing_output():
    cycle = opened()
    persiapan_done(cycle, but="sosialisasi_massal")
    with pytest.raises(CommandRejected, match="missing outputs: sosialisasi_massal$"):
        cycle.do(domain.CompleteStage("2026-02-01"))
    cycle.do(activity("sosialisasi_massal"))
    (completed,) = cycle.do(domain.CompleteStage("2026-02-01"))
    assert completed.payload["on_time"] and completed.payload["days_taken"] == 27
    assert cycle.state.stage == 2 and cycle.state.stage_started_on == "2026-02-01"


def test_a_waiver_satisfies_the_gate_and_is_its_own_event():
    cycle = opened()
    persiapan_done(cycle, but="lokakarya_kota")
    (waived,) = cycle.do(domain.WaiveOutput("lokakarya_kota", "Held jointly with the city "
                                            "workshop of 2025.", "2026-01-20"))
    assert waived.type == "OutputWaived"
    (completed,) = cycle.do(domain.CompleteStage("2026-01-20"))
    assert completed.payload["outputs"]["lokakarya_kota"] == "waived"
    with pytest.raises(CommandRejected, match="stage 4"):
        cycle.do(domain.WaiveOutput("rplp_disetujui", "x" * 25, "2026-01-21"))
    with pytest.raises(NotFound):
        cycle.do(domain.WaiveOutput("nothing", "x" * 25, "2026-01-21"))


def test_outputs_from_other_services_complete_stage_four():
    cycle = opened()
    for stage_activity, done_on in (("persiapan", "2026-02-01"),
                                    ("refleksi_perkara_kritis", "2026-03-01"),
                                    ("pemetaan_swadaya", "2026-04-01")):
        if stage_activity == "persiapan":
            persiapan_done(cycle)
        else:
            cycle.do(activity(stage_activity, held_on=done_on))
        cycle.do(domain.CompleteStage(done_on))
    assert cycle.state.stage == 4
    for output in ("rplp_disetujui", "aturan_bersama_disetujui", "rtplp_disetujui"):
        cycle.do(domain.SatisfyOutput(output, 4, {"code": VILLAGE["code"]}, "2026-05-01"))
    with pytest.raises(CommandRejected, match="strategi_pemasaran_disetujui"):
        cycle.do(domain.CompleteStage("2026-05-02"))
    cycle.do(domain.SatisfyOutput("strategi_pemasaran_disetujui", 4, {"code": "x"},
                                  "2026-05-02"))
    assert cycle.do(domain.SatisfyOutput("strategi_pemasaran_disetujui", 4, {"code": "x"},
                                         "2026-05-03")) == []  # already done
    cycle.do(domain.CompleteStage("2026-05-02"))
    assert cycle.state.stage == 5


def test_overdue_starts_the_day_after_the_due_date():
    cycle = opened("2026-01-05")
    state = cycle.state
    assert domain.due_on(state) == "2026-02-09"
    assert not domain.overdue(state, "2026-02-09")
    assert domain.overdue(state, "2026-02-10")


def test_late_completion_is_recorded_as_not_on_time():
    cycle = opened("2026-01-05")
    persiapan_done(cycle)
    (completed,) = cycle.do(domain.CompleteStage("2026-02-10"))  # 36 days for 35 planned
    assert (completed.payload["days_taken"], completed.payload["on_time"]) == (36, False)
    assert completed.payload["next_due_on"] == "2026-03-10"


def test_the_whole_cycle_completes_and_the_evaluation_table_tells_each_stage():
    cycle = opened("2026-01-05")
    persiapan_done(cycle)
    cycle.do(domain.CompleteStage("2026-02-01"))
    cycle.do(activity("refleksi_perkara_kritis", "2026-02-10"), domain.CompleteStage("2026-02-20"))
    cycle.do(activity("pemetaan_swadaya", "2026-03-01"), domain.CompleteStage("2026-03-20"))
    for spec in templates.TEMPLATE["stages"][3:5]:
        for output in spec["outputs"]:
            cycle.do(domain.SatisfyOutput(output["key"], spec["stage"], {"code": "x"},
                                          "2026-04-01"))
        cycle.do(domain.CompleteStage("2026-04-01" if spec["stage"] == 4 else "2026-09-01"))
    completed = cycle.do(activity("evaluasi_partisipatif", "2026-09-10"),
                         domain.CompleteStage("2026-09-15"))
    assert [e.type for e in completed] == ["ActivityRecorded", "StageCompleted",
                                           "CycleCompleted"]
    assert completed[-1].payload["on_time"] is True
    state = cycle.state
    assert state.completed and domain.due_on(state) is None and not domain.overdue(
        state, "2030-01-01")
    table = domain.evaluation(state)
    assert [row["stage"] for row in table] == [1, 2, 3, 4, 5, 6]
    assert table[0]["days_taken"] == 27 and table[0]["planned_days"] == 35
    assert all(o["done"] for row in table for o in row["outputs"])
    with pytest.raises(Conflict, match="completed"):
        cycle.do(activity("evaluasi_partisipatif"))


def test_completion_cannot_predate_the_stage_start():
    cycle = opened("2026-01-05")
    persiapan_done(cycle)
    with pytest.raises(InvalidInput, match="before the stage started"):
        cycle.do(domain.CompleteStage("2026-01-04"))
