"""Input validation: every bad field is named; money and dates come out exact strings/ints."""
import base64
from datetime import UTC, date, datetime, timedelta

import pytest

import shared.schemas
from services.planning import dates, schemas
from shared.chassis.errors import InvalidInput, load
from shared.schemas import indonesia_today

from . import samples

SHA = "a" * 64
PDF = b"%PDF-1.7 minutes"


def draft(kind, content, **extra):
    return load(schemas.version_schema(kind), {"content": content, "drafted_on": "2024-08-01",
                                               **extra})


def refused(kind, content):
    with pytest.raises(InvalidInput) as error:
        draft(kind, content)
    return error.value


@pytest.mark.parametrize("kind", ["rplp", "rtplp", "aturan_bersama", "marketing_strategy"])
def test_each_kind_takes_its_sample(kind):
    loaded = draft(kind, samples.content(kind, SHA))
    assert loaded["drafted_on"] == "2024-08-01" and loaded["note"] == ""


def test_money_is_integer_rupiah_never_float_or_text():
    for bad in (750000.0, "750000", True):
        content = samples.rtplp()
        content["investment_items"][0]["unit_cost"] = bad
        assert refused("rtplp", content).field == "content.investment_items.0.unit_cost"


def test_quantities_are_exact_decimal_strings():
    content = samples.rtplp()
    content["investment_items"][0]["quantity"] = "012.500"
    assert draft("rtplp", content)["content"]["investment_items"][0]["quantity"] == "12.5"
    for bad in (12.5, "abc", "0", "1.0001", "-3", "1e3", "+5", " 5", "\u0663", "1_000", "NaN"):
        content["investment_items"][0]["quantity"] = bad
        assert refused("rtplp", content).field == "content.investment_items.0.quantity"


def test_rtplp_items_must_fall_in_the_phasing_years():
    content = samples.rtplp()
    content["investment_items"][2]["year"] = 2027
    error = refused("rtplp", content)
    assert error.field == "content.investment_items.2.year" and "2025, 2026" in str(error)
    content = samples.rtplp()
    content["investment_items"][0]["funding_source"] = "hibah"
    assert refused("rtplp", content).field == "content.investment_items.0.funding_source"


def test_rplp_horizon_is_five_years_and_one_plan_per_sector():
    content = samples.rplp(SHA)
    content["horizon"]["end_year"] = 2030
    assert refused("rplp", content).field == "content.horizon.end_year"
    content = samples.rplp(SHA)
    content["sector_plans"][1]["sector"] = "drainase"
    assert refused("rplp", content).field == "content.sector_plans.1.sector"
    content = samples.rplp("not-a-hash")
    assert refused("rplp", content).field == "content.maps.0.sha256"


def test_unknown_fields_and_future_dates_are_refused():
    with pytest.raises(InvalidInput, match="Unknown field") as unknown:
        draft("aturan_bersama", {**samples.aturan_bersama(), "extra": 1})
    assert unknown.value.field == "content.extra"
    with pytest.raises(InvalidInput, match="future") as future:
        load(schemas.version_schema("aturan_bersama"), {
            "content": samples.aturan_bersama(), "drafted_on": "2999-01-01"})
    assert future.value.field == "drafted_on"


def test_marketing_work_plan_ends_after_it_starts():
    content = samples.marketing_strategy()
    content["work_plan"][0]["ends_on"] = "2024-12-31"
    assert refused("marketing_strategy", content).field == "content.work_plan.0.ends_on"


def test_poor_residents_are_counted_among_attendees():
    meeting = samples.meeting(SHA, men=10, women=10, poor=20)
    assert load(schemas.MeetingSchema(), meeting)["attendance"]["poor"] == 20
    meeting["attendance"]["poor"] = 21
    with pytest.raises(InvalidInput, match="cannot exceed the 20 attendees") as error:
        load(schemas.MeetingSchema(), meeting)
    assert error.value.field == "attendance.poor"
    meeting["attendance"]["women"] = 10.0
    with pytest.raises(InvalidInput) as error:
        load(schemas.MeetingSchema(), meeting)
    assert error.value.field == "attendance.women"


def upload(content=PDF, media_type="application/pdf", **extra):
    return {"filename": "berita-acara.pdf", "media_type": media_type, "kind": "minutes",
            "content_base64": base64.b64encode(content).decode(), **extra}


def test_upload_decodes_and_checks_the_media_type():
    loaded = load(schemas.UploadSchema(), upload())
    assert loaded["content"] == PDF and "content_base64" not in loaded
    geojson = load(schemas.UploadSchema(), upload(b'{"type": "FeatureCollection"}',
                                                  "application/geo+json"))
    assert geojson["media_type"] == "application/geo+json"


@pytest.mark.parametrize("data, field", [
    (upload(b"\x89PNG\r\n\x1a\n...."), "content_base64"),          # a PNG labelled PDF
    (upload(media_type="application/x-msdownload"), "media_type"),
    ({**upload(), "content_base64": "%%%"}, "content_base64"),
    ({**upload(), "filename": "../../etc/passwd"}, "filename"),
    ({**upload(), "filename": "berita\nacara.pdf"}, "filename"),
    ({**upload(), "filename": "berita-acara.pdf\n"}, "filename"),
    ({**upload(), "filename": "a\x01b.pdf"}, "filename"),
    (upload(b"[1, 2]", "application/geo+json"), "content_base64"),
    (upload(kind="selfie"), "kind"),
])
def test_bad_uploads_are_refused_by_field(data, field):
    with pytest.raises(InvalidInput) as error:
        load(schemas.UploadSchema(), data)
    assert error.value.field == field


def test_uploads_above_the_size_limit_are_refused():
    too_big = b"%PDF-" + b"0" * schemas.MAX_ATTACHMENT_BYTES
    with pytest.raises(InvalidInput, match="MiB") as error:
        load(schemas.UploadSchema(), upload(too_big))
    assert error.value.field == "content_base64"
    at_limit = b"%PDF-" + b"0" * (schemas.MAX_ATTACHMENT_BYTES - 5)
    assert len(load(schemas.UploadSchema(), upload(at_limit))["content"]) == \
        schemas.MAX_ATTACHMENT_BYTES


def test_pending_query_defaults_to_approvals_and_checks_the_region():
    assert load(schemas.PendingQuerySchema(), {})["waiting_for"] == "approval"
    with pytest.raises(InvalidInput) as error:
        load(schemas.PendingQuerySchema(), {"region": "52.1"})
    assert error.value.field == "region"


# -- probe findings: duplicates and implausible dates -----------------------------------

def test_an_rt_rw_is_listed_once_in_the_priority_area():
    content = samples.rtplp()
    content["priority_area"]["rt_rw"].append({"rt": 3, "rw": 2})
    error = refused("rtplp", content)
    assert error.field == "content.priority_area.rt_rw.2"
    assert "RT 3/RW 2 appears twice (also at rt_rw.0)" in str(error)
    content["priority_area"]["rt_rw"][2] = {"rt": 3, "rw": 5}     # RT 3 of another RW
    assert len(draft("rtplp", content)["content"]["priority_area"]["rt_rw"]) == 3


def test_a_meeting_decides_each_version_once():
    meeting = samples.meeting(SHA, [("rplp", 1), ("rtplp", 1), ("rplp", 1)])
    with pytest.raises(InvalidInput, match="rplp version 1") as error:
        load(schemas.MeetingSchema(), meeting)
    assert error.value.field == "decisions.2.approves"
    assert "appears twice (also at decisions.0)" in str(error.value)
    meeting["decisions"][2]["approves"]["version"] = 2
    meeting["decisions"].append({"text": "Sosialisasi", "approves": None})
    meeting["decisions"].append({"text": "Lain-lain"})
    assert len(load(schemas.MeetingSchema(), meeting)["decisions"]) == 5


def _body(where, value):
    """A valid body of some planning input with one date (or year) set to value."""
    def version(kind, content):
        return schemas.version_schema(kind), {"content": content, "drafted_on": "2024-08-01"}

    if where == "drafted_on":
        schema, body = version("marketing_strategy", samples.marketing_strategy())
        body["drafted_on"] = value
    elif where == "revision.drafted_on":
        schema = schemas.version_schema("aturan_bersama", revision=True)
        body = {"content": samples.aturan_bersama(), "based_on": 1, "drafted_on": value}
    elif where == "held_on":
        schema, body = schemas.MeetingSchema(), samples.meeting(SHA, held_on=value)
    elif where == "signed_on":
        schema, body = schemas.SignSchema(), {"version": 1, "step": "submitted",
                                              "signed_on": value,
                                              "signer": {"name": "a", "position": "b"}}
    elif where == "consulted_on":
        schema, body = schemas.BappedaSchema(), {"version": 1, "consulted_on": value,
                                                 "reference": "050/2024",
                                                 "official": {"name": "a", "position": "b"}}
    elif where == "submitted_on":
        schema, body = schemas.MusrenbangSchema(), {"version": 1, "forum": "kecamatan",
                                                    "reference": "MR-1", "submitted_on": value}
    elif where == "content.work_plan.0.starts_on":
        schema, body = version("marketing_strategy", samples.marketing_strategy())
        body["content"]["work_plan"][0].update(starts_on=value, ends_on=value)
    elif where == "content.marketing_events.0.planned_on":
        schema, body = version("marketing_strategy", samples.marketing_strategy())
        body["content"]["marketing_events"][0]["planned_on"] = value
    elif where == "content.horizon.start_year":
        schema, body = version("rplp", samples.rplp(SHA))
        body["content"]["horizon"] = {"start_year": value, "end_year": value + 4}
    elif where == "content.phasing.2.year":
        schema, body = version("rtplp", samples.rtplp())
        body["content"]["phasing"].append({"year": value, "description": "cadangan"})
    return schema, body


def field_of(where):
    return "drafted_on" if where == "revision.drafted_on" else where


PAST = ["drafted_on", "revision.drafted_on", "held_on", "signed_on", "consulted_on",
        "submitted_on"]
PLANNED = ["content.work_plan.0.starts_on", "content.marketing_events.0.planned_on"]


@pytest.mark.parametrize("where", PAST + PLANNED)
@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31"])
def test_no_planning_date_is_before_the_programme(where, day):
    schema, body = _body(where, day)
    with pytest.raises(InvalidInput, match="2000-01-01") as error:
        load(schema, body)
    assert error.value.field == field_of(where)
    load(*_body(where, "2000-01-01"))                       # the first day is accepted


@pytest.mark.parametrize("where", PLANNED)
def test_planned_dates_look_at_most_ten_years_ahead(where):
    last = dates.latest_planned()
    assert last == date(indonesia_today().year + 10, 12, 31)
    load(*_body(where, last.isoformat()))
    for day in ((last + timedelta(days=1)).isoformat(), "9999-12-31"):
        with pytest.raises(InvalidInput, match=f"after {last.isoformat()}") as error:
            load(*_body(where, day))
        assert error.value.field == where


@pytest.mark.parametrize("now, last", [
    (datetime(2026, 12, 31, 14, 59, 59, tzinfo=UTC), date(2036, 12, 31)),  # 23:59:59 WIT
    (datetime(2026, 12, 31, 15, 0, tzinfo=UTC), date(2037, 12, 31)),   # 2027 in Papua
    (datetime(2027, 1, 1, 6, 0, tzinfo=UTC), date(2037, 12, 31)),
])
def test_plans_look_ahead_from_the_year_in_papua(monkeypatch, now, last):
    """Ten years ahead of this year, the year of today in UTC+9 (the latest date in
    Indonesia), from the platform's clock: at 01:00 WIT on 1 January 2027 a plan may reach
    2037, though the server's date is still 31 December 2026."""
    monkeypatch.setattr(shared.schemas, "utc_now", lambda: now)
    assert dates.latest_planned() == last
    load(*_body("content.work_plan.0.starts_on", last.isoformat()))
    load(*_body("content.phasing.2.year", last.year))
    with pytest.raises(InvalidInput, match=f"after {last.isoformat()}"):
        load(*_body("content.work_plan.0.starts_on", (last + timedelta(days=1)).isoformat()))
    with pytest.raises(InvalidInput, match=f"to {last.year}"):
        load(*_body("content.phasing.2.year", last.year + 1))


def test_past_dates_are_not_after_today():
    """Today is the date in Papua (UTC+9), the latest anywhere in Indonesia; from 15:00
    UTC the server's tomorrow is already today there."""
    load(*_body("held_on", indonesia_today().isoformat()))
    tomorrow = (indonesia_today() + timedelta(days=1)).isoformat()
    for where in PAST:
        with pytest.raises(InvalidInput, match="future") as error:
            load(*_body(where, tomorrow))
        assert error.value.field == field_of(where)


@pytest.mark.parametrize("where, year, field", [
    ("content.horizon.start_year", 1, "content.horizon.start_year"),
    ("content.horizon.start_year", 1999, "content.horizon.start_year"),
    ("content.horizon.start_year", indonesia_today().year + 7, "content.horizon.end_year"),
    ("content.phasing.2.year", 1999, "content.phasing.2.year"),
    ("content.phasing.2.year", indonesia_today().year + 11, "content.phasing.2.year"),
    ("content.phasing.2.year", 9999, "content.phasing.2.year"),
])
def test_plan_years_fall_in_the_same_window(where, year, field):
    with pytest.raises(InvalidInput, match="2000") as error:
        load(*_body(where, year))
    assert error.value.field == field
    load(*_body(where, 2000 if where.endswith("start_year") else
                 indonesia_today().year + 10))


def test_an_empty_file_is_refused_as_empty_not_as_too_big():
    with pytest.raises(InvalidInput) as error:
        load(schemas.UploadSchema(), {**upload(), "content_base64": ""})
    assert error.value.field == "content_base64"
    assert "empty" in str(error.value) and "exceed" not in str(error.value)


def test_base64_wrapped_in_lines_is_refused_saying_so():
    """`base64 file.pdf` (GNU coreutils) wraps its output at 76 columns, as MIME does: the
    refusal says what to change, not that valid base64 is invalid."""
    text = base64.b64encode(PDF + b"x" * 200).decode()
    wrapped = "\n".join(text[i:i + 76] for i in range(0, len(text), 76))
    for sent in (wrapped, wrapped + "\n", text[:8] + " " + text[8:], text + "\r\n"):
        with pytest.raises(InvalidInput, match="one line") as error:
            load(schemas.UploadSchema(), {**upload(), "content_base64": sent})
        assert error.value.field == "content_base64"


def test_wrapped_base64_of_a_file_at_the_limit_is_not_said_to_exceed_it():
    at_limit = b"%PDF-" + b"0" * (schemas.MAX_ATTACHMENT_BYTES - 5)
    text = base64.b64encode(at_limit).decode()
    wrapped = "\n".join(text[i:i + 76] for i in range(0, len(text), 76))
    with pytest.raises(InvalidInput, match="one line"):
        load(schemas.UploadSchema(), {**upload(), "content_base64": wrapped})


@pytest.mark.parametrize("filename", [
    "berita\x85acara.pdf",        # NEL: a C1 control character
    "berita\x9bacara.pdf",        # CSI
    "   ",                        # names no file
    ".", "..",                    # a folder, not a file
])
def test_filenames_that_name_no_file_are_refused(filename):
    with pytest.raises(InvalidInput) as error:
        load(schemas.UploadSchema(), {**upload(), "filename": filename})
    assert error.value.field == "filename"


SIGNING = {"version": 1, "step": "submitted", "signed_on": "2024-08-11",
           "signer": {"name": "H. Lalu Ahmad", "position": "Koordinator BKM"}}


@pytest.mark.parametrize("schema, data, field", [
    (schemas.SignSchema, {**SIGNING, "signer": {"name": "   ", "position": "BKM"}},
     "signer.name"),
    (schemas.SignSchema, {**SIGNING, "signer": {"name": "Ahmad", "position": "\n\t "}},
     "signer.position"),
    (schemas.MeetingSchema, {**samples.meeting(SHA), "place": "  "}, "place"),
    (schemas.MeetingSchema, {**samples.meeting(SHA), "agenda": [" "]}, "agenda.0"),
    (schemas.MeetingSchema, {**samples.meeting(SHA), "chair": {"name": " ",
                                                               "position": "Ketua"}},
     "chair.name"),
    (schemas.MeetingSchema, {**samples.meeting(SHA), "decisions": [{"text": "   "}]},
     "decisions.0.text"),
    (schemas.MusrenbangSchema, {"version": 1, "forum": "kelurahan", "reference": "  ",
                                "submitted_on": "2024-08-20"}, "reference"),
])
def test_text_that_is_only_spaces_is_refused(schema, data, field):
    """A signature by "   ", or a meeting held at "  ", traces the record to nobody and
    nowhere (as the cycle's activities refuse it: shared.schemas.Written)."""
    with pytest.raises(InvalidInput, match="only spaces") as error:
        load(schema(), data)
    assert error.value.field == field


def test_content_text_that_is_only_spaces_is_refused():
    assert refused("rplp", {**samples.rplp(SHA), "vision": "   "}).field == "content.vision"
    rules = samples.aturan_bersama()
    rules["rules"][0]["agreed_rule"] = " \n "
    assert refused("aturan_bersama", rules).field == "content.rules.0.agreed_rule"
