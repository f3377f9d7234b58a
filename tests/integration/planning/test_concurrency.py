"""Commands on one document sent at the same moment, as real concurrent RPC calls over
RabbitMQ (each call is sent before any answer is awaited; the service's workers decide
them side by side and the ledger's appends interleave): exactly one of two conflicting
commands is recorded, the other is refused naming its field, and nothing is half-recorded
(the ledger and the read model agree)."""
import base64

import pytest

from shared.chassis.errors import CommandRejected, Conflict
from tests.unit.planning import samples

from ..conftest import race
from .conftest import BAJUR, BKM, FACILITATOR, LURAH, pdf, proxy, upload
from .test_planning_service import ledger_events, person

OTHER_FACILITATOR = {"id": "faskel-9", "role": "facilitator", "region": "52.01"}
OTHER_BKM = {"id": "bkm-bajur-2", "role": "bkm", "region": BAJUR}
ROUNDS = 3   # each race is run a few times: which call wins differs from run to run


def winners(outcomes):
    return [o for o in outcomes if not isinstance(o, Exception)]


def losers(outcomes):
    return [o for o in outcomes if isinstance(o, Exception)]


def fresh_rplp(service, round_):
    """A village's RPLP, version 1, with a map of its own for each round."""
    map_ = upload(service, pdf(f"peta {round_}"), "map")
    code = BAJUR
    service.draft_document(code, "rplp", {"content": samples.rplp(map_),
                                          "drafted_on": "2024-08-01"})
    return map_


def revision(map_, vision, based_on=1, drafted_on="2024-08-05"):
    return {"content": {**samples.rplp(map_), "vision": vision}, "drafted_on": drafted_on,
            "based_on": based_on}


def test_two_facilitators_revising_one_version_one_wins(planning):
    with proxy(planning, FACILITATOR) as first, proxy(planning, OTHER_FACILITATOR) as second:
        map_ = fresh_rplp(first, 0)
        for round_ in range(ROUNDS):
            latest = round_ + 1
            outcomes = race(
                (first, "revise_document", (BAJUR, "rplp", revision(
                    map_, f"Visi A {round_}", latest))),
                (second, "revise_document", (BAJUR, "rplp", revision(
                    map_, f"Visi B {round_}", latest))))
            [won], [lost] = winners(outcomes), losers(outcomes)
            assert won["version"] == latest + 1
            assert isinstance(lost, Conflict) and lost.field == "based_on"
            assert f"version {latest + 1} is the latest" in str(lost)
            assert first.list_documents(BAJUR)[0]["latest_version"] == latest + 1
            assert first.get_version(BAJUR, "rplp", latest + 1)["content"] == won["content"]
    revised = ledger_events(planning, "DocumentRevised")
    assert [r.payload["version"] for r in revised] == [2, 3, 4]
    assert [r.payload["based_on"] for r in revised] == [1, 2, 3]


def test_a_revision_racing_an_approval_one_wins(planning):
    """The revision is dated before the meeting: recorded first, it supersedes the version
    the meeting decided (the approval is refused, 409 version); the approval first, the
    revision would predate the approving meeting (422 drafted_on). Never both."""
    with proxy(planning) as bkm, proxy(planning, FACILITATOR) as facilitator:
        attendance = upload(bkm, pdf("daftar hadir"), "attendance_list")
        map_ = fresh_rplp(bkm, 0)
        for round_ in range(ROUNDS):
            current = 1 + round_
            meeting = bkm.record_meeting(BAJUR, samples.meeting(
                attendance, [("rplp", current)], held_on="2024-08-10"))
            outcomes = race(
                (bkm, "approve_document", (BAJUR, "rplp", {
                    "version": current, "meeting_id": meeting["meeting_id"]})),
                (facilitator, "revise_document", (BAJUR, "rplp", revision(
                    map_, f"Visi {round_}", current, drafted_on="2024-08-09"))))
            approved, revised = outcomes
            assert len(winners(outcomes)) == 1, outcomes
            if isinstance(approved, Exception):
                assert isinstance(approved, Conflict) and approved.field == "version"
                assert "superseded" in str(approved)
                assert revised["version"] == current + 1
                assert bkm.get_version(BAJUR, "rplp", current)["approval"] is None
                continue
            assert isinstance(revised, CommandRejected) and revised.field == "drafted_on"
            assert approved["approval"]["meeting_id"] == meeting["meeting_id"]
            assert bkm.list_documents(BAJUR)[0]["latest_version"] == current
            break   # the version is approved: the next round needs a new version anyway
    approvals = ledger_events(planning, "DocumentApproved")
    revisions = ledger_events(planning, "DocumentRevised")
    versions = bkm_versions(planning)
    assert len(approvals) <= 1
    assert [r.payload["version"] for r in revisions] == list(range(2, 2 + len(revisions)))
    assert versions["latest_version"] == 1 + len(revisions)


def bkm_versions(config):
    with proxy(config) as service:
        return service.list_documents(BAJUR)[0]


def test_an_approval_racing_a_signature_never_records_a_signature_of_a_draft(planning):
    """A signature is only of an approved version: sent with the approval, it is recorded
    after it or refused (422 version), never before it."""
    with proxy(planning) as bkm:
        attendance = upload(bkm, pdf("daftar hadir"), "attendance_list")
        fresh_rplp(bkm, 0)
        meeting = bkm.record_meeting(BAJUR, samples.meeting(attendance, [("rplp", 1)]))
        outcomes = race(
            (bkm, "sign_document", (BAJUR, "rplp", {
                "version": 1, "step": "submitted", "signed_on": "2024-08-12",
                "signer": person("H. Lalu Ahmad", "Koordinator BKM")})),
            (bkm, "approve_document", (BAJUR, "rplp", {
                "version": 1, "meeting_id": meeting["meeting_id"]})))
        signed, approved = outcomes
        assert not isinstance(approved, Exception)
        if isinstance(signed, Exception):
            assert isinstance(signed, CommandRejected) and signed.field == "version"
            assert "not approved yet" in str(signed)
        kinds = [r.type for r in ledger_events(planning, "DocumentApproved",
                                               "DocumentSigned")]
        assert kinds == ["DocumentApproved"] + (["DocumentSigned"] if not isinstance(
            signed, Exception) else [])
        history = [h["type"] for h in bkm.get_version(BAJUR, "rplp", 1)["history"]]
        assert history == kinds


def test_two_approvals_of_one_version_and_two_signers_of_one_step_one_wins(planning):
    with proxy(planning) as bkm, proxy(planning, FACILITATOR) as facilitator:
        attendance = upload(bkm, pdf("daftar hadir"), "attendance_list")
        fresh_rplp(bkm, 0)
        meetings = [bkm.record_meeting(BAJUR, samples.meeting(
            attendance, [("rplp", 1)], held_on=day))["meeting_id"]
            for day in ("2024-08-10", "2024-08-11")]
        outcomes = race(*[(service, "approve_document", (BAJUR, "rplp", {
            "version": 1, "meeting_id": meeting_id}))
            for service, meeting_id in zip((bkm, facilitator), meetings)])
        [won], [lost] = winners(outcomes), losers(outcomes)
        assert isinstance(lost, Conflict) and lost.field == "version"
        assert f"already approved (meeting {won['approval']['meeting_id']})" in str(lost)
        [approval] = ledger_events(planning, "DocumentApproved")
        assert approval.payload["meeting_id"] == won["approval"]["meeting_id"]
        for meeting_id in meetings:   # only the winning meeting lists the approval
            given = bkm.get_meeting(meeting_id)["approvals"]
            assert len(given) == (meeting_id == approval.payload["meeting_id"])
    with proxy(planning) as bkm, proxy(planning, OTHER_BKM) as other_bkm:
        outcomes = race(*[(service, "sign_document", (BAJUR, "rplp", {
            "version": 1, "step": "submitted", "signed_on": "2024-08-12",
            "signer": person(name, "Koordinator BKM")}))
            for service, name in ((bkm, "H. Lalu Ahmad"), (other_bkm, "Baiq Siti"))])
        [won], [lost] = winners(outcomes), losers(outcomes)
        assert isinstance(lost, Conflict) and lost.field == "step"
        signer = won["sign_offs"]["submitted"]["bkm"]["signer"]["name"]
        assert f"already signed as bkm by {signer}" in str(lost)
        assert len(ledger_events(planning, "DocumentSigned")) == 1


def test_the_last_two_signatures_at_once_sign_off_once(planning):
    """The Lurah and the BKM ratify an RPLP at the same moment: both are recorded and the
    version is signed off exactly once, by whichever came second."""
    with proxy(planning) as bkm:
        attendance = upload(bkm, pdf("daftar hadir"), "attendance_list")
        fresh_rplp(bkm, 0)
        meeting = bkm.record_meeting(BAJUR, samples.meeting(attendance, [("rplp", 1)]))
        bkm.approve_document(BAJUR, "rplp", {"version": 1,
                                             "meeting_id": meeting["meeting_id"]})
    steps = [(BKM, "submitted"), (LURAH, "acknowledged"), (FACILITATOR, "verified")]
    for actor, step in steps:
        with proxy(planning, actor) as signer:
            signer.sign_document(BAJUR, "rplp", {
                "version": 1, "step": step, "signed_on": "2024-08-12",
                "signer": person(actor["id"], step)})
    with proxy(planning, LURAH) as lurah:
        lurah.record_bappeda_consultation(BAJUR, "rplp", {
            "version": 1, "consulted_on": "2024-08-13", "reference": "050/BAPPEDA/2024",
            "official": person("Ir. Made", "Kabid Fisik Bappeda")})
    with proxy(planning) as bkm, proxy(planning, LURAH) as lurah:
        outcomes = race(*[(service, "sign_document", (BAJUR, "rplp", {
            "version": 1, "step": "ratified", "signed_on": "2024-08-14",
            "signer": person(name, "ratifies")}))
            for service, name in ((bkm, "H. Lalu Ahmad"), (lurah, "Lalu Sahnan"))])
        assert not losers(outcomes)
        assert bkm.get_version(BAJUR, "rplp", 1)["status"] == "signed_off"
    assert len(ledger_events(planning, "DocumentSignedOff")) == 1


def test_one_meeting_approving_two_plans_at_once_and_one_plan_twice(planning):
    """A meeting that decided the RPLP and the RTPLP approves both, at once (two
    documents); the same approval sent twice at once is recorded once."""
    with proxy(planning) as bkm, proxy(planning, FACILITATOR) as facilitator:
        attendance = upload(bkm, pdf("daftar hadir"), "attendance_list")
        map_ = fresh_rplp(bkm, 0)
        bkm.draft_document(BAJUR, "rtplp", {"content": samples.rtplp(map_),
                                            "drafted_on": "2024-08-01"})
        meeting_id = bkm.record_meeting(BAJUR, samples.meeting(
            attendance, [("rplp", 1), ("rtplp", 1)]))["meeting_id"]
        body = {"version": 1, "meeting_id": meeting_id}
        outcomes = race((bkm, "approve_document", (BAJUR, "rplp", body)),
                        (facilitator, "approve_document", (BAJUR, "rtplp", body)),
                        (facilitator, "approve_document", (BAJUR, "rtplp", body)))
        rplp, *rtplp = outcomes
        assert rplp["approval"]["meeting_id"] == meeting_id
        [won], [lost] = winners(rtplp), losers(rtplp)
        assert won["approval"]["meeting_id"] == meeting_id
        assert isinstance(lost, Conflict) and lost.field == "version"
        given = bkm.get_meeting(meeting_id)["approvals"]
        assert sorted((a["kind"], a["version"]) for a in given) == [("rplp", 1), ("rtplp", 1)]
    assert sorted(r.payload["kind"] for r in ledger_events(planning, "DocumentApproved")) == \
        ["rplp", "rtplp"]
    assert len(ledger_events(planning, "InvestmentItemsPublished")) == 1


@pytest.mark.parametrize("copies", [2, 4])
def test_the_same_bytes_uploaded_at_once_are_recorded_once(planning, copies):
    content = pdf("berita acara, dikirim dua kali")
    with proxy(planning) as bkm, proxy(planning, FACILITATOR) as facilitator:
        outcomes = race(*[(service, "upload_attachment", (BAJUR, {
            "filename": f"copy-{n}.pdf", "media_type": "application/pdf", "kind": "minutes",
            "content_base64": base64.b64encode(content).decode()}))
            for n, service in zip(range(copies), [bkm, facilitator] * copies)])
        assert not losers(outcomes)
        assert len({o["sha256"] for o in outcomes}) == 1
        assert len({o["filename"] for o in outcomes}) == 1   # the one recorded
        assert bkm.list_attachments(BAJUR)["total"] == 1
    assert len(ledger_events(planning, "AttachmentStored")) == 1


def test_one_key_sent_at_once_with_two_files_records_one_and_refuses_the_other(planning):
    """The ledger keeps a key for one request: sent at the same moment with two files,
    one is recorded and the other refused (422 idempotency_key), never answered as
    stored while nothing recorded it."""
    with proxy(planning) as bkm, proxy(planning, FACILITATOR) as facilitator:
        for round_ in range(ROUNDS):
            contents = [pdf(f"berita acara {round_} {n}") for n in range(2)]
            outcomes = race(*[(service, "upload_attachment", (BAJUR, {
                "filename": "f.pdf", "media_type": "application/pdf", "kind": "minutes",
                "content_base64": base64.b64encode(content).decode()}, f"key-{round_}"))
                for service, content in zip((bkm, facilitator), contents)])
            [won], [lost] = winners(outcomes), losers(outcomes)
            assert isinstance(lost, CommandRejected) and lost.field == "idempotency_key"
            recorded = {a["sha256"] for a in bkm.list_attachments(BAJUR)["items"]}
            assert won["sha256"] in recorded
    assert len(ledger_events(planning, "AttachmentStored")) == ROUNDS


def test_one_key_sent_at_once_with_two_meetings_records_one_and_refuses_the_other(planning):
    with proxy(planning) as bkm, proxy(planning, FACILITATOR) as facilitator:
        attendance = upload(bkm, pdf("daftar hadir"), "attendance_list")
        for round_ in range(ROUNDS):
            outcomes = race(*[(service, "record_meeting", (BAJUR, samples.meeting(
                attendance, held_on=day), f"meeting-{round_}"))
                for service, day in ((bkm, "2024-08-10"), (facilitator, "2024-08-11"))])
            [won], [lost] = winners(outcomes), losers(outcomes)
            assert isinstance(lost, CommandRejected) and lost.field == "idempotency_key"
            assert bkm.get_meeting(won["meeting_id"])["held_on"] == won["held_on"]
    assert len(ledger_events(planning, "MeetingRecorded")) == ROUNDS


def test_two_first_drafts_of_one_document_at_once_one_wins(planning):
    with proxy(planning) as bkm, proxy(planning, FACILITATOR) as facilitator:
        map_ = upload(bkm, pdf("peta"), "map")
        outcomes = race(*[(service, "draft_document", (BAJUR, "rplp", {
            "content": {**samples.rplp(map_), "vision": vision}, "drafted_on": "2024-08-01"}))
            for service, vision in ((bkm, "Visi BKM"), (facilitator, "Visi faskel"))])
        [won], [lost] = winners(outcomes), losers(outcomes)
        assert isinstance(lost, Conflict) and lost.field == "kind"
        assert "already drafted" in str(lost)
        assert bkm.get_version(BAJUR, "rplp", 1)["content"]["vision"] == \
            won["content"]["vision"]
    assert len(ledger_events(planning, "DocumentDrafted")) == 1


def test_two_files_under_one_name_at_once_are_both_recorded(planning):
    contents = [pdf("berita acara A"), pdf("berita acara B")]
    with proxy(planning) as bkm, proxy(planning, FACILITATOR) as facilitator:
        outcomes = race(*[(service, "upload_attachment", (BAJUR, {
            "filename": "berita-acara.pdf", "media_type": "application/pdf",
            "kind": "minutes", "content_base64": base64.b64encode(content).decode()}))
            for service, content in zip((bkm, facilitator), contents)])
        assert not losers(outcomes)
        for content, stored in zip(contents, outcomes):
            got = bkm.get_attachment(BAJUR, stored["sha256"])
            assert base64.b64decode(got["content_base64"]) == content
    assert len(ledger_events(planning, "AttachmentStored")) == 2


def test_approving_a_newer_version_racing_a_signature_of_the_older_one(planning):
    """Version 1 is approved, version 2 drafted: a signature of version 1 sent with the
    approval of version 2 is recorded before it or refused as replaced (409 version),
    never recorded on a version already replaced."""
    with proxy(planning) as bkm:
        attendance = upload(bkm, pdf("daftar hadir"), "attendance_list")
        map_ = fresh_rplp(bkm, 0)
        first = bkm.record_meeting(BAJUR, samples.meeting(attendance, [("rplp", 1)]))
        bkm.approve_document(BAJUR, "rplp", {"version": 1, "meeting_id": first["meeting_id"]})
        bkm.revise_document(BAJUR, "rplp", revision(map_, "Visi 2", drafted_on="2024-08-11"))
        second = bkm.record_meeting(BAJUR, samples.meeting(
            attendance, [("rplp", 2)], held_on="2024-08-12"))
        signed, approved = race(
            (bkm, "sign_document", (BAJUR, "rplp", {
                "version": 1, "step": "submitted", "signed_on": "2024-08-12",
                "signer": person("H. Lalu Ahmad", "Koordinator BKM")})),
            (bkm, "approve_document", (BAJUR, "rplp", {
                "version": 2, "meeting_id": second["meeting_id"]})))
        assert not isinstance(approved, Exception)
        order = [(r.type, r.payload["version"]) for r in ledger_events(
            planning, "DocumentApproved", "DocumentSigned")]
        if isinstance(signed, Exception):
            assert isinstance(signed, Conflict) and signed.field == "version"
            assert "replaced" in str(signed)
            assert order == [("DocumentApproved", 1), ("DocumentApproved", 2)]
        else:
            assert order == [("DocumentApproved", 1), ("DocumentSigned", 1),
                             ("DocumentApproved", 2)]
        older = bkm.get_version(BAJUR, "rplp", 1)
        assert (older["replaced_by"], older["next_step"]) == (2, None)
