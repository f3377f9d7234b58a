"""The planning deciders (services/planning/domain.py), pure: commands decided on states
folded from NewEvents, with no ledger, files or clock."""
import re

import pytest

from services.planning import cycle_stage, domain, meetings, schemas
from shared.chassis.errors import (
    CommandRejected,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)

from ..cycle.support import opened, walk_to_stage
from ..streams import Stream
from . import samples

BAJUR = samples.BAJUR
MAP, DED, LIST = "a" * 64, "b" * 64, "c" * 64
KNOWN = {sha: {"code": BAJUR, "sha256": sha, "filename": f"{sha[:4]}.pdf",
               "media_type": "application/pdf", "size": 10, "kind": "other"}
         for sha in (MAP, DED, LIST)}


def loaded(kind, content=None, drafted_on="2024-08-01"):
    data = {"content": content or samples.content(kind, MAP if kind == "rplp" else DED),
            "drafted_on": drafted_on}
    return schemas.version_schema(kind).load(data)


def draft(kind, **options):
    return domain.DraftDocument(code=BAJUR, kind=kind, village_name="Bajur",
                                attachments=KNOWN, **loaded(kind, **options))


def revise(kind, based_on, content, drafted_on="2024-08-05"):
    return domain.ReviseDocument(based_on=based_on, attachments=KNOWN,
                                 **loaded(kind, content, drafted_on))


def meeting(approves=(("rplp", 1),), men=20, women=12, held_on="2024-08-10", drafted=None):
    details = schemas.MeetingSchema().load(samples.meeting(LIST, approves, men, women,
                                                           held_on=held_on))
    if drafted is None:
        drafted = {kind: {1: "2024-08-01", 2: "2024-08-05"} for kind, _version in approves}
    stream = Stream(meetings.MEETING)
    stream.do(meetings.RecordMeeting(f"{BAJUR}-m1", BAJUR, details, KNOWN, drafted))
    return stream.state


def cycle_at(stage, opened_on="2024-04-01"):
    """A village's cycle as planning reads it: the cycle domain's own events, walked to
    `stage` (each stage completes 10 days after it began: stage 4 begins 2024-05-01)."""
    return cycle_stage.standing(walk_to_stage(opened(opened_on), stage).events)


AT_STAGE_4 = cycle_at(4)


def approve(version, meeting_state, cycle=AT_STAGE_4):
    return domain.ApproveVersion(version, meeting_state, cycle)


def approved(kind):
    document = Stream(domain.DOCUMENT)
    document.do(draft(kind), approve(1, meeting(((kind, 1),))))
    return document


def sign(step, capacity, role, signed_on="2024-08-20", version=1, region=BAJUR):
    return domain.SignVersion(version, step, capacity, {"name": f"{capacity} person",
                                                        "position": capacity}, signed_on, role,
                              region)


# -- versions -----------------------------------------------------------------------------

def test_revisions_are_new_versions_and_every_version_stays():
    document = Stream(domain.DOCUMENT)
    [drafted] = document.do(draft("rplp"))
    assert drafted.type == "DocumentDrafted"
    assert {k: drafted.payload[k] for k in ("code", "kind", "document_id", "version")} == {
        "code": BAJUR, "kind": "rplp", "document_id": f"{BAJUR}-rplp", "version": 1}
    content = samples.rplp(MAP)
    content["vision"] = "Bajur bebas kumuh 2029"
    [revised] = document.do(revise("rplp", 1, content))
    assert (revised.type, revised.payload["version"], revised.payload["based_on"]) == (
        "DocumentRevised", 2, 1)
    state = document.state
    assert state.latest == 2
    assert state.versions[1]["content"]["vision"] != state.versions[2]["content"]["vision"]


def test_revision_must_start_from_the_latest_version_and_change_something():
    document = Stream(domain.DOCUMENT)
    document.do(draft("aturan_bersama"))
    with pytest.raises(Conflict, match="already drafted"):
        document.do(draft("aturan_bersama"))
    with pytest.raises(CommandRejected, match="identical to version 1") as same:
        document.do(revise("aturan_bersama", 1, samples.aturan_bersama()))
    assert same.value.field == "content"
    changed = samples.aturan_bersama()
    changed["rules"][0]["sanction"] = "Denda Rp 50.000"
    document.do(revise("aturan_bersama", 1, changed))
    with pytest.raises(Conflict, match="version 2 is the latest") as stale:
        document.do(revise("aturan_bersama", 1, samples.aturan_bersama()))
    assert stale.value.field == "based_on"
    with pytest.raises(CommandRejected) as early:
        document.do(revise("aturan_bersama", 2, samples.aturan_bersama(), "2024-07-01"))
    assert early.value.field == "drafted_on"
    with pytest.raises(NotFound):
        Stream(domain.DOCUMENT).do(revise("rplp", 1, samples.rplp(MAP)))


def test_a_revision_of_an_approved_version_is_not_dated_before_its_approval():
    """Only the current version is approved: a revision dated before the meeting that
    approved version 1 would say the meeting approved a version already superseded that
    day, and let version 2's approval (and what it replaces) predate version 1's."""
    document = approved("rplp")                       # version 1 approved on 2024-08-10
    revised = samples.rplp(MAP)
    revised["vision"] = "Versi dua"
    recorded = len(document.events)
    with pytest.raises(CommandRejected) as early:
        document.do(revise("rplp", 1, revised, "2024-08-09"))
    assert early.value.field == "drafted_on"
    assert "2024-08-09 is before version 1 was approved (2024-08-10" in str(early.value)
    assert len(document.events) == recorded
    [same_day] = document.do(revise("rplp", 1, revised, "2024-08-10"))
    assert same_day.payload["version"] == 2


def test_a_reference_to_a_file_never_uploaded_is_refused_by_path():
    unknown = "d" * 64
    with pytest.raises(CommandRejected, match="never uploaded") as refused:
        Stream(domain.DOCUMENT).do(domain.DraftDocument(
            code=BAJUR, kind="rplp", village_name="Bajur", attachments=KNOWN,
            **loaded("rplp", samples.rplp(unknown))))
    assert refused.value.field == "content.maps.0.sha256"


def test_rtplp_items_get_stable_ids_costs_and_totals():
    document = Stream(domain.DOCUMENT)
    [drafted] = document.do(draft("rtplp"))
    items = drafted.payload["content"]["investment_items"]
    assert [i["item_id"] for i in items] == [f"{BAJUR}-rtplp-item-{n}" for n in (1, 2, 3)]
    assert [i["total_cost"] for i in items] == [900_375_000, 178_500_000, 27_000_000]
    assert drafted.payload["totals"]["by_year"] == {"2025": 927_375_000, "2026": 178_500_000}
    content = samples.rtplp(DED)
    content["investment_items"] = [{**items[0], "unit_cost": 800_000}, items[2]]
    for item in content["investment_items"]:
        del item["total_cost"]
    content["investment_items"].append({**samples.rtplp()["investment_items"][1]})
    [revised] = document.do(revise("rtplp", 1, content))
    assert [i["item_id"] for i in revised.payload["content"]["investment_items"]] == [
        f"{BAJUR}-rtplp-item-1", f"{BAJUR}-rtplp-item-3", f"{BAJUR}-rtplp-item-4"]
    assert revised.payload["totals"]["total"] == 960_400_000 + 27_000_000 + 178_500_000


def test_item_errors_name_the_field_of_the_request_content():
    """A draft's or revision's items are content.investment_items in the request: a plan
    over the largest amount names the item field that takes it over, an unknown item id
    its own field, and nothing is recorded."""
    too_much = samples.rtplp(DED)
    too_much["investment_items"].append({**too_much["investment_items"][0],
                                         "quantity": "2", "unit_cost": 6 * 10**12})
    document = Stream(domain.DOCUMENT)
    with pytest.raises(InvalidInput, match="over the limit of Rp 10000000000000") as refused:
        document.do(draft("rtplp", content=too_much))
    assert refused.value.field == "content.investment_items.3.quantity"
    assert document.events == []
    document.do(draft("rtplp"))
    unknown = samples.rtplp(DED)
    unknown["investment_items"][1]["item_id"] = f"{BAJUR}-rtplp-item-9"
    with pytest.raises(InvalidInput, match="unknown item id") as refused:
        document.do(revise("rtplp", 1, unknown))
    assert refused.value.field == "content.investment_items.1.item_id"
    assert [e.type for e in document.events] == ["DocumentDrafted"]


# -- meetings -----------------------------------------------------------------------------

def test_a_meeting_records_attendance_attachments_and_numbered_decisions():
    recorded = meeting()
    assert recorded["attendance"] == {"men": 20, "women": 12, "poor": 9, "attendees": 32}
    assert recorded["attendance_list"]["media_type"] == "application/pdf"
    assert recorded["decisions"][0]["number"] == 1
    with pytest.raises(Conflict):
        Stream(meetings.MEETING).do(*[meetings.RecordMeeting("m", BAJUR, schemas.MeetingSchema(
        ).load(samples.meeting(LIST)), KNOWN)] * 2)


@pytest.mark.parametrize("drafted, held_on, field", [
    ({}, "2024-08-10", "decisions.0.approves.version"),                  # no such version
    ({"rplp": {1: "2024-08-11"}}, "2024-08-10", "decisions.0.approves.version"),  # later
])
def test_a_meeting_decides_only_versions_that_exist_before_it(drafted, held_on, field):
    with pytest.raises(CommandRejected) as refused:
        meeting(held_on=held_on, drafted=drafted)
    assert refused.value.field == field


def test_a_meeting_needs_its_attendance_list_uploaded():
    details = schemas.MeetingSchema().load(samples.meeting("e" * 64))
    with pytest.raises(CommandRejected) as refused:
        Stream(meetings.MEETING).do(meetings.RecordMeeting("m", BAJUR, details, KNOWN))
    assert refused.value.field == "attendance_list.sha256"


# -- approval -----------------------------------------------------------------------------

def test_approval_publishes_the_contract_payload_with_rule_version_and_results():
    document = Stream(domain.DOCUMENT)
    document.do(draft("rplp"))
    [event] = document.do(approve(1, meeting()))
    assert event.type == "DocumentApproved"
    p = event.payload
    assert {k: p[k] for k in ("code", "kind", "document_id", "version", "meeting_id")} == {
        "code": BAJUR, "kind": "rplp", "document_id": f"{BAJUR}-rplp", "version": 1,
        "meeting_id": f"{BAJUR}-m1"}
    assert p["rule"] == {"id": "plpbk-musyawarah", "version": 1}
    assert {c["result"] for c in p["criteria"]} == {"pass"}
    assert p["approved_on"] == "2024-08-10" and len(p["content_digest"]) == 64
    with pytest.raises(Conflict, match="already approved"):
        document.do(approve(1, meeting()))


def test_rtplp_approval_also_publishes_its_investment_items():
    document = Stream(domain.DOCUMENT)
    document.do(draft("rtplp"))
    approval, published = document.do(approve(1, meeting((("rtplp", 1),))))
    assert published.type == "InvestmentItemsPublished"
    assert published.payload["items"][0] == {
        "item_id": f"{BAJUR}-rtplp-item-1", "sector": "drainase",
        "description": "Saluran tersier RW 02", "quantity": "1200.5", "unit": "m",
        "unit_cost": 750_000, "total_cost": 900_375_000, "year": 2025,
        "funding_source": "apbn"}
    assert published.payload["version"] == approval.payload["version"] == 1


@pytest.mark.parametrize("men, women, refused", [
    (20, 9, "minimum_attendance: attendees is 29"),                   # one short
    (22, 8, "women_participation: 8 of 30 attendees is 26.66%"),     # too few women
    (21, 9, None),                                                    # exactly both
])
def test_a_meeting_failing_the_rule_cannot_approve(men, women, refused):
    document = Stream(domain.DOCUMENT)
    document.do(draft("rplp"))
    command = approve(1, meeting(men=men, women=women))
    if refused is None:
        assert document.do(command)[0].type == "DocumentApproved"
        return
    with pytest.raises(CommandRejected, match="approval rule plpbk-musyawarah v1") as error:
        document.do(command)
    assert refused in str(error.value) and error.value.field == "meeting_id"
    assert document.state.versions[1]["status"] == "draft"


def test_only_a_meeting_that_decided_the_version_approves_it():
    document = Stream(domain.DOCUMENT)
    document.do(draft("rplp"))
    with pytest.raises(CommandRejected, match="did not decide"):
        document.do(approve(1, meeting((("aturan_bersama", 1),))))
    elsewhere = {**meeting(), "code": "52.01.08.2001"}
    with pytest.raises(CommandRejected, match="held in 52.01.08.2001"):
        document.do(approve(1, elsewhere))
    with pytest.raises(NotFound) as missing:
        document.do(approve(3, meeting()))
    assert missing.value.field == "version"


def test_an_older_version_is_not_approved_after_a_newer_one():
    document = Stream(domain.DOCUMENT)
    content = samples.rplp(MAP)
    content["vision"] = "Versi dua"
    document.do(draft("rplp"), revise("rplp", 1, content))
    document.do(approve(2, meeting((("rplp", 2),))))
    with pytest.raises(Conflict, match="version 2 is the current version") as older:
        document.do(approve(1, meeting((("rplp", 1),))))
    assert older.value.field == "version" and "approved" in str(older.value)


def test_a_superseded_version_is_not_approved_and_the_current_one_is_named():
    document = Stream(domain.DOCUMENT)
    second, third = samples.rplp(MAP), samples.rplp(MAP)
    second["vision"], third["vision"] = "Versi dua", "Versi tiga"
    document.do(draft("rplp"), revise("rplp", 1, second), revise("rplp", 2, third, "2024-08-06"))
    drafted = {"rplp": {1: "2024-08-01", 2: "2024-08-05", 3: "2024-08-06"}}
    recorded = len(document.events)
    for old in (1, 2):
        with pytest.raises(Conflict) as superseded:
            document.do(approve(old, meeting((("rplp", old),), drafted=drafted)))
        assert superseded.value.field == "version"
        assert (f"version {old} is superseded" in str(superseded.value)
                and "version 3 is the current version" in str(superseded.value))
        assert "draft" in str(superseded.value)
    assert len(document.events) == recorded
    assert {v["status"] for v in document.state.versions.values()} == {"draft"}
    [approved] = document.do(approve(3, meeting((("rplp", 3),),
                                                              drafted=drafted)))
    assert approved.payload["version"] == 3
    with pytest.raises(Conflict, match="already approved") as again:   # the same, again
        document.do(approve(3, meeting((("rplp", 3),), drafted=drafted)))
    assert again.value.field == "version"
    assert len(document.events) == recorded + 1


# -- sign-off chain -----------------------------------------------------------------------

def test_the_chain_runs_in_order_each_step_once_then_signs_off():
    document = approved("aturan_bersama")
    with pytest.raises(CommandRejected, match="verified comes after submitted") as order:
        document.do(sign("verified", "facilitator", "facilitator"))
    assert order.value.field == "step"
    document.do(sign("submitted", "bkm", "bkm"))
    with pytest.raises(Conflict, match="already signed"):
        document.do(sign("submitted", "bkm", "bkm"))
    with pytest.raises(CommandRejected, match="after acknowledged"):
        document.do(sign("verified", "facilitator", "facilitator"))
    assert document.do(sign("acknowledged", "lurah", "district"))[0].payload["signer"] == {
        "name": "lurah person", "position": "lurah"}
    signed, signed_off = document.do(sign("verified", "facilitator", "facilitator"))
    assert (signed.type, signed_off.type) == ("DocumentSigned", "DocumentSignedOff")
    assert signed_off.payload["steps"] == ["submitted", "acknowledged", "verified"]
    assert document.state.versions[1]["status"] == "signed_off"


def test_signing_needs_an_approved_version_the_right_capacity_and_dates_in_order():
    draft_only = Stream(domain.DOCUMENT)
    draft_only.do(draft("rtplp"))
    with pytest.raises(CommandRejected, match="not approved yet"):
        draft_only.do(sign("submitted", "bkm", "bkm"))
    document = approved("rtplp")
    with pytest.raises(CommandRejected, match="cannot sign") as wrong:
        document.do(sign("submitted", None, "facilitator"))
    assert wrong.value.field == "role"
    with pytest.raises(CommandRejected, match="has no ratified step"):
        document.do(sign("ratified", "bkm", "bkm"))
    with pytest.raises(CommandRejected, match="before the approving meeting") as early:
        document.do(sign("submitted", "bkm", "bkm", signed_on="2024-08-09"))
    assert early.value.field == "signed_on"
    document.do(sign("submitted", "bkm", "bkm", signed_on="2024-08-20"))
    with pytest.raises(CommandRejected, match="before the submitted signature"):
        document.do(sign("acknowledged", "lurah", "district", signed_on="2024-08-19"))


def test_rplp_is_ratified_by_lurah_and_bkm_after_a_bappeda_consultation():
    document = approved("rplp")
    document.do(sign("submitted", "bkm", "bkm"), sign("acknowledged", "lurah", "district"),
                sign("verified", "facilitator", "facilitator"))
    assert document.state.versions[1]["status"] == "approved"
    with pytest.raises(CommandRejected, match="Bappeda"):
        document.do(sign("ratified", "lurah", "district"))
    consulted = domain.RecordBappedaConsultation(
        1, "2024-08-25", "Bappeda 050/123", {"name": "Ir. Made", "position": "Kabid"},
        minutes={"sha256": LIST, "title": "Notulen"}, attachments=KNOWN)
    [event] = document.do(consulted)
    assert event.payload["minutes"]["filename"] == KNOWN[LIST]["filename"]
    with pytest.raises(Conflict):
        document.do(consulted)
    [lurah] = document.do(sign("ratified", "lurah", "district", "2024-08-26"))
    assert lurah.type == "DocumentSigned"
    bkm, signed_off = document.do(sign("ratified", "bkm", "bkm", "2024-08-27"))
    assert signed_off.payload["signed_off_on"] == "2024-08-27"


def test_bappeda_consultation_is_for_the_rplp_only():
    with pytest.raises(CommandRejected, match="only the RPLP") as refused:
        approved("rtplp").do(domain.RecordBappedaConsultation(
            1, "2024-08-25", "ref", {"name": "x", "position": "y"}))
    assert refused.value.field == "kind"


def test_musrenbang_submission_follows_the_sign_off_once_per_forum():
    document = approved("rtplp")
    submit = domain.SubmitToMusrenbang(1, "kecamatan", "MUSREN-KEC-2025-17", "2024-09-02")
    with pytest.raises(CommandRejected, match="waits for submitted"):
        document.do(submit)
    document.do(sign("submitted", "bkm", "bkm"), sign("acknowledged", "lurah", "district"),
                sign("verified", "facilitator", "facilitator"))
    [event] = document.do(submit)
    assert event.payload["reference"] == "MUSREN-KEC-2025-17"
    assert document.state.versions[1]["status"] == "submitted"
    with pytest.raises(Conflict):
        document.do(submit)
    document.do(domain.SubmitToMusrenbang(1, "kabupaten_kota", "MUSREN-KAB-9", "2024-09-10"))


def test_a_version_replaced_by_a_newer_approval_is_not_signed_consulted_or_submitted():
    """Once the community approved version 2, version 1 is no longer the plan: signing it
    off, taking it to Bappeda or into a Musrenbang would put the old plan in force."""
    document = approved("rplp")
    document.do(sign("submitted", "bkm", "bkm"))
    revised = samples.rplp(MAP)
    revised["vision"] = "Versi dua"
    document.do(revise("rplp", 1, revised, "2024-08-20"))
    # a draft does not replace the approved version: its sign-off goes on meanwhile
    document.do(sign("acknowledged", "lurah", "district", "2024-08-21"))
    document.do(approve(2, meeting((("rplp", 2),), held_on="2024-08-22",
                                   drafted={"rplp": {1: "2024-08-01", 2: "2024-08-20"}})))
    recorded = len(document.events)
    refusals = [sign("verified", "facilitator", "facilitator", "2024-08-23"),
                domain.RecordBappedaConsultation(1, "2024-08-25", "Bappeda 050/123",
                                                 {"name": "Ir. Made", "position": "Kabid"}),
                domain.SubmitToMusrenbang(1, "kelurahan", "MUSREN-KEL-1", "2024-09-02")]
    for command in refusals:
        with pytest.raises(Conflict, match="version 2 was approved on 2024-08-22") as old:
            document.do(command)
        assert old.value.field == "version"
    assert len(document.events) == recorded
    document.do(sign("submitted", "bkm", "bkm", "2024-08-23", version=2))


# -- the cycle's planning stage -----------------------------------------------------------

def test_a_plan_is_approved_only_for_a_village_whose_cycle_reached_the_planning_stage():
    """The plans build on the RPK and the self-mapping: approving the RPLP of a village
    never selected, or still in Pemetaan Swadaya, is refused and records nothing."""
    for cycle, says in ((None, "has no open cycle"),
                        (cycle_stage.standing([]), "has no open cycle"),
                        (cycle_at(3), ("at stage 3; the rplp is approved in stage 4 "
                                       "(Perencanaan partisipatif dan Pemasaran)"))):
        document = Stream(domain.DOCUMENT)
        document.do(draft("rplp"))
        with pytest.raises(CommandRejected, match=re.escape(says)) as refused:
            document.do(approve(1, meeting(), cycle))
        assert refused.value.field == "code"
        assert [e.type for e in document.events] == ["DocumentDrafted"]


def test_the_approving_meeting_is_held_since_the_planning_stage_began():
    document = Stream(domain.DOCUMENT)
    document.do(draft("rplp"))
    late_start = cycle_at(4, opened_on="2024-07-15")      # stage 4 begins 2024-08-14
    with pytest.raises(CommandRejected, match="before stage 4 .* began on 2024-08-14") as early:
        document.do(approve(1, meeting(held_on="2024-08-10"), late_start))
    assert early.value.field == "meeting_id"
    drafted = {"rplp": {1: "2024-08-01"}}
    [event] = document.do(approve(1, meeting(held_on="2024-08-14", drafted=drafted),
                                  late_start))
    assert event.payload["approved_on"] == "2024-08-14"


def test_a_plan_revised_later_in_the_cycle_is_still_approved():
    """Stage 4's gate needs a first approval; the RTPLP revised during construction (stage
    5) is approved by its own meeting as before."""
    document = Stream(domain.DOCUMENT)
    document.do(draft("rtplp"))
    approval, _items = document.do(approve(1, meeting((("rtplp", 1),)), cycle_at(5)))
    assert approval.payload["version"] == 1


def test_the_cycle_standing_follows_its_events():
    at_6 = cycle_at(6)
    assert (at_6["opened"], at_6["stage"], at_6["template"]) == (
        True, 6, {"id": "plpbk-cycle", "version": 1})
    assert at_6["started_on"]["4"] == "2024-05-01"
    assert cycle_stage.approval_stage(at_6, "marketing_strategy") == (
        4, "Perencanaan partisipatif dan Pemasaran")


@pytest.mark.parametrize("step, capacity, role", [("submitted", "bkm", "bkm"),
                                                  ("acknowledged", "lurah", "district")])
@pytest.mark.parametrize("region", ["", "52", "52.01", "52.01.08", "52.01.08.2001"])
def test_the_bkm_and_the_lurah_sign_only_through_an_account_of_the_village(
        step, capacity, role, region):
    """The BKM is the village's own elected body, as the Lurah is its head: an account
    scoped to a kabupaten (or another village) signs as neither, and records nothing."""
    document = approved("aturan_bersama")
    if step == "acknowledged":
        document.do(sign("submitted", "bkm", "bkm"))
    recorded = len(document.events)
    with pytest.raises(Forbidden, match=f"the {capacity} signs through an account scoped "
                                        "to the village itself") as refused:
        document.do(sign(step, capacity, role, region=region))
    assert refused.value.field == "step"
    assert len(document.events) == recorded


# -- the minutes (berita acara) an approval rests on --------------------------------------

def test_a_meeting_that_approves_a_plan_records_its_minutes():
    """The berita acara is the signed record of the decision: a meeting deciding to approve
    a plan without it is refused naming minutes; one that approves nothing may lack it."""
    without = samples.meeting(LIST, [("rplp", 1)])
    del without["minutes"]
    details = schemas.MeetingSchema().load(without)
    stream = Stream(meetings.MEETING)
    with pytest.raises(InvalidInput, match="berita acara") as refused:
        stream.do(meetings.RecordMeeting(f"{BAJUR}-m1", BAJUR, details, KNOWN,
                                         {"rplp": {1: "2024-08-01"}}))
    assert refused.value.field == "minutes" and stream.events == []
    informal = schemas.MeetingSchema().load(samples.meeting(LIST))
    assert "minutes" not in samples.meeting(LIST)
    assert stream.do(meetings.RecordMeeting(f"{BAJUR}-m2", BAJUR, informal, KNOWN))


def test_an_approval_does_not_rest_on_a_meeting_recorded_without_minutes():
    """Meetings recorded before minutes were required stay as they are; the approval that
    would rest on one is refused."""
    document = Stream(domain.DOCUMENT)
    document.do(draft("rplp"))
    old_meeting = {**meeting(), "minutes": None}
    with pytest.raises(CommandRejected, match="no minutes") as refused:
        document.do(approve(1, old_meeting))
    assert refused.value.field == "meeting_id"
    assert [e.type for e in document.events] == ["DocumentDrafted"]


def test_the_attendance_list_and_minutes_are_scans_not_maps_or_drawings():
    """DOMAIN.md: a meeting record holds a scanned attendance list and minutes (berita
    acara). A GeoJSON map or a CAD drawing picked by mistake is no scan of a signed paper:
    refused naming the reference, so an approval never rests on a map as its minutes.
    Bappeda's minutes, also a scanned paper, likewise."""
    geojson, dwg = "e" * 64, "f" * 64
    known = {**KNOWN,
             geojson: {**KNOWN[MAP], "sha256": geojson, "media_type": "application/geo+json",
                       "filename": "peta.geojson", "kind": "map"},
             dwg: {**KNOWN[MAP], "sha256": dwg, "media_type": "image/vnd.dwg",
                   "filename": "ded.dwg", "kind": "ded_drawing"}}
    for name, wrong in (("attendance_list", geojson), ("minutes", dwg)):
        data = samples.meeting(LIST, [("rplp", 1)], minutes_sha256=LIST)
        data[name]["sha256"] = wrong
        stream = Stream(meetings.MEETING)
        with pytest.raises(CommandRejected, match="not a scan") as refused:
            stream.do(meetings.RecordMeeting(f"{BAJUR}-m1", BAJUR,
                                             schemas.MeetingSchema().load(data), known,
                                             {"rplp": {1: "2024-08-01"}}))
        assert refused.value.field == f"{name}.sha256" and stream.events == []
        assert "application/pdf, image/png, image/jpeg or image/tiff" in str(refused.value)
    document = approved("rplp")
    recorded = len(document.events)
    with pytest.raises(CommandRejected, match="not a scan") as bappeda:
        document.do(domain.RecordBappedaConsultation(
            1, "2024-08-25", "Bappeda 050/123", {"name": "Ir. Made", "position": "Kabid"},
            minutes={"sha256": geojson, "title": "Notulen"}, attachments=known))
    assert bappeda.value.field == "minutes.sha256" and len(document.events) == recorded
