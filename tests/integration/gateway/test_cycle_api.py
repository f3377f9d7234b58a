"""The cycle over HTTP: opened by the selection, driven by the facilitator, scoped."""
from datetime import date, datetime, timezone

from shared.schemas import indonesia_today
from tests.integration.conftest import wait_for

from .documented import schema_errors, unnamed_fields
from .test_api import BAJUR, ELIGIBLE, ledger_records

TODAY = date.today().isoformat()


def select_bajur(district, ministry):
    district.post("/api/v1/villages", json={"code": BAJUR})
    district.post(f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE)
    ministry.post("/api/v1/quotas", json={"kabupaten": "52.01", "quota": 1,
                                          "decree_reference": "KepMen 7"})
    ministry.post("/api/v1/selections", json={"kabupaten": "52.01"})


def test_the_cycle_opens_on_selection_and_follows_the_facilitator(gateway, as_user):
    district, ministry = as_user("district", "52.01"), as_user("ministry")
    facilitator = as_user("facilitator", "52.01")
    select_bajur(district, ministry)
    cycle = wait_for(lambda: (answer := facilitator.get(f"/api/v1/villages/{BAJUR}/cycle"))
                     .status_code == 200 and answer.json(), what="the cycle to open")
    assert cycle["stage"] == 1
    recorded = facilitator.post(f"/api/v1/villages/{BAJUR}/cycle/activities", json={
        "activity": "lokakarya_kota", "held_on": TODAY, "place": "Gerung",
        "attendance": {"men": 10, "women": 8, "poor": 2}, "facilitator": "Faskel",
        "evidence": ["BA-1"]})
    assert recorded.status_code == 200, recorded.text
    refused = facilitator.post(f"/api/v1/villages/{BAJUR}/cycle/stage-completions",
                               json={"completed_on": TODAY})
    assert refused.status_code == 422 and "missing" in refused.json()["message"]
    listed = district.get("/api/v1/cycles?stage=1&overdue=false&page=1").json()
    assert [c["code"] for c in listed["items"]] == [BAJUR]
    assert district.get("/api/v1/cycles?region=31").status_code == 403
    assert as_user("district", "31.71").get("/api/v1/cycles").json()["total"] == 0
    before = facilitator.get(f"/api/v1/villages/{BAJUR}/cycle?as_of=2000-01-01T00:00:00Z")
    assert before.status_code == 404
    assert facilitator.get(f"/api/v1/villages/{BAJUR}/cycle/evaluation").status_code == 200
    late = facilitator.get(f"/api/v1/villages/{BAJUR}/cycle/evaluation?as_of=2999-01-01")
    assert late.json()["stages"][0]["overdue"] is True
    assert facilitator.get("/api/v1/cycles/template").json()["id"] == "plpbk-cycle"
    assert facilitator.get("/api/v1/cycles/template?version=1").json()["version"] == 1
    assert facilitator.get("/api/v1/cycles/template?version=9").status_code == 404
    assert ministry.get("/api/v1/cycles/on-time-share").status_code == 200
    shares = ministry.get("/api/v1/cycles/on-time-share?region=52&as_of=2999-01-01")
    assert shares.status_code == 200, shares.text
    assert facilitator.get(f"/api/v1/villages/{BAJUR}/cycle?as_of=yesterday").status_code \
        == 400
    bad = facilitator.post(f"/api/v1/villages/{BAJUR}/cycle/activities", json={
        "activity": "lokakarya_kota", "held_on": "2999-01-01", "place": "x",
        "attendance": {"men": 1, "women": 1, "poor": 5}, "facilitator": "F",
        "evidence": ["x"]})
    assert bad.status_code == 400 and bad.json()["field"] in ("held_on", "attendance.poor")


def test_the_cycle_and_its_evaluation_read_as_of_alike(gateway, as_user):
    """/cycle and /cycle/evaluation (and the listings) parse `as_of` one way: the same
    texts refused with the same message, before any service is asked."""
    facilitator = as_user("facilitator", "52.01")
    urls = [f"/api/v1/villages/{BAJUR}/cycle", f"/api/v1/villages/{BAJUR}/cycle/evaluation",
            "/api/v1/cycles", "/api/v1/cycles/on-time-share"]
    for text in ("20260105", "2026W021", "2026-W02-1", "2026-01-05%0A", "%202026-01-05",
                 "2026-01-05T08:00:00", "soon", "2026-13-01"):
        answers = [facilitator.get(f"{url}?as_of={text}") for url in urls]
        assert {a.status_code for a in answers} == {400}, (text, [a.text for a in answers])
        bodies = [a.json() for a in answers]
        assert {(b["error"], b["field"]) for b in bodies} == {("InvalidInput", "as_of")}
        assert len({b["message"] for b in bodies}) == 1, (text, bodies)
    # a time with zone is a moment for both: no cycle was open then (404), not a 400
    for url in urls[:2]:
        answer = facilitator.get(f"{url}?as_of=2026-01-05T08:00:00%2B07:00")
        assert (answer.status_code, answer.json()["field"]) == (404, "as_of"), answer.text


def test_members_on_an_activity_that_takes_none_are_a_400_naming_members(
        gateway, as_user, gateway_config):
    """Only pengukuhan_tipp records the TIPP's members; members sent with any other
    activity are refused by field, and the cycle ledger does not change."""
    district, ministry = as_user("district", "52.01"), as_user("ministry")
    facilitator = as_user("facilitator", "52.01")
    select_bajur(district, ministry)
    wait_for(lambda: facilitator.get(f"/api/v1/villages/{BAJUR}/cycle").status_code == 200,
             what="the cycle to open")
    recorded = ledger_records(gateway_config, "cycle")
    refused = facilitator.post(f"/api/v1/villages/{BAJUR}/cycle/activities", json={
        "activity": "lokakarya_kota", "held_on": TODAY, "place": "Gerung",
        "attendance": {"men": 10, "women": 8, "poor": 2}, "facilitator": "Faskel",
        "evidence": ["BA-1"], "members": [{"name": "Siti", "sex": "P", "role": "ketua"}]})
    assert refused.status_code == 400, refused.text
    assert refused.json() == {
        "error": "InvalidInput", "field": "members",
        "message": "lokakarya_kota takes no members; only pengukuhan_tipp records the "
                   "TIPP's members"}
    assert ledger_records(gateway_config, "cycle") == recorded
    assert facilitator.get(f"/api/v1/villages/{BAJUR}/cycle").json()["timeline"] == []


def test_every_cycle_answer_is_the_documented_one(gateway, as_user):
    """A client generated from /openapi.json reads the cycle's answers as they come: each
    success answer, at every stage of a cycle (running, outputs done three ways, a stage
    completed, as of a past moment and a later day), holds the documented fields and
    types, and no other (the document described `{}` with anything in it)."""
    district, ministry = as_user("district", "52.01"), as_user("ministry")
    facilitator = as_user("facilitator", "52.01")
    select_bajur(district, ministry)
    url = f"/api/v1/villages/{BAJUR}/cycle"
    template = "/api/v1/villages/{code}/cycle"
    answers = [("GET", template, wait_for(
        lambda: (answer := facilitator.get(url)).status_code == 200 and answer,
        what="the cycle to open"))]

    def activity(key, **more):
        return facilitator.post(f"{url}/activities", json={
            "activity": key, "held_on": TODAY, "place": "Gerung",
            "attendance": {"men": 10, "women": 8, "poor": 2}, "facilitator": "Faskel",
            "evidence": ["BA-1"], **more})

    answers += [("POST", template + "/activities", activity("lokakarya_kota")),
                ("POST", template + "/activities", activity(
                    "pengukuhan_tipp", notes="dikukuhkan",
                    members=[{"name": "Siti", "sex": "P", "role": "ketua"}])),
                ("POST", template + "/activities", activity("sosialisasi_massal")),
                ("POST", template + "/waivers", ministry.post(f"{url}/waivers", json={
                    "output": "lokakarya_kelurahan",
                    "justification": "held together with the kabupaten workshop"})),
                ("POST", template + "/stage-completions", facilitator.post(
                    f"{url}/stage-completions",
                    json={"completed_on": indonesia_today().isoformat(), "stage": 1}))]
    now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")   # after them
    for query in ("", f"?as_of={now}"):
        answers.append(("GET", template, facilitator.get(url + query)))
    for query in ("", "?as_of=2999-01-01", f"?as_of={now}"):
        answers.append(("GET", template + "/evaluation",
                        facilitator.get(f"{url}/evaluation{query}")))
        answers.append(("GET", "/api/v1/cycles", district.get(f"/api/v1/cycles{query}")))
        answers.append(("GET", "/api/v1/cycles/on-time-share",
                        ministry.get(f"/api/v1/cycles/on-time-share{query}")))
    answers += [("GET", "/api/v1/cycles/on-time-share",
                 ministry.get("/api/v1/cycles/on-time-share?region=52.01.08&as_of=2999-01-01")),
                ("GET", "/api/v1/cycles/template", facilitator.get("/api/v1/cycles/template")),
                ("GET", "/api/v1/cycles/template",
                 facilitator.get("/api/v1/cycles/template?version=1"))]
    for method, path, answer in answers:
        assert answer.status_code in (200, 201), (path, answer.text)
        assert schema_errors(gateway, method, path, answer) == [], (method, path, answer.text)
        assert unnamed_fields(gateway, method, path, answer) == [], (method, path)
    cycle = facilitator.get(url).json()
    assert (cycle["stage"], cycle["stages"]["1"]["on_time"]) == (2, True)
    assert {o["how"] for o in cycle["done_outputs"].values()} == {"activity", "waived"}
    assert [a.get("members") for a in cycle["timeline"]][1] == [
        {"name": "Siti", "sex": "P", "role": "ketua"}]
