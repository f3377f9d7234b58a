"""Marshmallow schemas of the four documents' content: RPLP, RTPLP, Aturan Bersama and the
marketing strategy. Dates and years (in the window of dates.py) become ISO strings and
ints, decimals exact strings, money integer Rupiah: what the ledger records. Attachments
are referenced as {sha256, title}.
"""
import re
from decimal import Decimal, InvalidOperation
from operator import itemgetter

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.money import FUNDING_SOURCES, PARTNER_CATEGORIES, Rupiah
from shared.patterns import Pattern
from shared.schemas import Written

from .budget import SECTORS
from .dates import DateString, Year

PLAIN_DECIMAL = re.compile(r"[0-9]{1,15}(\.[0-9]{1,15})?")


def Text(max_length=2000, **options):
    """Text a person writes, taken as sent but never only spaces: a signature by "   "
    or a meeting held at "  " traces the record to nobody (shared.schemas.Written)."""
    return fields.String(validate=Written(max_length), **options)


def Items(schema, minimum=1, maximum=500, **options):
    return fields.List(fields.Nested(schema), validate=validate.Length(min=minimum, max=maximum),
                       **options)


class ExactDecimal(fields.String):
    """A positive decimal with at most `places` decimals, as its exact string: never
    rounded on the way in (a measured quantity is what the community wrote)."""

    def __init__(self, places=3, maximum=Decimal(10**7), **options):
        super().__init__(**options)
        self.places, self.maximum = places, maximum

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError("must be a decimal string such as \"12.5\" (no floats)")
        if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
            raise ValidationError("must be written as digits with an optional decimal point, "
                                  "such as \"12.5\" (no exponent, sign or spaces)")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValidationError("not a valid decimal number") from None
        if not number.is_finite() or number <= 0 or number > self.maximum:
            raise ValidationError(f"must be above 0 and at most {self.maximum}")
        if number.as_tuple().exponent < -self.places:
            raise ValidationError(f"at most {self.places} decimal places")
        return format(number.normalize(), "f")


class AttachmentRefSchema(Schema):
    sha256 = fields.String(required=True, validate=Pattern(
        r"^[0-9a-f]{64}$", error="must be the SHA-256 (64 lowercase hex digits) of an "
                                 "uploaded attachment"))
    title = Text(200, required=True)


# -- RPLP -----------------------------------------------------------------------------

class HorizonSchema(Schema):
    start_year = Year(required=True)
    end_year = Year(required=True)

    @validates_schema
    def five_years(self, data, **kwargs):
        if data["end_year"] != data["start_year"] + 4:
            raise ValidationError(f"an RPLP covers 5 years: {data['start_year']} to "
                                  f"{data['start_year'] + 4}", "end_year")


class CriticalIssueSchema(Schema):
    issue = Text(2000, required=True)
    sector = fields.String(required=True, validate=validate.OneOf(SECTORS))
    rpk_reference = Text(300, required=True, metadata={
        "description": "where the Refleksi Perkara Kritis raised it"})
    location = Text(300)


class SectorPlanSchema(Schema):
    sector = fields.String(required=True, validate=validate.OneOf(SECTORS))
    objective = Text(2000, required=True)
    programmes = fields.List(Text(1000), required=True, validate=validate.Length(min=1, max=100))
    indicative_budget = Rupiah()


class MapSchema(AttachmentRefSchema):
    theme = Text(200, required=True, metadata={"description": "e.g. existing conditions, "
                                                              "spatial plan, infrastructure"})


class RplpSchema(Schema):
    vision = Text(5000, required=True)
    horizon = fields.Nested(HorizonSchema, required=True)
    critical_issues = Items(CriticalIssueSchema, required=True)
    sector_plans = Items(SectorPlanSchema, required=True)
    maps = Items(MapSchema, required=True)
    environmental_social_plan = Text(20000)

    @validates_schema
    def one_plan_per_sector(self, data, **kwargs):
        unique(data.get("sector_plans", []), "sector_plans", itemgetter("sector"), "sector")


# -- RTPLP ----------------------------------------------------------------------------

class RtRwSchema(Schema):
    rt = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=999))
    rw = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=999))


class PriorityAreaSchema(Schema):
    name = Text(300, required=True)
    hectares = ExactDecimal(places=2, maximum=Decimal(100000), required=True)
    rt_rw = Items(RtRwSchema, required=True, maximum=200)
    map = fields.Nested(AttachmentRefSchema)

    @validates_schema
    def each_rt_rw_once(self, data, **kwargs):
        # RT numbers restart in every RW: RT 3 of RW 2 and RT 3 of RW 5 are two places
        unique(data["rt_rw"], "rt_rw", itemgetter("rt", "rw"),
               shown=lambda rt_rw: "RT {}/RW {}".format(*rt_rw))


class InvestmentItemSchema(Schema):
    item_id = fields.String(validate=validate.Length(min=1, max=120), metadata={
        "description": "leave out for a new item; keep it when revising an existing one"})
    sector = fields.String(required=True, validate=validate.OneOf(SECTORS))
    description = Text(1000, required=True)
    quantity = ExactDecimal(required=True)
    unit = Text(50, required=True)
    unit_cost = Rupiah(required=True)
    year = Year(required=True)
    funding_source = fields.String(required=True, validate=validate.OneOf(FUNDING_SOURCES))
    ded = Items(AttachmentRefSchema, minimum=0, maximum=50, load_default=list, metadata={
        "description": "Detailed Engineering Design drawings of this item"})
    location = Text(300)


class PhaseSchema(Schema):
    year = Year(required=True)
    description = Text(2000, required=True)


class RtplpSchema(Schema):
    priority_area = fields.Nested(PriorityAreaSchema, required=True)
    investment_items = Items(InvestmentItemSchema, required=True)
    phasing = Items(PhaseSchema, required=True, maximum=20)

    @validates_schema
    def items_fall_in_phases(self, data, **kwargs):
        unique(data.get("phasing", []), "phasing", itemgetter("year"), "year")
        years = {phase["year"] for phase in data.get("phasing", [])}
        for index, item in enumerate(data.get("investment_items", [])):
            if item["year"] not in years:
                raise ValidationError({"investment_items": {index: {"year": [
                    f"{item['year']} is not a year of the phasing scenario "
                    f"({', '.join(map(str, sorted(years)))})"]}}})


# -- Aturan Bersama -------------------------------------------------------------------

class RuleRowSchema(Schema):
    topic = Text(200, required=True)
    current_condition = Text(2000, required=True)
    ideal_condition = Text(2000, required=True)
    agreed_rule = Text(2000, required=True)
    enforced_by = Text(300, required=True)
    sanction = Text(1000, required=True)


class AturanBersamaSchema(Schema):
    rules = Items(RuleRowSchema, required=True, maximum=300)


# -- marketing strategy ---------------------------------------------------------------

class WorkPlanRowSchema(Schema):
    activity = Text(1000, required=True)
    starts_on = DateString(required=True)
    ends_on = DateString(required=True)
    responsible = Text(300, required=True)

    @validates_schema
    def ends_after_start(self, data, **kwargs):
        if data["ends_on"] < data["starts_on"]:
            raise ValidationError("must not be before starts_on", "ends_on")


class PartnerSchema(Schema):
    name = Text(300, required=True)
    category = fields.String(required=True, validate=validate.OneOf(PARTNER_CATEGORIES))
    interest = Text(1000)
    contact = Text(300)


class MarketingEventSchema(Schema):
    name = Text(300, required=True)
    planned_on = DateString(required=True)
    place = Text(300, required=True)
    audience = Text(1000, required=True)
    invited_partners = fields.List(Text(300), load_default=list)


class MarketingStrategySchema(Schema):
    strategy = Text(20000, required=True)
    work_plan = Items(WorkPlanRowSchema, required=True)
    potential_partners = Items(PartnerSchema, required=True)
    marketing_events = Items(MarketingEventSchema, required=True)


CONTENT = {"rplp": RplpSchema, "rtplp": RtplpSchema, "aturan_bersama": AturanBersamaSchema,
           "marketing_strategy": MarketingStrategySchema}


def unique(rows, where, key, field=None, shown=str):
    """Refuse a row whose key(row) an earlier row has (rows whose key is None are not
    compared), naming the later row's field and the earlier row."""
    seen = {}
    for index, row in enumerate(rows):
        value = key(row)
        if value is None:
            continue
        if value in seen:
            message = [f"{shown(value)} appears twice (also at {where}.{seen[value]})"]
            raise ValidationError({where: {index: {field: message} if field else message}})
        seen[value] = index
