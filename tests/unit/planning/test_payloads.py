"""Planning's event payload catalog (services/planning/payloads.py): every type it names
is one the domain records, and a payload off its schema is refused."""
import copy

import pytest

from services.planning import domain, meetings, payloads, schemas
from shared.chassis.payloads import PayloadMismatch
from shared.ledger import NewEvent

from ..streams import Stream
from . import samples
from .test_domain import BAJUR, KNOWN, LIST, approve, approved, draft, meeting, sign


def whole_life_of(kind):
    """A document of this kind from draft to every step after its approval."""
    document = approved(kind)
    document.do(sign("submitted", "bkm", "bkm"), sign("acknowledged", "lurah", "district"),
                sign("verified", "facilitator", "facilitator"))
    if kind == "rplp":
        document.do(domain.RecordBappedaConsultation(
            1, "2024-08-25", "Bappeda 050/123", {"name": "Ir. Made", "position": "Kabid"},
            minutes={"sha256": LIST, "title": "Notulen"}, attachments=KNOWN),
            sign("ratified", "lurah", "district", "2024-08-26"),
            sign("ratified", "bkm", "bkm", "2024-08-27"))
    document.do(domain.SubmitToMusrenbang(1, "kecamatan", "MUSREN-KEC-1", "2024-09-02"))
    return document.events


def test_every_type_in_the_catalog_is_one_the_domain_records():
    uploads = Stream(domain.ATTACHMENTS)
    uploads.do(domain.StoreAttachment(BAJUR, LIST, 10, "application/pdf", "list.pdf",
                                      "attendance_list"))
    revised = Stream(domain.DOCUMENT)
    revised.do(draft("aturan_bersama"))
    revised.do(domain.ReviseDocument(1, {"rules": [{
        "topic": "Air", "current_condition": "a", "ideal_condition": "b",
        "agreed_rule": "c", "enforced_by": "d", "sanction": "e"}]}, "2024-08-05"))
    held = Stream(meetings.MEETING)
    held.do(meetings.RecordMeeting(f"{BAJUR}-m1", BAJUR, schemas.MeetingSchema().load(
        samples.meeting(LIST)), KNOWN))
    events = (uploads.events + revised.events + held.events + whole_life_of("rplp")
              + whole_life_of("rtplp"))
    assert {e.type for e in events} == set(payloads.EVENTS.schemas)


def recorded_draft(kind):
    [event] = Stream(domain.DOCUMENT).do(draft(kind))
    return event


def test_content_must_have_the_shape_of_a_kind_of_document():
    """Content is one of the kinds' shapes (JSON Schema's oneOf); which kind's is the
    domain's to match (payloads.py: the check states no rule relating two fields)."""
    rplp = recorded_draft("rplp")
    payloads.EVENTS.check(rplp)
    with pytest.raises(PayloadMismatch, match="content"):
        payloads.EVENTS.check(NewEvent("DocumentDrafted", {
            **rplp.payload, "content": {**rplp.payload["content"], "unknown": 1}}))
    with pytest.raises(PayloadMismatch, match="totals"):
        payloads.EVENTS.check(NewEvent("DocumentDrafted", {
            **recorded_draft("rtplp").payload, "totals": None}))


def test_a_malformed_payload_is_refused_and_an_earlier_one_still_described():
    uploads = Stream(domain.ATTACHMENTS)
    [stored] = uploads.do(domain.StoreAttachment(BAJUR, LIST, 10, "application/pdf",
                                                 "list.pdf", "attendance_list"))
    with pytest.raises(PayloadMismatch, match="size"):
        payloads.EVENTS.check(NewEvent(stored.type, {**stored.payload, "size": "10"}))
    with pytest.raises(PayloadMismatch, match="kind"):   # checked as the decider decides
        uploads.do(domain.StoreAttachment(BAJUR, "d" * 64, 10, "application/pdf",
                                          "list.pdf", "selfie"))
    assert len(uploads.events) == 1
    with pytest.raises(PayloadMismatch, match="based_on"):
        payloads.EVENTS.check(NewEvent("DocumentDrafted", {
            **recorded_draft("rplp").payload, "based_on": 1}))
    document = Stream(domain.DOCUMENT)
    [approval] = document.do(draft("rplp"), approve(1, meeting()))[1:]
    older = copy.deepcopy(approval.payload)
    del older["meeting_event_id"]    # approvals before commit db57edf did not name it
    payloads.EVENTS.check(NewEvent("DocumentApproved", older))
