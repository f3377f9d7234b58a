"""Input validation: every bad field is named (no RabbitMQ, no files)."""
from datetime import UTC, date, datetime, timedelta

import pytest

from services.cycle import schemas
from shared.chassis.errors import InvalidInput, load

TODAY = date.today()
GOOD = {"activity": "lokakarya_kota", "held_on": TODAY.isoformat(), "place": "Balai Desa",
        "attendance": {"men": 10, "women": 12, "poor": 5}, "facilitator": "Faskel Ani",
        "evidence": ["BA/2026/001"]}


def refused_field(schema, data):
    with pytest.raises(InvalidInput) as refused:
        load(schema, data)
    return refused.value.field


def test_a_good_activity_loads_with_its_date_as_text():
    loaded = load(schemas.ActivitySchema(), GOOD)
    assert loaded["held_on"] == TODAY.isoformat() and loaded["members"] is None


@pytest.mark.parametrize("change, field", [
    ({"held_on": (TODAY + timedelta(days=1)).isoformat()}, "held_on"),
    ({"held_on": "yesterday"}, "held_on"),
    ({"attendance": {"men": 10, "women": 2, "poor": 13}}, "attendance.poor"),
    ({"attendance": {"men": 10.0, "women": 2, "poor": 1}}, "attendance.men"),
    ({"attendance": {"men": "10", "women": 2, "poor": 1}}, "attendance.men"),
    ({"attendance": {"men": -1, "women": 2, "poor": 1}}, "attendance.men"),
    ({"evidence": []}, "evidence"),
    ({"place": ""}, "place"),
    ({"facilitator": None}, "facilitator"),
    ({"members": [{"name": "Siti", "sex": "W", "role": "ketua"}]}, "members.0.sex"),
])
def test_a_bad_activity_names_the_field(change, field):
    assert refused_field(schemas.ActivitySchema(), {**GOOD, **change}) == field


def test_missing_fields_and_non_objects_are_named():
    assert refused_field(schemas.ActivitySchema(), {k: v for k, v in GOOD.items()
                                                    if k != "place"}) == "place"
    assert refused_field(schemas.ActivitySchema(), ["not", "an", "object"]) == "body"


def test_completion_dates_and_waiver_reasons():
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert refused_field(schemas.CompleteStageSchema(), {"completed_on": tomorrow}) == \
        "completed_on"
    assert refused_field(schemas.WaiverSchema(), {"output": "lokakarya_kota",
                                                  "justification": "too short"}) == \
        "justification"
    assert refused_field(schemas.WaiverSchema(), {"output": "lokakarya_kota",
                                                  "justification": " " * 25}) == \
        "justification"
    assert refused_field(schemas.AsOfSchema(), {"as_of": "0001-01-01T00:00:00+14:00"}) == \
        "as_of"


def test_as_of_takes_a_past_time_with_zone_or_a_date():
    load_as_of = lambda text: load(schemas.AsOfSchema(), {"as_of": text})["as_of"]
    assert load_as_of("2026-01-05T08:00:00+07:00") == datetime(2026, 1, 5, 1, tzinfo=UTC)
    assert load_as_of("2026-01-05") == datetime(2026, 1, 5, 23, 59, 59, 999999, UTC)
    assert load_as_of(TODAY.isoformat()) <= datetime.now(UTC)
    for bad in ("2026-01-05T08:00:00", "last tuesday", (TODAY + timedelta(days=2)).isoformat(),
                (datetime.now(UTC) + timedelta(hours=1)).isoformat(), 20260105):
        assert refused_field(schemas.AsOfSchema(), {"as_of": bad}) == "as_of"


def test_listing_queries():
    loaded = load(schemas.CycleQuerySchema(), {})
    assert (loaded["region"], loaded["page"], loaded["page_size"], loaded["as_of"]) == (
        "", 1, 50, None)
    for bad, field in (({"region": "52.1"}, "region"), ({"stage": 7}, "stage"),
                       ({"page_size": 501}, "page_size"), ({"as_of": "soon"}, "as_of"),
                       ({"colour": "red"}, "colour")):
        assert refused_field(schemas.CycleQuerySchema(), bad) == field
