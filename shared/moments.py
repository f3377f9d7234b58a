"""The platform's one reading of a moment written as text: every `as_of` of the cycle and
the audit, and an audit bundle's `from` and `to`. One copy, so that a text is taken or
refused alike everywhere, with the same words, and means the same instant.

A moment is written out in full, in the digits 0-9, with nothing around it:

- a date, `2026-03-01` (what instant it stands for is the caller's: the end of that day
  in UTC for an `as_of`, its start for the first day of a period: `end_of`, `start_of`);
- a time with its zone: `2026-03-01T08:00`, `...T08:00:00` or `...T08:00:00.123456`,
  followed by `Z` or `+07:00`.

Refused, never trimmed or guessed: a space or a line break around it, a space or a
lowercase t for T, a time without zone, `+0700`, basic and week or ordinal forms
(`20260301`, `2026-W09-1`, `2026-060`), other scripts' digits, a day or hour that does
not exist. Pure: no clock (whether a moment is in the future is the caller's question).
"""
import re
from datetime import UTC, date, datetime, time

from marshmallow import ValidationError

DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                  r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?")
FORMS = "an ISO-8601 date (2026-03-01) or time with zone (2026-03-01T08:00:00+07:00)"


def read(value) -> date | datetime:
    """A date as written (a `date`), or a time as an aware `datetime` in UTC.

    Raises ValidationError saying what is wrong (callers name the field). A `datetime`
    is also a `date`: test for `datetime` first.
    """
    if not isinstance(value, str) or not value:
        raise ValidationError(f"must be {FORMS}")
    if value.strip() != value:
        raise ValidationError(f"{value!r} has spaces or a line break around it: {FORMS} is "
                              "taken exactly, not trimmed")
    time_form = TIME.fullmatch(value)
    if time_form:
        if not time_form["zone"]:
            raise ValidationError(f"{value!r} has no time zone: add Z or an offset such as "
                                  "+07:00")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:      # 25:00, 2026-02-30T...
            raise ValidationError(f"{value!r} is not a valid ISO-8601 time") from None
        try:
            return moment.astimezone(UTC)
        except OverflowError:   # 0001-01-01T00:00+14:00 is before year 1 in UTC
            raise ValidationError(f"{value!r} is out of range once in UTC") from None
    if not DAY.fullmatch(value):
        raise ValidationError(f"{value!r} is not {FORMS}")
    try:
        return date.fromisoformat(value)
    except ValueError:          # 2026-13-01, 2026-02-30
        raise ValidationError(f"{value!r} is not a calendar date") from None


def end_of(day: date) -> datetime:
    """The last instant of a day in UTC (23:59:59.999999): a date as an `as_of`."""
    return datetime.combine(day, time.max, UTC)


def start_of(day: date) -> datetime:
    """The first instant of a day in UTC: a date as the first day of a period."""
    return datetime.combine(day, time.min, UTC)


def instant(moment: date | datetime, starts=False) -> datetime:
    """The instant a moment as `read` gives it stands for, in UTC: a time as it is; a date
    its end (or, with starts=True, its start: the first day of a period counts whole)."""
    if isinstance(moment, datetime):
        return moment
    return start_of(moment) if starts else end_of(moment)
