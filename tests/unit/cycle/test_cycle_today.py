"""'Today' and 'now' for the cycle: one clock (shared.schemas.utc_now, fixed here, never
read) and one today, the date in UTC+9 (WIT), the latest anywhere in Indonesia."""
from datetime import UTC, datetime

import pytest

import shared.schemas
from services.cycle import schemas, service
from shared.chassis.errors import InvalidInput, load

# 20:00 UTC on 29 November: 05:00 WIT on 30 November in Jayapura, 03:00 WIB in Jakarta
EVENING = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)


@pytest.fixture
def evening(monkeypatch):
    monkeypatch.setattr(shared.schemas, "utc_now", lambda: EVENING)
    return EVENING


def as_of(schema, text):
    return load(schema(), {"as_of": text})["as_of"]


def refused(schema, text):
    with pytest.raises(InvalidInput) as error:
        load(schema(), {"as_of": text})
    return error.value.field, error.value.message


def test_today_in_papua_is_an_as_of_of_the_past(evening):
    """At 05:00 WIT on 30 November that day has begun in Papua: the cycle as of 30
    November is the cycle now, judged on that day; 1 December, or a time after now, is
    still to come."""
    today = as_of(schemas.AsOfSchema, "2026-11-30")
    assert today.day == "2026-11-30"
    assert today.moment == datetime(2026, 11, 30, 23, 59, 59, 999999, UTC)  # as the audit
    for earlier in ("2026-11-29", "2026-11-29T20:00:00Z", "2026-11-30T05:00+09:00",
                    "2026-11-30T03:00+07:00", "2026-11-01"):
        as_of(schemas.AsOfSchema, earlier)
    for later in ("2026-12-01", "2026-11-29T20:00:00.000001Z", "2026-11-30T05:01+09:00"):
        assert refused(schemas.AsOfSchema, later) == ("as_of",
                                                      "as_of: must not be in the future")


def test_the_future_is_judged_on_the_platforms_clock(monkeypatch):
    """Not the server's: at 12:00 UTC on 5 January (21:00 WIT), the 6th has begun nowhere
    in Indonesia, and a second after noon is to come."""
    monkeypatch.setattr(shared.schemas, "utc_now",
                        lambda: datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    for later in ("2026-01-06", "2026-01-05T12:00:01Z", "2026-01-05T21:00:01+09:00"):
        assert refused(schemas.AsOfSchema, later)[0] == "as_of"
    assert as_of(schemas.AsOfSchema, "2026-01-05").day == "2026-01-05"
    assert as_of(schemas.AsOfSchema, "2026-01-05T12:00Z").moment == \
        datetime(2026, 1, 5, 12, tzinfo=UTC)


@pytest.mark.parametrize("text, day", [
    ("2026-11-29", "2026-11-29"),                    # a date: that day, as written
    ("2026-11-29T14:59:59Z", "2026-11-29"),          # 23:59:59 WIT
    ("2026-11-29T15:00:00Z", "2026-11-30"),          # midnight in Papua
    ("2026-11-29T20:00:00Z", "2026-11-30"),
    ("2026-11-29T23:30:00+07:00", "2026-11-30"),     # 01:30 WIT
    ("2026-11-30T08:00:00+09:00", "2026-11-30"),
])
def test_a_time_is_judged_on_its_date_in_papua(monkeypatch, text, day):
    """A report of a moment is judged (overdue, days so far) on the day it is then in
    Indonesia, as a report of now is: the date in UTC+9."""
    monkeypatch.setattr(shared.schemas, "utc_now",
                        lambda: datetime(2026, 12, 1, tzinfo=UTC))   # all of them past
    for schema in (schemas.AsOfSchema, schemas.DaySchema, schemas.CycleQuerySchema,
                   schemas.OnTimeShareSchema):
        assert as_of(schema, text).day == day


def test_the_service_judges_on_the_same_today(evening):
    """No as_of: today in Papua (the overdue day, a waiver's date); a past moment is
    replayed up to it; a moment not yet come judges today's cycles on its day."""
    assert service._today() == "2026-11-30"
    assert service._judged(None) == ("2026-11-30", None)
    assert service._judged(as_of(schemas.DaySchema, "2026-11-29T19:00Z")) == (
        "2026-11-30", datetime(2026, 11, 29, 19, tzinfo=UTC))
    assert service._judged(as_of(schemas.DaySchema, "2026-11-28")) == (
        "2026-11-28", datetime(2026, 11, 28, 23, 59, 59, 999999, UTC))
    # 29 November ends at 24:00 UTC: not yet, so today's cycles, judged on the 29th
    assert service._judged(as_of(schemas.DaySchema, "2026-11-29")) == ("2026-11-29", None)
    assert service._judged(as_of(schemas.DaySchema, "2026-11-30")) == ("2026-11-30", None)
    assert service._judged(as_of(schemas.DaySchema, "2027-01-06")) == ("2027-01-06", None)
