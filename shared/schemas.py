"""Input pieces every service validates the same way (marshmallow), and the checks of
RPC parameters that are not in a body. One definition each, so a village code, a region
prefix or an attendance count means the same thing in every service and in OpenAPI."""
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, missing, validate, validates_schema

from . import moments
from .chassis.errors import InvalidInput, NotFound, load
from .patterns import PLAIN_DECIMAL
from .regions import is_region_prefix, is_village_code, village


# Indonesia spans three zones: WIB (UTC+7), WITA (UTC+8) and WIT (UTC+9: Maluku, Papua).
# A new day starts first in WIT, so its date is the latest calendar date anywhere in the
# country.
WIT = timezone(timedelta(hours=9), "WIT")


def utc_now() -> datetime:
    """The clock every date check reads (tests replace it, never sleep)."""
    return datetime.now(UTC)


def indonesia_today(now: datetime | None = None) -> date:
    """Today for anything that happens in Indonesia: the latest calendar date anywhere in
    the country, which is the date in UTC+9 (WIT).

    Not the server's date (date.today(), usually UTC): at 08:00 WIT on 30 November it is
    still 29 November in UTC, and a meeting held that morning in Jayapura would be refused
    as in the future. A date up to this one may be from somewhere in the country. `now`
    (an aware datetime) judges on that moment instead of the clock.
    """
    now = utc_now() if now is None else now
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now needs its time zone: a naive time would be read in the "
                         "server's zone")
    return now.astimezone(WIT).date()


def not_in_future(value, now: datetime | None = None):
    """For dates (or ISO date strings) of things that already happened: not after
    indonesia_today() (the date in UTC+9), so a day that has begun anywhere in Indonesia
    is not in the future."""
    if (value.isoformat() if isinstance(value, date) else value) > \
            indonesia_today(now).isoformat():
        raise ValidationError("must not be in the future")


def past_moment(value, now: datetime | None = None) -> date | datetime:
    """A moment as shared.moments reads it, of the past: a time not after now, a date not
    after indonesia_today() (decision 0012). What is recorded up to a later moment can
    still change, so an answer about it now would not be the answer then."""
    read = moments.read(value)
    now = utc_now() if now is None else now
    if isinstance(read, datetime) and read > now:
        raise ValidationError("must not be in the future")
    if not isinstance(read, datetime):
        not_in_future(read, now)
    return read


class Written(validate.Length):
    """The length of text a person writes (a name, a reference, a justification), whose
    minimum counts the characters besides spaces and line breaks. The text is kept as
    sent (decision 0013); only text that is blank, or too short once spaces are set
    aside, is refused: "   " names nobody, and 20 spaces justify nothing. A Length, so
    OpenAPI shows its minLength and maxLength."""

    def __init__(self, max, at_least=1):
        super().__init__(min=at_least, max=max)

    def __call__(self, value):
        super().__call__(value)
        if len(value.strip()) < self.min:
            raise ValidationError("must not be only spaces" if self.min == 1 else
                                  f"write at least {self.min} characters (spaces aside)")
        return value


def region_prefix(value):
    if not is_region_prefix(value):
        raise ValidationError("must be a region code prefix such as 52 or 52.01")


def RegionPrefix(**options):
    """A region filter: "" (national), a province, kabupaten/kota, kecamatan or village."""
    return fields.String(load_default="", validate=region_prefix, **options)


class VillageCode(fields.String):
    """Exactly a village code: one with a space or a line break around it is refused, not
    trimmed (a stray character in a cell or a URL is bad input, not a code)."""

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs)
        if not is_village_code(code):
            raise ValidationError("must be a Kemendagri village code PP.KK.CC.DDDD")
        return code


class DecimalString(fields.Decimal):
    """A decimal number in, its exact string out ("25.50"): the ledger admits no floats.

    More decimal places than `places` are refused, never rounded: 24.995 rounded would
    pass a >= 25 threshold. As text (a CSV cell, a JSON string) it is written plainly:
    digits 0-9, an optional minus and decimal point (Decimal() alone would read "٣١.٥",
    " 31.5" and "3_1.5" as numbers, and "1e1" as 10).
    """

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
            raise ValidationError('must be written with the digits 0-9, an optional minus and '
                                  'decimal point, such as "25.5" (no spaces, exponent, '
                                  "separators or other scripts' digits)")
        try:
            exact = Decimal(str(value)) if not isinstance(value, bool) else None
        except InvalidOperation:
            exact = None  # not a number: the field's own check names it
        if exact is not None and exact.is_finite() and self.places is not None and \
                exact.as_tuple().exponent < self.places.as_tuple().exponent:
            raise ValidationError(f"at most {-self.places.as_tuple().exponent} decimal places")
        return super()._deserialize(value, attr, data, **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        result = super().deserialize(value, attr, data, **kwargs)  # validated as a Decimal
        if result is None or result is missing:
            return result
        exact = Decimal(result)   # a Decimal, or its text where as_string is set
        return str(exact.copy_abs() if exact.is_zero() else exact)  # no "-0.00"


def Percentage(**options):
    """A percentage from 0 to 100 with at most two decimals, as its exact string
    (registration's indicators; construction's physical and financial progress next)."""
    return DecimalString(places=2, validate=validate.Range(min=0, max=100), **options)


class PagingSchema(Schema):
    """page and page_size of every paged list (the bound keeps page * size an ordinary
    integer: a 20-digit page must be a 400, not an overflow further down)."""
    # strict: a number, never text ('٢' or ' 2' read by int()); the gateway types its query
    page = fields.Integer(load_default=1, strict=True,
                          validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=50, strict=True,
                               validate=validate.Range(min=1, max=500))


class AttendanceCounts(Schema):
    """Who came to a meeting or activity, as the programme's forms count it (as recorded;
    AttendanceSchema adds the input rule relating the counts)."""
    men = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100000))
    women = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100000))
    poor = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100000),
                          metadata={"description": "poor residents among the attendees"})


class AttendanceSchema(AttendanceCounts):
    """Attendance as a form gives it: the poor counted are among the attendees."""

    @validates_schema
    def poor_are_attendees(self, data, **kwargs):
        if data["poor"] > data["men"] + data["women"]:
            raise ValidationError(f"{data['poor']} poor residents cannot exceed the "
                                  f"{data['men'] + data['women']} attendees (men + women)",
                                  "poor")


class MemberSchema(Schema):
    """A member of a community body (BKM, TIPP, KSM)."""
    name = fields.String(required=True, validate=Written(200))
    sex = fields.String(required=True, validate=validate.OneOf(["L", "P"]),
                        metadata={"description": "L = laki-laki, P = perempuan"})
    role = fields.String(required=True, validate=Written(100))


def parameter(value, field, name):
    """An RPC parameter that is not in a body (an item or partner id from the gateway's
    path), checked by the marshmallow field a body would use: what it loads, or
    InvalidInput naming the parameter (village codes have village_code below)."""
    return load(Schema.from_dict({name: field})(), {name: value})[name]


def village_code(code, field="code"):
    """An RPC parameter that must be a village code (InvalidInput naming the field)."""
    if not is_village_code(code):
        raise InvalidInput("must be a Kemendagri village code PP.KK.CC.DDDD", field)
    return code


def official_village(code, field="code"):
    """The official record of a village (NotFound when the code is not in the list)."""
    found = village(village_code(code, field))
    if found is None:
        raise NotFound(f"{code} is not in the official Kemendagri list of villages", field)
    return found
