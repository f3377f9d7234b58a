"""The cycle service over the real RabbitMQ: opened by registration's selection (once,
whatever is redelivered), driven by facilitators, gated, readable as of any moment."""
from datetime import date, timedelta

import pytest

from services.cycle.service import CycleService
from shared.chassis.errors import CommandRejected, Conflict, Forbidden, InvalidInput, NotFound
from shared.ledger import open_ledger
import shared.schemas
from shared.schemas import indonesia_today
from shared.views import open_view_store
from tests.samples import TIPP

from ..conftest import publish, wait_for
from .conftest import (
    BAJUR,
    FASKEL,
    NEIGHBOUR,
    activity,
    call,
    caught_up,
    cycle_of,
    select,
    stream,
    wait_open,
)


def selections(config):
    ledger = open_ledger(config["STORE_URI"], "registration")
    try:
        return {r.payload["code"]: r for r in ledger.read(types=["VillageSelected"])}
    finally:
        ledger.close()


def test_selection_opens_the_cycle_with_its_cause(platform):
    select(platform)
    opened = wait_open(platform)
    assert (opened["stage"], opened["stage_name"]) == (1, "Persiapan")
    assert opened["template"] == {"id": "plpbk-cycle", "version": 1}
    assert opened["missing_outputs"] == ["lokakarya_kota", "lokakarya_kelurahan",
                                         "sosialisasi_massal", "tipp_dikukuhkan"]
    assert opened["village"]["name"] == "Bajur" and opened["selection"]["rank"] == 1
    (record,) = stream(platform)
    selected = selections(platform)[BAJUR]
    assert record.type == "CycleOpened" and record.actor["role"] == "system"
    assert record.causation_id == selected.event_id
    assert record.correlation_id == selected.correlation_id
    assert record.payload["due_on"] == opened["due_on"]


def test_redelivered_selections_open_nothing_twice(platform):
    select(platform, BAJUR, NEIGHBOUR)
    wait_open(platform, BAJUR)
    wait_open(platform, NEIGHBOUR)
    last = max(r.position for r in selections(platform).values())

    # RabbitMQ delivers the whole registration ledger again, twice
    assert publish(platform, "registration", from_position=0) > 0
    assert publish(platform, "registration", from_position=0) > 0
    wait_for(lambda: caught_up(platform, "cycle.open_cycle_on_selection", last),
             what="the reaction to see the selections")
    for code in (BAJUR, NEIGHBOUR):
        assert [r.type for r in stream(platform, code)] == ["CycleOpened"]


def test_a_restart_that_forgot_its_position_opens_nothing_twice(container_factory,
                                                                platform_config):
    from services.registration.service import RegistrationService
    container_factory(RegistrationService, platform_config).start()
    first = container_factory(CycleService, platform_config)
    first.start()
    select(platform_config, BAJUR, NEIGHBOUR)
    wait_open(platform_config, BAJUR)
    wait_open(platform_config, NEIGHBOUR)
    first.stop()

    # the reaction's durable position is lost: on start it reads registration from 0
    state = open_view_store(platform_config["STATE_URI"], "cycle")
    tracking = state.collection("tracking")
    tracking.delete("cycle.open_cycle_on_selection:registration")
    state.close()
    container_factory(CycleService, platform_config).start()
    last = max(r.position for r in selections(platform_config).values())
    wait_for(lambda: caught_up(platform_config, "cycle.open_cycle_on_selection", last),
             what="the restarted reaction to catch up")
    for code in (BAJUR, NEIGHBOUR):
        assert [r.type for r in stream(platform_config, code)] == ["CycleOpened"]
        assert cycle_of(platform_config, code)["stage"] == 1  # the view rebuilt at start


def test_an_activity_recorded_before_the_selection_is_announced_opens_the_cycle_first(
        container_factory, platform_config):
    """Selected a moment ago and not yet announced (registration's relay has not run: no
    doorbell, and the safety net waits an hour): the facilitator's first activity reads
    the selection before deciding, so the cycle opens and takes it, not a 404."""
    from services.registration.service import RegistrationService
    container_factory(RegistrationService, {**platform_config, "RELAY": "external"}).start()
    container_factory(CycleService, platform_config).start()
    select(platform_config)
    with call(platform_config, actor=FASKEL) as cycle:
        after = cycle.record_activity(BAJUR, activity("lokakarya_kota"))
    assert "lokakarya_kota" in after["done_outputs"]
    assert [r.type for r in stream(platform_config)] == ["CycleOpened", "ActivityRecorded"]


def test_activities_and_the_gate(platform):
    select(platform)
    wait_open(platform)
    with call(platform, actor=FASKEL) as cycle:
        after = cycle.record_activity(BAJUR, activity("lokakarya_kota"))
        assert after["timeline"][0]["attendance"] == {"men": 30, "women": 25, "poor": 12}
        assert after["done_outputs"]["lokakarya_kota"]["how"] == "activity"
        with pytest.raises(CommandRejected) as refused:
            cycle.complete_stage(BAJUR, {"completed_on": indonesia_today().isoformat()})
        assert refused.value.field == "outputs"
        assert str(refused.value).endswith(
            "missing outputs: lokakarya_kelurahan, sosialisasi_massal, tipp_dikukuhkan")
        for key in ("lokakarya_kelurahan", "sosialisasi_massal", "pengukuhan_tipp"):
            cycle.record_activity(BAJUR, activity(key))
        done = cycle.complete_stage(BAJUR, {"completed_on": indonesia_today().isoformat(),
                                            "stage": 1})
        assert (done["stage"], done["missing_outputs"]) == (2, ["laporan_rpk"])
        assert done["stages"]["1"]["on_time"] is True
        with pytest.raises(Conflict, match="stage 1 is already complete") as again:
            cycle.complete_stage(BAJUR, {"completed_on": indonesia_today().isoformat(),
                                         "stage": 1})   # the same form sent twice
        assert again.value.field == "stage"
        with pytest.raises(InvalidInput, match="not an activity of stage 2"):
            cycle.record_activity(BAJUR, activity("lokakarya_kota"))
    assert [r.type for r in stream(platform)] == ["CycleOpened"] + ["ActivityRecorded"] * 4 + [
        "StageCompleted"]


def test_bad_input_names_the_field_and_records_nothing(platform):
    select(platform)
    wait_open(platform)
    # the first day in the future: tomorrow in Papua (UTC+9), the latest date anywhere in
    # Indonesia (from 15:00 UTC the server's tomorrow is already today there)
    tomorrow = (indonesia_today() + timedelta(days=1)).isoformat()
    bad_calls = [
        ("record_activity", (BAJUR, activity("pengukuhan_tipp", members=None)), InvalidInput,
         "members"),
        ("record_activity", (BAJUR, activity("lokakarya_kota", attendance={
            "men": 1, "women": 1, "poor": 3})), InvalidInput, "attendance.poor"),
        ("record_activity", (BAJUR, activity("lokakarya_kota", attendance={
            "men": 1.5, "women": 1, "poor": 0})), InvalidInput, "attendance.men"),
        ("record_activity", (BAJUR, activity("lokakarya_kota", tomorrow)), InvalidInput,
         "held_on"),
        ("record_activity", (BAJUR, activity("lokakarya_kota", "2020-01-01")), InvalidInput,
         "held_on"),
        ("record_activity", (BAJUR, "not an object"), InvalidInput, "body"),
        ("record_activity", ("52.01.08", activity("lokakarya_kota")), InvalidInput, "code"),
        ("record_activity", ("52.01.08.2001", activity("lokakarya_kota")), NotFound, "code"),
        ("record_activity", ("31.71.01.1001", activity("lokakarya_kota")), Forbidden, "code"),
        ("complete_stage", (BAJUR, {"completed_on": tomorrow}), InvalidInput, "completed_on"),
        ("complete_stage", (BAJUR, {}), InvalidInput, "completed_on"),
        ("waive_output", (BAJUR, {"output": "lokakarya_kota", "justification": "x" * 30}),
         Forbidden, "role"),
        ("get_cycle", (BAJUR, "last tuesday"), InvalidInput, "as_of"),
        ("list_cycles", ({"stage": 9},), InvalidInput, "stage"),
        ("list_cycles", ({"stage": "\u0662"},), InvalidInput, "stage"),   # not read as 2
        ("list_cycles", ({"stage": "+2"},), InvalidInput, "stage"),
        ("list_cycles", ({"region": "31"},), Forbidden, "region"),
        ("on_time_share", ({"as_of": "soon"},), InvalidInput, "as_of"),
        ("evaluation", (BAJUR, "2026-13-01"), InvalidInput, "as_of"),
        ("complete_stage", (BAJUR, {"completed_on": "2026-01-01"}, 7), InvalidInput,
         "idempotency_key"),
        ("record_activity", (BAJUR, activity("lokakarya_kota"), "k" * 301), InvalidInput,
         "idempotency_key"),
    ]
    with call(platform, actor=FASKEL) as cycle:
        for method, args, error, field in bad_calls:
            with pytest.raises(error) as refused:
                getattr(cycle, method)(*args)
            assert refused.value.field == field, (method, args, str(refused.value))
        with pytest.raises(InvalidInput) as members:
            cycle.record_activity(BAJUR, activity("lokakarya_kota", members=TIPP))
        assert (members.value.field, members.value.message) == (
            "members", "lokakarya_kota takes no members; only pengukuhan_tipp records the "
                       "TIPP's members")
    with call(platform) as cycle:
        with pytest.raises(InvalidInput) as refused:
            cycle.waive_output(BAJUR, {"output": "lokakarya_kota", "justification": "short"})
        assert refused.value.field == "justification"
        with pytest.raises(NotFound) as refused:
            cycle.template(7)
        assert refused.value.field == "version"
    assert [r.type for r in stream(platform)] == ["CycleOpened"]


def test_only_the_ministry_waives_and_with_a_reason(platform):
    select(platform)
    wait_open(platform)
    reason = "Held jointly with the 2025 city workshop (BA 12/2025)."
    with call(platform) as cycle:
        waived = cycle.waive_output(BAJUR, {"output": "lokakarya_kota",
                                            "justification": reason})
        assert waived["done_outputs"]["lokakarya_kota"]["how"] == "waived"
        assert waived["done_outputs"]["lokakarya_kota"]["justification"] == reason
        # decided today in Indonesia: the date in UTC+9, not the server's
        assert waived["done_outputs"]["lokakarya_kota"]["on"] == indonesia_today().isoformat()
        with pytest.raises(Conflict):
            cycle.waive_output(BAJUR, {"output": "lokakarya_kota", "justification": reason})
        with pytest.raises(CommandRejected, match="belongs to stage 4"):
            cycle.waive_output(BAJUR, {"output": "rplp_disetujui", "justification": reason})
    (waiver,) = [r for r in stream(platform) if r.type == "OutputWaived"]
    assert waiver.actor["id"] == "kemen-1" and waiver.actor["role"] == "ministry"


def test_the_cycle_as_of_a_past_moment(platform):
    before_opening = shared.schemas.utc_now()   # the platform's clock (tests may move it)
    select(platform)
    opened = wait_open(platform)
    with call(platform, actor=FASKEL) as cycle:
        cycle.record_activity(BAJUR, activity("lokakarya_kota"))
        between = shared.schemas.utc_now()
        cycle.record_activity(BAJUR, activity("lokakarya_kelurahan"))
        now = cycle.get_cycle(BAJUR)
        then = cycle.get_cycle(BAJUR, between.isoformat())
        assert [a["activity"] for a in then["timeline"]] == ["lokakarya_kota"]
        assert [a["activity"] for a in now["timeline"]] == ["lokakarya_kota",
                                                            "lokakarya_kelurahan"]
        assert "lokakarya_kelurahan" in then["missing_outputs"]
        # today in Papua (UTC+9) has begun, though from 15:00 UTC it is tomorrow in UTC:
        # the cycle now, judged on that day, as the cycle without as_of is
        today = cycle.get_cycle(BAJUR, indonesia_today().isoformat())
        assert today["timeline"] == now["timeline"]
        assert today["as_of"] == now["as_of"] == indonesia_today().isoformat()
        # the evaluation form takes the same moment, and shows the cycle as it stood then
        done = lambda form: {o["output"]: o["done"] for o in form["stages"][0]["outputs"]}
        assert done(cycle.evaluation(BAJUR, between.isoformat())) == {
            "lokakarya_kota": True, "lokakarya_kelurahan": False,
            "sosialisasi_massal": False, "tipp_dikukuhkan": False}
        assert done(cycle.evaluation(BAJUR))["lokakarya_kelurahan"] is True
        assert cycle.evaluation(BAJUR, between.isoformat())["as_of"] == \
            indonesia_today(between).isoformat()   # a time: judged on its date in UTC+9
        assert then["as_of"] == indonesia_today(between).isoformat()
        assert cycle.list_cycles({"as_of": before_opening.isoformat()})["total"] == 0
        assert cycle.list_cycles({"as_of": between.isoformat()})["total"] == 1
        with pytest.raises(NotFound) as not_open:
            cycle.evaluation(BAJUR, before_opening.isoformat())
        assert not_open.value.field == "as_of"
        with pytest.raises(NotFound) as before:
            cycle.get_cycle(BAJUR, "2000-01-01T00:00:00Z")
        assert before.value.field == "as_of"
    assert then["opened_on"] == opened["opened_on"]


def test_listing_overdue_evaluation_and_on_time_share(platform):
    select(platform, BAJUR, NEIGHBOUR)
    opened = wait_open(platform, BAJUR)
    wait_open(platform, NEIGHBOUR)
    # today in Papua (UTC+9), the day reports are judged on by default; the cycles opened
    # on the UTC date of the selection (opened_on), a day earlier from 15:00 UTC
    today = indonesia_today().isoformat()
    since_opening = (indonesia_today() - date.fromisoformat(opened["opened_on"])).days
    with call(platform, actor=FASKEL) as cycle:
        for key in ("lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal",
                    "pengukuhan_tipp"):
            cycle.record_activity(BAJUR, activity(key))
        cycle.complete_stage(BAJUR, {"completed_on": today})

        assert cycle.list_cycles({"stage": 2})["items"][0]["code"] == BAJUR
        listing = cycle.list_cycles({"region": "52.01.08", "page_size": 1, "page": 2})
        assert (listing["total"], [i["code"] for i in listing["items"]]) == (2, [BAJUR])
        national = cycle.list_cycles()          # narrowed to the facilitator's region
        assert national["total"] == 2
        # stage 2 (RPK, 28 days) of Bajur started today; Persiapan (35) of the neighbour
        in_30_days = (indonesia_today() + timedelta(days=30)).isoformat()
        late = cycle.list_cycles({"overdue": True, "as_of": in_30_days})
        assert [(i["code"], i["stage"], i["days_overdue"]) for i in late["items"]] == [
            (BAJUR, 2, 2)]
        assert [i["code"] for i in cycle.list_cycles(
            {"overdue": False, "as_of": in_30_days})["items"]] == [NEIGHBOUR]
        assert cycle.list_cycles({"overdue": True})["total"] == 0
        late_day = (indonesia_today() + timedelta(days=36)).isoformat()

        form = cycle.evaluation(BAJUR)
        first, second = form["stages"][0], form["stages"][1]
        assert (first["days_taken"], first["planned_days"]) == (since_opening, 35)
        assert all(o["done"] for o in first["outputs"])
        assert second["days_so_far"] == 0 and second["outputs"][0]["done"] is False

        share = cycle.on_time_share({"region": "52", "as_of": late_day})
        persiapan = share["rows"][0]
        assert (persiapan["completed"], persiapan["on_time"],
                persiapan["overdue_unfinished"], persiapan["share_percent"],
                persiapan["meets_target"]) == (1, 1, 1, "50.00", False)
        # the facilitator asked for the province and gets its own kabupaten, by kecamatan
        assert (share["region"], share["name"]) == ("52.01", "Kabupaten Lombok Barat")
        (labuapi,) = share["regions"]
        assert (labuapi["region"], labuapi["cycles"]) == ("52.01.08", 2)
        assert labuapi["rows"][0]["share_percent"] == "50.00"
    assert opened["due_on"] == (date.fromisoformat(opened["opened_on"]) +
                                timedelta(days=35)).isoformat()


def test_reports_of_a_past_day_replay_what_was_recorded_by_then(platform):
    """Listings, shares and the evaluation form of a past day come from the ledger as it
    stood at the end of that day, not from today's cycles judged on an old date."""
    select(platform)
    today = wait_open(platform)["opened_on"]   # the UTC date the selection was recorded
    yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    with call(platform, actor=FASKEL) as cycle:
        assert cycle.list_cycles({"as_of": yesterday})["total"] == 0   # opened today
        assert cycle.on_time_share({"region": "52", "as_of": yesterday})["cycles"] == 0
        with pytest.raises(NotFound) as not_yet:
            cycle.evaluation(BAJUR, yesterday)
        assert not_yet.value.field == "as_of"
        assert cycle.list_cycles({"as_of": today})["total"] == 1
        assert cycle.evaluation(BAJUR, today)["stages"][0]["started_on"] == today
