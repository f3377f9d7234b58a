"""The planning service in a nameko container on the real RabbitMQ, with attachments in
a temporary folder; actors for each role in the sign-off chain."""
import base64
import hashlib

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.planning.service import PlanningService
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
    return planning_config


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
