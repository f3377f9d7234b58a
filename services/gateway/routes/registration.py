"""Villages, BKM, evidence, eligibility, rule sets, quotas, selection and ranking
(the registration service), validated with its own schemas."""
from marshmallow import Schema, ValidationError, fields, validate, validates

from services.registration import rules, views
from services.registration import schemas as reg
from shared.chassis.access import in_scope, scoped_prefix
from shared.chassis.errors import Forbidden
from shared.patterns import Pattern
from shared.regions import is_village_code
from shared.schemas import DecimalString

from ..routing import Reply, Route, body, from_body, from_path, paged, path, \
    path_and_body, rpc
from ..schemas import ActorSchema, NamedRegionSchema, PageQuerySchema, day, maybe, \
    one_of_types, page_of

TAG = "registration"
# 5,000 rows (ImportSchema's most) of every column are about 3.5 MB: within the body limit
IMPORT_BODY = 8 * 1024 * 1024


class VillagePath(Schema):
    code = reg.VillageCode(required=True, metadata={"description": "PP.KK.CC.DDDD",
                                                    "example": "52.01.08.2006"})


class RankingPath(Schema):
    region = fields.String(required=True, validate=Pattern(
        r"^[0-9]{2}(\.[0-9]{2})?$", error="must be a province (PP) or kabupaten/kota (PP.KK) code"),
        metadata={"example": "52.01"})


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


class ImportSchema(Schema):
    rows = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=5000),
                       metadata={"description": "objects with the columns of `plpbk import "
                                                "villages` (code, source_document, "
                                                "observed_on, poverty_rate, ...) and, "
                                                "optionally, their `line` number (a whole "
                                                "number from 1); each row "
                                                "is checked and reported on its own, an "
                                                "error naming the row by `row` (its index "
                                                "here, from 0) and `line`"})
    source = fields.String(load_default="http", validate=validate.Length(min=1, max=200))

    @validates("rows")
    def lines_are_numbers(self, rows, **kwargs):
        """A row's `line` comes back in the report: a whole number from 1, or null."""
        wrong = {number: {"line": ["must be a whole number from 1 (the row's line in the "
                                   "caller's file), or null"]}
                 for number, row in enumerate(rows)
                 if row.get("line") is not None and not (
                     type(row["line"]) is int and row["line"] >= 1)}
        if wrong:
            raise ValidationError(wrong)


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
    status = fields.String(required=True, validate=validate.OneOf(
        ["registered", "incomplete", "eligible", "ineligible", "selected"]))
    score = fields.String(required=True, metadata={"description": "priority score, a "
                                                                  "decimal string"})
    kabupaten = fields.String(required=True, metadata={"description": "its name"})
    province = fields.String(required=True, metadata={"description": "its name"})


# -- answers ------------------------------------------------------------------------------
# What services/registration answers (views.py, domain.py, rules.py), field by field; the
# gateway tests check live answers against them.

def decimal(**options):
    """A decimal string in an answer ("31.50")."""
    return DecimalString(places=2, required=True, **options)


STATUS = validate.OneOf(["registered", "incomplete", "eligible", "ineligible", "selected"])
DECIDED = validate.OneOf(["eligible", "ineligible", "incomplete"])
VALUE = {"description": "a decimal string, an integer, true/false or a rating/level; "
                        "null: no evidence"}


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


class ReadingSchema(Schema):
    indicator = fields.String(required=True, validate=validate.OneOf(
        list(rules.INDICATOR_UNITS)))
    value = fields.Raw(required=True, metadata={
        "description": "as in the village's `indicators` of that name", "anyOf": [
            {"type": "string"}, {"type": "integer"}, {"type": "object"}]})
    unit = fields.String(required=True)
    supersedes = maybe(fields.String, metadata={
        "description": "the event id of the reading it replaces; null: the first"})


class HistoryPayloadSchema(Schema):
    """The event's payload: `code` always, the other fields those of its `type`."""
    code = fields.String(required=True)
    source_document = fields.String(metadata={"description": "IndicatorsRecorded"})
    observed_on = fields.Date(metadata={"description": "IndicatorsRecorded"})
    readings = fields.List(fields.Nested(ReadingSchema),
                           metadata={"description": "IndicatorsRecorded"})
    correction_reason = fields.String(metadata={
        "description": "IndicatorsRecorded, when a correction"})
    status = fields.String(validate=DECIDED, metadata={"description": "EligibilityDecided"})
    eligible = fields.Boolean(metadata={
        "description": "EligibilityDecided, EligibilityOverridden"})
    rule_set = fields.Nested(RuleSetReferenceSchema,
                             metadata={"description": "EligibilityDecided"})
    criteria = fields.List(fields.Nested(EligibilityCriterionResultSchema),
                           metadata={"description": "EligibilityDecided"})
    score = DecimalString(places=2, metadata={
        "description": "EligibilityDecided, VillageSelected"})
    trigger = fields.String(validate=validate.OneOf(["request", "evidence", "rule_set"]),
                            metadata={"description": "EligibilityDecided"})
    justification = fields.String(metadata={"description": "EligibilityOverridden"})
    overrides = fields.String(metadata={
        "description": "EligibilityOverridden: the decision's event id"})
    original_status = fields.String(validate=DECIDED, metadata={
        "description": "EligibilityOverridden"})
    name = fields.String(metadata={"description": "VillageSelected"})
    kabupaten = fields.Nested(NamedRegionSchema, metadata={"description": "VillageSelected"})
    province = fields.Nested(NamedRegionSchema, metadata={"description": "VillageSelected"})
    rank = fields.Integer(metadata={"description": "VillageSelected"})
    quota = fields.Integer(metadata={"description": "VillageSelected"})
    selection_round = fields.Integer(metadata={"description": "VillageSelected"})


class HistoryEntrySchema(Schema):
    """An event of the village's eligibility history."""
    position = fields.Integer(required=True, metadata={"description": "in its stream"})
    type = fields.String(required=True, validate=validate.OneOf(list(views.DECISION_TYPES)))
    recorded_at = fields.String(required=True, metadata={"description": "ISO-8601, UTC"})
    actor = fields.Nested(ActorSchema, required=True)
    event_id = fields.String(required=True)
    payload = fields.Nested(HistoryPayloadSchema, required=True)


# -- scope ------------------------------------------------------------------------------

def _scoped_region(call, requested):
    """The region a listing may cover: the request narrowed to the principal's scope."""
    return scoped_prefix(call.principal, requested)


def only_in_scope(call, items):
    """Defence in depth: no item about a village outside the principal's region leaves
    the gateway, whatever a service answered."""
    region = call.principal.region
    return [item for item in items
            if not isinstance(item.get("code"), str) or item["code"].startswith(region)]


def scoped_listing(service, method):
    """An action for a paged region listing: the region narrowed to the principal's
    scope before the call, the items checked against it after."""
    def action(call):
        query = {**call.query_args, "region": _scoped_region(call, call.query["region"])}
        page = call.upstream.call(service, method, query)
        return {**page, "items": only_in_scope(call, page["items"])}
    action.rpc = f"{service}.{method}"
    return action


list_villages = scoped_listing("registration", "list_villages")


def ranking(call):
    requested = call.path["region"]
    _scoped_region(call, requested)   # a region outside the principal's: 403 here
    # sent as asked (a ranking is of a province or kabupaten/kota): the service narrows
    # it to a village or kecamatan scope itself, and the items are checked again below
    return paged(call, only_in_scope(call, call.upstream.call("registration", "ranking",
                                                              requested)))


ranking.rpc = "registration.ranking"


def import_rows(call):
    """Every row's village must be in the principal's region (403 for the whole import);
    a row whose code is not exactly a village code is the service's to report, by line."""
    for number, row in enumerate(call.loaded["rows"]):
        code = row.get("code")
        if is_village_code(code) and not in_scope(call.principal, code):
            raise Forbidden(f"{code} is outside your region "
                            f"{call.principal.region or '(national)'}", f"rows.{number}.code")
    return call.upstream.call("registration", "import_rows", call.loaded["rows"],
                              call.loaded["source"])


import_rows.rpc = "registration.import_rows"


def registered(call, village):
    return Reply(201, village, {"Location": f"/api/v1/villages/{village['code']}"})


ROUTES = [
    Route("GET", "/api/v1/villages", "list_villages", "Villages, filtered and paged", TAG,
          list_villages, query=reg.VillageQuerySchema,
          response=page_of(VillageSummarySchema, "VillagePage"),
          description="Within the caller's region (a wider `region` is narrowed to it)."),
    Route("POST", "/api/v1/villages", "register_village", "Register a village", TAG,
          rpc("registration", "register_village", body, keyed=True, present=registered),
          body=reg.RegisterVillageSchema, response=VillageSchema, status=201, location=True,
          scope=from_body("code"),
          description="Identity (name, kecamatan, kabupaten, province) comes from the "
                      "official Kemendagri list; optionally with the BKM."),
    Route("POST", "/api/v1/villages/imports", "import_villages",
          "Bulk import of villages with evidence", TAG, import_rows, body=ImportSchema,
          status=200, response=ImportReportSchema, max_body=IMPORT_BODY,
          description="Up to 5,000 rows, the body up to 8 MiB."),
    Route("GET", "/api/v1/villages/{code}", "get_village", "One village", TAG,
          rpc("registration", "get_village", path("code")), path_params=VillagePath,
          response=VillageSchema, scope=from_path("code")),
    Route("PUT", "/api/v1/villages/{code}/bkm", "record_bkm", "Record the village's BKM",
          TAG, rpc("registration", "record_bkm", path_and_body("code"), keyed=True),
          path_params=VillagePath, body=reg.BkmSchema, response=VillageSchema,
          scope=from_path("code")),
    Route("POST", "/api/v1/villages/{code}/indicators", "record_indicators",
          "Record indicator evidence (eligibility is decided again)", TAG,
          rpc("registration", "record_indicators", path_and_body("code"), keyed=True),
          path_params=VillagePath, body=reg.RecordIndicatorsSchema, response=VillageSchema,
          scope=from_path("code")),
    Route("POST", "/api/v1/villages/{code}/eligibility/decisions", "evaluate_eligibility",
          "Decide eligibility now on the current evidence and rule set", TAG,
          rpc("registration", "evaluate", path("code")), path_params=VillagePath,
          response=VillageSchema, scope=from_path("code")),
    Route("POST", "/api/v1/villages/{code}/eligibility/overrides", "override_eligibility",
          "Override the eligibility decision (ministry, with a justification)", TAG,
          rpc("registration", "override_eligibility", path_and_body("code"), keyed=True),
          path_params=VillagePath, body=reg.OverrideSchema, response=VillageSchema,
          scope=from_path("code")),
    Route("GET", "/api/v1/villages/{code}/eligibility/history", "eligibility_history",
          "Evidence, decisions, overrides and selection of a village, paged", TAG,
          rpc("registration", "eligibility_history", path("code"), present=paged),
          path_params=VillagePath, query=PageQuerySchema,
          response=page_of(HistoryEntrySchema, "EligibilityHistoryPage"),
          scope=from_path("code")),
    Route("GET", "/api/v1/eligibility/rule-set", "active_rule_set",
          "The active eligibility rule set", TAG, rpc("registration", "rule_set"),
          response=RuleSetAnswerSchema),
    Route("POST", "/api/v1/eligibility/rule-sets", "publish_rule_set",
          "Publish a new version of a rule set (ministry)", TAG,
          rpc("registration", "publish_rule_set", body, keyed=True), body=reg.RuleSetSchema,
          response=RuleSetAnswerSchema, status=201),
    Route("POST", "/api/v1/quotas", "set_quota",
          "Set the quota of selected villages of a kabupaten/kota (ministry)", TAG,
          rpc("registration", "set_quota", body, keyed=True), body=reg.QuotaSchema,
          response=QuotaAnswerSchema, scope=from_body("kabupaten")),
    Route("POST", "/api/v1/selections", "select_villages",
          "Select the best-ranked eligible villages under the quotas (ministry)", TAG,
          rpc("registration", "select_villages", lambda call: (call.loaded["kabupaten"],),
              keyed=True),
          body=reg.SelectionSchema, response=SelectionResultSchema, scope=from_body("kabupaten")),
    Route("GET", "/api/v1/rankings/{region}", "ranking",
          "Eligible villages of a province or kabupaten/kota by priority, paged", TAG,
          ranking, path_params=RankingPath, query=PageQuerySchema,
          response=page_of(RankedVillageSchema, "RankingPage")),
]
