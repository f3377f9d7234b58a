"""The services' capabilities over HTTP: as the principal, in its scope, retry-safe."""
import uuid
from datetime import date

import pytest
import requests

from shared.ledger import open_ledger
from tests.integration.registration.support import stale_ranking
from tests.samples import BAJUR, ELIGIBLE

from .documented import schema_errors

NEIGHBOUR = "52.01.08.2001"
JAKARTA = "31.71.01.1001"


def ledger_records(config, name):
    """Every record of a service's ledger: equal before and after a refused request when
    nothing was recorded."""
    ledger = open_ledger(config["STORE_URI"], name)
    try:
        return list(ledger.iter_records())
    finally:
        ledger.close()


def registration_records(config):
    return ledger_records(config, "registration")


def test_registration_to_selection_over_http(gateway, as_user, gateway_config):
    district, ministry = as_user("district", "52.01"), as_user("ministry")
    created = district.post("/api/v1/villages", json={"code": BAJUR},
                            headers={"X-Correlation-Id": "case-42"})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/api/v1/villages/{BAJUR}"
    assert created.headers["X-Correlation-Id"] == "case-42"
    assert created.json()["name"] == "Bajur"
    assert district.post("/api/v1/villages", json={"code": NEIGHBOUR}).status_code == 201
    village = district.post(f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE).json()
    assert village["status"] == "eligible"
    district.post(f"/api/v1/villages/{NEIGHBOUR}/indicators", json={
        **ELIGIBLE, "indicators": {**ELIGIBLE["indicators"], "poverty_rate": "26"}})
    bkm = district.put(f"/api/v1/villages/{BAJUR}/bkm", json={
        "name": "BKM Bajur", "formed_on": "2019-03-01",
        "members": [{"name": "Siti", "sex": "P", "role": "koordinator"}]})
    assert bkm.status_code == 200 and bkm.json()["bkm"]["women_percent"] == "100.00"
    decided = district.post(f"/api/v1/villages/{BAJUR}/eligibility/decisions")
    assert decided.json()["status"] == "eligible"

    history = district.get(f"/api/v1/villages/{BAJUR}/eligibility/history?page_size=1")
    assert history.json()["total"] >= 2 and len(history.json()["items"]) == 1
    assert ministry.get("/api/v1/eligibility/rule-set").json()["id"] == "plpbk-seed"
    quota = ministry.post("/api/v1/quotas", json={"kabupaten": "52.01", "quota": 1,
                                                  "decree_reference": "KepMen 7"})
    assert quota.status_code == 200 and quota.json()["quota"] == 1
    assert ministry.post("/api/v1/selections", json={"kabupaten": "52.01"}).json() == {
        "selected": {"52.01": [BAJUR]}, "unfilled": {}}
    ranking = district.get("/api/v1/rankings/52.01").json()
    assert [r["code"] for r in ranking["items"]] == [BAJUR, NEIGHBOUR]
    assert district.get("/api/v1/villages?status=selected").json()["total"] == 1

    # every event names the person who asked and carries the request's correlation id
    records = registration_records(gateway_config)
    assert records[0].actor == {"id": "user:district0", "role": "district", "region": "52.01"}
    assert records[0].correlation_id == "case-42"
    assert {r.actor["id"] for r in records if r.type == "VillageSelected"} == {"user:ministry1"}


@pytest.mark.parametrize("body", [{"kabupaten": "52.01"}, {}])
def test_a_selection_passes_over_what_a_stale_ranking_lists_and_says_what_stays_open(
        gateway, as_user, gateway_config, monkeypatch, body):
    """POST /selections while the ranking (a view) lags the ledger: a village it lists that
    its own record refuses is passed over, the eligible ones are selected (200), and as too
    few are left for the quota the answer says what stays open and why. The quota is spent
    on the selected village alone, and sending it again records nothing."""
    from tests.integration.registration.support import selections_recorded
    district, ministry = as_user("district", "52.01"), as_user("ministry")
    district.post("/api/v1/villages", json={"code": BAJUR})
    district.post(f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE)
    district.post("/api/v1/villages", json={"code": NEIGHBOUR})     # no evidence
    ministry.post("/api/v1/quotas", json={"kabupaten": "52.01", "quota": 2,
                                          "decree_reference": "KepMen 7"})
    stale_ranking(monkeypatch, NEIGHBOUR)
    selected = ministry.post("/api/v1/selections", json=body)
    assert selected.status_code == 200, selected.text
    assert selected.json()["selected"] == {"52.01": [BAJUR]}
    unfilled = selected.json()["unfilled"]["52.01"]
    assert (unfilled["quota"], unfilled["selected"], unfilled["open"]) == (2, 1, 1)
    assert unfilled["passed_over"] == [
        {"code": NEIGHBOUR, "reason": f"village {NEIGHBOUR} is not eligible"}]
    assert unfilled["message"].startswith(
        "52.01 (Kabupaten Lombok Barat) may select 2 villages and has selected 1: 1 place "
        "stays open")
    assert selections_recorded(gateway_config) == [(1, 1, BAJUR)]
    recorded = registration_records(gateway_config)
    again = ministry.post("/api/v1/selections", json=body)
    assert again.status_code == 200 and again.json()["selected"] == {"52.01": []}
    assert registration_records(gateway_config) == recorded


def test_override_and_rule_sets_are_the_ministrys(gateway, as_user):
    district, ministry = as_user("district", "52.01"), as_user("ministry")
    district.post("/api/v1/villages", json={"code": BAJUR})
    district.post(f"/api/v1/villages/{BAJUR}/indicators", json={
        **ELIGIBLE, "indicators": {**ELIGIBLE["indicators"], "fund_misuse_cases": 2}})
    override = {"eligible": True, "justification": "Both cases were settled in court."}
    refused = district.post(f"/api/v1/villages/{BAJUR}/eligibility/overrides", json=override)
    assert refused.status_code == 403 and refused.json()["field"] == "role"
    done = ministry.post(f"/api/v1/villages/{BAJUR}/eligibility/overrides", json=override)
    assert done.status_code == 200 and done.json()["status"] == "eligible"
    again = ministry.post(f"/api/v1/villages/{BAJUR}/eligibility/overrides", json=override)
    assert again.status_code == 422 and again.json()["field"] == "eligible"
    rule_set = ministry.get("/api/v1/eligibility/rule-set").json()
    published = ministry.post("/api/v1/eligibility/rule-sets", json={
        "id": rule_set["id"], "note": "stricter", "criteria": rule_set["criteria"][:-1]})
    assert published.status_code == 201 and published.json()["version"] == 2


def test_nothing_outside_the_region_is_read_or_written(gateway, as_user):
    ministry, district = as_user("ministry"), as_user("district", "52.01")
    for code in (BAJUR, JAKARTA):
        assert ministry.post("/api/v1/villages", json={"code": code}).status_code == 201
    outside = [district.get(f"/api/v1/villages/{JAKARTA}"),
               district.post("/api/v1/villages", json={"code": "31.71.01.1002"}),
               district.post(f"/api/v1/villages/{JAKARTA}/indicators", json=ELIGIBLE),
               district.get("/api/v1/villages?region=31"),
               district.get("/api/v1/rankings/31"),
               district.post("/api/v1/quotas", json={"kabupaten": "31.71", "quota": 1,
                                                     "decree_reference": "x"}),
               district.get(f"/api/v1/audit/villages/{JAKARTA}/history"),
               district.post("/api/v1/villages/imports", json={"rows": [
                   {"line": 2, "code": JAKARTA, "source_document": "BPS",
                    "observed_on": "2024-01-01"}]})]
    for answer in outside:
        assert answer.status_code == 403, answer.request.url
        assert "outside your region" in answer.json()["message"]
    listed = district.get("/api/v1/villages").json()     # national request, narrowed
    assert [v["code"] for v in listed["items"]] == [BAJUR]
    assert ministry.get("/api/v1/villages").json()["total"] == 2


def test_a_retried_write_gets_the_first_answer_and_records_once(gateway, as_user,
                                                                gateway_config):
    district = as_user("district", "52.01")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = district.post("/api/v1/villages", json={"code": BAJUR}, headers=key)
    head = len(registration_records(gateway_config))
    retry = district.post("/api/v1/villages", json={"code": BAJUR}, headers=key)
    assert (retry.status_code, retry.json()) == (first.status_code, first.json())
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["Location"] == first.headers["Location"]
    assert len(registration_records(gateway_config)) == head
    without_key = district.post("/api/v1/villages", json={"code": BAJUR})
    assert without_key.status_code == 409          # a plain retry is a second request

    evidence = {"Idempotency-Key": "evidence-1"}
    recorded = district.post(f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE,
                             headers=evidence)
    head = len(registration_records(gateway_config))
    assert district.post(f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE,
                         headers=evidence).json() == recorded.json()
    assert len(registration_records(gateway_config)) == head
    different = district.post(f"/api/v1/villages/{BAJUR}/indicators", headers=evidence,
                              json={**ELIGIBLE, "source_document": "another"})
    assert different.status_code == 422 and different.json()["field"] == "Idempotency-Key"
    refusal = district.post(f"/api/v1/villages/{NEIGHBOUR}/indicators", json=ELIGIBLE,
                            headers={"Idempotency-Key": "refused-1"})
    assert refusal.status_code == 404   # not registered: the refusal is the first answer too
    assert district.post(f"/api/v1/villages/{NEIGHBOUR}/indicators", json=ELIGIBLE,
                         headers={"Idempotency-Key": "refused-1"}).status_code == 404


def test_keys_belong_to_their_principal(gateway, as_user):
    one, other = as_user("district", "52.01"), as_user("province", "52")
    key = {"Idempotency-Key": "shared-key"}
    assert one.post("/api/v1/villages", json={"code": BAJUR}, headers=key).status_code == 201
    second = other.post("/api/v1/villages", json={"code": NEIGHBOUR}, headers=key)
    assert second.status_code == 201 and second.json()["code"] == NEIGHBOUR


def test_audit_history_and_state_as_of(gateway, as_user):
    district, auditor = as_user("district", "52.01"), as_user("auditor")
    district.post("/api/v1/villages", json={"code": BAJUR})
    district.post(f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE)
    history = auditor.get(f"/api/v1/audit/villages/{BAJUR}/history")
    assert history.status_code == 200, history.text
    entries = history.json()["items"]
    assert [e["type"] for e in entries][:2] == ["VillageRegistered", "IndicatorsRecorded"]
    assert entries[0]["actor"]["id"] == "user:district0"
    before = auditor.get(f"/api/v1/audit/villages/{BAJUR}/history?as_of=2020-01-01")
    assert before.json()["total"] == 0
    state = auditor.get(f"/api/v1/audit/villages/{BAJUR}/state?as_of={date.today()}")
    assert state.status_code == 200 and state.json()["code"] == BAJUR, state.text
    assert auditor.get(f"/api/v1/audit/villages/{BAJUR}/state").json()["code"] == BAJUR
    future = auditor.get(f"/api/v1/audit/villages/{BAJUR}/state?as_of=2099-01-01")
    assert future.status_code == 400 and future.json()["field"] == "as_of"
    why = auditor.get(f"/api/v1/audit/events/{entries[-1]['event_id']}")
    assert why.status_code == 200
    report = auditor.get(f"/api/v1/audit/villages/{BAJUR}/report")
    assert report.headers["Content-Type"].startswith("text/html") and BAJUR in report.text
    ledgers = auditor.get("/api/v1/audit/ledgers").json()
    assert "registration" in {item["ledger"] for item in ledgers["items"]}
    bad = auditor.get(f"/api/v1/audit/villages/{BAJUR}/history?as_of=yesterday")
    assert bad.status_code == 400 and bad.json()["field"] == "as_of"
    assert auditor.get("/api/v1/audit/villages/52.01.08.2999/history").status_code == 404


@pytest.mark.parametrize("role", ["ministry", "integration"])
def test_lists_are_paged(gateway, as_user, role):
    ministry = as_user("ministry")
    for code in ("52.01.08.2001", "52.01.08.2002", "52.01.08.2003"):
        ministry.post("/api/v1/villages", json={"code": code})
    reader = as_user(role)
    page = reader.get("/api/v1/villages?region=52.01&page=2&page_size=2").json()
    assert (page["total"], page["page"], len(page["items"])) == (3, 2, 1)
    found = reader.get("/api/v1/villages?name=mere").json()   # Merembu, by its name
    assert [village["code"] for village in found["items"]] == ["52.01.08.2002"]


def answer_fields(base, method, template):
    """The fields the document gives a success answer, and those of its list items."""
    document = requests.get(f"{base}/openapi.json", timeout=60).json()
    schemas = document["components"]["schemas"]
    responses = document["paths"][template][method]["responses"]
    ok = next(answer for status, answer in responses.items() if status.startswith("2"))
    schema = schemas[ok["content"]["application/json"]["schema"]["$ref"].rsplit("/")[-1]]
    items = schema["properties"].get("items", schema["properties"].get("errors", {}))
    item = items.get("items", {})
    item = schemas[item["$ref"].rsplit("/")[-1]] if "$ref" in item else item
    return set(schema.get("required", [])), set(item.get("required", []))


def test_an_integrators_client_reads_the_import_report_and_the_village_list(gateway,
                                                                            as_user):
    """A system's generated client reads what the document describes: the import's
    report and the listed villages were untyped objects ({} with anything in it), so a
    client had no `errors`, `row` or `reason`, no `code` or `status` of a village."""
    district = as_user("district", "52.01")
    report = district.post("/api/v1/villages/imports", json={"rows": [
        {"code": BAJUR, "source_document": "BPS 2024", "observed_on": "2024-06-30",
         "poverty_rate": "31.5", "line": 2},
        {"code": NEIGHBOUR, "source_document": "BPS 2024", "observed_on": "30/06/2024",
         "line": 3}]})
    assert report.status_code == 200, report.text
    assert report.json()["errors"][0]["row"] == 1
    assert answer_fields(gateway, "post", "/api/v1/villages/imports") == (
        {"recorded", "unchanged", "errors"}, {"row", "line", "reason"})
    assert schema_errors(gateway, "POST", "/api/v1/villages/imports", report) == []
    listed = district.get("/api/v1/villages?status=incomplete")
    assert [v["code"] for v in listed.json()["items"]] == [BAJUR]
    assert answer_fields(gateway, "get", "/api/v1/villages") == (
        {"items", "total", "page", "page_size"},
        {"code", "name", "kind", "status", "score", "kabupaten", "province"})
    assert schema_errors(gateway, "GET", "/api/v1/villages", listed) == []
    # `line` is the caller's number for its row, given back in the report: a whole number
    # from 1 or null, else the report would carry "abc" where its document says a number
    for line in ("abc", 2.5, 0, True, {"n": 2}):
        refused = district.post("/api/v1/villages/imports", json={"rows": [
            {"code": NEIGHBOUR, "source_document": "BPS", "observed_on": "2024-06-30"},
            {"code": BAJUR, "source_document": "BPS", "observed_on": "2024-06-30",
             "line": line}]})
        assert (refused.status_code, refused.json()["field"]) == (400, "rows.1.line"), line
    assert district.post("/api/v1/villages/imports", json={"rows": [
        {"code": BAJUR, "source_document": "BPS", "observed_on": "2024-06-30",
         "line": None}]}).status_code == 200


def test_a_ranking_asked_by_a_village_or_kecamatan_account_is_narrowed_not_refused(
        gateway, as_user):
    """A BKM (one village) or a kecamatan-wide account asks its kabupaten's ranking: it
    gets the part inside its scope. The gateway sent the service the scope itself (a
    village code) as the region, and every such call was 400 "must be a province or
    kabupaten/kota code"."""
    district = as_user("district", "52.01")
    for code in (BAJUR, NEIGHBOUR):
        district.post("/api/v1/villages", json={"code": code})
        district.post(f"/api/v1/villages/{code}/indicators", json=ELIGIBLE)
    for role, region, expected in (("bkm", BAJUR, [BAJUR]),
                                   ("district", "52.01.08", [BAJUR, NEIGHBOUR])):
        answer = as_user(role, region).get("/api/v1/rankings/52.01")
        assert answer.status_code == 200, answer.text
        assert sorted(item["code"] for item in answer.json()["items"]) == sorted(expected)
    assert as_user("bkm", BAJUR).get("/api/v1/rankings/52.02").status_code == 403
