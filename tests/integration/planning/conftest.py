"""The planning service in a nameko container on the real RabbitMQ, with attachments in
a temporary folder; actors for each role in the sign-off chain."""
import base64
import hashlib

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.cycle import domain as cycle_domain
from services.planning.service import PlanningService
from shared.ledger import SYSTEM, Metadata, open_ledger
from tests.unit.cycle.support import VILLAGE, opened, walk_to_stage
from tests.unit.planning import samples

BAJUR = samples.BAJUR
BKM = {"id": "bkm-bajur", "role": "bkm", "region": BAJUR}
LURAH = {"id": "lurah-bajur", "role": "district", "region": BAJUR}
FACILITATOR = {"id": "faskel-7", "role": "facilitator", "region": "52.01"}
BAPPEDA = {"id": "bappeda-lobar", "role": "district", "region": "52.01"}
AUDITOR = {"id": "bpkp-1", "role": "auditor", "region": ""}


@pytest.fixture
def planning_config(platform_config, tmp_path):
    return {**platform_config, "ATTACHMENT_URI": f"file:///{tmp_path}/attachments"}


@pytest.fixture
def planning(container_factory, planning_config):
    container_factory(PlanningService, planning_config).start()
    cycle_at(planning_config, 4)
    return planning_config


def cycle_at(config, stage, village=VILLAGE, opened_on="2024-04-01"):
    """Record in the cycle ledger the cycle domain's own events that bring the village's
    cycle to `stage` (each stage completes 10 days after it began: stage 4 begins
    2024-05-01), as the cycle service records them; planning approves plans only in the
    cycle's planning stage."""
    events = walk_to_stage(opened(opened_on, village), stage).events
    ledger = open_ledger(config["STORE_URI"], "cycle")
    try:
        ledger.append(cycle_domain.cycle_stream(village["code"]), 0, events,
                      Metadata(SYSTEM, "test-cycle", None))
    finally:
        ledger.close()


def proxy(config, actor=BKM):
    return ServiceRpcProxy("planning", config, context_data={"actor": actor})


def pdf(text):
    """A small, distinct PDF-looking file."""
    return b"%PDF-1.7\n" + text.encode()


def upload(service, content, kind="other", filename="file.pdf", code=BAJUR):
    stored = service.upload_attachment(code, {
        "filename": filename, "media_type": "application/pdf", "kind": kind,
        "content_base64": base64.b64encode(content).decode()})
    assert stored["sha256"] == hashlib.sha256(content).hexdigest()
    return stored["sha256"]


def approve_with_meeting(service, kind, version, attendance_sha256, held_on="2024-08-10"):
    """Record a meeting that decides this version and record its approval."""
    meeting = service.record_meeting(BAJUR, samples.meeting(
        attendance_sha256, [(kind, version)], held_on=held_on))
    return service.approve_document(BAJUR, kind, {"version": version,
                                                  "meeting_id": meeting["meeting_id"]})


def draft_all_four(service, sha256):
    for kind in ("rplp", "rtplp", "aturan_bersama", "marketing_strategy"):
        service.draft_document(BAJUR, kind, {"content": samples.content(kind, sha256),
                                             "drafted_on": "2024-08-01"})
