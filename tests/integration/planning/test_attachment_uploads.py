"""Uploads at their edges, over the real RabbitMQ: one content twice, two contents under
one name, an upload that dies between storing the file and recording it, file names
and media types the service does not take, and reading every kind of file back."""
import base64
import os

import pytest
from nameko.exceptions import RemoteError

from services.planning import schemas
from services.planning.service import PlanningService
from shared.attachments import sha256_of
from shared.attachments.dependency import AttachmentStorage
from shared.chassis.errors import CommandRejected, InvalidInput, NotFound
from tests.unit.planning import samples

from .conftest import AUDITOR, BAJUR, cycle_at, pdf, proxy
from .test_planning_service import ledger_events

OTHER_VILLAGE = "52.01.08.2001"
OTHER_BKM = {"id": "bkm-2001", "role": "bkm", "region": OTHER_VILLAGE}


def body(content, filename="file.pdf", media_type="application/pdf", kind="other"):
    return {"filename": filename, "media_type": media_type, "kind": kind,
            "content_base64": base64.b64encode(content).decode()}


def files_on_disk(config):
    root = config["ATTACHMENT_URI"][len("file:///"):]
    return sorted(name for _, _, names in os.walk(root) for name in names)


def test_one_content_twice_is_one_attachment_two_contents_one_name_are_two(planning):
    first, second = pdf("berita acara v1"), pdf("berita acara v2")
    with proxy(planning) as service:
        stored = service.upload_attachment(BAJUR, body(first, "berita-acara.pdf", kind="minutes"))
        again = service.upload_attachment(BAJUR, body(first, "salinan.pdf", kind="other"))
        assert again == stored   # the bytes were recorded already: that record answers
        other = service.upload_attachment(BAJUR, body(second, "berita-acara.pdf"))
        assert other["sha256"] != stored["sha256"]
        for content, record in ((first, stored), (second, other)):
            got = service.get_attachment(BAJUR, record["sha256"])
            assert base64.b64decode(got["content_base64"]) == content
            assert got["filename"] == "berita-acara.pdf"
        assert service.list_attachments(BAJUR)["total"] == 2
    assert len(ledger_events(planning, "AttachmentStored")) == 2
    assert len(files_on_disk(planning)) == 2


class DyingStore:
    """The folder store of a service process that dies right after storing a file,
    before recording its AttachmentStored event (the caller sees the call fail)."""

    def __init__(self, store):
        self.store = store

    def put(self, content):
        self.store.put(content)
        raise RuntimeError("the process died here")

    def __getattr__(self, name):
        return getattr(self.store, name)


class DyingStorage(AttachmentStorage):
    def get_dependency(self, worker_ctx):
        return DyingStore(self.store)


class DyingPlanning(PlanningService):
    files = DyingStorage()


def test_an_upload_dying_after_storing_leaves_a_harmless_file_and_a_retry_succeeds(
        container_factory, planning_config):
    dying = container_factory(DyingPlanning, planning_config)
    dying.start()
    cycle_at(planning_config, 4)
    content = pdf("daftar hadir yang hilang")
    sha256 = sha256_of(content)
    with proxy(planning_config) as service:
        with pytest.raises(RemoteError, match="died"):
            service.upload_attachment(BAJUR, body(content, kind="attendance_list"), "up-1")
    dying.stop()
    assert files_on_disk(planning_config) == [sha256]   # stored, but recorded nowhere
    container_factory(PlanningService, planning_config).start()
    with proxy(planning_config) as service:
        with pytest.raises(NotFound) as unknown:
            service.get_attachment(BAJUR, sha256)
        assert unknown.value.field == "sha256" and sha256 in str(unknown.value)
        assert service.list_attachments(BAJUR)["total"] == 0
        with pytest.raises(CommandRejected, match="never uploaded") as cited:
            service.record_meeting(BAJUR, samples.meeting(sha256))
        assert cited.value.field == "attendance_list.sha256"
        stored = service.upload_attachment(BAJUR, body(content, kind="attendance_list"),
                                           "up-1")   # the retry, with its key
        assert stored["sha256"] == sha256
        got = service.get_attachment(BAJUR, sha256)
        assert base64.b64decode(got["content_base64"]) == content
        service.record_meeting(BAJUR, samples.meeting(sha256))
    with proxy(planning_config, AUDITOR) as auditor:
        assert auditor.verify_attachments({})["ok"] == 1
    assert len(ledger_events(planning_config, "AttachmentStored")) == 1


def test_a_refused_idempotency_key_stores_no_file(planning):
    with proxy(planning) as service:
        with pytest.raises(InvalidInput) as refused:
            service.upload_attachment(BAJUR, body(pdf("x")), "k" * 301)
        assert refused.value.field == "idempotency_key"
    assert files_on_disk(planning) == []


def test_at_the_size_limit_and_one_byte_past(planning):
    limit = schemas.MAX_ATTACHMENT_BYTES
    largest = pdf("x") + b"0" * (limit - len(pdf("x")))
    with proxy(planning) as service:
        with pytest.raises(InvalidInput, match="must not exceed 20 MiB") as too_big:
            service.upload_attachment(BAJUR, body(largest + b"0"))
        assert too_big.value.field == "content_base64"
        assert files_on_disk(planning) == []
        stored = service.upload_attachment(BAJUR, body(largest))
        assert stored["size"] == limit
        got = service.get_attachment(BAJUR, stored["sha256"])
        assert base64.b64decode(got["content_base64"]) == largest


@pytest.mark.parametrize("media_type", ["text/plain", "application/PDF", "image/gif",
                                        "application/pdf; charset=binary"])
def test_a_media_type_the_service_does_not_take(planning, media_type):
    with proxy(planning) as service:
        with pytest.raises(InvalidInput, match="Must be one of") as refused:
            service.upload_attachment(BAJUR, body(pdf("x"), media_type=media_type))
        assert refused.value.field == "media_type"
    assert files_on_disk(planning) == [] and ledger_events(planning, "AttachmentStored") == []


@pytest.mark.parametrize("filename", [
    "peta/eksisting.pdf", "..\\peta.pdf", "../../etc/passwd", "..", ".", "a\x00.pdf",
    "a\n.pdf", "peta.pdf\n", "a\x85.pdf", "   ", "x" * 256, "ä" * 256,
    "a\ud800.pdf",              # a lone surrogate: no text; the ledger cannot record it
    "a\u2028.pdf",              # a line separator breaks a line like \n
    "invoice\u202efdp.png",     # a right-to-left override shows "invoicegnp.pdf"
    "a\u2066b\u2069.pdf",       # a directional isolate
])
def test_file_names_the_service_does_not_take(planning, filename):
    with proxy(planning) as service:
        with pytest.raises(InvalidInput) as refused:
            service.upload_attachment(BAJUR, body(pdf("x"), filename))
        assert refused.value.field == "filename"
    assert files_on_disk(planning) == [] and ledger_events(planning, "AttachmentStored") == []


@pytest.mark.parametrize("filename", [
    "Peta Kondisi Eksisting RW 02.pdf", "berita-acara_2024.08.10.pdf", "...pdf", "a..b.pdf",
    "x" * 255, "ä" * 255, "豆" * 255, "Peta ñandú — versi 2 😀.pdf", "C:peta.pdf"])
def test_file_names_kept_exactly_as_sent(planning, filename):
    with proxy(planning) as service:
        stored = service.upload_attachment(BAJUR, body(pdf(filename.encode().hex()),
                                                       filename))
        assert stored["filename"] == filename
        assert service.get_attachment(BAJUR, stored["sha256"])["filename"] == filename


GEOJSON = b'{"type": "FeatureCollection", "features": []}'
KINDS_OF_FILE = [("application/pdf", pdf("scan")), ("image/png", b"\x89PNG\r\n\x1a\n..."),
                 ("image/jpeg", b"\xff\xd8\xff\xe0..."), ("image/tiff", b"II*\x00..."),
                 ("image/tiff", b"MM\x00*..."), ("image/vnd.dwg", b"AC1032..."),
                 ("application/geo+json", GEOJSON)]


def test_every_kind_of_file_reads_back_as_uploaded(planning):
    with proxy(planning) as service:
        for media_type, content in KINDS_OF_FILE:
            stored = service.upload_attachment(BAJUR, body(content, "f", media_type))
            got = service.get_attachment(BAJUR, stored["sha256"])
            assert base64.b64decode(got["content_base64"]) == content
            assert (got["media_type"], got["size"]) == (media_type, len(content))
        unknown = "0" * 64
        with pytest.raises(NotFound) as missing:
            service.get_attachment(BAJUR, unknown)
        assert missing.value.field == "sha256" and unknown in str(missing.value)
        with pytest.raises(NotFound) as traversal:
            service.get_attachment(BAJUR, "../../../etc/passwd")
        assert traversal.value.field == "sha256"
    with proxy(planning, OTHER_BKM) as other:   # another village's file is not its own
        with pytest.raises(NotFound) as elsewhere:
            other.get_attachment(OTHER_VILLAGE, stored["sha256"])
        assert elsewhere.value.field == "sha256"
