"""Planning over HTTP: attachments, a draft, a meeting that approves it, scopes."""
import base64
import hashlib
import os

from shared.attachments.stores import FolderStore
from shared.ledger import open_ledger
from tests.integration.conftest import wait_for
from tests.integration.planning.conftest import cycle_at
from tests.unit.planning import samples

from .documented import schema_errors, unnamed_fields

BAJUR = samples.BAJUR


def upload(client, content, kind="other"):
    answer = client.post(f"/api/v1/villages/{BAJUR}/attachments", json={
        "filename": "file.pdf", "media_type": "application/pdf", "kind": kind,
        "content_base64": base64.b64encode(content).decode()})
    assert answer.status_code == 201, answer.text
    sha256 = hashlib.sha256(content).hexdigest()
    assert answer.json()["sha256"] == sha256
    # a 201 names what it made (RFC 9110 15.3.2), as a village, a version or a meeting does
    assert answer.headers["Location"] == f"/api/v1/villages/{BAJUR}/attachments/{sha256}"
    return sha256


def test_a_plan_is_drafted_approved_by_a_meeting_and_read_back(gateway, gateway_config,
                                                               as_user):
    cycle_at(gateway_config, 4)   # plans are approved in the cycle's planning stage
    bkm = as_user("bkm", BAJUR)
    map_sha = upload(bkm, b"%PDF-1.7 map", "map")
    attendance_sha = upload(bkm, b"%PDF-1.7 attendance", "attendance_list")
    drafted = bkm.post(f"/api/v1/villages/{BAJUR}/documents/rplp", json={
        "content": samples.content("rplp", map_sha), "drafted_on": "2024-08-01"})
    assert drafted.status_code == 201, drafted.text
    assert drafted.headers["Location"].endswith("/documents/rplp/versions/1")
    meeting = bkm.post(f"/api/v1/villages/{BAJUR}/meetings",
                       json=samples.meeting(attendance_sha, [("rplp", 1)]))
    assert meeting.status_code == 201, meeting.text
    meeting_id = meeting.json()["meeting_id"]
    assert bkm.get(f"/api/v1/meetings/{meeting_id}").status_code == 200
    approved = bkm.post(f"/api/v1/villages/{BAJUR}/documents/rplp/approvals",
                        json={"version": 1, "meeting_id": meeting_id})
    assert approved.status_code == 200, approved.text
    record = bkm.get(f"/api/v1/villages/{BAJUR}/documents/rplp/versions/1/approval")
    assert record.status_code == 200
    documents = bkm.get(f"/api/v1/villages/{BAJUR}/documents")
    assert documents.status_code == 200
    # a list (its documents, whole), as documented: a client generated from the
    # document read an object and could not parse it
    assert [d["kind"] for d in documents.json()] == ["rplp"]
    assert schema_errors(gateway, "GET", "/api/v1/villages/{code}/documents", documents) == []
    version = bkm.get(f"/api/v1/villages/{BAJUR}/documents/rplp/versions/1").json()
    assert version["status"] == "approved", version
    listed = bkm.get(f"/api/v1/villages/{BAJUR}/attachments").json()
    assert {a["sha256"] for a in listed["items"]} == {map_sha, attendance_sha}
    one = bkm.get(f"/api/v1/villages/{BAJUR}/attachments?page=2&page_size=1").json()
    assert one["total"] == 2 and len(one["items"]) == 1
    assert bkm.get(f"/api/v1/villages/{BAJUR}/attachments?page_size=0").json()["field"] == \
        "page_size"
    file = bkm.get(f"/api/v1/villages/{BAJUR}/attachments/{map_sha}").json()
    assert base64.b64decode(file["content_base64"]) == b"%PDF-1.7 map"
    ministry = as_user("ministry")
    pending = ministry.get("/api/v1/planning/pending?waiting_for=approval&page=1&page_size=10")
    assert pending.status_code == 200, pending.text
    assert ministry.get("/api/v1/planning/approval-rule").json()["id"] == "plpbk-musyawarah"


def test_planning_errors_name_their_field(gateway, as_user):
    bkm = as_user("bkm", BAJUR)
    answer = bkm.post(f"/api/v1/villages/{BAJUR}/documents/rplp",
                      json={"content": {}, "drafted_on": "2024-08-01"})
    assert answer.status_code == 400 and answer.json()["field"].startswith("content")
    answer = bkm.get(f"/api/v1/villages/{BAJUR}/documents/plan/versions/1")
    assert answer.status_code == 400 and answer.json()["field"] == "kind"
    answer = bkm.get(f"/api/v1/villages/{BAJUR}/documents/rplp/diff?from_version=1")
    assert answer.status_code == 400 and answer.json()["field"] == "to_version"
    drafted = bkm.post(f"/api/v1/villages/{BAJUR}/documents/aturan_bersama", json={
        "content": samples.aturan_bersama(), "drafted_on": "2024-08-01"})
    assert drafted.status_code == 201, drafted.text
    diff = f"/api/v1/villages/{BAJUR}/documents/aturan_bersama/diff"
    for query, field, missing in (("from_version=1&to_version=2", "to_version", 2),
                                  ("from_version=5&to_version=1", "from_version", 5)):
        answer = bkm.get(f"{diff}?{query}")
        assert answer.status_code == 404, answer.text
        assert answer.json() == {"error": "NotFound", "field": field, "message":
                                 f"the aturan_bersama of {BAJUR} has no version {missing}"}
    outside = bkm.get("/api/v1/villages/52.01.08.2001/documents")
    assert outside.status_code == 403
    answer = bkm.post(f"/api/v1/villages/{BAJUR}/attachments", json={
        "filename": "x.pdf", "media_type": "application/pdf", "kind": "other",
        "content_base64": base64.b64encode(b"not a pdf").decode()})
    assert answer.status_code == 400 and answer.json()["field"] == "content_base64"


def test_a_revision_based_on_a_superseded_version_is_a_409_naming_based_on(gateway, as_user):
    bkm = as_user("bkm", BAJUR)
    map_sha = upload(bkm, b"%PDF-1.7 map", "map")
    content = samples.content("rplp", map_sha)
    versions = f"/api/v1/villages/{BAJUR}/documents/rplp/versions"
    assert bkm.post(f"/api/v1/villages/{BAJUR}/documents/rplp",
                    json={"content": content, "drafted_on": "2024-08-01"}).status_code == 201
    changed = {**content, "vision": "Permukiman Bajur yang sehat dan tertib pada 2029"}
    revised = bkm.post(versions, json={"content": changed, "based_on": 1,
                                       "drafted_on": "2024-08-05"})
    assert revised.status_code == 201, revised.text
    again = {**content, "vision": "Permukiman Bajur yang sehat pada 2029"}
    stale = bkm.post(versions, json={"content": again, "based_on": 1,
                                     "drafted_on": "2024-08-06"})
    assert stale.status_code == 409, stale.text
    assert stale.json()["field"] == "based_on" and "version 2" in stale.json()["message"]
    assert bkm.get(f"{versions}/3").status_code == 404   # nothing was recorded


def test_every_planning_answer_is_the_documented_one(gateway, gateway_config, as_user):
    """A client generated from /openapi.json reads planning's answers as they come: each
    success answer (an RTPLP with its totals drafted, revised, compared, approved by a
    meeting and signed; the meeting, attachments, pending list and rule) holds the
    documented fields and types, and no other (the document described `{}` with anything
    in it). Only a version's `content` is free-form by design."""
    cycle_at(gateway_config, 4)
    bkm, ministry = as_user("bkm", BAJUR), as_user("ministry")
    ded_sha = upload(bkm, b"%PDF-1.7 ded", "ded_drawing")
    attendance_sha = upload(bkm, b"%PDF-1.7 attendance", "attendance_list")
    village = "/api/v1/villages/{code}"
    document = village + "/documents/{kind}"
    base = f"/api/v1/villages/{BAJUR}"
    answers = [("POST", village + "/attachments", bkm.post(f"{base}/attachments", json={
                   "filename": "photo.pdf", "media_type": "application/pdf", "kind": "photo",
                   "description": "site", "content_base64": base64.b64encode(
                       b"%PDF-1.7 photo").decode()})),
               ("POST", village + "/documents/rtplp", bkm.post(f"{base}/documents/rtplp", json={
                   "content": samples.rtplp(ded_sha), "drafted_on": "2024-08-01"})),
               ("POST", village + "/documents/rtplp/versions", bkm.post(
                   f"{base}/documents/rtplp/versions", json={
                       "content": samples.rtplp(), "based_on": 1, "drafted_on": "2024-08-05",
                       "note": "without the DED"}))]
    meeting = bkm.post(f"{base}/meetings", json=samples.meeting(attendance_sha, [("rtplp", 2)]))
    meeting_id = meeting.json()["meeting_id"]
    answers += [("POST", village + "/meetings", meeting),
                ("POST", document + "/approvals", bkm.post(
                    f"{base}/documents/rtplp/approvals",
                    json={"version": 2, "meeting_id": meeting_id})),
                ("POST", document + "/signatures", bkm.post(
                    f"{base}/documents/rtplp/signatures", json={
                        "version": 2, "step": "submitted", "signed_on": "2024-08-12",
                        "signer": {"name": "H. Lalu Ahmad", "position": "Koordinator BKM"}})),
                ("GET", "/api/v1/meetings/{meeting_id}",
                 bkm.get(f"/api/v1/meetings/{meeting_id}")),
                ("GET", document + "/versions/{version}/approval",
                 bkm.get(f"{base}/documents/rtplp/versions/2/approval")),
                ("GET", document + "/diff",
                 bkm.get(f"{base}/documents/rtplp/diff?from_version=1&to_version=2")),
                ("GET", village + "/documents", bkm.get(f"{base}/documents")),
                ("GET", village + "/attachments", bkm.get(f"{base}/attachments")),
                ("GET", village + "/attachments/{sha256}",
                 bkm.get(f"{base}/attachments/{ded_sha}")),
                ("GET", "/api/v1/planning/attachment-check",
                 ministry.get("/api/v1/planning/attachment-check")),
                ("GET", "/api/v1/planning/approval-rule",
                 ministry.get("/api/v1/planning/approval-rule"))]
    answers += [("GET", document + "/versions/{version}",
                 bkm.get(f"{base}/documents/rtplp/versions/{number}")) for number in (1, 2)]
    answers += [("GET", "/api/v1/planning/pending", ministry.get(
        f"/api/v1/planning/pending?waiting_for={step}")) for step in ("approval", "acknowledged")]
    for method, path, answer in answers:
        assert answer.status_code in (200, 201), (path, answer.text)
        assert schema_errors(gateway, method, path, answer) == [], (method, path, answer.text)
        assert unnamed_fields(gateway, method, path, answer) == [], (method, path)
    version = bkm.get(f"{base}/documents/rtplp/versions/2").json()
    assert (version["status"], version["next_step"]) == ("approved", "acknowledged")
    assert version["sign_offs"]["submitted"]["bkm"]["signer"]["name"] == "H. Lalu Ahmad"
    assert version["totals"]["total"] > 0
    assert ministry.get("/api/v1/planning/pending?waiting_for=acknowledged").json()[
        "items"][0]["version"] == 2
    # the approval did the cycle's output: a cycle's output done by another service's event
    cycle = wait_for(lambda: (answer := bkm.get(f"{base}/cycle")).status_code == 200 and
                     "rtplp_disetujui" in answer.json()["done_outputs"] and answer,
                     what="the approval to reach the cycle")
    assert cycle.json()["done_outputs"]["rtplp_disetujui"]["how"] == "satisfied"
    assert schema_errors(gateway, "GET", village + "/cycle", cycle) == []


def test_an_attachment_problem_names_the_ledger_and_position_that_recorded_it(
        gateway, gateway_config, as_user):
    """The check reads every ledger: a problem says which one recorded the file, and
    where, so an operator can open that record (plpbk audit, inclusion proof)."""
    bkm = as_user("bkm", BAJUR)
    upload(bkm, b"%PDF-1.7 kept")
    lost = upload(bkm, b"%PDF-1.7 lost", "map")
    store = FolderStore(gateway_config["ATTACHMENT_URI"][len("file:///"):])
    os.remove(store.path(lost))
    ledger = open_ledger(gateway_config["STORE_URI"], "planning", read_only=True)
    try:
        [recorded] = [r.position for r in ledger.iter_records(types=["AttachmentStored"])
                      if r.payload["sha256"] == lost]
    finally:
        ledger.close()
    answer = as_user("ministry").get("/api/v1/planning/attachment-check")
    assert answer.status_code == 200, answer.text
    [problem] = answer.json()["problems"]
    assert (problem["sha256"], problem["problem"], problem["ledger"], problem["position"]) \
        == (lost, "missing", "planning", recorded)
    path = "/api/v1/planning/attachment-check"
    assert schema_errors(gateway, "GET", path, answer) == []
    assert unnamed_fields(gateway, "GET", path, answer) == []
