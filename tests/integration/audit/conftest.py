"""The audit service beside the real registration service (and cycle and planning when
they exist), over the real RabbitMQ, with SQLite ledgers in a temporary folder."""
import base64

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.audit.service import AuditService
from services.planning.service import PlanningService
from services.registration.service import RegistrationService
from shared.ledger.verify import generate_key, load_public_key, public_key_pem
from tests.samples import BAJUR, ELIGIBLE, MINISTRY

NEIGHBOUR = "52.01.08.2001"
DISTRICT = {"id": "dinas-1", "role": "district", "region": "52.01"}
AUDITOR = {"id": "bpkp-1", "role": "auditor", "region": ""}
BKM = {"id": "bkm-bajur", "role": "bkm", "region": BAJUR}


@pytest.fixture
def keys(tmp_path):
    private = generate_key()
    path = tmp_path / "tree-head.pem"
    path.write_bytes(private)
    (tmp_path / "tree-head.pem.pub").write_bytes(public_key_pem(private))
    return {"private": str(path), "public": str(path) + ".pub",
            "public_key": load_public_key(public_key_pem(private))}


@pytest.fixture
def audit_config(platform_config, keys, tmp_path):
    return {**platform_config, "TREE_HEAD_KEY": keys["private"],
            "ATTACHMENT_URI": f"file:///{tmp_path}/attachments"}


@pytest.fixture
def registration(container_factory, audit_config):
    container = container_factory(RegistrationService, audit_config)
    container.start()
    return audit_config


@pytest.fixture
def planning(container_factory, audit_config):
    container_factory(PlanningService, audit_config).start()
    return audit_config


@pytest.fixture
def audit(container_factory, audit_config):
    container = container_factory(AuditService, audit_config)
    container.start()
    return audit_config


def proxy(config, service, actor=MINISTRY):
    return ServiceRpcProxy(service, config, context_data={"actor": actor})


def run_registration_flows(config):
    """Real decisions: registration, evidence, a correction, an override, a selection."""
    with proxy(config, "registration", DISTRICT) as district:
        district.register_village({"code": BAJUR})
        district.register_village({"code": NEIGHBOUR})
        district.record_indicators(BAJUR, {**ELIGIBLE, "indicators": {
            **ELIGIBLE["indicators"], "fund_misuse_cases": 1}})
        district.record_indicators(NEIGHBOUR, ELIGIBLE)
    with proxy(config, "registration") as ministry:
        ministry.override_eligibility(BAJUR, {
            "eligible": True, "justification": "The case was settled in court in 2024."})
        ministry.set_quota({"kabupaten": "52.01", "quota": 1, "decree_reference": "KepMen 7"})
        ministry.select_villages("52.01")


def select_bajur(config):
    with proxy(config, "registration", DISTRICT) as district:
        district.register_village({"code": BAJUR})
        district.record_indicators(BAJUR, ELIGIBLE)
    with proxy(config, "registration") as ministry:
        ministry.set_quota({"kabupaten": "52.01", "quota": 1, "decree_reference": "KepMen 7"})
        assert ministry.select_villages("52.01")["selected"] == {"52.01": [BAJUR]}


def bajur_in_planning_stage(config):
    """Bajur's cycle in its planning stage (begun 2024-05-01), written in the cycle ledger
    as the cycle service writes it: planning approves a plan only then. For tests that do
    not walk the cycle service through its stages."""
    from tests.integration.planning.conftest import cycle_at
    cycle_at(config, 4)


def plan_bajur(config, on=None):
    """Planning's real flow: attachments, an RPLP draft, the meeting that approves it and
    the first sign-off, in Bajur's planning stage (all `on` that day when given). Returns
    the attachments' SHA-256 by kind."""
    from tests.unit.planning import samples
    with proxy(config, "planning", BKM) as bkm:
        files = {}
        for kind, text in (("attendance_list", "daftar hadir"), ("map", "peta kondisi")):
            content = b"%PDF-1.7\n" + text.encode()
            files[kind] = bkm.upload_attachment(BAJUR, {
                "filename": f"{kind}.pdf", "media_type": "application/pdf", "kind": kind,
                "content_base64": base64.b64encode(content).decode()})["sha256"]
        bkm.draft_document(BAJUR, "rplp", {"content": samples.rplp(files["map"]),
                                           "drafted_on": on or "2024-08-01"})
        meeting = bkm.record_meeting(BAJUR, samples.meeting(
            files["attendance_list"], [("rplp", 1)], held_on=on or "2024-08-10"))
        bkm.approve_document(BAJUR, "rplp", {"version": 1,
                                             "meeting_id": meeting["meeting_id"]})
        bkm.sign_document(BAJUR, "rplp", {
            "version": 1, "step": "submitted", "signed_on": on or "2024-08-12",
            "signer": {"name": "H. Lalu Ahmad", "position": "Koordinator BKM"}})
    return files


FASKEL = {"id": "faskel-7", "role": "facilitator", "region": "52.01"}
STAGE_ACTIVITIES = (  # what completes each of the first three stages of the template
    (("lokakarya_kota", {}), ("lokakarya_kelurahan", {}), ("sosialisasi_massal", {}),
     ("pengukuhan_tipp", {"members": [{"name": "Siti", "sex": "P", "role": "ketua"}]})),
    (("refleksi_perkara_kritis", {}),),
    (("pemetaan_swadaya", {}),))


def run_cycle_flows(config, code=NEIGHBOUR, stages=1):
    """The first `stages` stages of a selected village's cycle through the cycle service:
    each stage's activities, then the stage completed. All today in UTC, the day the
    cycle opened, which has begun everywhere in Indonesia (decision 0012). Returns it."""
    from shared.schemas import utc_now
    today = utc_now().date().isoformat()
    with proxy(config, "cycle", FASKEL) as cycle:
        for activities in STAGE_ACTIVITIES[:stages]:
            for key, extra in activities:
                cycle.record_activity(code, {
                    "activity": key, "held_on": today, "place": "Balai Desa",
                    "attendance": {"men": 30, "women": 25, "poor": 12},
                    "facilitator": "Faskel Ani", "evidence": ["BA/2026/001"], **extra})
            cycle.complete_stage(code, {"completed_on": today})
    return today
