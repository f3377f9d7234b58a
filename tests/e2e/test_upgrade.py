"""The upgrade drill: data written by an earlier version of the platform, opened by this one.

tests/fixtures/golden/<commit>/ holds ledgers, state, attachments, signed checkpoints and
the tree-head key made by the code of that commit (its README says how), and drill.json:
the people, the API key, the writes sent with an Idempotency-Key and what that version
answered. On a copy of it this version must verify every ledger against the checkpoints,
start (views rebuilt from the old ledgers), answer the old users and reads, prove and
bundle the old records, continue the programme on the old streams, and answer an old
idempotency key as it was answered then (the ledgers keep keys for good).
"""
import json
import os
from decimal import Decimal

import pytest

from .running import RunningPlatform, http, http_bytes

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "fixtures", "golden")
RELEASES = sorted(os.listdir(GOLDEN))
BAJUR, BANYUMULEK = "52.01.08.2006", "52.01.08.2003"
# what changes with the day a cycle is read on, not with the code that reads it
IDENTITY = ("code", "version", "meeting_id", "kind")
DAY_DEPENDENT = {"as_of", "days_overdue", "overdue"}


@pytest.fixture(scope="module", params=RELEASES)
def old(request):
    data = os.path.join(GOLDEN, request.param, "data")
    with open(os.path.join(data, "drill.json")) as handle:
        drill = json.load(handle)
    with RunningPlatform(data=data, forget_kept_answers=True) as platform:
        platform.drill = drill
        yield platform


def person(platform, username):
    status, body = http("POST", "/api/v1/auth/login",
                        {"username": username, "password": platform.drill["password"]})
    assert status == 200, (username, status, body)
    return {"Authorization": f"Bearer {body['access_token']}"}


def call(headers, method, path, body=None, expect=200, **extra):
    status, answer = http(method, path, body, {**headers, **extra})
    assert status == expect, f"{method} {path}: {status} {answer}"
    return answer


def same_except(old, new, ignored=DAY_DEPENDENT):
    """Every field the old version answered is answered alike (new fields may be added)."""
    if isinstance(old, dict):
        assert isinstance(new, dict), (old, new)
        for key, value in old.items():
            if key not in ignored:
                assert key in new, f"{key} missing from {new}"
                same_except(value, new[key], ignored)
    else:
        assert old == new, (old, new)


def test_the_old_ledgers_verify_against_the_checkpoints_kept(old):
    checkpoints = sorted(os.listdir(os.path.join(old.folder, "checkpoints")))
    options = [arg for name in checkpoints
               for arg in ("--checkpoint", os.path.join("checkpoints", name))]
    report = json.loads(old.plpbk("verify", "--all", *options, "--public-key",
                                  "tree-head.pem.pub", "--json"))
    assert all(item["ok"] and item["checkpoint"]["ok"] for item in report), report
    assert len(report) == len(checkpoints), report
    ledgers = old.plpbk("ledgers")
    for name in ("gateway", "registration", "cycle", "planning"):
        assert name in ledgers


def test_old_users_and_keys_still_get_in(old):
    for username in ("dinas", "kemen", "bkm", "lurah", "faskel", "bpkp"):
        me = call(person(old, username), "GET", "/api/v1/auth/me")
        assert me["id"] == f"user:{username}", me
    call({"X-API-Key": old.drill["api_key"]}, "GET", "/api/v1/villages")


def test_the_old_reads_answer_as_they_did(old):
    sipd = {"X-API-Key": old.drill["api_key"]}
    reads = old.drill["reads"]
    same_except(reads["village"], call(sipd, "GET", f"/api/v1/villages/{BAJUR}"))
    same_except(reads["cycle"], call(sipd, "GET", f"/api/v1/villages/{BAJUR}/cycle"))
    other = next(code for code in old.drill["selected"] if code != BAJUR)
    same_except(reads["other_cycle"], call(sipd, "GET", f"/api/v1/villages/{other}/cycle"))
    bkm = person(old, "bkm")
    same_except(reads["rplp_v2"], call(
        bkm, "GET", f"/api/v1/villages/{BAJUR}/documents/rplp/versions/2"))
    call(bkm, "GET", f"/api/v1/villages/{BAJUR}/documents/rplp/diff?from_version=1"
         "&to_version=2")
    for sha256 in old.drill["attachments"]:
        call(bkm, "GET", f"/api/v1/villages/{BAJUR}/attachments/{sha256}")
    call(bkm, "GET", f"/api/v1/meetings/{old.drill['meeting_id']}")
    check = call(person(old, "kemen"), "GET", "/api/v1/planning/attachment-check")
    assert (check["checked"], check["problems"]) == (len(old.drill["attachments"]), []), check
    found = call(sipd, "GET", "/api/v1/villages?region=52.01&name=baj")   # a later feature
    assert [item["code"] for item in found["items"]] == [BAJUR], found
    cycles = call(sipd, "GET", "/api/v1/cycles?region=52.01")
    assert {item["code"] for item in cycles["items"]} == set(old.drill["selected"])


def test_the_audit_replays_proves_and_bundles_the_old_records(old):
    bpkp = person(old, "bpkp")
    history = call(bpkp, "GET", f"/api/v1/audit/villages/{BAJUR}/history?page_size=500")
    assert [e["type"] for e in history["items"]][:len(old.drill["reads"]["history_types"])
                                                ] == old.drill["reads"]["history_types"]
    # the village as the old version left it
    last_old = history["items"][len(old.drill["reads"]["history_types"]) - 1]
    state = call(bpkp, "GET", f"/api/v1/audit/villages/{BAJUR}/state?as_of="
                 + last_old["recorded_at"])
    assert state["events"] == len(old.drill["reads"]["history_types"]), state
    assert state["views"]["registration.village_board"]["villages"][BAJUR][
        "status"] == "selected"
    for entry in history["items"][:3] + history["items"][-3:]:
        call(bpkp, "GET", f"/api/v1/audit/events/{entry['event_id']}")
        call(bpkp, "GET", f"/api/v1/audit/events/{entry['event_id']}/proof")
    status, bundle = http_bytes("POST", "/api/v1/audit/bundles", {"village": BAJUR}, bpkp)
    assert status == 200, bundle
    saved = os.path.join(old.folder, "bajur.bundle")
    with open(saved, "wb") as handle:
        handle.write(bundle)
    report = json.loads(old.plpbk("verify-bundle", saved, "--public-key",
                                  "tree-head.pem.pub", "--json"))
    assert report["ok"], report


def test_old_idempotency_keys_answer_as_before(old):
    """The gateway keeps answers a day (tests/integration/test_upgrade.py reads the old
    ones); the ledgers keep the keys for good: sent again later, each old write is
    answered alike and nothing is recorded twice."""
    heads = ledger_heads(old)
    for write in old.drill["idempotent"]:
        headers = person(old, write["user"])
        answer = call(headers, write["method"], write["path"], write["body"],
                      expect=write["status"], **{"Idempotency-Key": write["key"]})
        for field in IDENTITY:      # what it is about: the same thing as then
            if field in write["answer"]:
                assert answer[field] == write["answer"][field], (write["key"], field)
    assert ledger_heads(old) == heads


def ledger_heads(platform):
    return {item["ledger"]: item for item in call(person(platform, "bpkp"), "GET",
                                                  "/api/v1/audit/ledgers")["items"]}


def test_the_programme_goes_on_on_the_old_streams(old):
    dinas, faskel, bkm = (person(old, name) for name in ("dinas", "faskel", "bkm"))
    # new evidence for a village the old version found ineligible
    evidence = {"source_document": "BPS Lombok Barat 2025", "observed_on": "2025-06-30",
                "indicators": {"poverty_rate": "31.5",
                               "slum_area": {"present": True, "hectares": "3.2"}}}
    village = call(dinas, "POST", f"/api/v1/villages/{BANYUMULEK}/indicators", evidence)
    assert Decimal(village["indicators"]["poverty_rate"]["value"]) == Decimal("31.5"), village
    # the other selected village completes stage 2, its stage 1 waived in part
    other = next(code for code in old.drill["selected"] if code != BAJUR)
    today = call(faskel, "GET", f"/api/v1/villages/{other}/cycle")["as_of"]
    call(faskel, "POST", f"/api/v1/villages/{other}/cycle/activities", {
        "activity": "refleksi_perkara_kritis", "held_on": today, "place": "Balai Desa",
        "attendance": {"men": 10, "women": 12, "poor": 5},
        "facilitator": "Faskel Lombok Barat", "evidence": ["BA-rpk"]})
    cycle = call(faskel, "POST", f"/api/v1/villages/{other}/cycle/stage-completions",
                 {"completed_on": today, "stage": 2})
    assert cycle["stage"] == 3, cycle
    # a third version of Bajur's RPLP, from the approved second
    second = call(bkm, "GET", f"/api/v1/villages/{BAJUR}/documents/rplp/versions/2")
    content = {**second["content"], "vision": "Bajur sehat dan tangguh bencana 2030"}
    third = call(bkm, "POST", f"/api/v1/villages/{BAJUR}/documents/rplp/versions",
                 {"content": content, "drafted_on": today, "based_on": 2}, expect=201)
    assert third["version"] == 3, third
    report = json.loads(old.plpbk("verify", "--all", "--json"))
    assert all(item["ok"] for item in report), report
    # the tree heads an auditor kept from that version: the ledgers now extend them
    for name in sorted(os.listdir(os.path.join(old.folder, "tree-heads"))):
        old.plpbk("audit", "consistency", "--tree-head", os.path.join("tree-heads", name),
                  "--public-key", "tree-head.pem.pub", "--role", "auditor")
