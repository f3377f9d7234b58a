"""Time, purely: due dates, overdue at the boundary, the evaluation form and the on-time
share against the programme's 90% target."""
import pytest

from services.cycle import domain, reports

from .support import VILLAGE, activity, opened, persiapan_done, walk_to_stage


def test_overdue_starts_the_day_after_the_due_date():
    state = opened("2026-01-05").state
    assert domain.due_on(state) == "2026-02-09"
    assert not domain.overdue(state, "2026-02-08")
    assert not domain.overdue(state, "2026-02-09")        # the due date itself is on time
    assert domain.overdue(state, "2026-02-10")
    assert domain.days_overdue("2026-02-09", "2026-02-09") == 0
    assert domain.days_overdue("2026-02-09", "2026-02-12") == 3
    assert domain.cycle_due_on(state) == "2027-03-08"     # 427 planned days in all


def test_completing_on_the_due_date_is_on_time_and_a_day_later_is_late():
    on_time = opened("2026-01-05")
    persiapan_done(on_time)
    (done,) = on_time.do(domain.CompleteStage("2026-02-09"))
    assert (done.payload["days_taken"], done.payload["on_time"]) == (35, True)
    late = opened("2026-01-05")
    persiapan_done(late)
    (done,) = late.do(domain.CompleteStage("2026-02-10"))
    assert (done.payload["days_taken"], done.payload["on_time"]) == (36, False)


def test_the_evaluation_form_tells_each_stage():
    stream = walk_to_stage(opened("2026-01-05"), 2)
    stream.do(activity("refleksi_perkara_kritis", "2026-01-20"))
    rows = reports.evaluation(stream.state, "2026-02-20")
    assert [row["stage"] for row in rows] == [1, 2, 3, 4, 5, 6]
    first, second, later = rows[0], rows[1], rows[2]
    assert (first["days_taken"], first["planned_days"], first["on_time"]) == (10, 35, True)
    assert all(o["done"] and o["how"] == "activity" for o in first["outputs"])
    assert (second["started_on"], second["due_on"], second["days_so_far"]) == (
        "2026-01-15", "2026-02-12", 36)
    assert second["overdue"] and second["outputs"] == [
        {"output": "laporan_rpk", "name": "Laporan refleksi perkara kritis", "done": True,
         "how": "activity"}]
    assert later["started_on"] is None and not later["outputs"][0]["done"]



def test_a_stage_begun_after_the_day_judged_has_no_negative_days_so_far():
    """From 15:00 UTC a stage may complete on today in UTC+9 (the 30th) while the UTC
    date, which an evaluation may be asked for, is still the 29th: the next stage had not
    begun that day, so it has run 0 days, not -1."""
    stream = opened("2026-11-29")
    persiapan_done(stream, held_on="2026-11-30")
    stream.do(domain.CompleteStage("2026-11-30"))
    second = reports.evaluation(stream.state, "2026-11-29")[1]
    assert (second["started_on"], second["days_so_far"], second["overdue"]) == (
        "2026-11-30", 0, False)

def progress_of(stream):
    return reports.progress(stream.state)


def village(code):
    return {**VILLAGE, "code": code}


def finished_stage_1(code, days):
    stream = opened("2026-01-05", village(code))
    persiapan_done(stream, held_on="2026-01-06")
    stream.do(domain.CompleteStage(domain.plus_days("2026-01-05", days)))
    return progress_of(stream)


def test_the_share_counts_finished_and_hopelessly_late_villages():
    cycles = [finished_stage_1(f"52.01.08.20{n:02d}", 30) for n in range(8)]   # on time
    cycles.append(finished_stage_1("52.01.08.2090", 40))                       # late
    cycles.append(progress_of(opened("2026-01-05", village("52.01.08.2091"))))  # running
    (stage_1, *_rest, whole) = reports.on_time_share(cycles, "2026-02-09")
    assert (stage_1["completed"], stage_1["on_time"], stage_1["late"]) == (9, 8, 1)
    assert stage_1["overdue_unfinished"] == 0 and stage_1["share_percent"] == "88.88"
    assert stage_1["meets_target"] is False
    # a day later the running village can no longer finish Persiapan on time
    (stage_1, *_rest) = reports.on_time_share(cycles, "2026-02-10")
    assert (stage_1["overdue_unfinished"], stage_1["known"]) == (1, 10)
    assert stage_1["share_percent"] == "80.00"
    assert whole["known"] == 0 and whole["share_percent"] is None


@pytest.mark.parametrize("on_time, late, meets", [(9, 1, True), (89, 11, False),
                                                   (900, 100, True), (8999, 1001, False)])
def test_the_target_is_met_exactly_at_ninety_percent(on_time, late, meets):
    row = reports._share("stage 1", 1, [True] * on_time + [False] * late, 0, 90)
    assert row["meets_target"] is meets


def test_a_share_just_under_the_target_never_shows_as_ninety():
    row = reports._share("stage 1", 1, [True] * 8999 + [False] * 1000, 0, 90)
    assert row["share_percent"] == "89.99" and row["meets_target"] is False


def test_the_whole_cycle_share():
    stream = walk_to_stage(opened("2026-01-05"), 6)
    stream.do(activity("evaluasi_partisipatif", "2026-03-01"), domain.CompleteStage("2026-03-01"))
    running = opened("2025-01-01", village("52.01.08.2001"))
    rows = reports.on_time_share([progress_of(stream), progress_of(running)], "2026-03-05")
    whole = rows[-1]
    assert whole["scope"] == "whole cycle"
    assert (whole["completed"], whole["on_time"], whole["overdue_unfinished"]) == (1, 1, 1)
    assert whole["share_percent"] == "50.00"


def test_the_evaluation_form_tells_each_activity_of_the_guideline_done_or_not():
    """DOMAIN.md: the evaluation form compares, per stage *and activity*, the guideline
    with what was done (yes/no). Stage 4's activities produce no output of their own, so
    the outputs alone could not tell whether its rembug warga was ever held."""
    stream = walk_to_stage(opened("2026-01-05"), 4)
    stream.do(activity("rembug_warga", "2026-02-20"))
    stream.do(activity("rembug_warga", "2026-03-02"))
    rows = reports.evaluation(stream.state, "2026-03-05")
    assert rows[0]["activities"] == [
        {"activity": key, "name": name, "done": True, "held_on": ["2026-01-15"]}
        for key, name in (("lokakarya_kota", "Lokakarya kabupaten/kota"),
                          ("lokakarya_kelurahan", "Lokakarya kelurahan/desa"),
                          ("sosialisasi_massal", "Sosialisasi massal"),
                          ("pengukuhan_tipp", "Pengukuhan TPP menjadi TIPP"))]
    assert rows[3]["activities"] == [
        {"activity": "rembug_warga", "name": "Rembug warga perencanaan", "done": True,
         "held_on": ["2026-02-20", "2026-03-02"]},
        {"activity": "lokakarya_pemasaran", "name": "Lokakarya pemasaran", "done": False,
         "held_on": []}]
    assert rows[5]["activities"] == [{"activity": "evaluasi_partisipatif",
                                      "name": "Evaluasi partisipatif", "done": False,
                                      "held_on": []}]
