"""Planning feeds the cycle's stage-4 gate over the real RabbitMQ: registration selects a
village, its cycle opens, the community approves its four plans through planning, and the
cycle service sees every stage-4 output done and lets stage 4 complete."""
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.cycle.service import CycleService
from services.planning.service import PlanningService
from services.registration.service import RegistrationService
from shared.chassis.errors import CommandRejected, NotFound
from tests.samples import ELIGIBLE, MINISTRY, TIPP

from ..conftest import wait_for
from .conftest import (BAJUR, BKM, FACILITATOR, approve_with_meeting, draft_all_four, pdf,
                       proxy, upload)

STAGE_4 = {"rplp": "rplp_disetujui", "rtplp": "rtplp_disetujui",
           "aturan_bersama": "aturan_bersama_disetujui",
           "marketing_strategy": "strategi_pemasaran_disetujui"}
EARLIER_STAGES = [
    ["lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal", "pengukuhan_tipp"],
    ["refleksi_perkara_kritis"],
    ["pemetaan_swadaya"],
]


@pytest.fixture
def platform(container_factory, planning_config):
    for service in (RegistrationService, CycleService, PlanningService):
        container_factory(service, planning_config).start()
    return planning_config


def call(config, service, actor=MINISTRY):
    return ServiceRpcProxy(service, config, context_data={"actor": actor})


def select(config):
    with call(config, "registration") as registration:
        registration.register_village({"code": BAJUR})
        registration.record_indicators(BAJUR, ELIGIBLE)
        registration.set_quota({"kabupaten": BAJUR[:5], "quota": 1, "decree_reference": "KM 1"})
        assert registration.select_villages(BAJUR[:5])["selected"] == {BAJUR[:5]: [BAJUR]}


def cycle_of(config):
    with call(config, "cycle") as cycle:
        try:
            return cycle.get_cycle(BAJUR)
        except NotFound:
            return None


def walk_to_stage_4(config, day):
    """Stages 1-3 through their activities, all held and completed on the opening day."""
    with call(config, "cycle", FACILITATOR) as cycle:
        for activities in EARLIER_STAGES:
            for key in activities:
                cycle.record_activity(BAJUR, {
                    "activity": key, "held_on": day, "place": "Balai Desa Bajur",
                    "attendance": {"men": 30, "women": 25, "poor": 12},
                    "facilitator": "Faskel Dewi", "evidence": ["BA/2024/001"],
                    **({"members": TIPP} if key == "pengukuhan_tipp" else {})})
            cycle.complete_stage(BAJUR, {"completed_on": day})
        return cycle.get_cycle(BAJUR)


def test_four_approved_plans_complete_the_stage_4_gate(platform):
    select(platform)
    opened = wait_for(lambda: cycle_of(platform), what="the cycle to open")
    at_stage_4 = walk_to_stage_4(platform, opened["opened_on"])
    assert at_stage_4["stage"] == 4
    assert set(at_stage_4["missing_outputs"]) == set(STAGE_4.values())
    with call(platform, "cycle", FACILITATOR) as cycle:
        with pytest.raises(CommandRejected, match="missing outputs"):
            cycle.complete_stage(BAJUR, {"completed_on": opened["opened_on"]})

    with proxy(platform, FACILITATOR) as planning:
        attendance = upload(planning, pdf("daftar hadir musyawarah"), "attendance_list")
        draft_all_four(planning, upload(planning, pdf("peta"), "map"))
    with proxy(platform, BKM) as planning:
        for kind in STAGE_4:
            approve_with_meeting(planning, kind, 1, attendance, held_on=opened["opened_on"])

    def gate_open():
        cycle = cycle_of(platform)
        return cycle if all(o in cycle["done_outputs"] for o in STAGE_4.values()) else None

    cycle = wait_for(gate_open, what="the cycle to see the four approvals")
    assert cycle["missing_outputs"] == []
    for kind, output in STAGE_4.items():
        done = cycle["done_outputs"][output]
        assert (done["how"], done["by"]["ledger"], done["by"]["type"]) == (
            "satisfied", "planning", "DocumentApproved")
    with call(platform, "cycle", FACILITATOR) as cycle_service:
        after = cycle_service.complete_stage(BAJUR, {"completed_on": opened["opened_on"]})
    assert after["stage"] == 5
    assert after["stages"]["4"]["completed_on"] == opened["opened_on"]
