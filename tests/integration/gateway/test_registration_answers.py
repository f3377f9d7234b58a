"""Registration's answers as a client generated from /openapi.json reads them: each live
answer matches its documented schema and every field of it is named there (the rule set,
the quota, the eligibility history and the ranking were open objects, and a village's
record named only its code, name and status)."""
from services.registration import rules
from tests.samples import BAJUR, ELIGIBLE

from .documented import schema_errors, unnamed_fields

NEIGHBOUR = "52.01.08.2001"
KOTAKU = {"scores": {name: 3 for name in rules.KOTAKU_SUBCRITERIA}}
BKM = {"name": "BKM Bajur", "formed_on": "2019-03-01",
       "members": [{"name": "Siti", "sex": "P", "role": "koordinator"},
                   {"name": "Lalu", "sex": "L", "role": "anggota"}]}


def documented(base, client, method, template, path=None, status=200, **request):
    """The live answer, checked against what the document says of it."""
    answer = client.request(method, path or template, **request)
    assert answer.status_code == status, answer.text
    assert schema_errors(base, method, template, answer) == []
    assert unnamed_fields(base, method, template, answer) == []
    return answer.json()


def test_a_villages_record_is_documented_with_and_without_bkm_decision_override_selection(
        gateway, as_user):
    district, ministry = as_user("district", "52.01"), as_user("ministry")
    village = "/api/v1/villages/{code}"
    plain = documented(gateway, district, "POST", "/api/v1/villages", status=201,
                       json={"code": NEIGHBOUR})
    assert (plain["bkm"], plain["decision"], plain["override"], plain["selected"]) == (
        None, None, None, None)
    with_bkm = documented(gateway, district, "POST", "/api/v1/villages", status=201,
                          json={"code": BAJUR, "bkm": BKM})
    assert with_bkm["bkm"]["women_percent"] == "50.00"
    evidence = {**ELIGIBLE, "indicators": {**ELIGIBLE["indicators"],
                                           "kotaku_slum_score": KOTAKU}}
    decided = documented(gateway, district, "POST", village + "/indicators",
                         f"/api/v1/villages/{BAJUR}/indicators", json=evidence)
    assert decided["status"] == "eligible" and len(decided["indicators"]) == 7
    documented(gateway, district, "PUT", village + "/bkm", f"/api/v1/villages/{BAJUR}/bkm",
               json={**BKM, "name": "BKM Bajur Baru"})
    documented(gateway, district, "POST", village + "/eligibility/decisions",
               f"/api/v1/villages/{BAJUR}/eligibility/decisions")
    # a village with evidence missing (incomplete, a criterion's value null), corrected
    # to one failing, then overridden by the ministry
    incomplete = documented(gateway, district, "POST", village + "/indicators",
                            f"/api/v1/villages/{NEIGHBOUR}/indicators", json={
                                **ELIGIBLE, "indicators": {"poverty_rate": "30"}})
    assert incomplete["status"] == "incomplete"
    documented(gateway, district, "POST", village + "/indicators",
               f"/api/v1/villages/{NEIGHBOUR}/indicators", json={
                   **ELIGIBLE, "correction_reason": "the whole BPS table, not one column"})
    documented(gateway, district, "POST", village + "/indicators",
               f"/api/v1/villages/{NEIGHBOUR}/indicators", json={
                   **ELIGIBLE, "observed_on": "2024-07-01",
                   "indicators": {"fund_misuse_cases": 2}})
    overridden = documented(gateway, ministry, "POST", village + "/eligibility/overrides",
                            f"/api/v1/villages/{NEIGHBOUR}/eligibility/overrides", json={
                                "eligible": True,
                                "justification": "Both cases were settled in court."})
    assert overridden["status"] == "eligible" and overridden["override"]["by"]["role"] == \
        "ministry"

    quota = documented(gateway, ministry, "POST", "/api/v1/quotas", json={
        "kabupaten": "52.01", "quota": 3, "decree_reference": "KepMen 7"})
    assert quota == {"kabupaten": "52.01", "quota": 3, "selected": 0}
    selection = documented(gateway, ministry, "POST", "/api/v1/selections",
                           json={"kabupaten": "52.01"})
    assert selection["unfilled"]["52.01"]["open"] == 1
    for code in (BAJUR, NEIGHBOUR):
        selected = documented(gateway, district, "GET", village, f"/api/v1/villages/{code}")
        assert selected["selected"]["round"] == 1 and selected["override" if code ==
                                                                NEIGHBOUR else "bkm"]

    ranking = documented(gateway, district, "GET", "/api/v1/rankings/{region}",
                         "/api/v1/rankings/52.01")
    assert [item["selected"] for item in ranking["items"]] == [True, True]
    history = documented(gateway, district, "GET", village + "/eligibility/history",
                         f"/api/v1/villages/{NEIGHBOUR}/eligibility/history?page_size=100")
    assert {entry["type"] for entry in history["items"]} == {
        "IndicatorsRecorded", "EligibilityDecided", "EligibilityOverridden",
        "VillageSelected"}
    assert any("correction_reason" in entry["payload"] for entry in history["items"])


def test_the_rule_set_is_documented_before_and_after_a_publication(gateway, as_user):
    district, ministry = as_user("district", "52.01"), as_user("ministry")
    district.post("/api/v1/villages", json={"code": BAJUR})
    district.post(f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE)
    seed = documented(gateway, ministry, "GET", "/api/v1/eligibility/rule-set")
    assert seed["version"] == 1
    published = documented(gateway, ministry, "POST", "/api/v1/eligibility/rule-sets",
                           status=201, json={
                               "id": seed["id"], "note": "stricter",
                               "criteria": seed["criteria"][:-1] + [{
                                   "criterion": "kotaku", "indicator": "kotaku_slum_score",
                                   "field": "total", "operator": ">=", "threshold": 16}]})
    assert published["version"] == 2
    active = documented(gateway, ministry, "GET", "/api/v1/eligibility/rule-set")
    assert active == published
    redecided = documented(gateway, district, "GET", "/api/v1/villages/{code}",
                           f"/api/v1/villages/{BAJUR}")
    assert redecided["decision"]["trigger"] == "rule_set"
    assert redecided["decision"]["rule_set"] == {"id": seed["id"], "version": 2}
