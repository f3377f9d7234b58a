"""The cycle service over the real RabbitMQ: opened by registration's selection, gated by
planning's approvals, idempotent under redelivery, readable as of any moment."""
from datetime import date, datetime, timedelta, timezone

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.cycle.service import CycleService
from services.registration.service import RegistrationService
from shared.chassis.errors import CommandRejected, Forbidden, InvalidInput, NotFound
from shared.ledger import SYSTEM, Metadata, NewEvent, open_ledger
from shared.messaging.relay import Relay
from shared.views import open_view_store

from ..conftest import wait_for

CODE = "52.01.08.2006"
MINISTRY = {"id": "kemen-1", "role": "ministry", "region": ""}
FASKEL = {"id": "faskel-7", "role": "facilitator", "region": "52.01"}
ELIGIBLE = {"indicators": {
    "poverty_rate": "31.5", "slum_area": {"present": True, "hectares": "12.4"},
    "bookkeeping_rating": "memadai", "voter_turnout": "42", "fund_misuse_cases": 0,
    "pemda_priority": {"prioritised": True, "decree_reference": "SK Bupati 050/12/2024"}},
    "source_document": "BPS Lombok Barat 2024", "observed_on": "2024-06-30"}
TODAY = date.today().isoformat()


def activity(key, **extra):
    return {"activity": key, "held_on": TODAY, "place": "Balai Desa Bajur",
            "attendance": {"men": 30, "women": 25, "poor": 12}, "facilitator": "Faskel Ani",
            "evidence": ["BA/2026/001"], **extra}


@pytest.fixture
def platform(container_factory, platform_config):
    for service in (RegistrationService, CycleService):
        container_factory(service, platform_config).start()
    return platform_config


def call(config, service, actor=MINISTRY):
    return ServiceRpcProxy(service, config, context_data={"actor": actor})


def select(config, code=CODE):
    with call(config, "registration") as registration:
        registration.register_village({"code": code})
        registration.record_indicators(code, ELIGIBLE)
        registration.set_quota({"kabupaten": code[:5], "quota": 3, "decree_reference": "KM 1"})
        registration.select_villages(code[:5])


def cycle_of(config, code=CODE, actor=MINISTRY):
    with call(config, "cycle", actor) as cycle:
        try:
            return cycle.get_cycle(code)
        except NotFound:
            return None


def test_selection_opens_the_cycle_once_with_its_cause(platform):
    select(platform)
    opened = wait_for(lambda: cycle_of(platform), what="the cycle to open")
    assert opened["stage"] == 1 and opened["stage_name"] == "Persiapan"
    assert opened["missing_outputs"] == ["lokakarya_kota", "lokakarya_kelurahan",
                                         "sosialisasi_massal", "tipp_dikukuhkan"]
    ledger = open_ledger(platform["STORE_URI"], "cycle")
    (record,) = ledger.read_stream(f"cycle-{CODE}")
    selected = open_ledger(platform["STORE_URI"], "registration").read(types=["VillageSelected"])
    assert record.causation_id == selected[0].event_id and record.actor["role"] == "system"

    # redelivery: publish registration's events again and ring again -> still one opening
    state = open_view_store(platform["STATE_URI"], "registration")
    state.collection("relay_positions").put("registration", {"position": 0})
    Relay(open_ledger(platform["STORE_URI"], "registration"), platform["AMQP_URI"],
          state).publish_pending()
    with call(platform, "cycle") as cycle:
        wait_for(lambda: cycle.status()["subscriptions"]["cycle.open_cycle_on_selection"][
            "position"] >= selected[0].position, what="the reaction to catch up")
    assert len(ledger.read_stream(f"cycle-{CODE}")) == 1


def test_activities_gate_and_the_state_as_of_a_past_moment(platform):
    select(platform)
    wait_for(lambda: cycle_of(platform), what="the cycle to open")
    with call(platform, "cycle", FASKEL) as cycle:
        cycle.record_activity(CODE, activity("lokakarya_kota"))
        before = datetime.now(timezone.utc)
        with pytest.raises(InvalidInput, match="members"):
            cycle.record_activity(CODE, activity("pengukuhan_tipp"))
        with pytest.raises(InvalidInput, match="attendance.poor"):
            cycle.record_activity(CODE, activity("sosialisasi_massal", attendance={
                "men": 1, "women": 1, "poor": 3}))
        with pytest.raises(Forbidden):
            cycle.record_activity("31.71.01.1001", activity("lokakarya_kota"))
        with pytest.raises(CommandRejected) as refused:
            cycle.complete_stage(CODE, {"completed_on": TODAY})
        assert "lokakarya_kelurahan, sosialisasi_massal, tipp_dikukuhkan" in str(refused.value)
        cycle.record_activity(CODE, activity("lokakarya_kelurahan"))
        cycle.record_activity(CODE, activity("sosialisasi_massal"))
        cycle.record_activity(CODE, activity("pengukuhan_tipp", members=[
            {"name": "Siti", "sex": "P", "role": "ketua"}]))
        done = cycle.complete_stage(CODE, {"completed_on": TODAY})
        assert done["stage"] == 2 and done["missing_outputs"] == ["laporan_rpk"]

        then = cycle.get_cycle(CODE, before.isoformat())
        assert then["stage"] == 1 and [a["activity"] for a in then["timeline"]] == [
            "lokakarya_kota"]
        with pytest.raises(InvalidInput, match="as_of"):
            cycle.get_cycle(CODE, "last tuesday")
        table = cycle.evaluation(CODE)
        assert table[0]["days_taken"] == 0 and all(o["done"] for o in table[0]["outputs"])
        listing = cycle.list_cycles({"region": "52.01", "stage": 2})
        assert listing["total"] == 1 and listing["items"][0]["code"] == CODE
        later = (date.today() + timedelta(days=40)).isoformat()
        assert cycle.list_cycles({"overdue": True, "today": later})["total"] == 1
        share = cycle.on_time_share({"region": "52"})
        assert share["rows"][0]["completed"] == 1 and share["rows"][0]["share_percent"] == \
            "100.00"


def test_planning_approvals_satisfy_the_stage_four_outputs(platform):
    select(platform)
    wait_for(lambda: cycle_of(platform), what="the cycle to open")
    planning = open_ledger(platform["STORE_URI"], "planning")
    meta = Metadata(SYSTEM, "corr-plan")
    for number, kind in enumerate(["rplp", "rtplp", "aturan_bersama", "marketing_strategy"]):
        planning.append(f"document-{CODE}-{kind}", 0, [NewEvent("DocumentApproved", {
            "code": CODE, "kind": kind, "document_id": f"doc-{number}", "version": 1,
            "meeting_id": "m-1"})], meta)
    Relay(planning, platform["AMQP_URI"], open_view_store(platform["STATE_URI"], "planning")
          ).publish_pending()
    wanted = {"rplp_disetujui", "rtplp_disetujui", "aturan_bersama_disetujui",
              "strategi_pemasaran_disetujui"}
    outputs = wait_for(lambda: wanted <= set(cycle_of(platform)["done_outputs"]) and
                       cycle_of(platform)["done_outputs"], what="stage-4 outputs")
    assert outputs["rplp_disetujui"]["how"] == "satisfied"
    assert outputs["rplp_disetujui"]["by"]["ledger"] == "planning"
    assert cycle_of(platform)["stage"] == 1  # kept until stage 4 is reached


def test_only_the_ministry_waives_and_with_a_reason(platform):
    select(platform)
    wait_for(lambda: cycle_of(platform), what="the cycle to open")
    with call(platform, "cycle", FASKEL) as cycle:
        with pytest.raises(Forbidden):
            cycle.waive_output(CODE, {"output": "lokakarya_kota", "justification": "x" * 30})
    with call(platform, "cycle") as cycle:
        with pytest.raises(InvalidInput, match="justification"):
            cycle.waive_output(CODE, {"output": "lokakarya_kota", "justification": "short"})
        waived = cycle.waive_output(CODE, {"output": "lokakarya_kota",
                                           "justification": "Held jointly with the 2025 city "
                                                            "workshop."})
        assert waived["done_outputs"]["lokakarya_kota"]["how"] == "waived"
        with pytest.raises(NotFound):
            cycle.get_cycle("52.01.08.2001")
