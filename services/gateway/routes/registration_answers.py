"""What the registration service answers through the gateway, field by field (its
views.py, domain.py, rules.py): the OpenAPI document's answer schemas of the routes in
registration.py. The gateway tests check live answers against them."""
from marshmallow import Schema, fields, validate

from services.registration import rules, views
from services.registration import schemas as reg
from shared.schemas import DecimalString

from ..event_payloads import by_event_type
from ..schemas import ActorSchema, NamedRegionSchema, day, maybe, one_of_types


def decimal(**options):
    """A decimal string in an answer ("31.50")."""
    return DecimalString(places=2, required=True, **options)


STATUS = validate.OneOf(["registered", "incomplete", "eligible", "ineligible", "selected"])
DECIDED = validate.OneOf(["eligible", "ineligible", "incomplete"])
VALUE = {"description": "a decimal string, an integer, true/false or a rating/level; "
                        "null: no evidence"}


class PassedOverSchema(Schema):
    code = fields.String(required=True)
    reason = fields.String(required=True, metadata={
        "description": "why its own record refused selection"})


class UnfilledSchema(Schema):
    """What a selection round leaves open under a kabupaten/kota's quota, and why."""
    quota = fields.Integer(required=True)
    selected = fields.Integer(required=True, metadata={"description": "selected in all"})
    open = fields.Integer(required=True, metadata={"description": "places still open"})
    passed_over = fields.List(fields.Nested(PassedOverSchema), required=True, metadata={
        "description": "villages the ranking listed whose own records refused selection"})
    message = fields.String(required=True, metadata={"description": "for a person"})


class SelectionResultSchema(Schema):
    selected = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                           required=True, metadata={
                               "description": "per kabupaten/kota, the village codes selected "
                                              "now, best rank first ([] when its quota was "
                                              "already full)"})
    unfilled = fields.Dict(keys=fields.String(), values=fields.Nested(UnfilledSchema),
                           required=True, metadata={
                               "description": "per kabupaten/kota whose quota stays partly "
                                              "open"})


class ImportErrorSchema(Schema):
    row = fields.Integer(required=True, metadata={
        "description": "the refused row's index in `rows`, from 0"})
    line = fields.Integer(required=True, allow_none=True, metadata={
        "description": "the `line` the row was sent with (null if none)"})
    reason = fields.String(required=True, metadata={
        "description": "what is wrong, starting with the column (`observed_on: ...`)"})


class ImportReportSchema(Schema):
    recorded = fields.Integer(required=True, metadata={
        "description": "rows recorded (the village registered if needed, its evidence "
                       "recorded and eligibility decided)"})
    unchanged = fields.Integer(required=True, metadata={
        "description": "rows already recorded before: nothing new"})
    errors = fields.List(fields.Nested(ImportErrorSchema), required=True, metadata={
        "description": "the refused rows, each recording nothing"})


class VillageSummarySchema(Schema):
    """A village as lists give it (GET /api/v1/villages/{code} has the whole record)."""
    code = fields.String(required=True, metadata={"example": "52.01.08.2006"})
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["desa", "kelurahan"]))
    status = fields.String(required=True, validate=STATUS)
    score = fields.String(required=True, metadata={"description": "priority score, a "
                                                                  "decimal string"})
    kabupaten = fields.String(required=True, metadata={"description": "its name"})
    province = fields.String(required=True, metadata={"description": "its name"})


class SlumAreaValueSchema(Schema):
    present = fields.Boolean(required=True)
    hectares = decimal()


class PemdaPriorityValueSchema(Schema):
    prioritised = fields.Boolean(required=True)
    decree_reference = maybe(fields.String, metadata={"description": "null when not "
                                                                     "prioritised"})


class KotakuValueSchema(Schema):
    scores = fields.Nested(reg.KotakuScores, required=True, metadata={
        "description": "each of the 16 sub-criteria: 0, 1, 3 or 5"})
    total = fields.Integer(required=True)
    level = fields.String(required=True, validate=validate.OneOf(rules.KOTAKU_LEVELS))


# an indicator's value as recorded (services/registration/schemas.IndicatorValuesSchema)
INDICATOR_VALUES = {
    "poverty_rate": lambda: decimal(metadata={"description": "% of poor households"}),
    "slum_area": lambda: fields.Nested(SlumAreaValueSchema, required=True),
    "bookkeeping_rating": lambda: fields.String(
        required=True, validate=validate.OneOf(rules.RATINGS)),
    "voter_turnout": lambda: decimal(metadata={"description": "% of adults voting"}),
    "fund_misuse_cases": lambda: fields.Integer(required=True),
    "pemda_priority": lambda: fields.Nested(PemdaPriorityValueSchema, required=True),
    "kotaku_slum_score": lambda: fields.Nested(KotakuValueSchema, required=True),
}
assert set(INDICATOR_VALUES) == set(rules.INDICATOR_UNITS)


def _evidence_schema(indicator):
    """The current evidence of one indicator on a village's record."""
    name = "".join(part.title() for part in indicator.split("_")) + "EvidenceSchema"
    return type(name, (Schema,), {
        "value": INDICATOR_VALUES[indicator](),
        "unit": fields.String(required=True, metadata={
            "example": rules.INDICATOR_UNITS[indicator]}),
        "source_document": fields.String(required=True),
        "observed_on": day(),
        "recorded_by": fields.String(required=True, metadata={"description": "the actor's id"}),
        "recorded_at": fields.String(required=True, metadata={"description": "ISO-8601, UTC"}),
        "event_id": fields.String(required=True, metadata={
            "description": "the IndicatorsRecorded event"})})


IndicatorsSchema = type("IndicatorsSchema", (Schema,), {
    indicator: fields.Nested(_evidence_schema(indicator))
    for indicator in INDICATOR_VALUES})


class BkmSummarySchema(Schema):
    name = fields.String(required=True)
    formed_on = day()
    member_count = fields.Integer(required=True)
    women_count = fields.Integer(required=True)
    women_percent = decimal()
    meets_women_quota = fields.Boolean(required=True, metadata={
        "description": "at least 30% of the members are women (flagged, not refused)"})


class RuleSetReferenceSchema(Schema):
    id = fields.String(required=True)
    version = fields.Integer(required=True)


class EligibilityCriterionResultSchema(Schema):
    """One criterion of the rule set applied to the village's evidence."""
    criterion = fields.String(required=True)
    result = fields.String(required=True, validate=validate.OneOf(["pass", "fail", "missing"]))
    value = one_of_types("string", "integer", "boolean", allow_none=True, metadata=VALUE)
    operator = fields.String(required=True, validate=validate.OneOf(rules.OPERATORS))
    threshold = one_of_types("string", "integer", "boolean")
    evidence = maybe(fields.String, metadata={
        "description": "the IndicatorsRecorded event read; null: none"})


class EligibilityDecisionSchema(Schema):
    status = fields.String(required=True, validate=DECIDED)
    rule_set = fields.Nested(RuleSetReferenceSchema, required=True)
    criteria = fields.List(fields.Nested(EligibilityCriterionResultSchema), required=True)
    score = decimal(metadata={"description": "priority score"})
    trigger = fields.String(required=True, validate=validate.OneOf(
        ["request", "evidence", "rule_set"]))
    event_id = fields.String(required=True)
    decided_at = fields.String(required=True, metadata={"description": "ISO-8601, UTC"})
    decided_by = fields.String(required=True, metadata={"description": "the actor's id"})


class OverrideRecordSchema(Schema):
    eligible = fields.Boolean(required=True)
    justification = fields.String(required=True)
    overrides = fields.String(required=True, metadata={
        "description": "the event id of the decision overridden (the override stands "
                       "while that decision is the latest)"})
    event_id = fields.String(required=True)
    by = fields.Nested(ActorSchema, required=True)
    at = fields.String(required=True, metadata={"description": "ISO-8601, UTC"})


class SelectedRecordSchema(Schema):
    rank = fields.Integer(required=True)
    quota = fields.Integer(required=True)
    round = fields.Integer(required=True)
    score = decimal()
    at = fields.String(required=True, metadata={"description": "ISO-8601, UTC"})
    event_id = fields.String(required=True)


class VillageSchema(Schema):
    """A village: identity, BKM, indicators with evidence, eligibility and reasons."""
    code = fields.String(required=True, metadata={"example": "52.01.08.2006"})
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["desa", "kelurahan"]))
    kecamatan = fields.Nested(NamedRegionSchema, required=True)
    kabupaten = fields.Nested(NamedRegionSchema, required=True)
    province = fields.Nested(NamedRegionSchema, required=True)
    status = fields.String(required=True, validate=STATUS)
    score = decimal(metadata={"description": "priority score"})
    indicators = fields.Nested(IndicatorsSchema, required=True, metadata={
        "description": "the current evidence of each indicator recorded"})
    bkm = maybe(fields.Nested, BkmSummarySchema, metadata={"description": "null: none yet"})
    decision = maybe(fields.Nested, EligibilityDecisionSchema, metadata={
        "description": "the latest eligibility decision; null: none yet"})
    override = maybe(fields.Nested, OverrideRecordSchema, metadata={
        "description": "the latest override; null: none"})
    selected = maybe(fields.Nested, SelectedRecordSchema, metadata={
        "description": "null: not selected"})
    registered_at = fields.String(required=True, metadata={"description": "ISO-8601, UTC"})


class RankedVillageSchema(VillageSummarySchema):
    rank = fields.Integer(required=True, metadata={"description": "from 1, best first"})
    selected = fields.Boolean(required=True)


class CriterionAnswerSchema(Schema):
    """A criterion of a published rule set (as reg.CriterionSchema took it)."""
    criterion = fields.String(required=True)
    indicator = fields.String(required=True, validate=validate.OneOf(
        list(rules.INDICATOR_UNITS)))
    field = fields.String(metadata={"description": "absent when the indicator is a single "
                                                   "value"})
    operator = fields.String(required=True, validate=validate.OneOf(rules.OPERATORS))
    threshold = one_of_types("string", "integer", "boolean")
    label = fields.String(required=True)


class RuleSetAnswerSchema(Schema):
    """A version of an eligibility rule set."""
    id = fields.String(required=True)
    version = fields.Integer(required=True)
    note = fields.String(required=True)
    criteria = fields.List(fields.Nested(CriterionAnswerSchema), required=True)


class QuotaAnswerSchema(Schema):
    kabupaten = fields.String(required=True, metadata={"example": "52.01"})
    quota = fields.Integer(required=True)
    selected = fields.Integer(required=True, metadata={"description": "selected so far"})


class HistoryEventSchema(Schema):
    """An event of the village's eligibility history; its `payload` by type below."""
    position = fields.Integer(required=True, metadata={"description": "in its stream"})
    recorded_at = fields.String(required=True, metadata={"description": "ISO-8601, UTC"})
    actor = fields.Nested(ActorSchema, required=True)
    event_id = fields.String(required=True)


# one schema per decision type (HistoryIndicatorsRecorded, ...), its `payload` the type's
# payload schema in registration's catalog: the one checked before the event was recorded
HISTORY_ENTRY = by_event_type(
    HistoryEventSchema, "HistoryEntry", "History{type}", views.DECISION_TYPES,
    "An event of the village's eligibility history: by its `type`, one of the schemas "
    "below, whose `payload` is that type's payload schema, exactly as recorded (never "
    "upcast).")
