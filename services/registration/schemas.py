"""Marshmallow schemas: the one place registration input is validated.

The gateway reuses them for HTTP bodies and the OpenAPI document; the CSV import
validates each row with ImportRowSchema and turns it into the same commands.
"""

from marshmallow import (Schema, ValidationError, fields, post_load, pre_load, validate,
                         validates, validates_schema)

from shared.chassis.payloads import EventCatalog
from shared.payload_fields import (DecimalText, Day, Flag, MemberPayload, Number, OneOf, Percent,
                                   RegionPayload, Text)
from shared.patterns import KABUPATEN_CODE, Pattern, whole_number
from shared.schemas import (DecimalString, MemberSchema, PagingSchema, Percentage, RegionPrefix,
                            VillageCode, Written, not_in_future)

from . import rules



def day(**kwargs):
    """A date as the API and the import take it, YYYY-MM-DD, saying so when refused
    (marshmallow says "Not a valid date."; Excel writes 30/06/2024 or 6/30/2024, whose
    day and month are not guessed)."""
    return fields.Date(validate=not_in_future, error_messages={
        "invalid": "must be a date written YYYY-MM-DD, such as 2024-06-30"}, **kwargs)
MISUSE_CASES = validate.Range(min=0, max=10000)  # both the form and the import


class BkmSchema(Schema):
    name = fields.String(required=True, validate=Written(200))
    formed_on = day(required=True)
    members = fields.List(fields.Nested(MemberSchema), required=True,
                          validate=validate.Length(min=1, max=200))

    @post_load
    def as_event_values(self, data, **kwargs):
        return {**data, "formed_on": data["formed_on"].isoformat()}


class RegisterVillageSchema(Schema):
    code = VillageCode(required=True)
    bkm = fields.Nested(BkmSchema, load_default=None)


class SlumAreaSchema(Schema):
    present = fields.Boolean(required=True)
    hectares = DecimalString(places=2, load_default="0.00",
                              validate=validate.Range(min=0, max=100000))


class PemdaPrioritySchema(Schema):
    prioritised = fields.Boolean(required=True)
    decree_reference = fields.String(load_default=None, validate=Written(300))

    @validates_schema
    def decree_when_prioritised(self, data, **kwargs):
        if data["prioritised"] and not data.get("decree_reference"):
            raise ValidationError("a Pemda priority needs its decree reference",
                                  "decree_reference")


KotakuScores = type("KotakuScores", (Schema,), {
    name: fields.Integer(required=True, strict=True, validate=validate.OneOf(rules.KOTAKU_SCORES))
    for name in rules.KOTAKU_SUBCRITERIA})


class KotakuSchema(Schema):
    scores = fields.Nested(KotakuScores, required=True)

    @post_load
    def with_total_and_level(self, data, **kwargs):
        total = sum(data["scores"].values())
        return {"scores": data["scores"], "total": total, "level": rules.kotaku_level(total)}


class Rating(fields.String):
    """A BKM bookkeeping rating as the guides write it ("Tidak memadai") or as stored
    (tidak_memadai): case, spaces and hyphens do not matter."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.OneOf(rules.RATINGS), metadata={
            "description": "tidak_memadai, memadai or baik"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return "_".join(text.strip().lower().replace("-", " ").split())


class IndicatorValuesSchema(Schema):
    poverty_rate = Percentage(metadata={"description": "% of poor households"})
    slum_area = fields.Nested(SlumAreaSchema)
    bookkeeping_rating = Rating()
    voter_turnout = Percentage(
                                   metadata={"description": "% of adults voting for the BKM"})
    fund_misuse_cases = fields.Integer(strict=True, validate=MISUSE_CASES)
    pemda_priority = fields.Nested(PemdaPrioritySchema)
    kotaku_slum_score = fields.Nested(KotakuSchema)


class RecordIndicatorsSchema(Schema):
    indicators = fields.Nested(IndicatorValuesSchema, required=True, metadata={
        "description": "at least one indicator", "minProperties": 1})
    source_document = fields.String(required=True, validate=Written(300))
    observed_on = day(required=True)
    correction_reason = fields.String(load_default=None, validate=Written(1000))

    @validates("indicators")
    def at_least_one(self, value, **kwargs):
        if not value:
            raise ValidationError("at least one indicator is needed")

    @post_load
    def as_readings(self, data, **kwargs):
        return {"readings": [{"indicator": name, "value": value}
                             for name, value in sorted(data["indicators"].items())],
                "source_document": data["source_document"],
                "observed_on": data["observed_on"].isoformat(),
                "correction_reason": data["correction_reason"]}


class OverrideSchema(Schema):
    eligible = fields.Boolean(required=True)
    justification = fields.String(required=True, validate=Written(5000, at_least=20))


class QuotaSchema(Schema):
    kabupaten = fields.String(required=True, validate=KABUPATEN_CODE)
    quota = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10000))
    decree_reference = fields.String(required=True, validate=Written(300))


class SelectionSchema(Schema):
    """select_villages' one argument, as an RPC caller sends it (the gateway checks its
    body the same way)."""
    kabupaten = fields.String(load_default=None, validate=KABUPATEN_CODE, error_messages={
        "invalid": "must be a kabupaten/kota code PP.KK"}, metadata={
        "description": "one kabupaten/kota; absent: every one with a quota in your region"})


IS_RANKED_REGION = "must be a province (PP) or kabupaten/kota (PP.KK) code"
# ranking's one argument (the gateway's path), checked with shared.schemas.parameter;
# whatever is wrong (other text, a number, null), it says what a ranking is of
RANKED_REGION = fields.String(
    validate=Pattern(r"^[0-9]{2}(\.[0-9]{2})?$", error=IS_RANKED_REGION),
    error_messages={"invalid": IS_RANKED_REGION, "null": IS_RANKED_REGION})


class CriterionSchema(Schema):
    criterion = fields.String(required=True, validate=Pattern(r"^[a-z][a-z0-9_]{1,60}$"))
    indicator = fields.String(required=True, validate=validate.OneOf(list(rules.INDICATOR_UNITS)))
    field = fields.String(load_default=None, metadata={
        "description": "the field read of an indicator recorded as an object: slum_area "
                       "present/hectares, pemda_priority prioritised, kotaku_slum_score "
                       "total/level"})
    operator = fields.String(required=True, validate=validate.OneOf(rules.OPERATORS))
    threshold = fields.Raw(required=True, validate=lambda v: _threshold(v),
                           metadata={"description": "a number as a string (\"25\"), an "
                                                    "integer, true/false, or a rating",
                                     "oneOf": [{"type": "string"}, {"type": "integer"},
                                               {"type": "boolean"}]})
    label = fields.String(load_default="", validate=validate.Length(max=300))

    @post_load
    def drop_empty(self, data, **kwargs):
        return {k: v for k, v in data.items() if v is not None}


class RuleSetSchema(Schema):
    id = fields.String(required=True, validate=Pattern(r"^[a-z][a-z0-9-]{1,60}$"))
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    criteria = fields.List(fields.Nested(CriterionSchema), required=True,
                           validate=validate.Length(min=1))


class VillageQuerySchema(PagingSchema):
    region = RegionPrefix()
    name = fields.String(load_default=None, validate=Written(max=100), metadata={
        "description": "villages whose name starts with this text (case, accents and "
                       "extra spaces aside)"})
    status = fields.String(load_default=None, validate=validate.OneOf(
        ["registered", "incomplete", "eligible", "ineligible", "selected"]))


def _threshold(value):
    if isinstance(value, float):
        raise ValidationError("send decimal thresholds as strings (\"25.5\"), not floats")
    if not isinstance(value, (str, int, bool)):
        raise ValidationError("must be a string, an integer or true/false")


YES = {"ya", "yes", "y", "true", "1"}
NO = {"tidak", "no", "n", "false", "0"}


class YesNo(fields.Boolean):
    """ya/tidak, yes/no, in any case (spreadsheets write "Ya")."""
    truthy, falsy = YES, NO
    # the column's own words, not marshmallow's "Not a valid boolean."
    default_error_messages = {"invalid": "must be ya or tidak (or yes/no, true/false, 1/0)"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().lower()
        elif type(value) is int and value in (0, 1):   # a JSON row's 1/0 (never 1.0)
            value = bool(value)
        if isinstance(value, bool):                     # a JSON row's true/false
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class WholeNumber(fields.Integer):
    """Every whole-number column of an import row (a count, a KOTAKU score): a spreadsheet
    cell ("3") or a JSON number (3).

    A cell is the digits 0-9 only, taken exactly (shared.patterns.whole_number): int()
    would read "٣" (Arabic-Indic), "３" (full-width), "+3" and " 3" as 3 and "1_0" as 10.
    A number is whole: never 1.5 cut down to 1.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = whole_number(value)
        elif isinstance(value, float) and not value.is_integer():
            raise ValidationError("must be a whole number")
        return super()._deserialize(value, attr, data, **kwargs)


# Optional KOTAKU columns of an import row, one per sub-criterion: all 16 or none.
KOTAKU_COLUMNS = [f"kotaku_{name}" for name in rules.KOTAKU_SUBCRITERIA]
KotakuColumns = type("KotakuColumns", (Schema,), {
    column: WholeNumber(load_default=None, validate=validate.OneOf(rules.KOTAKU_SCORES))
    for column in KOTAKU_COLUMNS})


class ImportRowSchema(KotakuColumns):
    """One CSV row of `plpbk import villages`: a village and its evidence."""
    code = VillageCode(required=True)
    source_document = fields.String(required=True, validate=Written(300))
    observed_on = day(required=True)
    poverty_rate = Percentage(load_default=None)
    slum_area = YesNo(load_default=None)
    slum_hectares = DecimalString(places=2, load_default=None,
                                   validate=validate.Range(min=0, max=100000))
    bookkeeping_rating = Rating(load_default=None)
    voter_turnout = Percentage(load_default=None)
    fund_misuse_cases = WholeNumber(load_default=None, validate=MISUSE_CASES)
    pemda_priority = YesNo(load_default=None)
    pemda_decree = fields.String(load_default=None, validate=Written(300))

    @pre_load
    def blank_is_missing(self, data, **kwargs):
        return {k: v for k, v in data.items() if v not in ("", None)} \
            if isinstance(data, dict) else data

    @validates_schema
    def consistent(self, data, **kwargs):
        if data.get("pemda_priority") and not data.get("pemda_decree"):
            raise ValidationError("a Pemda priority needs its decree reference", "pemda_decree")
        # a cell read only with its ya/tidak column would be dropped without it
        for cell, column in (("slum_hectares", "slum_area"), ("pemda_decree", "pemda_priority")):
            if data.get(cell) is not None and data.get(column) is None:
                raise ValidationError(f"needs {column} (ya/tidak) in the same row", cell)
        given = [c for c in KOTAKU_COLUMNS if data.get(c) is not None]
        if given and len(given) < len(KOTAKU_COLUMNS):
            missing = [c for c in KOTAKU_COLUMNS if data.get(c) is None]
            raise ValidationError(f"a KOTAKU score needs all 16 sub-criteria; missing "
                                  f"{', '.join(missing)}", missing[0])

    @post_load
    def as_readings(self, data, **kwargs):
        values = {"poverty_rate": data["poverty_rate"], "voter_turnout": data["voter_turnout"],
                  "bookkeeping_rating": data["bookkeeping_rating"],
                  "fund_misuse_cases": data["fund_misuse_cases"]}
        if data["slum_area"] is not None:
            values["slum_area"] = {"present": data["slum_area"],
                                   "hectares": data["slum_hectares"] or "0.00"}
        if data["pemda_priority"] is not None:
            values["pemda_priority"] = {"prioritised": data["pemda_priority"],
                                        "decree_reference": data["pemda_decree"]}
        if data[KOTAKU_COLUMNS[0]] is not None:
            values["kotaku_slum_score"] = KotakuSchema().load({"scores": {
                name: data[f"kotaku_{name}"] for name in rules.KOTAKU_SUBCRITERIA}})
        return {"code": data["code"], "source_document": data["source_document"],
                "observed_on": data["observed_on"].isoformat(),
                "readings": [{"indicator": k, "value": v} for k, v in sorted(values.items())
                             if v is not None]}


IMPORT_COLUMNS = [c for c in ImportRowSchema().fields if c not in KOTAKU_COLUMNS] + \
    KOTAKU_COLUMNS


# -- event payloads -----------------------------------------------------------------------
# What each event type of the registration ledger carries, exactly as domain.py builds it
# (shared/chassis/payloads.py: checked before recording, never transformed). They describe
# every record ever made at schema_version 1, so they check types and the values the
# domain chooses from, not the rules an input meets today: a name of only spaces, a loose
# threshold or a member's blank role was taken by earlier versions and stays recorded.
# Their flags, days, decimals, regions and members are shared/payload_fields.py's.

class VillageRegisteredPayload(Schema):
    """The village's record in the official list (shared.regions.village), copied whole."""
    code = VillageCode(required=True)
    name = Text()
    kind = Text(metadata={
        "description": "kelurahan or desa (desa adat recorded as desa); another kind the "
                       "official list may name is recorded as it names it"})
    kecamatan = fields.Nested(RegionPayload, required=True)
    kabupaten = fields.Nested(RegionPayload, required=True)
    province = fields.Nested(RegionPayload, required=True)


class BkmRecordedPayload(Schema):
    """The village's BKM with its members, and the women's share the PNPM quota asks."""
    code = VillageCode(required=True)
    name = Text()
    formed_on = Day()
    members = fields.List(fields.Nested(MemberPayload), required=True)
    member_count = Number(metadata={"description": "how many members"})
    women_count = Number(metadata={"description": "members of sex P"})
    women_percent = Percent(metadata={
        "description": "women's % of the members, two decimals (\"0\" with no members)"})
    meets_women_quota = Flag(required=True, metadata={
        "description": "women_percent is at least 30 (flagged, never refused)"})


class ReadingPayload(Schema):
    indicator = OneOf(list(rules.INDICATOR_UNITS))
    value = fields.Raw(required=True, metadata={
        "description": "in its indicator's form: poverty_rate and voter_turnout a "
                       "percentage string; bookkeeping_rating a rating; fund_misuse_cases "
                       "an integer; slum_area {present, hectares}; pemda_priority "
                       "{prioritised, decree_reference}; kotaku_slum_score {scores, total, "
                       "level}. Not checked per "
                       "indicator: a oneOf of seven forms cost ~100 us an evidence event on "
                       "the import's hot path (shared/chassis/payloads.py)"})
    unit = OneOf(sorted(set(rules.INDICATOR_UNITS.values())))
    supersedes = Text(allow_none=True, metadata={
        "description": "event id of the IndicatorsRecorded whose reading of this indicator "
                       "this one replaces; null for the village's first"})


class IndicatorsRecordedPayload(Schema):
    """Evidence of one document and day; a decision follows when it changes the village's."""
    code = VillageCode(required=True)
    source_document = Text()
    observed_on = Day()
    readings = fields.List(fields.Nested(ReadingPayload), required=True)
    correction_reason = fields.String(metadata={
        "description": "why earlier evidence is corrected; absent when none was given"})


class RuleSetReference(Schema):
    """The rule set version that decided (its RuleSetPublished on ruleset-<id>)."""
    id = Text()
    version = Number()


FREE_VALUE = ("free-form: its kind is that of the value the criterion reads (a number as "
              "a string or an integer, true/false, a rating or a KOTAKU level); the first "
              "version (2026-11-28) took any JSON value")


class CriterionResultPayload(Schema):
    """One criterion of the rule set, judged on the village's current evidence."""
    criterion = Text()
    result = OneOf(["pass", "fail", "missing"])
    value = fields.Raw(required=True, allow_none=True, metadata={
        "description": "what the criterion read of the evidence (null: missing), as "
                       "recorded in the reading"})
    operator = OneOf(rules.OPERATORS)
    threshold = fields.Raw(required=True, metadata={"description": FREE_VALUE})
    evidence = Text(allow_none=True, metadata={
        "description": "event id of the IndicatorsRecorded read; null when missing"})


STATUSES = ["eligible", "ineligible", "incomplete"]


class EligibilityDecidedPayload(Schema):
    code = VillageCode(required=True)
    status = OneOf(STATUSES)
    eligible = Flag(required=True)
    rule_set = fields.Nested(RuleSetReference, required=True)
    criteria = fields.List(fields.Nested(CriterionResultPayload), required=True)
    score = DecimalText(required=True, places=2, metadata={
        "description": "the priority score, 0 to 100, two decimals"})
    trigger = OneOf(["request", "evidence", "rule_set"], metadata={
        "description": "what decided again: a request, new evidence or a rule set version "
                       "published"})


class EligibilityOverriddenPayload(Schema):
    code = VillageCode(required=True)
    eligible = Flag(required=True)
    justification = Text()
    overrides = Text(metadata={
        "description": "event id of the EligibilityDecided it overrides"})
    original_status = OneOf(STATUSES, metadata={"description": "that decision's status"})


class VillageSelectedPayload(Schema):
    code = VillageCode(required=True)
    name = Text()
    kabupaten = fields.Nested(RegionPayload, required=True)
    province = fields.Nested(RegionPayload, required=True)
    rank = Number(metadata={"description": "place in the kabupaten's ranking"})
    quota = Number(metadata={"description": "the kabupaten's quota then"})
    score = DecimalText(required=True, places=2, metadata={
        "description": "the priority score it was ranked by"})
    selection_round = Number(metadata={
        "description": "the round of the kabupaten's quota stream that chose it"})


class QuotaSetPayload(Schema):
    kabupaten = fields.Nested(RegionPayload, required=True)
    quota = Number()
    decree_reference = Text()


class ChosenPayload(Schema):
    """A village the round chose, with its rank in the whole kabupaten ranking."""
    code = VillageCode(required=True)
    rank = Number()
    score = DecimalText(required=True, places=2)


class SelectionRoundRecordedPayload(Schema):
    kabupaten = fields.Nested(RegionPayload, required=True)
    round = Number(metadata={"description": "1 for the first round, then 2, ..."})
    quota = Number()
    selected = fields.List(fields.Nested(ChosenPayload), required=True)


class CriterionPayload(Schema):
    criterion = Text()
    indicator = OneOf(list(rules.INDICATOR_UNITS))
    field = fields.String(metadata={"description": "absent when the indicator is read whole"})
    operator = OneOf(rules.OPERATORS)
    threshold = fields.Raw(required=True, metadata={"description": FREE_VALUE})
    label = Text(metadata={"description": "\"\" when none"})


class RuleSetPublishedPayload(Schema):
    """A rule set version as published (its id, note and criteria as sent, the version
    assigned by the ledger's order)."""
    id = Text()
    version = Number(metadata={"description": "1, then one more per publication"})
    note = Text(metadata={"description": "\"\" when none"})
    criteria = fields.List(fields.Nested(CriterionPayload), required=True)


VILLAGE_EVENTS = EventCatalog({
    "VillageRegistered": VillageRegisteredPayload, "BkmRecorded": BkmRecordedPayload,
    "IndicatorsRecorded": IndicatorsRecordedPayload,
    "EligibilityDecided": EligibilityDecidedPayload,
    "EligibilityOverridden": EligibilityOverriddenPayload,
    "VillageSelected": VillageSelectedPayload})
QUOTA_EVENTS = EventCatalog({"QuotaSet": QuotaSetPayload,
                             "SelectionRoundRecorded": SelectionRoundRecordedPayload})
RULE_SET_EVENTS = EventCatalog({"RuleSetPublished": RuleSetPublishedPayload})
EVENTS = VILLAGE_EVENTS | QUOTA_EVENTS | RULE_SET_EVENTS
