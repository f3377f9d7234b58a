"""Input validation: every bad field is named (no RabbitMQ, no files)."""
from datetime import UTC, datetime, timedelta

import pytest
from marshmallow import ValidationError

import shared.schemas
from services.cycle import schemas
from shared import moments
from shared.chassis.errors import InvalidInput, load
from shared.schemas import indonesia_today

TODAY = indonesia_today()   # the date in Papua (UTC+9), the latest anywhere in Indonesia
GOOD = {"activity": "lokakarya_kota", "held_on": TODAY.isoformat(), "place": "Balai Desa",
        "attendance": {"men": 10, "women": 12, "poor": 5}, "facilitator": "Faskel Ani",
        "evidence": ["BA/2026/001"]}


def refused_field(schema, data):
    with pytest.raises(InvalidInput) as refused:
        load(schema, data)
    return refused.value.field


def tomorrow():
    """The first day in the future: tomorrow in Papua (UTC+9), the latest date anywhere
    in Indonesia, read when the test runs (from 15:00 UTC the server's tomorrow is today
    there)."""
    return (indonesia_today() + timedelta(days=1)).isoformat()


def test_a_good_activity_loads_with_its_date_as_text():
    loaded = load(schemas.ActivitySchema(), GOOD)
    assert loaded["held_on"] == TODAY.isoformat() and loaded["members"] is None


def test_an_activity_held_tomorrow_in_papua_is_in_the_future():
    assert refused_field(schemas.ActivitySchema(), {**GOOD, "held_on": tomorrow()}) == \
        "held_on"


@pytest.mark.parametrize("change, field", [
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


@pytest.mark.parametrize("stage", [0, -1, "2", 2.0, True, 100])
def test_a_completion_may_name_its_stage_as_a_whole_number_of_the_template(stage):
    assert refused_field(schemas.CompleteStageSchema(),
                         {"completed_on": TODAY.isoformat(), "stage": stage}) == "stage"


def test_a_completion_without_a_stage_completes_the_current_one():
    day = TODAY.isoformat()
    assert load(schemas.CompleteStageSchema(), {"completed_on": day}) == \
        {"completed_on": day, "stage": None}
    assert load(schemas.CompleteStageSchema(), {"completed_on": day, "stage": 3}) == \
        {"completed_on": day, "stage": 3}


def test_completion_dates_and_waiver_reasons():
    assert refused_field(schemas.CompleteStageSchema(), {"completed_on": tomorrow()}) == \
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
    assert load_as_of("2026-01-05T08:00:00+07:00") == (datetime(2026, 1, 5, 1, tzinfo=UTC),
                                                       "2026-01-05")
    assert load_as_of("2026-01-05") == (datetime(2026, 1, 5, 23, 59, 59, 999999, UTC),
                                        "2026-01-05")
    today = indonesia_today().isoformat()   # today in Papua has begun: not in the future
    assert load_as_of(today).day == today
    for bad in ("2026-01-05T08:00:00", "last tuesday", tomorrow(),
                (shared.schemas.utc_now() + timedelta(hours=1)).isoformat(), 20260105):
        assert refused_field(schemas.AsOfSchema(), {"as_of": bad}) == "as_of"


def test_listing_queries():
    loaded = load(schemas.CycleQuerySchema(), {})
    assert (loaded["region"], loaded["page"], loaded["page_size"], loaded["as_of"]) == (
        "", 1, 50, None)
    for bad, field in (({"region": "52.1"}, "region"), ({"stage": 7}, "stage"),
                       ({"page_size": 501}, "page_size"), ({"as_of": "soon"}, "as_of"),
                       ({"colour": "red"}, "colour")):
        assert refused_field(schemas.CycleQuerySchema(), bad) == field


@pytest.mark.parametrize("stage", ["\u0662", "\uff12", "+2", " 2", "2", "2_0", 2.0, 2.5, True,
                                   0, 7])
def test_a_stage_is_a_whole_number_not_text_read_as_one(stage):
    """RPC callers give the stage as a number (the gateway turns a query's digits 0-9 into
    one): '٢' (Arabic-Indic), '２', '+2' or ' 2' is not read as stage 2."""
    assert refused_field(schemas.CycleQuerySchema(), {"stage": stage}) == "stage"


def test_a_stage_number_is_taken():
    assert load(schemas.CycleQuerySchema(), {"stage": 2})["stage"] == 2
    assert load(schemas.CycleQuerySchema(), {})["stage"] is None
    assert load(schemas.CycleQuerySchema(), {"stage": None})["stage"] is None   # no filter


# Texts that are not an ISO-8601 date (YYYY-MM-DD) or time with zone, written out in
# full: every `as_of` of the cycle refuses them, with one message.
NOT_A_MOMENT = ["20260105", "2026W021", "2026-W02-1", "2026-W02", "2026-005", "soon",
                "2026-13-01", "2026-02-30", " 2026-01-05", "2026-01-05 ", "2026-01-05\n",
                "2026-01-05T08:00:00+07:00\n", "2026-01-05 08:00:00+07:00",
                "2026-01-05T08Z", "20260105T080000Z", "2026-01-05T25:00:00Z",
                "\u0662\u0660\u0662\u0666-01-05", "", 20260105, True]
AS_OF_SCHEMAS = [schemas.AsOfSchema, schemas.DaySchema, schemas.CycleQuerySchema,
                 schemas.OnTimeShareSchema]


@pytest.mark.parametrize("text", NOT_A_MOMENT)
def test_every_as_of_refuses_the_same_texts_with_the_same_message(text):
    """Every as_of is read by the platform's one reader of moments (shared.moments, which
    the audit reads with too), and refused with its words, naming as_of."""
    with pytest.raises(ValidationError) as reader:
        moments.read(text)
    messages = set()
    for schema in AS_OF_SCHEMAS:
        with pytest.raises(InvalidInput) as refused:
            load(schema(), {"as_of": text})
        assert refused.value.field == "as_of", (schema, text)
        messages.add(refused.value.message)
    assert messages == {f"as_of: {' '.join(reader.value.messages)}"}, text


def test_a_time_without_its_zone_is_refused_alike_everywhere():
    for schema in AS_OF_SCHEMAS:
        with pytest.raises(InvalidInput) as refused:
            load(schema(), {"as_of": "2026-01-05T08:00:00"})
        assert refused.value.message == ("as_of: '2026-01-05T08:00:00' has no time zone: "
                                         "add Z or an offset such as +07:00")


@pytest.mark.parametrize("text, moment", [
    ("2026-01-05", datetime(2026, 1, 5, 23, 59, 59, 999999, UTC)),
    ("2026-01-05T08:00:00+07:00", datetime(2026, 1, 5, 1, tzinfo=UTC)),
    ("2026-01-05T08:00+07:00", datetime(2026, 1, 5, 1, tzinfo=UTC)),
    ("2026-01-05T08:00:00.250Z", datetime(2026, 1, 5, 8, 0, 0, 250000, UTC)),
    ("2026-01-05T08:00:00.123456-03:30", datetime(2026, 1, 5, 11, 30, 0, 123456, UTC)),
])
def test_every_as_of_takes_a_date_or_a_time_with_zone_as_the_same_moment(text, moment):
    for schema in AS_OF_SCHEMAS:
        assert load(schema(), {"as_of": text})["as_of"].moment == moment, schema


def test_only_the_reports_look_ahead():
    # a cycle as it stood is of the past; an evaluation, listing or share may be judged
    # on a later day (what is overdue then if nothing moves)
    later = (indonesia_today() + timedelta(days=2)).isoformat()
    assert refused_field(schemas.AsOfSchema(), {"as_of": later}) == "as_of"
    for schema in (schemas.DaySchema, schemas.CycleQuerySchema, schemas.OnTimeShareSchema):
        assert load(schema(), {"as_of": later})["as_of"].day == later


@pytest.mark.parametrize("blank", [" ", "   ", "\t", " \n "])
@pytest.mark.parametrize("change, field", [
    (lambda b: {"place": b}, "place"),
    (lambda b: {"facilitator": b}, "facilitator"),
    (lambda b: {"evidence": ["BA/2026/001", b]}, "evidence.1"),
    (lambda b: {"notes": b}, "notes"),
    (lambda b: {"activity": "pengukuhan_tipp",
                "members": [{"name": b, "sex": "P", "role": "ketua"}]}, "members.0.name"),
    (lambda b: {"activity": "pengukuhan_tipp",
                "members": [{"name": "Siti", "sex": "P", "role": b}]}, "members.0.role"),
])
def test_an_activity_text_of_nothing_but_spaces_is_refused_naming_it(blank, change, field):
    # a place, facilitator, evidence reference or member of spaces names nothing: the
    # ledger would hold an activity nobody can trace back
    assert refused_field(schemas.ActivitySchema(), {**GOOD, **change(blank)}) == field


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59Z", "9999-12-31T15:00:00Z",
                                  "9999-12-31T20:00:00+05:00"])
def test_a_report_time_whose_day_in_indonesia_is_past_year_9999_is_refused(text):
    """A report's as_of time is judged on its date in UTC+9: late on 31 December 9999 that
    date is past the calendar, which was an OverflowError (a 500), not a 400."""
    for schema in (schemas.DaySchema, schemas.CycleQuerySchema, schemas.OnTimeShareSchema):
        assert refused_field(schema(), {"as_of": text}) == "as_of"
    day = load(schemas.DaySchema(), {"as_of": "9999-12-31T14:59:59Z"})["as_of"].day
    assert day == "9999-12-31"
