"""What the audit reads from payloads, and its input validation (errors name the field)."""
import re

import pytest

from services.audit import references, schemas
from shared.chassis.errors import InvalidInput, load

EVENT = "9637c80a-ced8-4d24-8f5d-a49579ebc045"
HASH = "ab" * 32


def test_village_codes_come_from_the_payload_and_the_stream_id():
    assert references.village_codes("village-52.01.08.2006", {"code": "52.01.08.2006"}) == [
        "52.01.08.2006"]
    assert references.village_codes("document-52.01.08.2006-rplp", {}) == ["52.01.08.2006"]
    assert references.village_codes("meeting-77", {"code": "31.71.01.1001"}) == [
        "31.71.01.1001"]
    assert references.village_codes("quota-52.01", {"kabupaten": {"code": "52.01"}}) == []
    assert references.village_codes("ruleset-plpbk-seed", {"code": 7}) == []


QUOTA = {"kabupaten": {"code": "52.01", "name": "Lombok Barat"}, "quota": 2}


def test_region_codes_come_from_a_kind_region_stream_id_and_payload_kabupaten():
    assert references.codes_about("quota-52.01", QUOTA) == ["52.01"]
    assert references.codes_about("quota-52.01", {}) == ["52.01"]
    assert references.codes_about("survey-52", {}) == ["52"]              # any word
    assert references.codes_about("survey_round-52.01.08", {}) == ["52.01.08"]
    assert references.codes_about("report-x", {"kabupaten": "52.01"}) == ["52.01"]
    assert references.codes_about("village-52.01.08.2006", {
        "code": "52.01.08.2006", "kabupaten": {"code": "52.01"}}) == ["52.01.08.2006", "52.01"]
    # a meeting whose id looked like a region is about its village, not about 52.02
    assert references.codes_about("meeting-52.02", {"code": "52.01.08.2001"}) == [
        "52.01.08.2001"]


def test_names_people_choose_are_never_read_as_region_codes():
    """Usernames and rule-set ids admit a-52 (so user-a-52 ends in "52"); a stream of a
    chosen name is about no region whatever its name looks like."""
    from services.gateway.schemas import USERNAME
    from services.registration.schemas import RuleSetSchema
    assert re.fullmatch(USERNAME, "a-52.01")
    assert RuleSetSchema().validate({"id": "a-52"}).get("id") is None
    for stream in ("user-a-52", "user-a-52.01", "user-52", "apikey-52", "ruleset-a-52",
                   "ruleset-52", "meeting-52.02", "quota-52.01-x", "x-quota-52.01",
                   "quota-52.1", "quota-52.01.0", "quota-520", "Quota-52.01", "quota-٥٢.01",
                   "quota-52.01\n", "quota-52.01.08.2006"):
        assert references.region_codes(stream, {}) == [], stream
    for kabupaten in ("52", "52.01.08", "52.01 ", {"code": "52.01.08"}, {"name": "52.01"},
                      52.01, ["52.01"], None):
        assert references.region_codes("report-x", {"kabupaten": kabupaten}) == [], kabupaten


@pytest.mark.parametrize("prefix, sees", [
    ("52", True), ("52.01", True), ("52.02", False), ("52.01.08", False),
    ("52.01.08.2001", False), ("31", False)])
def test_a_region_is_in_the_scope_of_the_regions_that_contain_it(prefix, sees):
    assert references.in_scope(references.codes_about("quota-52.01", QUOTA), prefix) is sees


def test_references_rules_results_and_attachments():
    payload = {"code": "52.01.08.2006", "rule_set": {"id": "plpbk-seed", "version": 2},
               "template": {"id": "t", "version": 1, "extra": True},
               "criteria": [{"criterion": "a", "result": "pass", "evidence": EVENT},
                            {"criterion": "b", "result": "missing", "evidence": None}],
               "overrides": EVENT.upper(),
               "files": [{"file_name": "peta.png", "sha256": HASH},
                         {"name": "x", "sha256": "not-a-hash"}],
               "minutes_sha256": HASH}
    assert references.uuid_references(payload) == [("criteria[0].evidence", EVENT)]
    assert references.rule_versions(payload) == [
        {"field": "rule_set", "id": "plpbk-seed", "version": 2}]
    assert [r["criterion"] for r in references.rule_results(payload)] == ["a", "b"]
    assert references.attachments(payload) == [
        {"path": "files[0].sha256", "sha256": HASH, "name": "peta.png"},
        {"path": "minutes_sha256", "sha256": HASH, "name": None}]


@pytest.mark.parametrize("text, expected", [
    ("2026-03-01", "2026-03-01T23:59:59.999999Z"),
    ("2026-03-01T08:00:00+07:00", "2026-03-01T01:00:00.000000Z"),
    ("2026-03-01T01:00:00.000001Z", "2026-03-01T01:00:00.000001Z"),
    # the cycle's forms are all taken too (shared.moments)
    ("2026-03-01T08:00Z", "2026-03-01T08:00:00.000000Z"),
    ("2026-03-01T08:00:00.5-03:30", "2026-03-01T11:30:00.500000Z"),
    ("0001-01-01", "0001-01-01T23:59:59.999999Z"),
])
def test_moments_are_read_as_the_ledger_writes_times(text, expected):
    assert schemas.moment(text) == expected


@pytest.mark.parametrize("text, why", [
    ("yesterday", "not an ISO-8601"), ("2026-02-30", "not a calendar date"),
    ("2026-03-01T08:00:00", "no time zone"), ("", "must be"), (None, "must be")])
def test_a_malformed_moment_names_the_field(text, why):
    with pytest.raises(InvalidInput, match=why) as bad:
        schemas.moment(text, "as_of")
    assert bad.value.field == "as_of"


@pytest.mark.parametrize("text", [
    " 2026-03-01", "2026-03-01 ", "2026-03-01\n", "\t2026-03-01", "2026-03-01\r\n",
    " 2026-03-01T08:00:00Z", "2026-03-01T08:00:00+07:00 ", "2026-03-01T08:00:00Z\n",
    "\u00a02026-03-01", "2026-03-01\u3000", " "])
def test_a_moment_is_taken_exactly_never_trimmed(text):
    """As the cycle reads its as_of: a space or a line break around a moment is bad
    input naming the field, not trimmed away."""
    with pytest.raises(InvalidInput, match="ISO-8601") as bad:
        schemas.moment(text, "as_of")
    assert bad.value.field == "as_of"
    for member in ("from", "to"):
        with pytest.raises(InvalidInput) as bad:
            schemas.bundle_scope({"region": "52", member: text})
        assert bad.value.field == member


@pytest.mark.parametrize("text", [
    "\u0662\u0660\u0662\u0666-\u0660\u0663-\u0660\u0661",   # 2026-03-01 in Arabic-Indic digits
    "\uff12\uff10\uff12\uff16-03-01",                  # full-width year
    "2026-03-01T0\u0668:00:00Z",
    "2026-03-01 08:00:00Z", "2026-03-01t08:00:00Z", "20260301", "20260301T080000Z",
    "2026-W09-1", "2026-060", "2026-03-01T08Z", "2026-03-01T08:00:00.1234567Z",
    "2026-03-01T08:00:00+0700", "2026-03-01T08:00:00z", "2026-03-01T08:00:00,5Z",
    "2026-3-1"])
def test_a_moment_is_one_of_the_cycles_forms(text):
    """Only what the cycle's as_of takes: a date YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS[.f]]
    with Z or +HH:MM, in the digits 0-9."""
    with pytest.raises(InvalidInput) as bad:
        schemas.moment(text, "as_of")
    assert bad.value.field == "as_of"


def test_codes_ids_ledgers_and_scopes_are_checked():
    for call, value, field in ((schemas.village_code, "5201082006", "code"),
                               (schemas.event_id, "not-an-id", "event_id"),
                               (schemas.ledger_name, "Registration!", "ledger"),
                               (schemas.tree_size, -1, "tree_size")):
        with pytest.raises(InvalidInput) as bad:
            call(value)
        assert bad.value.field == field
    # a period of dates holds both days whole
    assert schemas.bundle_scope({"region": "52.01", "from": "2026-01-01", "to": "2026-01-01"}) \
        == {"region": "52.01", "from": "2026-01-01T00:00:00.000000Z",
            "to": "2026-01-01T23:59:59.999999Z"}
    for scope, field in (({}, "village"), ({"village": "52.01", "region": "52"}, "village"),
                         ({"village": "52.01"}, "village"), ({"region": "5x"}, "region"),
                         ({"region": "52", "from": "2026-02-01", "to": "2026-01-01"}, "to"),
                         ({"region": "52", "to": "soon"}, "to"),
                         ({"region": "52", "colour": "red"}, "colour"),
                         (None, "scope"), ("52.01", "scope"), (["52"], "scope")):
        with pytest.raises(InvalidInput) as bad:
            schemas.bundle_scope(scope)
        assert bad.value.field == field, (scope, str(bad.value))


@pytest.mark.parametrize("text", [
    "2026-03-01", "2026-03-01T08:00Z", "2026-03-01T08:00:00+07:00", "2026-03-01T08:00:00.5Z",
    "2026-03-01T08:00:00.123456-03:30", "2026-02-30", "2026-03-01T25:00Z", " 2026-03-01",
    "2026-03-01\n", "2026-03-01T08:00:00", "2026-03-01 08:00Z", "20260301", "2026-W09-1",
    "\u0662\u0660\u0662\u0666-\u0660\u0663-\u0660\u0661", "2026-03-01T08:00:00+0700", "yesterday", "",
    "0001-01-01T00:00:00+14:00", "2026-03-01T08:00:00+07:00 ", 20260301])
def test_the_audit_and_the_cycle_read_a_moment_with_the_one_reader(text):
    """Both read a moment with shared.moments: the same text is taken by both, meaning
    the same instant, or refused by both with the same words (the cycle's DaySchema: its
    as_of without the not-in-the-future rule)."""
    from marshmallow import ValidationError

    from services.cycle.schemas import DaySchema
    from shared import moments
    from shared.ledger.envelope import format_time
    try:
        expected = format_time(moments.instant(moments.read(text))), None
    except ValidationError as exc:
        expected = None, " ".join(exc.messages)
    try:
        audit = schemas.moment(text, "as_of"), None
    except InvalidInput as exc:
        audit = None, (exc.field, exc.message)
    try:
        cycle = format_time(load(DaySchema(), {"as_of": text})["as_of"].moment), None
    except InvalidInput as exc:
        cycle = None, (exc.field, exc.message)
    refused = expected[1] is not None
    assert audit == (None, ("as_of", expected[1])) if refused else expected
    assert cycle == (None, ("as_of", f"as_of: {expected[1]}")) if refused else expected


@pytest.fixture
def evening_of_29_november(monkeypatch):
    """20:00 UTC on 29 November: already 30 November in Papua (UTC+9)."""
    from datetime import UTC, datetime

    import shared.schemas
    now = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    monkeypatch.setattr(shared.schemas, "utc_now", lambda: now)
    return now


@pytest.mark.parametrize("text", [
    "2026-12-01", "2026-11-29T20:00:00.000001Z", "2026-11-30T04:00:01+08:00", "9999-12-31",
    "2027-01-01T00:00Z"])
def test_a_moment_in_the_future_is_refused(evening_of_29_november, text):
    """As the cycle's as_of: the state as of a moment still to come can change before it
    comes, so an answer now would not be the answer then; a bundle's period that ends or
    starts in the future claims events that are not recorded yet."""
    with pytest.raises(InvalidInput, match="in the future") as bad:
        schemas.moment(text, "as_of")
    assert bad.value.field == "as_of"
    for member in ("from", "to"):
        with pytest.raises(InvalidInput, match="in the future") as bad:
            schemas.bundle_scope({"region": "52", member: text})
        assert bad.value.field == member


@pytest.mark.parametrize("text, expected", [
    ("2026-11-30", "2026-11-30T23:59:59.999999Z"),   # today in Papua, the latest date
    ("2026-11-29T20:00Z", "2026-11-29T20:00:00.000000Z"),
    ("2026-11-30T05:00:00+09:00", "2026-11-29T20:00:00.000000Z")])
def test_a_moment_up_to_now_is_taken(evening_of_29_november, text, expected):
    assert schemas.moment(text, "as_of") == expected


@pytest.mark.parametrize("args, said", [
    (["52.01.08.2006", "--from", ""], "--from: must be an ISO-8601"),
    (["52.01.08.2006", "--to", ""], "--to: must be an ISO-8601"),
    (["52.01.08.2006", "--to", "2026-01-01 "], "--to: '2026-01-01 ' has spaces"),
    (["--prefix", "52", "--from", "2026-02-01", "--to", "2026-01-31"],
     "--to: the period ends before it starts"),
    (["52.01.08.2006", "--from", "9999-01-01"], "--from: must not be in the future"),
    (["52.01.08.2006 "], "CODE: must be a Kemendagri village code"),
    (["", "--prefix", "52"], "give either a village CODE or --prefix"),
    (["52.01"], "CODE: 52.01 is a region, not a village code: export it with --prefix 52.01"),
])
def test_export_refuses_its_scope_exactly_before_asking_anyone(tmp_path, args, said):
    """An empty --from was dropped and the whole history exported; each bad value is now
    refused naming it, before a file is made or the broker is asked (none listens here)."""
    from click.testing import CliRunner

    from services.cli import cli
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(cli, ["audit", "export", *args, "--out", str(out),
                                      "--amqp", "amqp://guest:guest@127.0.0.1:1//"])
    assert result.exit_code == 2 and said in " ".join(result.output.split()), result.output
    assert not out.exists()
