"""The payload of every event planning records (shared/chassis/payloads.py): one schema
per type, gathered in EVENTS, which the deciders of domain.py and meetings.py name.

A module of its own rather than schemas.py: these describe what the ledger holds, not
what a caller may send. They check shape and type, never the input rules of schemas.py
and content.py (non-blank text, lengths, date windows, unique rows): those were made
stricter over time, and a schema must describe every payload ever recorded at version 1
(the golden ledger of tests/fixtures/golden holds some). Text is a String; a date an ISO
date string; money whole Rupiah (strict integers); decimals exact strings (the fields
every service's payloads share are shared/payload_fields.py's).
"""
from marshmallow import Schema, ValidationError, fields, validate

from shared.attachments import STORED
from shared.chassis.access import ROLES
from shared.chassis.payloads import EventCatalog
from shared.money import FUNDING_SOURCES, PARTNER_CATEGORIES
from shared.patterns import Pattern
from shared.payload_fields import Day, ListOf, Number, OneOf, Text
from shared.schema_forms import AnyOfSchemas
from shared.schemas import AttendanceCounts, VillageCode

from . import rules
from .budget import SECTORS
from .schemas import ATTACHMENT_KINDS, MEDIA_SIGNATURES, MEETING_TYPES

SHA256 = Pattern(r"^[0-9a-f]{64}$", error="must be a SHA-256: 64 lowercase hex digits")
DECIMAL = Pattern(r"^[0-9]+(\.[0-9]+)?$", error="must be an exact decimal string")


def Code():
    return VillageCode(required=True, metadata={"description": "the village's Kemendagri "
                                                               "code"})


def Rupiah(description="whole Rupiah", **options):
    return Number(validate=validate.Range(min=0), metadata={"description": description},
                  **options)


# -- pieces ------------------------------------------------------------------------------

class PersonPayload(Schema):
    name = Text()
    position = Text()


class AttachmentRefPayload(Schema):
    """A file named in a document's content, as the author referenced it."""
    sha256 = Text(validate=SHA256)
    title = Text()


class MapRefPayload(AttachmentRefPayload):
    theme = Text()


class DescribedAttachmentPayload(AttachmentRefPayload):
    """A scanned paper (attendance list, minutes) with what its upload recorded."""
    filename = Text()
    media_type = OneOf(list(MEDIA_SIGNATURES))
    size = Number(validate=validate.Range(min=0), metadata={"description": "bytes"})


class AttendeesPayload(AttendanceCounts):
    attendees = Number(validate=validate.Range(min=0), metadata={"description": "men + "
                                                                              "women"})


# -- document content, one schema per kind -----------------------------------------------

class HorizonPayload(Schema):
    start_year = Number()
    end_year = Number()


class CriticalIssuePayload(Schema):
    issue = Text()
    sector = OneOf(SECTORS)
    rpk_reference = Text()
    location = Text(required=False)


class SectorPlanPayload(Schema):
    sector = OneOf(SECTORS)
    objective = Text()
    programmes = fields.List(fields.String(), required=True)
    indicative_budget = Rupiah(required=False)


class RplpContentPayload(Schema):
    vision = Text()
    horizon = fields.Nested(HorizonPayload, required=True)
    critical_issues = ListOf(CriticalIssuePayload)
    sector_plans = ListOf(SectorPlanPayload)
    maps = ListOf(MapRefPayload)
    environmental_social_plan = Text(required=False)


class RtRwPayload(Schema):
    rt = Number()
    rw = Number()


class PriorityAreaPayload(Schema):
    name = Text()
    hectares = Text(validate=DECIMAL)
    rt_rw = ListOf(RtRwPayload)
    map = fields.Nested(AttachmentRefPayload)


class PublishedItemPayload(Schema):
    """An RTPLP investment item as the services after planning take it."""
    item_id = Text(metadata={"description": "<document_id>-item-<n>, stable across versions"})
    sector = OneOf(SECTORS)
    description = Text()
    quantity = Text(validate=DECIMAL, metadata={"description": "exact decimal string"})
    unit = Text()
    unit_cost = Rupiah()
    total_cost = Rupiah("quantity x unit_cost, rounded half up to whole Rupiah")
    year = Number()
    funding_source = OneOf(FUNDING_SOURCES)


class InvestmentItemPayload(PublishedItemPayload):
    ded = ListOf(AttachmentRefPayload, metadata={"description": "Detailed Engineering "
                                                                "Design drawings"})
    location = Text(required=False)


class PhasePayload(Schema):
    year = Number()
    description = Text()


class RtplpContentPayload(Schema):
    priority_area = fields.Nested(PriorityAreaPayload, required=True)
    investment_items = ListOf(InvestmentItemPayload)
    phasing = ListOf(PhasePayload)


class RuleRowPayload(Schema):
    topic = Text()
    current_condition = Text()
    ideal_condition = Text()
    agreed_rule = Text()
    enforced_by = Text()
    sanction = Text()


class AturanBersamaContentPayload(Schema):
    rules = ListOf(RuleRowPayload)


class WorkPlanRowPayload(Schema):
    activity = Text()
    starts_on = Day()
    ends_on = Day()
    responsible = Text()


class PartnerPayload(Schema):
    name = Text()
    category = OneOf(PARTNER_CATEGORIES)
    interest = Text(required=False)
    contact = Text(required=False)


class MarketingEventPayload(Schema):
    name = Text()
    planned_on = Day()
    place = Text()
    audience = Text()
    invited_partners = fields.List(fields.String(), required=True)


class MarketingStrategyContentPayload(Schema):
    strategy = Text()
    work_plan = ListOf(WorkPlanRowPayload)
    potential_partners = ListOf(PartnerPayload)
    marketing_events = ListOf(MarketingEventPayload)


class PlanTotalsPayload(Schema):
    """An RTPLP's totals; each breakdown maps its key (a year as text, a funding source, a
    sector) to whole Rupiah."""
    total = Rupiah()
    by_year = fields.Dict(keys=fields.String(), values=fields.Integer(strict=True),
                          required=True)
    by_funding_source = fields.Dict(keys=fields.String(validate=validate.OneOf(
        FUNDING_SOURCES)), values=fields.Integer(strict=True), required=True)
    by_sector = fields.Dict(keys=fields.String(validate=validate.OneOf(SECTORS)),
                            values=fields.Integer(strict=True), required=True)


# -- events of stream attachments-<code> -------------------------------------------------

class AttachmentStoredPayload(Schema):
    """A file kept in the platform's attachment store (shared/attachments: code, sha256,
    size and filename are the contract every service's AttachmentStored keeps)."""
    code = Code()
    sha256 = Text(validate=SHA256, metadata={"description": "the file's name in the store"})
    size = Number(validate=validate.Range(min=0), metadata={"description": "bytes"})
    filename = Text(metadata={"description": "the name it was uploaded under"})
    media_type = OneOf(list(MEDIA_SIGNATURES))
    kind = OneOf(ATTACHMENT_KINDS)
    description = Text(metadata={"description": "'' when none was given"})


# -- events of stream document-<code>-<kind> ---------------------------------------------

class DocumentPayload(Schema):
    """What names one version of one document in every document event."""
    code = Code()
    kind = OneOf(rules.KINDS)
    document_id = Text(metadata={"description": "<code>-<kind>"})
    version = Number(validate=validate.Range(min=1))


class DocumentVersionPayload(DocumentPayload):
    drafted_on = Day()
    note = Text(metadata={"description": "the author's note; '' when none"})
    content = AnyOfSchemas(
        RplpContentPayload, RtplpContentPayload, AturanBersamaContentPayload,
        MarketingStrategyContentPayload, required=True, metadata={
            "description": "the document as the author wrote it, in the shape of its kind "
                           "(an RTPLP's investment items with item_id and total_cost)"})
    totals = fields.Nested(PlanTotalsPayload, metadata={
        "description": "an RTPLP's only (present in an RTPLP version, absent in others)"})



class DocumentDraftedPayload(DocumentVersionPayload):
    based_on = fields.Integer(required=True, allow_none=True, validate=validate.Equal(None),
                              metadata={"description": "always null: the first version "
                                                       "revises none"})
    village_name = Text()


class DocumentRevisedPayload(DocumentVersionPayload):
    based_on = Number(validate=validate.Range(min=1), metadata={
        "description": "the version revised (the latest then)"})


class ApprovalRulePayload(Schema):
    id = Text()
    version = Number()


class CountOrShare(fields.Field):
    """A measure of a meeting: a count (an integer) or a share in percent (an exact
    decimal string, rounded down to 0.01); a rule's threshold is either, as written."""

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is int or (isinstance(value, str) and DECIMAL.regex.fullmatch(value)):
            return value
        raise ValidationError("must be an integer or an exact decimal string")


COUNT_OR_SHARE = {"anyOf": [{"type": "integer"}, {"type": "string"}]}


class ApprovalCriterionPayload(Schema):
    criterion = Text()
    measure = Text(metadata={"description": "attendees, men, women, poor, women_percent or "
                                            "poor_percent"})
    value = CountOrShare(required=True, metadata=COUNT_OR_SHARE)
    operator = OneOf(rules.OPERATORS)
    threshold = CountOrShare(required=True, metadata=COUNT_OR_SHARE)
    result = OneOf(("pass", "fail"))


class DocumentApprovedPayload(DocumentPayload):
    meeting_id = Text()
    meeting_event_id = Text(required=False, metadata={
        "description": "the MeetingRecorded event the approval rests on; absent in "
                       "approvals recorded before 2026-11-28 (commit db57edf)"})
    approved_on = Day(metadata={"description": "the day the meeting was held"})
    attendance = fields.Nested(AttendeesPayload, required=True)
    rule = fields.Nested(ApprovalRulePayload, required=True)
    criteria = ListOf(ApprovalCriterionPayload)
    content_digest = Text(validate=SHA256, metadata={
        "description": "SHA-256 of the canonical JSON of the approved content"})


class InvestmentItemsPublishedPayload(Schema):
    code = Code()
    document_id = Text()
    version = Number(validate=validate.Range(min=1))
    items = ListOf(PublishedItemPayload)
    totals = fields.Nested(PlanTotalsPayload, required=True)


class DocumentSignedPayload(DocumentPayload):
    step = OneOf(list(rules.STEP_SIGNERS))
    capacity = OneOf(list(rules.CAPACITY_ROLES))
    signer = fields.Nested(PersonPayload, required=True)
    role = OneOf(ROLES, metadata={"description": "the signing account's role"})
    signed_on = Day()


class DocumentSignedOffPayload(DocumentPayload):
    signed_off_on = Day()
    steps = fields.List(fields.String(validate=validate.OneOf(list(rules.STEP_SIGNERS))),
                        required=True)


class BappedaConsultedPayload(DocumentPayload):
    consulted_on = Day()
    reference = Text()
    official = fields.Nested(PersonPayload, required=True)
    notes = Text()
    minutes = fields.Nested(DescribedAttachmentPayload, required=True, allow_none=True)


class DocumentSubmittedToMusrenbangPayload(DocumentPayload):
    forum = OneOf(rules.MUSRENBANG_FORUMS)
    reference = Text()
    submitted_on = Day()


# -- events of stream meeting-<meeting_id> -----------------------------------------------

class ApprovesPayload(Schema):
    kind = OneOf(rules.KINDS)
    version = Number(validate=validate.Range(min=1))


class DecisionPayload(Schema):
    number = Number(validate=validate.Range(min=1))
    text = Text()
    approves = fields.Nested(ApprovesPayload, required=True, allow_none=True)


class MeetingRecordedPayload(Schema):
    code = Code()
    meeting_id = Text()
    meeting_type = OneOf(MEETING_TYPES)
    held_on = Day()
    place = Text()
    agenda = fields.List(fields.String(), required=True)
    chair = fields.Nested(PersonPayload, required=True)
    minute_taker = fields.Nested(PersonPayload, required=True)
    attendance = fields.Nested(AttendeesPayload, required=True)
    attendance_list = fields.Nested(DescribedAttachmentPayload, required=True)
    minutes = fields.Nested(DescribedAttachmentPayload, required=True, allow_none=True,
                            metadata={"description": "the berita acara; null when none was "
                                                     "given (never for a meeting that "
                                                     "approves a plan)"})
    decisions = ListOf(DecisionPayload)


# One catalog per stream kind, so each decider admits only its own stream's types.
ATTACHMENT_EVENTS = EventCatalog({STORED: AttachmentStoredPayload})
DOCUMENT_EVENTS = EventCatalog({
    "DocumentDrafted": DocumentDraftedPayload,
    "DocumentRevised": DocumentRevisedPayload,
    "DocumentApproved": DocumentApprovedPayload,
    "InvestmentItemsPublished": InvestmentItemsPublishedPayload,
    "DocumentSigned": DocumentSignedPayload,
    "DocumentSignedOff": DocumentSignedOffPayload,
    "BappedaConsulted": BappedaConsultedPayload,
    "DocumentSubmittedToMusrenbang": DocumentSubmittedToMusrenbangPayload,
})
MEETING_EVENTS = EventCatalog({"MeetingRecorded": MeetingRecordedPayload})
EVENTS = ATTACHMENT_EVENTS | DOCUMENT_EVENTS | MEETING_EVENTS
