"""One village through the platform, over HTTP only, as people and systems use it.

The platform runs as `make run` starts it (`plpbk run`: one process per service and the
relay); users and an API key are made with `plpbk users` / `plpbk keys`. A district
officer registers Bajur and records its evidence, the ministry selects it under a
quota, the village's cycle opens and its first stages are completed, the BKM drafts
its RPLP and a community meeting approves it; an auditor then reads the history, in
which every decision names the person who took it.
"""
import base64
import json
import os
import time
from datetime import date

from tests.samples import ELIGIBLE
from tests.unit.planning import samples

from .running import http, http_bytes

BAJUR = samples.BAJUR
BKM = {"name": "BKM Bajur Sejahtera", "formed_on": "2019-03-01", "members": [
    {"name": "Siti", "sex": "P", "role": "koordinator"},
    {"name": "Ahmad", "sex": "L", "role": "anggota"}]}


class Person:
    """Someone using the API with a token (or a system with its key)."""

    def __init__(self, headers, name):
        self.headers, self.name = headers, name

    def __call__(self, method, path, body=None, expect=200, **headers):
        status, answer = http(method, path, body, {**self.headers, **headers})
        assert status == expect, f"{self.name} {method} {path}: {status} {answer}"
        return answer


def wait_for(condition, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def people(platform):
    made = {}
    for username, role, region in [("dinas", "district", "52.01"), ("kemen", "ministry", ""),
                                   ("bkm", "bkm", BAJUR), ("faskel", "facilitator", "52.01"),
                                   ("bpkp", "auditor", "")]:
        platform.create_user(username, role, region)
        made[username] = Person({"Authorization": f"Bearer {platform.login(username)}"},
                                username)
    made["sipd"] = Person({"X-API-Key": platform.issue_key("SIPD Kemendagri", "integration")},
                          "sipd")
    return made


def test_one_village_from_registration_to_an_approved_plan(platform):
    who = people(platform)
    dinas, kemen, bkm, bpkp, sipd = (who[name] for name in
                                     ("dinas", "kemen", "bkm", "bpkp", "sipd"))

    # registration and eligibility (the district's officer)
    village = dinas("POST", "/api/v1/villages", {"code": BAJUR, "bkm": BKM}, expect=201,
                    **{"X-Correlation-Id": "e2e-register", "Idempotency-Key": "e2e-1"})
    assert village["name"] == "Bajur"
    village = dinas("POST", f"/api/v1/villages/{BAJUR}/indicators", ELIGIBLE)
    assert village["status"] == "eligible"

    # selection under the ministry's quota
    kemen("POST", "/api/v1/quotas", {"kabupaten": "52.01", "quota": 1,
                                     "decree_reference": "KepMen PUPR 7/2026"})
    assert kemen("POST", "/api/v1/selections", {"kabupaten": "52.01"}) == {
        "selected": {"52.01": [BAJUR]}, "unfilled": {}}
    assert sipd("GET", f"/api/v1/villages/{BAJUR}")["status"] == "selected"

    drive_cycle(who)

    # the RPLP, approved by a community meeting
    def upload(content, kind):
        return bkm("POST", f"/api/v1/villages/{BAJUR}/attachments", {
            "filename": f"{kind}.pdf", "media_type": "application/pdf", "kind": kind,
            "content_base64": base64.b64encode(content).decode()}, expect=201)["sha256"]
    map_sha = upload(b"%PDF-1.7 peta kondisi eksisting", "map")
    attendance_sha = upload(b"%PDF-1.7 daftar hadir", "attendance_list")
    bkm("POST", f"/api/v1/villages/{BAJUR}/documents/rplp",
        {"content": samples.content("rplp", map_sha), "drafted_on": "2024-08-01"},
        expect=201)
    meeting = bkm("POST", f"/api/v1/villages/{BAJUR}/meetings",
                  samples.meeting(attendance_sha, [("rplp", 1)],   # stage 4 began today
                                  held_on=date.today().isoformat()), expect=201)
    bkm("POST", f"/api/v1/villages/{BAJUR}/documents/rplp/approvals",
        {"version": 1, "meeting_id": meeting["meeting_id"]},
        **{"X-Correlation-Id": "e2e-approve"})
    plan = bkm("GET", f"/api/v1/villages/{BAJUR}/documents/rplp/versions/1")
    assert plan["status"] == "approved"

    check_cycle_after_approval(who)

    # the auditor's view: every decision, who took it, in which request
    def history():
        return bpkp("GET", f"/api/v1/audit/villages/{BAJUR}/history?page_size=500")["items"]
    entries = wait_for(lambda: (found := history()) and any(
        e["type"] == "DocumentApproved" for e in found) and found, "the audit index")
    types = [e["type"] for e in entries]
    for expected in ("VillageRegistered", "EligibilityDecided", "VillageSelected",
                     "CycleOpened", "StageCompleted", "DocumentDrafted", "DocumentApproved"):
        assert expected in types, (expected, types)
    actors = {e["type"]: e["actor"] for e in entries}
    assert actors["VillageRegistered"] == {"id": "user:dinas", "role": "district",
                                           "region": "52.01"}
    assert actors["VillageSelected"]["id"] == "user:kemen"
    assert actors["DocumentApproved"]["id"] == "user:bkm"
    assert actors["StageCompleted"]["id"] == "user:faskel"
    assert actors["CycleOpened"]["id"] == "system"          # the reaction to the selection
    correlation = {e["type"]: e["correlation_id"] for e in entries}
    assert correlation["VillageRegistered"] == "e2e-register"
    assert correlation["DocumentApproved"] == "e2e-approve"
    assert bpkp("GET", f"/api/v1/audit/villages/{BAJUR}/history?as_of=2000-01-01")[
        "total"] == 0

    # ... and checks the village's bundle offline, with the platform's public key alone
    status, bundle = http_bytes("POST", "/api/v1/audit/bundles", {"village": BAJUR},
                                bpkp.headers)
    assert status == 200, bundle
    saved = os.path.join(platform.folder, "bajur.bundle")
    with open(saved, "wb") as handle:
        handle.write(bundle)                      # as it came: every byte is checked
    report = json.loads(platform.plpbk("verify-bundle", saved, "--public-key",
                                       platform.tree_head_key + ".pub", "--json"))
    assert report["ok"] and {"registration", "cycle", "planning"} <= set(
        report["tree_heads"]), report

    # who granted what: the CLI's grants are in the gateway's ledger, seen by the audit
    ledgers = {item["ledger"] for item in bpkp("GET", "/api/v1/audit/ledgers")["items"]}
    assert {"gateway", "registration", "cycle", "planning"} <= ledgers
    # an auditor reads but never writes; a district officer stays in the district
    bpkp("POST", "/api/v1/villages", {"code": "52.01.08.2001"}, expect=403)
    dinas("GET", "/api/v1/villages/31.71.01.1001", expect=403)


FIRST_STAGES = {1: ["lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal",
                    "pengukuhan_tipp"], 2: ["refleksi_perkara_kritis"], 3: ["pemetaan_swadaya"]}


def drive_cycle(who):
    """Selection opened the cycle (a reaction over RabbitMQ); the facilitator records
    the activities of the first three stages and completes each."""
    faskel, sipd = who["faskel"], who["sipd"]
    cycle = wait_for(lambda: (found := http("GET", f"/api/v1/villages/{BAJUR}/cycle",
                                            headers=sipd.headers))[0] == 200 and found[1],
                     "the cycle to open on selection")
    assert cycle["stage"] == 1 and cycle["selection"]
    today = date.today().isoformat()
    for stage, activities in FIRST_STAGES.items():
        for activity in activities:
            record = {"activity": activity, "held_on": today, "place": "Balai Desa Bajur",
                      "attendance": {"men": 21, "women": 14, "poor": 9},
                      "facilitator": "Faskel Lombok Barat", "evidence": [f"BA-{activity}"]}
            if activity == "pengukuhan_tipp":
                record["members"] = BKM["members"]
            faskel("POST", f"/api/v1/villages/{BAJUR}/cycle/activities", record,
                   **{"Idempotency-Key": f"e2e-{activity}"})
        cycle = faskel("POST", f"/api/v1/villages/{BAJUR}/cycle/stage-completions",
                       {"completed_on": today, "stage": stage})
        assert cycle["stage"] == stage + 1, cycle
    assert "rplp_disetujui" in {o["key"] if isinstance(o, dict) else o
                               for o in cycle["missing_outputs"]}


def check_cycle_after_approval(who):
    """The approved RPLP satisfies its output of stage 4 (a reaction to planning)."""
    def rplp_done():
        cycle = who["sipd"]("GET", f"/api/v1/villages/{BAJUR}/cycle")
        done = {o["key"] if isinstance(o, dict) else o for o in cycle["done_outputs"]}
        return "rplp_disetujui" in done
    wait_for(rplp_done, "the approved RPLP to reach the cycle")


def test_ctrl_c_stops_every_process_cleanly(platform):
    """Last in this module: the terminal's SIGINT reaches `plpbk run` alone, which stops
    each process with one SIGTERM. (A service given SIGINT and then SIGTERM began a second
    stop, hung, and was killed after 20 s, and plpbk run exited 1.)"""
    assert platform.interrupt() == 0, platform.logs()
