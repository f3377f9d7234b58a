"""A trailing newline is no part of any identifier: Python's `$` matches before one, so
every pattern check is a whole-value match (shared.patterns)."""
import pytest
from marshmallow import ValidationError

from services.gateway.idempotency import KEY_PATTERN
from services.registration import schemas as registration
from shared import regions
from shared.ledger import AppendRequest, InvalidEvent, LedgerUnavailable, NewEvent, open_ledger
from shared.ledger.envelope import validate_append
from shared.patterns import Pattern


def test_the_validator_matches_the_whole_value():
    two_digits = Pattern(r"^\d{2}$")
    assert two_digits("52") == "52"
    for bad in ("52\n", "5", "520", "x52"):
        with pytest.raises(ValidationError):
            two_digits(bad)


@pytest.mark.parametrize("value", ["52.01\n", "52.01\r\n", "\n52.01"])
def test_a_kabupaten_with_a_newline_is_refused(value):
    errors = registration.QuotaSchema().validate(
        {"kabupaten": value, "quota": 1, "decree_reference": "SK 1"})
    assert "kabupaten" in errors


def test_codes_and_prefixes_are_whole():
    assert regions.is_village_code("52.01.08.2006")
    assert not regions.is_village_code("52.01.08.2006\n")
    assert regions.is_region_prefix("52.01")
    assert not regions.is_region_prefix("52.01\n")
    assert KEY_PATTERN.fullmatch("key-1") and not KEY_PATTERN.fullmatch("key-1\n")


def test_the_ledger_refuses_names_types_and_streams_with_a_newline(tmp_path):
    with pytest.raises(LedgerUnavailable):
        open_ledger(f"sqlite:///{tmp_path}", "registration\n")
    for stream, kind in [("village-52.01.08.2006\n", "VillageRegistered"),
                         ("village-52.01.08.2006", "VillageRegistered\n")]:
        with pytest.raises(InvalidEvent):
            validate_append(AppendRequest(stream, 0, [NewEvent(kind, {})]))


def test_times_out_of_range_in_utc_and_early_years_are_handled():
    from datetime import datetime, timedelta, timezone
    from shared.ledger.envelope import format_time, parse_time
    with pytest.raises(InvalidEvent, match="out of range"):
        parse_time("0001-01-01T00:00:00+14:00")
    early = datetime(999, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert format_time(early) == "0999-01-02T03:04:05.000000Z"
    assert format_time(datetime(2026, 3, 1, 15, tzinfo=timezone(timedelta(hours=7)))) == \
        "2026-03-01T08:00:00.000000Z"


# Python's \d is any Unicode digit: these read as 52.01.08.2006 to int() and to \d, but
# no official code is written so, and the region scope compares them as other text.
ARABIC_INDIC = "٥٢.٠١.٠٨.٢٠٠٦"
FULL_WIDTH = "５２.０１.０８.２００６"
DEVANAGARI = "५२.०१.०८.२००६"
MIXED = "52.01.08.2٠06"


@pytest.mark.parametrize("code", [ARABIC_INDIC, FULL_WIDTH, DEVANAGARI, MIXED])
def test_codes_and_prefixes_are_ascii_digits_only(code):
    from shared.chassis.errors import InvalidInput
    from shared.schemas import VillageCode, official_village, village_code
    assert not regions.is_village_code(code)
    for prefix in (code, code[:2], code[:5], code[:8]):
        if not prefix.isascii():
            assert not regions.is_region_prefix(prefix), prefix
            assert not regions.REGION_PREFIX.fullmatch(prefix)
    assert regions.village(code) is None
    for check in (village_code, official_village):
        with pytest.raises(InvalidInput, match="PP.KK.CC.DDDD") as bad:
            check(code)
        assert (type(bad.value), bad.value.field) == (InvalidInput, "code")
    with pytest.raises(ValidationError, match="PP.KK.CC.DDDD"):
        VillageCode().deserialize(code)


def test_every_code_pattern_of_the_gateway_is_ascii_only():
    """The gateway's own path and body patterns (ranking region, selection kabupaten,
    meeting id, user and key regions) refuse other scripts' digits too."""
    from services.gateway.routes.planning import MeetingPath
    from services.gateway.routes.registration import RankingPath
    from services.registration.schemas import SelectionSchema   # the gateway's body too
    from services.gateway.schemas import NewUserSchema
    from services.audit.references import village_codes
    assert RankingPath().validate({"region": "٥٢.٠١"}) == {
        "region": ["must be a province (PP) or kabupaten/kota (PP.KK) code"]}
    assert "kabupaten" in SelectionSchema().validate({"kabupaten": "５２.０１"})
    assert "meeting_id" in MeetingPath().validate({"meeting_id": f"{ARABIC_INDIC}-0123456789ab"})
    assert "region" in NewUserSchema().validate({"username": "ani", "name": "Ani",
                                                 "role": "district", "region": "٥٢.٠١"})
    assert village_codes(f"village-{ARABIC_INDIC}", {"code": FULL_WIDTH}) == []


@pytest.mark.parametrize("text", ["٣١.٥", "３１.５", "31.٥", " 31.5", "31.5 ", "31.5\n", "+31.5",
                                  "31_5", "3_1.5", "1e1", "31,5", ".5", "31.", "NaN", "-Infinity",
                                  "0x1f", ""])
def test_a_decimal_written_as_text_is_plain_ascii_digits(text):
    """Decimal() reads '٣١.٥' and ' 31.5' as 31.5 and '31_5' as 315: a decimal in text is
    digits 0-9 with an optional minus and decimal point, or it is refused, not recorded."""
    from shared.schemas import DecimalString
    with pytest.raises(ValidationError) as bad:
        DecimalString(places=2).deserialize(text)
    assert "digits 0-9" in " ".join(bad.value.messages)


@pytest.mark.parametrize("given, recorded", [("31.5", "31.50"), ("0", "0.00"), ("-2.25", "-2.25"),
                                             (31.5, "31.50"), (30, "30.00"), ("007.1", "7.10")])
def test_plain_decimals_and_json_numbers_are_taken(given, recorded):
    from shared.schemas import DecimalString
    assert DecimalString(places=2).deserialize(given) == recorded


@pytest.mark.parametrize("given", ["-0", "-0.0", "-0.00", -0.0])
def test_negative_zero_is_recorded_as_zero(given):
    """Decimal keeps the sign of zero: '-0.00' would be a percentage no form has, and it
    compares equal to '0.00' while its stored bytes differ."""
    from shared.schemas import DecimalString
    assert DecimalString(places=2).deserialize(given) == "0.00"


@pytest.mark.parametrize("text", ["٢", "２", "२", "1٠", "²", " 2", "2 ", "2\n", "+2", "2_0", "0x2",
                                  "2.0", "1e1", "", "-", "--2", "9" * 16, "9" * 5000])
def test_a_whole_number_in_text_is_plain_ascii_digits(text):
    """int() reads '٢' and '２' as 2, ' 2' and '+2' as 2, '2_0' as 20."""
    from shared.patterns import whole_number
    for negative in (False, True):
        with pytest.raises(ValidationError, match="whole number"):
            whole_number(text, negative=negative)


def test_a_minus_only_where_negatives_make_sense():
    from shared.patterns import whole_number
    assert whole_number("2") == 2 and whole_number("007") == 7
    assert whole_number("9" * 15) == 999_999_999_999_999
    assert whole_number("-3", negative=True) == -3
    with pytest.raises(ValidationError, match="digits 0-9 only"):
        whole_number("-3")
    with pytest.raises(ValidationError, match="whole number"):
        whole_number(3)   # text only: a number is the schema's to judge


def test_the_kabupaten_code_validator_takes_pp_kk_in_ascii_digits_only():
    from shared.patterns import KABUPATEN_CODE
    assert KABUPATEN_CODE("52.01") == "52.01"
    assert KABUPATEN_CODE.regex.pattern == r"^[0-9]{2}\.[0-9]{2}$"   # as OpenAPI shows it
    for bad in (ARABIC_INDIC[:5], FULL_WIDTH[:5], DEVANAGARI[:5], "52.0١", "52.01\n", "52",
                "52.01.08"):
        with pytest.raises(ValidationError, match="PP.KK"):
            KABUPATEN_CODE(bad)
