"""Input validation: every bad field is named; money and dates come out exact strings/ints."""
import base64

import pytest

from services.planning import schemas
from shared.chassis.errors import InvalidInput, load

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
