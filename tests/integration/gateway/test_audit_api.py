"""The audit over HTTP for regional readers: records about their region itself (the
kabupaten's quota and selection rounds, stream quota-<kabupaten>) are theirs to see."""
import base64
import json

from services.audit.bundle_verify import verify_bundle_bytes
from shared.ledger.verify import load_public_key, public_key_pem
from tests.samples import BAJUR, ELIGIBLE

from .documented import schema_errors, unnamed_fields


def test_a_district_auditor_sees_its_kabupatens_quota_records(gateway, as_user):
    """A district auditor of 52.01 finds quota-52.01 in its region bundle and may ask why
    and for the proofs of its records; an auditor of 52.02 is refused them, and its own
    bundle finds nothing. Before, quota records were hidden from every regional reader."""
    district, ministry = as_user("district", "52.01"), as_user("ministry")
    district.post("/api/v1/villages", json={"code": BAJUR})
    district.post(f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE)
    ministry.post("/api/v1/quotas", json={"kabupaten": "52.01", "quota": 1,
                                          "decree_reference": "KepMen 7"})
    assert ministry.post("/api/v1/selections", json={"kabupaten": "52.01"}).status_code == 200

    auditor, outsider = as_user("auditor", "52.01"), as_user("auditor", "52.02")
    answer = auditor.post("/api/v1/audit/bundles", json={"region": "52.01"})
    assert answer.status_code == 200, answer.text
    quota = [(event["position"], record) for event in answer.json()["events"]
             for record in [json.loads(base64.b64decode(event["body"]))]
             if record["stream_id"] == "quota-52.01"]
    assert [record["type"] for _, record in quota] == ["QuotaSet", "SelectionRoundRecorded"]
    position, selection = quota[-1]
    paths = (f"/api/v1/audit/events/{selection['event_id']}",
             f"/api/v1/audit/events/{selection['event_id']}/proof",
             f"/api/v1/audit/ledgers/registration/records/{position}/proof")
    for path in paths:
        assert auditor.get(path).status_code == 200, path
        refused = outsider.get(path)
        assert refused.status_code == 403 and "outside your region" in \
            refused.json()["message"], path
    why = auditor.get(paths[0]).json()
    assert why["event"]["payload"]["selected"][0]["code"] == BAJUR
    assert outsider.post("/api/v1/audit/bundles", json={"region": "52.02"}).status_code == 404


def test_a_bundle_saved_from_the_api_verifies_offline(gateway, as_user, gateway_config):
    """The answer's bytes are the bundle file (canonical JSON and a newline), so an auditor
    who saves them checks them with `plpbk verify-bundle` as exported by `plpbk audit
    export`. Before, the gateway re-encoded the bundle, and every bundle fetched over HTTP
    was reported as "altered after export"."""
    district = as_user("district", "52.01")
    district.post("/api/v1/villages", json={"code": BAJUR})
    district.post(f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE)
    auditor = as_user("auditor", "52.01")
    answer = auditor.post("/api/v1/audit/bundles", json={"village": BAJUR},
                          headers={"Idempotency-Key": "bundle-1"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    with open(gateway_config["TREE_HEAD_KEY"], "rb") as handle:
        public = load_public_key(public_key_pem(handle.read()))
    report = verify_bundle_bytes(answer.content, public)
    assert report.ok and report.events == 3, report.as_dict()   # registered, evidence, decision
    assert answer.json()["scope"] == {"village": BAJUR}
    # read-only: its answer (as large as a region's records) is not kept for replays
    again = auditor.post("/api/v1/audit/bundles", json={"village": BAJUR},
                         headers={"Idempotency-Key": "bundle-1"})
    assert "Idempotent-Replayed" not in again.headers
    assert verify_bundle_bytes(again.content, public).ok


def test_every_audit_answer_is_the_documented_one(gateway, as_user):
    """A client generated from /openapi.json reads the audit's answers as they come:
    history, state as of a moment, why, proofs, ledgers, tree heads and a bundle hold the
    documented fields and types, and no other (the document described `{}` with anything
    in it). An event's payload is its type's payload schema (the services' catalogs); only
    a service's views are free-form by design."""
    district, ministry = as_user("district", "52.01"), as_user("ministry")
    district.post("/api/v1/villages", json={"code": BAJUR})
    district.post(f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE)
    ministry.post("/api/v1/quotas", json={"kabupaten": "52.01", "quota": 1,
                                          "decree_reference": "KepMen 7"})
    assert ministry.post("/api/v1/selections", json={"kabupaten": "52.01"}).status_code == 200
    auditor = as_user("auditor", "52.01")
    village = "/api/v1/audit/villages/{code}"
    history = auditor.get(f"/api/v1/audit/villages/{BAJUR}/history")
    decided = history.json()["items"][-1]
    kept = auditor.get("/api/v1/audit/ledgers/registration/tree-head")
    ministry.post(f"/api/v1/villages/{BAJUR}/eligibility/decisions")   # the tree grows
    event = "/api/v1/audit/events/{event_id}"
    ledger = "/api/v1/audit/ledgers/{ledger}"
    answers = [
        ("GET", village + "/history", history),
        ("GET", village + "/history",
         auditor.get(f"/api/v1/audit/villages/{BAJUR}/history?as_of=2000-01-01&page_size=1")),
        ("GET", village + "/state", auditor.get(f"/api/v1/audit/villages/{BAJUR}/state")),
        ("GET", village + "/state",
         auditor.get(f"/api/v1/audit/villages/{BAJUR}/state?as_of=2000-01-01")),
        ("GET", event, auditor.get(f"/api/v1/audit/events/{decided['event_id']}")),
        ("GET", event + "/proof",
         auditor.get(f"/api/v1/audit/events/{decided['event_id']}/proof")),
        ("GET", "/api/v1/audit/ledgers", auditor.get("/api/v1/audit/ledgers")),
        ("GET", ledger + "/tree-head", kept),
        ("GET", ledger + "/records/{position}/proof",
         auditor.get("/api/v1/audit/ledgers/registration/records/1/proof?tree_size=2")),
        ("GET", ledger + "/consistency",
         auditor.get("/api/v1/audit/ledgers/registration/consistency?first=1")),
        ("POST", "/api/v1/audit/bundles", auditor.post("/api/v1/audit/bundles", json={
            "village": BAJUR, "since": [kept.json()]}))]
    for method, path, answer in answers:
        assert answer.status_code == 200, (path, answer.text)
        assert schema_errors(gateway, method, path, answer) == [], (method, path, answer.text)
        assert unnamed_fields(gateway, method, path, answer) == [], (method, path)
    why = answers[4][2].json()
    assert why["event"]["event_id"] == decided["event_id"] and why["based_on"]
    assert answers[-1][2].json()["consistency"][0]["from"] == kept.json()
