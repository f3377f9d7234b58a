"""The cycle service beside the real registration service, on the real RabbitMQ."""
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.cycle.service import CycleService
from services.registration.service import RegistrationService
from shared.chassis.errors import NotFound
from shared.ledger import open_ledger
from shared.schemas import indonesia_today
from tests.samples import BAJUR, ELIGIBLE, MINISTRY, TIPP

from ..conftest import wait_for

NEIGHBOUR = "52.01.08.2001"
FASKEL = {"id": "faskel-7", "role": "facilitator", "region": "52.01"}
# today in Papua (UTC+9), the latest date anyone in Indonesia may record as today
TODAY = indonesia_today().isoformat()


@pytest.fixture
def platform(container_factory, platform_config):
    """registration and cycle running; cross-service effects arrive by doorbells only
    (CATCH_UP_INTERVAL is an hour)."""
    for service in (RegistrationService, CycleService):
        container_factory(service, platform_config).start()
    return platform_config


def call(config, service="cycle", actor=MINISTRY):
    return ServiceRpcProxy(service, config, context_data={"actor": actor})


def select(config, *codes):
    """Through registration's own RPCs: register, eligible evidence, a quota, selection."""
    codes = codes or (BAJUR,)
    with call(config, "registration") as registration:
        for code in codes:
            registration.register_village({"code": code})
            registration.record_indicators(code, ELIGIBLE)
        registration.set_quota({"kabupaten": codes[0][:5], "quota": len(codes),
                                "decree_reference": "KepMen 12/2026"})
        chosen = registration.select_villages(codes[0][:5])["selected"]
    assert sorted(chosen[codes[0][:5]]) == sorted(codes)


def cycle_of(config, code=BAJUR, actor=MINISTRY):
    """The village's cycle, or None while it is not open."""
    with call(config, "cycle", actor) as cycle:
        try:
            return cycle.get_cycle(code)
        except NotFound:
            return None


def wait_open(config, code=BAJUR):
    return wait_for(lambda: cycle_of(config, code), what=f"the cycle of {code} to open")


def activity(key, held_on=TODAY, **extra):
    if key == "pengukuhan_tipp":
        extra.setdefault("members", TIPP)
    return {"activity": key, "held_on": held_on, "place": "Balai Desa Bajur",
            "attendance": {"men": 30, "women": 25, "poor": 12}, "facilitator": "Faskel Ani",
            "evidence": ["BA/2026/001"], **extra}


STAGE_ACTIVITIES = {1: ["lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal",
                        "pengukuhan_tipp"], 2: ["refleksi_perkara_kritis"],
                    3: ["pemetaan_swadaya"]}


def walk_to_stage_4(config, code=BAJUR, day=TODAY):
    """Stages 1-3 through their activities, each completed on the same day."""
    with call(config, "cycle", FASKEL) as cycle:
        for keys in STAGE_ACTIVITIES.values():
            for key in keys:
                cycle.record_activity(code, activity(key, day))
            state = cycle.complete_stage(code, {"completed_on": day})
    return state


def stream(config, code=BAJUR):
    ledger = open_ledger(config["STORE_URI"], "cycle")
    try:
        return ledger.read_stream(f"cycle-{code}")
    finally:
        ledger.close()


def caught_up(config, subscription, position):
    with call(config) as cycle:
        return cycle.status()["subscriptions"][subscription]["position"] >= position
