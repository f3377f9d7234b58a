"""Input of the audit service, validated in one place; each error names its field."""
import re
from datetime import date, datetime, time, timezone

from marshmallow import Schema, ValidationError, fields, validates_schema

from shared.schemas import village_code  # noqa: F401 (the audit's checks, one place)
from shared.chassis.errors import InvalidInput, load
from shared.ledger.base import LEDGER_NAME_PATTERN
from shared.ledger import InvalidEvent
from shared.ledger.envelope import format_time
from shared.regions import is_region_prefix, is_village_code

from .references import UUID


def event_id(value, field="event_id") -> str:
    if not isinstance(value, str) or not UUID.fullmatch(value):
        raise InvalidInput("must be an event id (a lowercase UUID)", field)
    return value


def ledger_name(value, field="ledger") -> str:
    if not isinstance(value, str) or not re.fullmatch(LEDGER_NAME_PATTERN, value):
        raise InvalidInput(f"must be a ledger name ({LEDGER_NAME_PATTERN})", field)
    return value


def tree_size(value, field="tree_size", optional=True):
    if value is None and optional:
        return None
    if type(value) is not int or value < 0:
        raise InvalidInput("must be a whole number of records (0 or more)", field)
    return value


def position(value, field="position") -> int:
    if type(value) is not int or value < 1:
        raise InvalidInput("must be a record position (1 or more)", field)
    return value


def moment(value, field="as_of") -> str:
    """A moment as the ledger writes times. A date alone means the end of that day (UTC)."""
    try:
        return _moment(value)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field) from None


# The forms the cycle's as_of takes (services/cycle/schemas.py, Moment), so the audit and
# the cycle refuse alike: a date, or a time to the minute, second or microsecond with Z or
# +HH:MM, in the digits 0-9, written out in full (no week, ordinal or basic forms, no
# space for T) and nothing around it.
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                  r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?")
FORMS = "an ISO-8601 date (2026-03-01) or time with zone (2026-03-01T08:00:00+07:00)"


def _moment(value, day_end=time.max) -> str:
    """Taken exactly, never trimmed: a space or a line break around it is refused, as
    every other service refuses it (a village code, the cycle's as_of)."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"must be {FORMS}")
    if value.strip() != value:
        raise ValidationError(f"{value!r} has spaces or a line break around it: {FORMS} is "
                              "taken exactly, not trimmed")
    time_form = TIME.fullmatch(value)
    if time_form and not time_form["zone"]:
        raise ValidationError(f"{value!r} has no time zone: add Z or an offset like +07:00")
    if time_form:
        try:
            return _ledger_text(datetime.fromisoformat(value))
        except ValueError:   # 25:00, 2026-02-30T...
            raise ValidationError(f"{value!r} is not a valid ISO-8601 time") from None
    if not DAY.fullmatch(value):
        raise ValidationError(f"{value!r} is not {FORMS}")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{value!r} is not a calendar date") from None
    return _ledger_text(datetime.combine(day, day_end, tzinfo=timezone.utc))


def _ledger_text(moment):
    try:
        return format_time(moment)
    except InvalidEvent as exc:   # out of range once in UTC
        raise ValidationError(str(exc)) from None


class Moment(fields.String):
    """A moment; a date alone is the end of that day, or with starts=True its start (the
    first day of a period counts whole)."""

    def __init__(self, starts=False, **kwargs):
        super().__init__(**kwargs)
        self.day_end = time.min if starts else time.max

    def _deserialize(self, value, attr, data, **kwargs):
        return _moment(value, self.day_end)


class BundleScopeSchema(Schema):
    """One village, or a region (code prefix); optionally only events recorded in a period."""
    village = fields.String(load_default=None)
    region = fields.String(load_default=None)
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
    loaded = load(BundleScopeSchema(), data)
    scope = {"village": loaded["village"]} if loaded["village"] else {
        "region": loaded["region"]}
    if loaded["from_"]:
        scope["from"] = loaded["from_"]
    if loaded["to"]:
        scope["to"] = loaded["to"]
    return scope
