"""The dates and years planning accepts: one window for every planning date field.

- Nothing before EARLIEST (2000-01-01). PLPBK follows P2KP / PNPM Mandiri Perkotaan
  (DOMAIN.md), so no planning record of the programme is older; an earlier date is a
  typing error (0001-01-01, 1024 for 2024) that would sort before every real one.
- What already happened (drafted_on, held_on, signed_on, consulted_on, submitted_on) is
  not after today (shared.schemas.not_in_future: today in UTC+9, the latest date in
  Indonesia).
- What is planned (work plan, marketing events, plan years) is at most YEARS_AHEAD years
  ahead, to the end of that year (this year: the year of indonesia_today()): an RPLP
  covers 5 years and may start a few years after it is drafted; 2205 typed for 2025 is
  refused.

docs/planning.md ("Dates") says the same for the API's users.
"""
from datetime import date

from marshmallow import ValidationError, fields

from shared.schemas import indonesia_today, not_in_future

EARLIEST = date(2000, 1, 1)
YEARS_AHEAD = 10


def latest_planned(today=None) -> date:
    """The last day a plan may look ahead to: 31 December, YEARS_AHEAD years after this
    year (of `today`, or of indonesia_today()).

    This year is the year of today in UTC+9 (WIT), the latest date anywhere in Indonesia,
    from the platform's clock (shared.schemas.utc_now), not the server's date: an upper
    bound allows the latest date, so from 15:00 UTC on 31 December, when the new year has
    begun in Papua, a plan may look ten years ahead of it.
    """
    return date((today or indonesia_today()).year + YEARS_AHEAD, 12, 31)


def check_day(day: date, past: bool):
    if day < EARLIEST:
        raise ValidationError(f"must not be before {EARLIEST.isoformat()}: no PLPBK "
                              "planning record is older")
    if past:
        not_in_future(day)
    elif day > (last := latest_planned()):
        raise ValidationError(f"must not be after {last.isoformat()}: plans look at most "
                              f"{YEARS_AHEAD} years ahead")


def check_year(year: int):
    last = latest_planned().year
    if not EARLIEST.year <= year <= last:
        raise ValidationError(f"must be a year from {EARLIEST.year} to {last} (plans look at "
                              f"most {YEARS_AHEAD} years ahead)")


class DateString(fields.Date):
    """An ISO date in the window, the same ISO string out (events hold strings);
    past=True for something that already happened."""

    def __init__(self, past=False, **options):
        ahead = "not in the future (the date in UTC+9)" if past else \
            f"at most {YEARS_AHEAD} years ahead"
        options.setdefault("metadata", {}).setdefault(
            "description", f"a date YYYY-MM-DD, not before {EARLIEST.isoformat()}, {ahead}")
        super().__init__(**options)
        self.past = past

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        check_day(day, self.past)
        return day.isoformat()


def PastDate(**options):
    return DateString(past=True, **options)


def Year(**options):
    return fields.Integer(strict=True, validate=check_year, metadata={
        "description": f"a year from {EARLIEST.year} to {YEARS_AHEAD} years ahead",
        "minimum": EARLIEST.year}, **options)
