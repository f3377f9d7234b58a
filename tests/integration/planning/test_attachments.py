"""Attachments over RPC: stored by SHA-256, hash/size/type in the event, a swapped or
lost file found by verify_attachments, and refused references to files never uploaded."""
import base64
import hashlib
import os

import mongomock
import mongomock.gridfs
import pytest

from services.planning import schemas
from services.planning.service import PlanningService
from shared.attachments import stores as attachments
from shared.attachments.dependency import AttachmentStorage
from shared.chassis.errors import CommandRejected, Conflict, Forbidden, InvalidInput, NotFound
from shared.ledger import SYSTEM, Metadata, NewEvent, open_ledger
from tests.unit.planning import samples

from .conftest import AUDITOR, BAJUR, BKM, FACILITATOR, pdf, proxy, upload


def stored_events(config):
    ledger = open_ledger(config["STORE_URI"], "planning")
    try:
        return [r.payload for r in ledger.iter_records(types=["AttachmentStored"])]
    finally:
        ledger.close()


def test_upload_is_content_addressed_and_recorded_once(planning):
    content = pdf("berita acara musyawarah")
    with proxy(planning) as service:
        sha256 = upload(service, content, "minutes", "berita-acara.pdf")
        assert upload(service, content, "minutes", "copy.pdf") == sha256
        got = service.get_attachment(BAJUR, sha256)
        assert base64.b64decode(got["content_base64"]) == content
        listed = service.list_attachments(BAJUR)
        assert [a["sha256"] for a in listed["items"]] == [sha256]
        assert (listed["total"], listed["page"], listed["page_size"]) == (1, 1, 50)
    [event] = stored_events(planning)
    assert event == {"code": BAJUR, "sha256": sha256, "size": len(content),
                     "media_type": "application/pdf", "filename": "berita-acara.pdf",
                     "kind": "minutes", "description": ""}
    path = os.path.join(planning["ATTACHMENT_URI"][len("file:///"):], sha256[:2], sha256)
    with open(path, "rb") as stored:
        assert stored.read() == content


def test_a_swapped_or_lost_file_is_detected(planning):
    genuine = pdf("daftar hadir: 32 orang")
    with proxy(planning) as service:
        sha256 = upload(service, genuine, "attendance_list")
        other = upload(service, pdf("peta"), "map")
    with proxy(planning, AUDITOR) as auditor:
        assert auditor.verify_attachments({}) == {"region": "", "checked": 2, "ok": 2,
                                                  "problems": []}
        folder = attachments.FolderStore(planning["ATTACHMENT_URI"][len("file:///"):])
        with open(folder.path(sha256), "wb") as swapped:
            swapped.write(pdf("daftar hadir: 45 orang"))
        os.remove(folder.path(other))
        report = auditor.verify_attachments({"region": "52.01"})
        assert (report["checked"], report["ok"]) == (2, 0)
        problems = {p["sha256"]: p for p in report["problems"]}
        assert problems[sha256]["problem"] == "mismatch"
        assert problems[sha256]["found_sha256"] == folder.digest(sha256) != sha256
        assert problems[other]["problem"] == "missing"
        with pytest.raises(Conflict, match="no longer matches"):
            auditor.get_attachment(BAJUR, sha256)
        with pytest.raises(NotFound, match="missing"):
            auditor.get_attachment(BAJUR, other)
    with proxy(planning) as service:
        upload(service, genuine)   # the genuine bytes again repair the store
    with proxy(planning, AUDITOR) as auditor:
        assert auditor.verify_attachments({"region": BAJUR})["ok"] == 1


def test_bad_uploads_and_unknown_references_record_nothing(planning):
    with proxy(planning) as service:
        head = service.status()["ledger_head"]
        with pytest.raises(InvalidInput) as mislabelled:
            service.upload_attachment(BAJUR, {
                "filename": "x.pdf", "media_type": "application/pdf", "kind": "map",
                "content_base64": base64.b64encode(b"\x89PNG\r\n\x1a\nxx").decode()})
        assert mislabelled.value.field == "content_base64"
        with pytest.raises(CommandRejected, match="never uploaded") as unknown:
            service.draft_document(BAJUR, "rplp", {"content": samples.rplp("f" * 64),
                                                   "drafted_on": "2024-08-01"})
        assert unknown.value.field == "content.maps.0.sha256"
        with pytest.raises(Forbidden):
            upload(service, pdf("x"), code="52.01.08.2001")   # another village's BKM
        assert service.status()["ledger_head"] == head
    with proxy(planning, FACILITATOR) as facilitator:
        with pytest.raises(NotFound, match="official"):
            upload(facilitator, pdf("x"), code="52.01.08.2999")
        assert facilitator.status()["ledger_head"] == head
    with proxy(planning, BKM) as bkm:
        with pytest.raises(Forbidden):
            bkm.verify_attachments({})


class GridFsPlanning(PlanningService):
    """The same service with its GridFS store on mongomock (no MongoDB server here)."""
    files = AttachmentStorage(mongo_client_class=mongomock.MongoClient)


def test_gridfs_store_through_the_service(container_factory, platform_config, tmp_path):
    mongomock.gridfs.enable_gridfs_integration()
    config = {**platform_config,
              "ATTACHMENT_URI": f"mongodb://localhost/plpbk_att_{tmp_path.name[-20:]}"}
    container = container_factory(GridFsPlanning, config)
    container.start()
    content = pdf("DED saluran tersier")
    with proxy(config, FACILITATOR) as service:
        sha256 = upload(service, content, "ded_drawing")
        assert base64.b64decode(service.get_attachment(BAJUR, sha256)["content_base64"]) == \
            content
        assert service.verify_attachments({})["ok"] == 1
        store = attachments.GridFsStore(config["ATTACHMENT_URI"], mongomock.MongoClient)
        store._files.put(pdf("another drawing"), filename=sha256)   # a swap inside GridFS
        [problem] = service.verify_attachments({})["problems"]
        assert problem["problem"] == "mismatch"


def test_a_villages_attachments_are_paged_oldest_first(planning):
    with proxy(planning) as service:
        uploaded = [upload(service, pdf(f"lampiran {n}"), "minutes", f"lampiran-{n}.pdf")
                    for n in range(5)]
        first = service.list_attachments(BAJUR, {"page": 1, "page_size": 2})
        rest = [service.list_attachments(BAJUR, {"page": page, "page_size": 2})
                for page in (2, 3, 4)]
        assert first["total"] == 5
        assert [a["sha256"] for page in [first, *rest] for a in page["items"]] == uploaded
        assert rest[-1]["items"] == []
        with pytest.raises(InvalidInput) as bad:
            service.list_attachments(BAJUR, {"page_size": 501})
        assert bad.value.field == "page_size"


def test_the_size_limit_holds_over_rpc(planning):
    limit = schemas.MAX_ATTACHMENT_BYTES
    with proxy(planning, FACILITATOR) as service:
        largest = pdf("x") + b"0" * (limit - len(pdf("x")))
        sha256 = upload(service, largest, "ded_drawing", "gambar-ded.pdf")
        assert service.list_attachments(BAJUR)["items"][0]["size"] == limit
        assert sha256 == hashlib.sha256(largest).hexdigest()
        with pytest.raises(InvalidInput, match="20 MiB") as too_big:
            upload(service, largest + b"0")
        assert too_big.value.field == "content_base64"


def test_a_key_used_for_other_bytes_is_refused_not_a_server_error(planning):
    """The ledger keeps an idempotency key for ever (the gateway forgets it after 24
    hours): a key sent again with another file recorded nothing and answered a
    KeyError (500)."""
    def send(service, content, key):
        return service.upload_attachment(BAJUR, {
            "filename": "f.pdf", "media_type": "application/pdf", "kind": "other",
            "content_base64": base64.b64encode(content).decode()}, key)

    with proxy(planning) as service:
        first = send(service, pdf("berita acara 1"), "upload-1")
        assert send(service, pdf("berita acara 1"), "upload-1") == first   # a retry
        head = service.status()["ledger_head"]
        with pytest.raises(CommandRejected, match="already used") as reused:
            send(service, pdf("berita acara 2"), "upload-1")
        assert reused.value.field == "idempotency_key"
        assert service.status()["ledger_head"] == head
        assert [a["sha256"] for a in service.list_attachments(BAJUR)["items"]] == \
            [first["sha256"]]


@pytest.mark.parametrize("sha256", [[], {}, ["ab"], {"sha256": "ab"}, 5, None])
def test_a_hash_that_is_no_text_is_bad_input_not_a_server_error(planning, sha256):
    with proxy(planning) as service:
        with pytest.raises((InvalidInput, NotFound)) as error:
            service.get_attachment(BAJUR, sha256)
        assert error.value.field == "sha256"


def test_verification_checks_attachments_recorded_in_every_ledger(planning):
    """The store is the platform's: a file another service records (site photos,
    partner agreements) names itself by an AttachmentStored event in that service's
    ledger, and verify_attachments checks it too. Was planning's ledger only: a swapped
    or lost photo of another service went unseen."""
    root = planning["ATTACHMENT_URI"][len("file:///"):]
    store = attachments.FolderStore(root)
    photos = {name: store.put(b"\xff\xd8\xff" + name.encode()) for name in ("kept", "swapped",
                                                                            "lost")}
    ledger = open_ledger(planning["STORE_URI"], "site_photos")   # a test ledger, no service
    try:
        for name, sha256 in photos.items():
            ledger.append(f"photos-{BAJUR}", ledger.stream_version(f"photos-{BAJUR}"), [
                NewEvent("AttachmentStored", {"code": BAJUR, "sha256": sha256, "size": 7,
                                              "filename": f"{name}.jpg"})],
                Metadata(SYSTEM, "test-photos", None))
    finally:
        ledger.close()
    with proxy(planning) as service:
        minutes = upload(service, pdf("berita acara"), "minutes")
    with open(store.path(photos["swapped"]), "wb") as swapped:
        swapped.write(b"\xff\xd8\xff another photo")
    os.remove(store.path(photos["lost"]))
    with proxy(planning, AUDITOR) as auditor:
        report = auditor.verify_attachments({})
        elsewhere = auditor.verify_attachments({"region": "52.02"})
    assert (report["checked"], report["ok"]) == (4, 2)
    assert {p["sha256"]: p["problem"] for p in report["problems"]} == {
        photos["swapped"]: "mismatch", photos["lost"]: "missing"}
    assert {p["filename"] for p in report["problems"]} == {"swapped.jpg", "lost.jpg"}
    # each names the ledger and position that recorded it: photos 2 and 3 of site_photos
    assert {p["sha256"]: (p["ledger"], p["position"]) for p in report["problems"]} == {
        photos["swapped"]: ("site_photos", 2), photos["lost"]: ("site_photos", 3)}
    assert minutes not in {p["sha256"] for p in report["problems"]}
    assert (elsewhere["checked"], elsewhere["problems"]) == (0, [])   # by code, as before
