"""'Today' for dates of what already happened is the latest calendar date anywhere in
Indonesia: the date in UTC+9 (WIT: Maluku, Papua). The clock is fixed here, never read."""
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from marshmallow import ValidationError

import shared.schemas
from services.cycle.schemas import ActivitySchema, CompleteStageSchema
from services.registration.schemas import RecordIndicatorsSchema
from shared.schemas import indonesia_today, not_in_future, past_moment

WIT, WIB = timezone(timedelta(hours=9)), timezone(timedelta(hours=7))
# 08:00 WIT on 30 November in Jayapura: still 29 November in UTC (and 06:00 in Jakarta)
PAPUA_MORNING = datetime(2026, 11, 30, 8, 0, tzinfo=WIT)


@pytest.fixture
def papua_morning(monkeypatch):
    monkeypatch.setattr(shared.schemas, "utc_now", lambda: PAPUA_MORNING.astimezone(UTC))
    return PAPUA_MORNING


@pytest.mark.parametrize("now, today", [
    (PAPUA_MORNING, date(2026, 11, 30)),
    (datetime(2026, 11, 29, 23, 0, tzinfo=UTC), date(2026, 11, 30)),
    (datetime(2026, 11, 29, 14, 59, 59, 999999, tzinfo=UTC), date(2026, 11, 29)),
    (datetime(2026, 11, 29, 15, 0, tzinfo=UTC), date(2026, 11, 30)),   # midnight in Papua
    (datetime(2026, 11, 30, 6, 0, tzinfo=WIB), date(2026, 11, 30)),
    (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), date(2027, 1, 1)),
])
def test_today_is_the_date_in_utc_plus_9(now, today):
    assert indonesia_today(now) == today


def test_a_naive_time_is_refused_not_read_as_the_servers_zone():
    with pytest.raises(ValueError, match="zone"):
        indonesia_today(datetime(2026, 11, 29, 23, 0))


def test_the_clock_is_read_when_no_time_is_given(papua_morning):
    assert indonesia_today() == date(2026, 11, 30)


def test_a_meeting_held_today_in_papua_is_not_in_the_future(papua_morning):
    for today in (date(2026, 11, 30), "2026-11-30", date(2026, 11, 29), "2026-11-29"):
        assert not_in_future(today) is None
    for later in (date(2026, 12, 1), "2026-12-01"):
        with pytest.raises(ValidationError, match="must not be in the future"):
            not_in_future(later)


def test_not_in_future_takes_a_time_to_judge_on():
    assert not_in_future(date(2026, 11, 30), now=PAPUA_MORNING) is None
    with pytest.raises(ValidationError, match="must not be in the future"):
        not_in_future(date(2026, 11, 30), now=datetime(2026, 11, 29, 14, 0, tzinfo=UTC))


def test_the_services_date_fields_judge_on_the_date_in_papua(papua_morning):
    """Activities, stage completions and evidence (cycle, registration) dated 30 November
    are taken at 08:00 WIT on 30 November; 1 December is refused naming the field."""
    activity = {"activity": "lokakarya_kota", "held_on": "2026-11-30", "place": "Balai",
                "attendance": {"men": 3, "women": 4, "poor": 2}, "facilitator": "Ani",
                "evidence": ["minutes"]}
    assert ActivitySchema().load(activity)["held_on"] == "2026-11-30"
    assert CompleteStageSchema().load({"completed_on": "2026-11-30"}) == {
        "completed_on": "2026-11-30", "stage": None}
    evidence = {"indicators": {"poverty_rate": "31.5"}, "source_document": "BPS 2024",
                "observed_on": "2026-11-30"}
    assert RecordIndicatorsSchema().load(evidence)["observed_on"] == "2026-11-30"
    for schema, data, field in (
            (ActivitySchema(), {**activity, "held_on": "2026-12-01"}, "held_on"),
            (CompleteStageSchema(), {"completed_on": "2026-12-01"}, "completed_on"),
            (RecordIndicatorsSchema(), {**evidence, "observed_on": "2026-12-01"},
             "observed_on")):
        assert schema.validate(data) == {field: ["must not be in the future"]}


def test_a_moment_of_the_past_is_a_time_up_to_now_or_a_date_up_to_today_in_papua(
        papua_morning):
    """One rule for every as_of and audit period (shared.schemas.past_moment)."""
    assert past_moment("2026-11-30") == date(2026, 11, 30)   # still the 29th in UTC
    assert past_moment("2026-11-30T07:59:59+09:00") < papua_morning
    for future in ("2026-12-01", "2026-11-30T08:00:01+09:00", "2026-11-29T23:00:01Z"):
        with pytest.raises(ValidationError, match="must not be in the future"):
            past_moment(future)
