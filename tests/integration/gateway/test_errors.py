"""Every bad input gets a 4xx naming the problem; failures elsewhere get 502/503; never
a 500, never a traceback."""
import socket

import eventlet
import orjson
import pytest
import requests
from nameko.rpc import rpc

from services.gateway import health

from .conftest import Client, start_gateway
from .test_api import NEIGHBOUR, registration_records

BAJUR = "52.01.08.2006"


@pytest.fixture
def district(as_user):
    return as_user("district", "52.01")


def expect(answer, status, field, error=None):
    assert answer.status_code == status, (answer.status_code, answer.text)
    body = answer.json()
    assert set(body) == {"error", "message", "field"}
    assert body["field"] == field, body
    if error:
        assert body["error"] == error
    assert "Traceback" not in answer.text
    return body


def test_bad_bodies(gateway, district):
    url = "/api/v1/villages"
    raw = {"Content-Type": "application/json"}
    expect(district.post(url, data=b'{"code": "52.01', headers=raw), 400, "body",
           "InvalidInput")
    expect(district.post(url, data=b'\xff\xfe', headers=raw), 400, "body")
    expect(district.post(url, json=[BAJUR]), 400, "body")
    expect(district.post(url, json={"code": 5201082006}), 400, "code")
    body = expect(district.post(url, json={"code": BAJUR, "name": "Made up"}), 400, "name")
    assert "Unknown field" in body["message"]
    expect(district.post(url, json={}), 400, "code")
    expect(district.post(url, data="code=1", headers={
        "Content-Type": "application/x-www-form-urlencoded"}), 415, "Content-Type")
    expect(district.post(f"{url}/{BAJUR}/eligibility/decisions", json={"x": 1}), 400, "body")
    expect(district.post(f"{url}/{BAJUR}/indicators", json={
        "indicators": {"poverty_rate": "lots"}, "source_document": "x",
        "observed_on": "2024-01-01"}), 400, "indicators.poverty_rate")


def test_control_characters_in_a_body_are_400_naming_the_field(gateway, district):
    url = f"/api/v1/villages/{BAJUR}/indicators"
    evidence = {"indicators": {"poverty_rate": "31.5"}, "observed_on": "2024-01-01"}
    history = district.get(f"/api/v1/villages/{BAJUR}/eligibility/history").json()
    for text, field in [("BPS\u0000 2024", "source_document"), ("BPS\u0007", "source_document"),
                        ("BPS\f", "source_document"), ("BPS\u0085", "source_document")]:
        expect(district.post(url, json={**evidence, "source_document": text}), 400, field)
    expect(district.post(url, json={**evidence, "source_document": "x",
                                     "indicators": {"poverty_rate": "31.5\u007f"}}), 400,
           "indicators.poverty_rate")
    assert district.get(f"/api/v1/villages/{BAJUR}/eligibility/history").json() == history
    fine = district.post(url, json={**evidence, "source_document": "BPS\t2024 \u00e9"})
    assert fine.status_code == 404 and fine.json()["field"] != "source_document"  # unknown
    # village here: the text itself passed


def test_a_value_the_ledger_cannot_record_is_400(gateway, as_user):
    ministry = as_user("ministry")
    rule_set = ministry.get("/api/v1/eligibility/rule-set").json()
    criteria = [dict(c) for c in rule_set["criteria"]]
    criteria[0]["threshold"] = 25.5          # a float: the ledger takes decimal strings
    body = expect(ministry.post("/api/v1/eligibility/rule-sets", json={
        "id": "with-a-float", "criteria": criteria}), 400, "criteria.0.threshold",
        "InvalidInput")
    assert "float" in body["message"]


@pytest.mark.parametrize("index, change, field", [
    (0, {"threshold": "NaN"}, "criteria.0.threshold"),
    (3, {"threshold": "-Infinity"}, "criteria.3.threshold"),
    (3, {"threshold": "1e3"}, "criteria.3.threshold"),
    (2, {"threshold": "excellent"}, "criteria.2.threshold"),
    (1, {"field": "colour"}, "criteria.1.field"),
    (4, {"criterion": "poverty_rate"}, "criteria.4.criterion"),
])
def test_a_bad_criterion_is_named_by_its_place_in_the_request(gateway, as_user,
                                                              gateway_config, index, change,
                                                              field):
    ministry = as_user("ministry")
    active = ministry.get("/api/v1/eligibility/rule-set").json()
    recorded = registration_records(gateway_config)
    criteria = [{k: v for k, v in c.items()} for c in active["criteria"]]
    criteria[index].update(change)
    body = expect(ministry.post("/api/v1/eligibility/rule-sets", json={
        "id": active["id"], "criteria": criteria}), 400, field, "InvalidInput")
    assert body["message"].startswith(f"{field}: ")
    assert registration_records(gateway_config) == recorded
    assert ministry.get("/api/v1/eligibility/rule-set").json() == active


def test_bad_paths_parameters_and_headers(gateway, district):
    expect(district.get("/api/v1/villages/5201082006"), 400, "code")
    expect(district.get("/api/v1/villages?colour=red"), 400, "colour")
    expect(district.get("/api/v1/villages?page=1&page=2"), 400, "page")
    expect(district.get("/api/v1/villages?page=zero"), 400, "page")
    for listing in ("/api/v1/villages", "/api/v1/cycles", "/api/v1/planning/pending"):
        expect(district.get(f"{listing}?page=99999999999999999999"), 400, "page")
    expect(district.get("/api/v1/villages?status=happy"), 400, "status")
    expect(district.get(f"/api/v1/villages/{BAJUR}?x=1"), 400, "x")
    expect(district.get("/api/v1/villages", headers={"X-Correlation-Id": "bad id!"}), 400,
           "X-Correlation-Id")
    expect(district.post("/api/v1/villages", json={"code": BAJUR},
                         headers={"Idempotency-Key": "has spaces"}), 400, "Idempotency-Key")
    expect(district.get("/api/v1/audit/ledgers/registration/records/first/proof"), 400,
           "position")


# int() reads each of these as a number: page=٢ as 2, '2_0' as 20, ' 2' and '+2' as 2
NOT_PLAIN_DIGITS = ["٢", "２", "२", "1٠", " 2", "2 ", "+2", "-2", "2_0", "0x2", "2.0",
                    "1e1", "²", "2\n", ""]


@pytest.mark.parametrize("value", NOT_PLAIN_DIGITS)
def test_a_number_in_the_query_or_path_is_plain_ascii_digits(gateway, as_user, value):
    """Whole numbers in a query string or path are written with 0-9 only: anything else
    is a 400 naming the parameter, never read as another number."""
    auditor = as_user("auditor")
    for name in ("page", "page_size"):
        body = expect(auditor.get("/api/v1/villages", params={name: value}), 400, name,
                      "InvalidInput")
        assert "digits 0-9" in body["message"], body
    expect(auditor.get("/api/v1/cycles", params={"stage": value}), 400, "stage",
           "InvalidInput")
    expect(auditor.get("/api/v1/cycles/template", params={"version": value}), 400,
           "version", "InvalidInput")
    expect(auditor.get("/api/v1/audit/ledgers/registration/consistency",
                       params={"first": value}), 400, "first", "InvalidInput")
    expect(auditor.get("/api/v1/audit/ledgers/registration/consistency",
                       params={"first": "1", "second": value}), 400, "second",
           "InvalidInput")
    expect(auditor.get(f"/api/v1/villages/{BAJUR}/documents/rplp/diff",
                       params={"from_version": value, "to_version": "2"}), 400,
           "from_version", "InvalidInput")
    expect(auditor.get("/api/v1/audit/ledgers/registration/records/1/proof",
                       params={"tree_size": value}), 400, "tree_size", "InvalidInput")
    if value.strip() and "\n" not in value:   # as a path segment too
        expect(auditor.get(f"/api/v1/audit/ledgers/registration/records/{value}/proof"),
               400, "position", "InvalidInput")
        expect(auditor.get(f"/api/v1/villages/{BAJUR}/documents/rplp/versions/{value}"),
               400, "version", "InvalidInput")


def test_plain_digits_are_read_as_numbers(gateway, as_user):
    auditor = as_user("auditor")
    listed = auditor.get("/api/v1/villages", params={"page": "2", "page_size": "007"})
    assert listed.status_code == 200, listed.text
    assert (listed.json()["page"], listed.json()["page_size"]) == (2, 7)
    for value, field in (("-1", "page"), ("0", "page"), ("100001", "page"),
                         ("12345678901234567890123", "page")):
        body = expect(auditor.get("/api/v1/villages", params={field: value}), 400, field,
                      "InvalidInput")
        assert "Traceback" not in body["message"]
    expect(auditor.get("/api/v1/villages", params={"page": "9" * 5000}), 400, "page",
           "InvalidInput")   # more digits than int() converts: still the parameter's 400


@pytest.mark.parametrize("moment", [" 2026-03-01", "2026-03-01 ", "2026-03-01\n",
                                    "\t2026-03-01T08:00:00Z", "2026-03-01T08:00:00+07:00\r\n",
                                    "\u0662\u0660\u0662\u0666-\u0660\u0663-\u0660\u0661", "2026-03-01 08:00:00Z"])
def test_an_audit_moment_is_taken_exactly(gateway, as_user, moment):
    """The audit reads as_of (and a bundle's from and to) as the cycle reads its as_of:
    exactly, so a space or a line break around it is a 400 naming the field."""
    auditor = as_user("auditor")
    for route in ("history", "state"):
        body = expect(auditor.get(f"/api/v1/audit/villages/{BAJUR}/{route}",
                                  params={"as_of": moment}), 400, "as_of", "InvalidInput")
        assert "ISO-8601" in body["message"]
    expect(auditor.get(f"/api/v1/villages/{BAJUR}/cycle", params={"as_of": moment}), 400,
           "as_of", "InvalidInput")   # the cycle refuses it alike
    for member in ("from", "to"):
        expect(auditor.post("/api/v1/audit/bundles",
                            json={"village": BAJUR, member: moment}), 400, member,
               "InvalidInput")


def test_a_village_code_must_be_exactly_one_never_trimmed(gateway, district, gateway_config):
    """A code with a line break or spaces around it is refused (400, field code), in a
    path, a body or an import row, and nothing is recorded for it."""
    assert district.post("/api/v1/villages", json={"code": BAJUR}).status_code == 201
    district.get("/api/v1/eligibility/rule-set")   # the seed rule set, published on first use
    recorded = registration_records(gateway_config)
    village = district.get(f"/api/v1/villages/{BAJUR}").json()
    evidence = {"indicators": {"poverty_rate": "31.5"}, "source_document": "BPS 2024",
                "observed_on": "2024-01-01"}
    bkm = {"name": "BKM Bajur", "formed_on": "2019-03-01",
           "members": [{"name": "Siti", "sex": "P", "role": "koordinator"}]}
    for padded in (f"{BAJUR}%0A", f"{BAJUR}%0D%0A", f"{BAJUR}%20", f"%20{BAJUR}",
                   f"{BAJUR}%09"):
        url = f"/api/v1/villages/{padded}"
        body = expect(district.get(url), 400, "code", "InvalidInput")
        assert "PP.KK.CC.DDDD" in body["message"]
        expect(district.post(f"{url}/indicators", json=evidence), 400, "code")
        expect(district.put(f"{url}/bkm", json=bkm), 400, "code")
        expect(district.post(f"{url}/eligibility/decisions"), 400, "code")
        expect(district.get(f"{url}/cycle"), 400, "code")
    for padded in (f"{NEIGHBOUR}\n", f" {NEIGHBOUR}", f"{NEIGHBOUR} ", f"{NEIGHBOUR}\r\n"):
        expect(district.post("/api/v1/villages", json={"code": padded}), 400, "code")
    row = {"source_document": "BPS 2024", "observed_on": "2024-01-01", "poverty_rate": "31.5"}
    rows = [{"line": 2, "code": f"{NEIGHBOUR} ", **row},
            {"line": 3, "code": f"{NEIGHBOUR}\n", **row},
            {"line": 4, "code": f" {BAJUR}", **row}]
    report = district.post("/api/v1/villages/imports", json={"rows": rows})
    assert report.status_code == 200, report.text
    assert (report.json()["recorded"], report.json()["unchanged"]) == (0, 0)
    assert [(e["line"], e["reason"]) for e in report.json()["errors"]] == [
        (line, "code: must be a Kemendagri village code PP.KK.CC.DDDD") for line in (2, 3, 4)]
    assert registration_records(gateway_config) == recorded
    assert district.get(f"/api/v1/villages/{BAJUR}").json() == village
    expect(district.get(f"/api/v1/villages/{NEIGHBOUR}"), 404, "code")


ARABIC_INDIC = "٥٢.٠١.٠٨.٢٠٠٦"   # 52.01.08.2006 in Arabic-Indic digits
FULL_WIDTH = "５２.０１.０８.２００６"     # and in full-width digits


@pytest.mark.parametrize("code", [ARABIC_INDIC, FULL_WIDTH])
def test_a_code_in_other_digits_is_400_naming_the_field(gateway, as_user, gateway_config,
                                                          code):
    """Python's \\d and int() read other scripts' digits; a code is ASCII digits only,
    so such a code is bad input (400), not a village outside the scope (403) or an
    unknown one (404)."""
    district, ministry = as_user("district", "52.01"), as_user("ministry")
    assert district.post("/api/v1/villages", json={"code": BAJUR}).status_code == 201
    district.get("/api/v1/eligibility/rule-set")   # the seed rule set, published on first use
    recorded = registration_records(gateway_config)
    for client in (district, ministry):
        body = expect(client.get(f"/api/v1/villages/{code}"), 400, "code", "InvalidInput")
        assert "PP.KK.CC.DDDD" in body["message"]
        expect(client.post("/api/v1/villages", json={"code": code}), 400, "code",
               "InvalidInput")
        expect(client.get(f"/api/v1/villages/{code}/cycle"), 400, "code", "InvalidInput")
        expect(client.get(f"/api/v1/villages/{code}/documents"), 400, "code", "InvalidInput")
        expect(client.get(f"/api/v1/audit/villages/{code}/history"), 400, "code",
               "InvalidInput")
        expect(client.get("/api/v1/villages", params={"region": code[:5]}), 400, "region",
               "InvalidInput")
        expect(client.get(f"/api/v1/rankings/{code[:5]}"), 400, "region", "InvalidInput")
        expect(client.get(f"/api/v1/meetings/{code}-0123456789ab"), 400, "meeting_id",
               "InvalidInput")
    expect(ministry.post("/api/v1/selections", json={"kabupaten": code[:5]}), 400,
           "kabupaten", "InvalidInput")
    expect(ministry.post("/api/v1/audit/bundles", json={"village": code}), 400, "village",
           "InvalidInput")
    report = district.post("/api/v1/villages/imports", json={"rows": [
        {"line": 2, "code": code, "source_document": "BPS 2024",
         "observed_on": "2024-01-01", "poverty_rate": "31.5"}]})
    assert report.status_code == 200, report.text
    assert [(e["line"], e["reason"]) for e in report.json()["errors"]] == [
        (2, "code: must be a Kemendagri village code PP.KK.CC.DDDD")]
    assert registration_records(gateway_config) == recorded


def test_today_is_the_date_in_papua(gateway, district, monkeypatch):
    """At 08:00 WIT on 30 November (29 November in UTC) evidence observed on 30 November
    is not in the future; 1 December is, named by its field. The clock is fixed."""
    import shared.schemas
    from datetime import UTC, datetime
    monkeypatch.setattr(shared.schemas, "utc_now",
                        lambda: datetime(2026, 11, 29, 23, 0, tzinfo=UTC))
    assert district.post("/api/v1/villages", json={"code": BAJUR}).status_code == 201
    url = f"/api/v1/villages/{BAJUR}/indicators"
    evidence = {"indicators": {"poverty_rate": "31.5"}, "source_document": "BPS 2026"}
    body = expect(district.post(url, json={**evidence, "observed_on": "2026-12-01"}), 400,
                  "observed_on", "InvalidInput")
    assert body["message"] == "observed_on: must not be in the future"
    taken = district.post(url, json={**evidence, "observed_on": "2026-11-30"})
    assert taken.status_code == 200, taken.text


@pytest.mark.parametrize("text", ["٣١.٥", "３１.５", " 31.5", "31.5 ", "3_1.5", "1e1"])
def test_a_decimal_in_text_is_plain_ascii_digits(gateway, district, gateway_config, text):
    """Decimal() reads '٣١.٥' as 31.5: evidence written so is a 400 naming the indicator,
    in a body and in an import row, and nothing is recorded."""
    assert district.post("/api/v1/villages", json={"code": BAJUR}).status_code == 201
    district.get("/api/v1/eligibility/rule-set")   # the seed rule set, published on first use
    recorded = registration_records(gateway_config)
    body = expect(district.post(f"/api/v1/villages/{BAJUR}/indicators", json={
        "indicators": {"poverty_rate": text}, "source_document": "BPS 2024",
        "observed_on": "2024-01-01"}), 400, "indicators.poverty_rate", "InvalidInput")
    assert "digits 0-9" in body["message"]
    report = district.post("/api/v1/villages/imports", json={"rows": [
        {"line": 2, "code": BAJUR, "source_document": "BPS 2024",
         "observed_on": "2024-01-01", "poverty_rate": text}]})
    assert report.status_code == 200, report.text
    assert [(e["line"], e["reason"].split(":")[0]) for e in report.json()["errors"]] == [
        (2, "poverty_rate")]
    assert registration_records(gateway_config) == recorded


def test_unknown_things_and_conflicts(gateway, district):
    expect(district.get(f"/api/v1/villages/{BAJUR}"), 404, "code", "NotFound")
    expect(district.post("/api/v1/villages", json={"code": "52.01.08.2999"}), 404, "code")
    assert district.post("/api/v1/villages", json={"code": BAJUR}).status_code == 201
    expect(district.post("/api/v1/villages", json={"code": BAJUR}), 409, "code", "Conflict")
    not_found = expect(district.get("/api/v1/no/such/thing"), 404, "path", "RouteNotFound")
    assert "openapi" in not_found["message"]
    wrong = district.request("DELETE", f"/api/v1/villages/{BAJUR}")
    expect(wrong, 405, "method", "MethodNotAllowed")
    assert wrong.headers["Allow"] == "GET, HEAD" and wrong.headers["X-Correlation-Id"]
    expect(district.request("OPTIONS", "/api/v1/villages"), 405, "method")
    merged = district.get("/api//v1/villages", allow_redirects=False)  # not merged, no
    expect(merged, 404, "path", "RouteNotFound")                      # HTML redirect
    assert merged.headers["X-Correlation-Id"]


def test_oversized_bodies_are_refused_before_they_are_read(gateway, district):
    big = b'{"code": "' + b"x" * (1024 * 1024) + b'"}'
    expect(district.post("/api/v1/villages", data=big,
                         headers={"Content-Type": "application/json"}), 413, "body",
           "PayloadTooLarge")
    chunks = (big[i:i + 65536] for i in range(0, len(big), 65536))   # no Content-Length
    expect(district.post("/api/v1/villages", data=chunks,
                         headers={"Content-Type": "application/json"}), 413, "body")


def test_an_import_of_as_many_rows_as_documented_is_read(gateway, as_user):
    """The document takes up to 5,000 rows; 5,000 rows of every column (as `plpbk import
    villages` reads them) are about 3.5 MB, and the 1 MiB body limit answered 413."""
    row = {"source_document": "BPS Kabupaten Lombok Barat 2024, tabel 4.1.2",
           "observed_on": "2024-06-30", "poverty_rate": "31.50", "slum_area": "true",
           "slum_hectares": "12.40", "bookkeeping_rating": "memadai",
           "voter_turnout": "42.00", "fund_misuse_cases": "0", "pemda_priority": "true",
           "pemda_decree": "SK Bupati Lombok Barat 050/12/2024",
           **{f"kotaku_{name}": "3" for name in KOTAKU}}
    rows = [{"line": number + 2, "code": "99.99.99.9999", **row} for number in range(5000)]
    body = orjson.dumps({"rows": rows})
    assert len(body) > 3 * 1024 * 1024
    report = as_user("ministry").post("/api/v1/villages/imports", data=body,
                                      headers={"Content-Type": "application/json"})
    assert report.status_code == 200, report.text[:300]
    assert len(report.json()["errors"]) == 5000   # each row reported (no such village)
    too_many = as_user("ministry").post("/api/v1/villages/imports",
                                        json={"rows": rows + rows[:1]})
    expect(too_many, 400, "rows")


KOTAKU = ("ketidakteraturan_bangunan", "kepadatan_bangunan",
          "ketidaksesuaian_persyaratan_teknis", "cakupan_pelayanan_jalan",
          "kualitas_permukaan_jalan", "akses_aman_air_minum", "kebutuhan_air_minum",
          "genangan", "ketersediaan_drainase", "kualitas_konstruksi_drainase",
          "sistem_air_limbah", "prasarana_air_limbah", "prasarana_persampahan",
          "sistem_persampahan", "prasarana_proteksi_kebakaran", "sarana_proteksi_kebakaran")


def test_the_correlation_id_is_echoed_or_made(gateway, district):
    assert district.get("/api/v1/villages", headers={"X-Correlation-Id": "abc-1"}).headers[
        "X-Correlation-Id"] == "abc-1"
    assert len(district.get("/api/v1/villages").headers["X-Correlation-Id"]) == 32
    assert district.get("/nowhere", headers={"X-Correlation-Id": "abc-2"}).headers[
        "X-Correlation-Id"] == "abc-2"


# -- failures behind the gateway ------------------------------------------------------------

class FaultyRegistration:
    """Stands in for the registration service: one bug, one hang."""
    name = "registration"

    @rpc
    def get_village(self, code):
        raise RuntimeError("a bug in the service")

    @rpc
    def list_villages(self, query=None):
        eventlet.sleep(5)


@pytest.fixture
def lonely_gateway(container_factory, gateway_config):
    """A gateway with no service behind it."""
    return start_gateway(container_factory, {**gateway_config, "GATEWAY_RPC_TIMEOUT": 0.5})


@pytest.fixture
def faulty_gateway(container_factory, gateway_config):
    config = {**gateway_config, "GATEWAY_RPC_TIMEOUT": 0.5}
    container_factory(FaultyRegistration, config).start()
    return start_gateway(container_factory, config)


def test_a_service_that_is_not_running_is_503(lonely_gateway, operator):
    _, key = operator.key()
    body = expect(Client(lonely_gateway, {"X-API-Key": key}).get("/api/v1/villages"), 503,
                  None, "ServiceUnavailable")
    assert "registration service is not running" in body["message"]


def test_a_failing_service_is_502_and_a_silent_one_503(faulty_gateway, operator):
    _, key = operator.key()
    system = Client(faulty_gateway, {"X-API-Key": key})
    body = expect(system.get(f"/api/v1/villages/{BAJUR}"), 502, None, "BadGateway")
    assert "RuntimeError" in body["message"] and "a bug" not in body["message"]
    body = expect(system.get("/api/v1/villages"), 503, None, "ServiceUnavailable")
    assert "did not answer within 0.5 s" in body["message"]


def test_health_is_200_when_fine_and_503_naming_the_failure(gateway, monkeypatch, operator):
    fine = requests.get(f"{gateway}/health")
    assert fine.status_code == 200 and fine.json()["checks"]["rabbitmq"]["ok"]
    assert "registration" in fine.json()["checks"]["ledgers"]["heads"]
    _, key = operator.key()
    assert requests.get(f"{gateway}/health", headers={"X-API-Key": key}).json()[
        "principal"]["kind"] == "key"
    assert requests.get(f"{gateway}/health", headers={"X-API-Key": "bad"}).status_code == 401
    monkeypatch.setattr(health, "rabbitmq", lambda uri: {"ok": False, "error": "down"})
    eventlet.sleep(1.1)   # past the one-second cache
    down = requests.get(f"{gateway}/health")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert down.json()["checks"]["rabbitmq"] == {"ok": False, "error": "down"}


def test_metrics_count_requests_by_route_and_status(gateway, district):
    district.get("/api/v1/villages")
    district.get("/nowhere")
    text = requests.get(f"{gateway}/metrics").text
    assert 'gateway_http_requests_total{endpoint="/api/v1/villages",http_method="GET",' \
           'status_code="200"}' in text
    assert 'plpbk_gateway_unrouted_total{status="404"}' in text
    assert "plpbk_gateway_upstream_seconds_bucket" in text
    assert 'plpbk_gateway_logins_total{outcome="succeeded"}' in text


def test_an_over_long_url_gets_a_json_414_naming_the_url(gateway, district):
    body = expect(district.get("/api/v1/villages", params={"region": "5" * 9000}), 414, "url")
    assert "at most 8192" in body["message"]
    assert district.get("/api/v1/villages", params={"region": "52"}).status_code == 200


def test_an_over_long_header_gets_a_json_431_naming_it(gateway, district):
    body = expect(district.get("/api/v1/villages", headers={"X-Note": "n" * 9000}), 431,
                  "X-Note")
    assert "at most 8192" in body["message"]
    assert district.get("/api/v1/villages", headers={"X-Note": "n" * 8000}).status_code == 200


def connect(base):
    """A plain socket to the gateway, for what an HTTP client library would not send."""
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def read_answer(connection):
    """(status, headers, body) of one answer read to the end of the connection."""
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in
               (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def raw_request(gateway, head):
    """Send a request head over a plain socket; (status, headers, body) of the answer."""
    with connect(gateway) as raw:
        raw.sendall(head)
        return read_answer(raw)


@pytest.mark.parametrize("count, size", [(100, 8000), (9, 8000), (101, 10), (300, 10),
                                         (1, 70000)])
def test_many_or_long_headers_in_all_get_a_json_431(gateway, district, gateway_config,
                                                    count, size):
    """Too many header lines, or too many bytes of them, are refused by the HTTP server
    before any route: in JSON like every other refusal, and nothing recorded."""
    district.get("/api/v1/eligibility/rule-set")   # the seed rule set, published on first use
    recorded = registration_records(gateway_config)
    many = b"".join(b"X-Note-%d: %s\r\n" % (i, b"n" * size) for i in range(count))
    for request in (b"GET /api/v1/villages HTTP/1.1\r\n",
                    b"POST /api/v1/villages HTTP/1.1\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 27\r\n"):
        status, headers, body = raw_request(gateway, request + b"Host: gateway\r\n" +
            b"Authorization: " + district.headers["Authorization"].encode() + b"\r\n" +
            many + b"\r\n" + (b'{"code": "52.01.08.2006"}\r\n' if b"POST" in request
                              else b""))
        assert status == 431, (status, headers, body[:300])
        assert headers["content-type"] == "application/json", headers
        assert headers["connection"] == "close" and headers["x-correlation-id"]
        error = orjson.loads(body)
        assert set(error) == {"error", "message", "field"}
        assert (error["error"], error["field"]) == ("HeaderTooLarge", "headers"), error
        assert "at most" in error["message"] and "Traceback" not in error["message"]
    assert registration_records(gateway_config) == recorded
    assert district.get("/api/v1/villages", headers={
        f"X-Note-{i}": "n" * 8000 for i in range(7)}).status_code == 200


def test_a_raw_socket_with_garbage_gets_no_traceback(gateway):
    host, port = gateway.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"NONSENSE /\x00\x01 HTTP/9\r\n\r\n")
        reply = raw.recv(4096)
    assert b"Traceback" not in reply and not reply.startswith(b"HTTP/1.1 500")
    for line, status, error, field in [
            (b"NONSENSE /\x00\x01 HTTP/9", 400, "InvalidInput", None),
            (b"GET /api/v1/villages HTTP/2.0", 505, "HttpVersionNotSupported", "version")]:
        answer, headers, body = raw_request(gateway, line + b"\r\nHost: gateway\r\n\r\n")
        assert (answer, headers["content-type"]) == (status, "application/json"), body
        assert orjson.loads(body)["error"] == error and orjson.loads(body)["field"] == field


@pytest.mark.parametrize("head, status, error, field", [
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: gateway\r\n\r\n", 414, "UriTooLong",
     "url"),
    (b"GET /health HTTP/1.0\r\nContent-Length: abc\r\n\r\n", 400, "InvalidInput",
     "Content-Length"),
    (b"POST /health HTTP/1.1\r\nHost: gateway\r\nContent-Length: -1\r\n\r\n", 400,
     "InvalidInput", "Content-Length"),
    ("POST /health HTTP/1.1\r\nHost: gateway\r\nContent-Length: ٥\r\n\r\n".encode(), 400,
     "InvalidInput", "Content-Length"),
    (b"POST /api/v1/villages HTTP/1.1\r\nHost: gateway\r\nContent-Length: 2\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n{}", 400, "InvalidInput", "Transfer-Encoding")])
def test_what_eventlet_refuses_after_the_headers_is_answered_in_json(gateway, head, status,
                                                                     error, field):
    """eventlet answers these itself, before any route, with an empty or text body."""
    answer, headers, body = raw_request(gateway, head)
    assert (answer, headers["content-type"]) == (status, "application/json"), body[:300]
    assert headers["connection"] == "close" and headers["x-correlation-id"]
    assert (orjson.loads(body)["error"], orjson.loads(body)["field"]) == (error, field)
