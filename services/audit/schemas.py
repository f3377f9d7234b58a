"""Input of the audit service, validated in one place; each error names its field."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared import moments
from shared import schemas as common  # its clock, looked up at each call (tests move it)
from shared.schemas import parameter
from shared.schemas import village_code  # noqa: F401 (the audit's checks, one place)
from shared.chassis.errors import InvalidInput, load
from shared.ledger.base import LEDGER_NAME_PATTERN
from shared.ledger.envelope import format_time
from shared.patterns import Pattern
from shared.regions import is_region_prefix, is_village_code

from .references import UUID


# The fields of RPC parameters outside a body (the gateway's path, the CLI's arguments),
# checked with shared.schemas.parameter. Each says what the parameter must be for any
# wrong value (other text, a number, null).
IS_EVENT_ID = "must be an event id (a lowercase UUID)"
# marshmallow formats its messages: the pattern's braces doubled stay braces
IS_LEDGER = "must be a ledger name ({})".format(
    LEDGER_NAME_PATTERN.replace("{", "{{").replace("}", "}}"))
IS_RECORDS = "must be a whole number of records (0 or more)"
IS_POSITION = "must be a record position (1 or more)"


def _saying(message):
    return {"invalid": message, "null": message}


EVENT_ID = fields.String(validate=Pattern(UUID.pattern, error=IS_EVENT_ID),
                         error_messages=_saying(IS_EVENT_ID))
LEDGER = fields.String(validate=Pattern(LEDGER_NAME_PATTERN, error=IS_LEDGER),
                       error_messages=_saying(IS_LEDGER))
TREE_SIZE = fields.Integer(strict=True, validate=validate.Range(min=0, error=IS_RECORDS),
                           error_messages=_saying(IS_RECORDS))
POSITION = fields.Integer(strict=True, validate=validate.Range(min=1, error=IS_POSITION),
                          error_messages=_saying(IS_POSITION))


def event_id(value, field="event_id") -> str:
    return parameter(value, EVENT_ID, field)


def ledger_name(value, field="ledger") -> str:
    return parameter(value, LEDGER, field)


def tree_size(value, field="tree_size", optional=True):
    if value is None and optional:
        return None
    return parameter(value, TREE_SIZE, field)


def position(value, field="position") -> int:
    return parameter(value, POSITION, field)


def moment(value, field="as_of") -> str:
    """A moment as the ledger writes times. A date alone means the end of that day (UTC)."""
    try:
        return _moment(value)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field) from None


def _moment(value, starts=False) -> str:
    """Read by shared.moments, the one reading the cycle's as_of also has: the same forms
    taken exactly (never trimmed), refused with the same words, the same instant. Of the
    past, as the cycle's as_of: what is recorded up to a later moment can still change,
    so an answer about it now would not be the answer then."""
    return format_time(moments.instant(common.past_moment(value), starts))


class Moment(fields.String):
    """A moment; a date alone is the end of that day, or with starts=True its start (the
    first day of a period counts whole)."""

    def __init__(self, starts=False, **kwargs):
        super().__init__(**kwargs)
        self.starts = starts

    def _deserialize(self, value, attr, data, **kwargs):
        return _moment(value, self.starts)


class BundleScopeSchema(Schema):
    """One village, or a region (code prefix); optionally only events recorded in a period."""
    village = fields.String(load_default=None, metadata={
        "description": "a village code PP.KK.CC.DDDD; give it or region, not both"})
    region = fields.String(load_default=None, metadata={
        "description": "a region code prefix PP, PP.KK or PP.KK.CC; give it or village, "
                       "not both"})
    from_ = Moment(starts=True, load_default=None, data_key="from")
    to = Moment(load_default=None)

    @validates_schema
    def one_scope(self, data, **kwargs):
        village, region = data.get("village"), data.get("region")
        if (village is None) == (region is None):
            raise ValidationError("give either a village code or a region prefix", "village")
        if village is not None and not is_village_code(village):
            raise ValidationError("must be a Kemendagri village code PP.KK.CC.DDDD", "village")
        if region is not None and not (region and is_region_prefix(region)):
            raise ValidationError("must be a region code prefix: PP, PP.KK, PP.KK.CC or a "
                                  "village code", "region")
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("the period ends before it starts", "to")


def bundle_scope(data) -> dict:
    """{"village"|"region": ..., "from": ..., "to": ...} with only the given members."""
    if not isinstance(data, dict):  # load() would name the request body, not the argument
        raise InvalidInput('must be an object: {"village": code} or {"region": prefix}, '
                           'optionally with "from" and "to"', "scope")
    loaded = load(BundleScopeSchema(), data)
    scope = {"village": loaded["village"]} if loaded["village"] else {
        "region": loaded["region"]}
    if loaded["from_"]:
        scope["from"] = loaded["from_"]
    if loaded["to"]:
        scope["to"] = loaded["to"]
    return scope
