"""A crash-consistency drill: the whole platform (`plpbk run`: every service, the relay)
loses every process at once, SIGKILL (a power cut as far as processes go: nothing
closes, flushes or says goodbye), while concurrent callers import villages, select
them and record cycle activities over HTTP, each write with an Idempotency-Key. The
platform is started again on the same folders and the callers send again, with the same
key, every request that got no answer, as an integrating system would. Then every write
answered before the cut is in the ledgers and the views, every retried one took effect
once, the ledgers verify, nothing is parked, the relay caught up, and new work is
served."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from http.client import HTTPException

import pytest

from services import RELAY_METRICS_PORT, SERVICES
from shared.regions import all_village_codes, kabupaten_codes

from .running import BIN, REPO, RunningPlatform, http, port_is_free

VILLAGES = 3000
IMPORT_CHUNK = 250                 # rows per import request
QUOTA = 10                         # villages selected in each
QUOTAS = 200                       # kabupaten given a quota
ACTIVITIES = ["lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal"]
CALLERS = 4
NO_ANSWER = (OSError, urllib.error.URLError, HTTPException)


class CrashablePlatform(RunningPlatform):
    """RunningPlatform that can lose every process at once and start again on its
    folders and its RabbitMQ virtual host."""

    def process_tree(self):
        """plpbk run and every process under it (its children run in their own sessions,
        so they are found by parent, not by group)."""
        parents = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        fields = stat.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents.setdefault(int(fields[1]), []).append(int(entry))
        tree, pending = [], [self.process.pid]
        while pending:
            pid = pending.pop()
            tree.append(pid)
            pending.extend(parents.get(pid, []))
        return tree

    def power_cut(self):
        """SIGKILL to every process of the platform, plpbk run first (so that it cannot
        stop the others gently)."""
        for pid in self.process_tree():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while not all(port_is_free(port) for _name, port in SERVICES.values()) \
                or not port_is_free(RELAY_METRICS_PORT):
            assert time.monotonic() < deadline, "a port of the killed platform stays taken"
            time.sleep(0.1)

    def restart(self):
        self.log.close()
        self.log = open(os.path.join(self.folder, "platform.log"), "a")
        self.process = subprocess.Popen(
            [os.path.join(BIN, "plpbk"), "run"], cwd=REPO, env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_until_up()

    def ledger_records(self, ledger):
        """(stream_id, type, payload) of every record, read from the file itself."""
        path = os.path.join(self.folder, "ledgers", f"{ledger}.db")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT stream_id, type, body FROM records ORDER BY position")
            return [(stream, kind, json.loads(body)["payload"]) for stream, kind, body in rows]
        finally:
            db.close()


@pytest.fixture(scope="module")
def platform():
    with CrashablePlatform() as running:
        yield running


class Callers:
    """Several callers sending keyed writes at once; what each got back, by key."""

    def __init__(self, headers):
        self.headers = headers
        self.answers = {}           # key -> (status, body): answered
        self.failures = []          # (key, status, body) of every 5xx
        self.lock = threading.Lock()

    def send(self, request):
        method, path, body, key = request
        try:
            status, answer = http(method, path, body,
                                  {**self.headers, "Idempotency-Key": key}, timeout=120)
        except NO_ANSWER:
            return
        with self.lock:
            if status < 500:
                self.answers[key] = (status, answer)
            else:                   # no answer to keep: the caller sends it again
                self.failures.append((key, status, answer))

    def answered(self, requests):
        with self.lock:
            return sum(request[3] in self.answers for request in requests)

    def until_cut(self, platform, requests, cut_after):
        """Send the requests from CALLERS threads; cut the power once cut_after of them
        are answered (mid-way through the rest)."""
        with ThreadPoolExecutor(CALLERS) as pool:
            for request in requests:
                pool.submit(self.send, request)
            deadline = time.monotonic() + 120
            while (answered := self.answered(requests)) < cut_after:
                assert time.monotonic() < deadline, f"only {answered} answered"
                time.sleep(0.01)
            platform.power_cut()
        assert self.answered(requests) < len(requests), "every request answered before the cut"

    def retry_unanswered(self, requests):
        """The callers send again, with the same key, every request without an answer."""
        deadline = time.monotonic() + 120
        while missing := [r for r in requests if r[3] not in self.answers]:
            assert time.monotonic() < deadline, f"{len(missing)} never answered"
            with ThreadPoolExecutor(CALLERS) as pool:
                list(pool.map(self.send, missing))

    def refused(self):
        return {key: answer for key, answer in self.answers.items()
                if not 200 <= answer[0] < 300}


def import_requests(codes):
    rows = [{"code": code, "source_document": f"BPS {code[:5]} 2024",
             "observed_on": "2024-06-30", "poverty_rate": f"{20 + index % 40}.5",
             "slum_area": "ya", "slum_hectares": "12.4", "bookkeeping_rating": "memadai",
             "voter_turnout": "42", "fund_misuse_cases": "0", "pemda_priority": "ya",
             "pemda_decree": "SK Bupati 050/12/2024", "line": index + 2}
            for index, code in enumerate(codes)]
    return [("POST", "/api/v1/villages/imports", {"rows": rows[start:start + IMPORT_CHUNK]},
             f"drill-import-{start}") for start in range(0, len(rows), IMPORT_CHUNK)]


def activity_requests(codes):
    today = date.today().isoformat()
    return [("POST", f"/api/v1/villages/{code}/cycle/activities", {
        "activity": activity, "held_on": today, "place": f"Balai Desa {code}",
        "attendance": {"men": 21, "women": 14, "poor": 9},
        "facilitator": "Faskel", "evidence": [f"BA-{activity}-{code}"]},
        f"drill-{code}-{activity}") for code in codes for activity in ACTIVITIES]


def wait_for(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def metric_values(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return [float(value) for value in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$",
                                                 text, re.M)]


def caught_up():
    """The relay published every ledger and every subscriber applied it."""
    lags = metric_values(RELAY_METRICS_PORT, "plpbk_relay_lag_events")
    for _target, port in SERVICES.values():
        lags += metric_values(port, "plpbk_subscriber_lag_events")
    return lags and not any(lags)


def test_a_power_cut_mid_import_mid_selection_and_mid_activities_loses_nothing(platform):
    codes = all_village_codes()[:VILLAGES]
    key = platform.issue_key("SIPD drill", role="ministry")
    system = {"X-API-Key": key}
    callers = Callers(system)
    next_one = sorted({code[:5] for code in codes})[-1]      # for the work after the cuts

    # 1. the import, cut mid-way
    imports = import_requests(codes)
    callers.until_cut(platform, imports, cut_after=3)
    platform.restart()
    callers.retry_unanswered(imports)

    # 2. quotas of many kabupaten, cut mid-way; then the selections in every kabupaten
    #    of the import at once, cut mid-way (their cycles open meanwhile, a reaction of
    #    the cycle service)
    kabupaten = sorted({code[:5] for code in codes} - {next_one})
    quotas = [("POST", "/api/v1/quotas", {"kabupaten": k, "quota": QUOTA,
                                          "decree_reference": "KepMen PUPR 7/2026"},
               f"drill-quota-{k}") for k in kabupaten_codes()[:QUOTAS] if k != next_one]
    callers.until_cut(platform, quotas, cut_after=len(quotas) // 3)
    platform.restart()
    callers.retry_unanswered(quotas)
    selections = [("POST", "/api/v1/selections", {"kabupaten": k}, f"drill-select-{k}")
                  for k in kabupaten]
    callers.until_cut(platform, selections, cut_after=1)
    platform.restart()
    callers.retry_unanswered(selections)

    # 3. activities of every selected village's first stage, cut mid-way
    selected = sorted(payload["code"] for _s, kind, payload
                      in platform.ledger_records("registration") if kind == "VillageSelected")
    assert len(selected) == len(kabupaten) * QUOTA
    wait_for(lambda: all(http("GET", f"/api/v1/villages/{code}/cycle", headers=system)[0]
                         == 200 for code in selected), "every selected village's cycle")
    activities = activity_requests(selected)
    callers.until_cut(platform, activities, cut_after=len(activities) // 3)
    platform.restart()
    callers.retry_unanswered(activities)

    assert callers.refused() == {}
    assert [f for f in callers.failures if f[1] != 503] == []   # 503: not running yet
    check_consistency(platform, system, codes, selected, callers)
    check_new_work_is_served(system, selected, next_one)


def check_consistency(platform, system, codes, selected, callers):
    platform.plpbk("verify", "--all")                      # exit 0, else it raises
    registration = platform.ledger_records("registration")
    registered = Counter(p["code"] for _s, kind, p in registration
                         if kind == "VillageRegistered")
    assert set(registered) == set(codes) and set(registered.values()) == {1}
    for key, (_status, answer) in callers.answers.items():
        if key.startswith("drill-import-"):                 # retried rows: unchanged
            assert answer["errors"] == [] and answer["recorded"] + answer["unchanged"] == \
                IMPORT_CHUNK, answer
    chosen = Counter(p["code"] for _s, kind, p in registration if kind == "VillageSelected")
    assert set(chosen.values()) == {1} and sorted(chosen) == selected
    quotas = Counter(p["kabupaten"]["code"] for _s, kind, p in registration
                     if kind == "QuotaSet")                 # each set once, cut or not
    assert set(quotas.values()) == {1}, quotas.most_common(3)
    told = {code for key, (_status, answer) in callers.answers.items()
            if key.startswith("drill-select-") for codes in answer["selected"].values()
            for code in codes}
    assert told == set(chosen)     # a retry is told what its lost answer said
    cycle = platform.ledger_records("cycle")
    opened = Counter(p["code"] for _s, kind, p in cycle if kind == "CycleOpened")
    assert set(opened.values()) == {1} and sorted(opened) == selected
    recorded = Counter((p["code"], p["activity"]) for _s, kind, p in cycle
                       if kind == "ActivityRecorded")
    assert set(recorded.values()) == {1}
    assert set(recorded) == {(code, a) for code in selected for a in ACTIVITIES}

    # the views say what the ledgers say
    status, villages = http("GET", "/api/v1/villages?page_size=1", headers=system)
    assert status == 200 and villages["total"] == len(codes), villages
    status, chosen_view = http("GET", "/api/v1/villages?status=selected&page_size=1",
                               headers=system)
    assert status == 200 and chosen_view["total"] == len(selected), chosen_view
    status, cycles = http("GET", "/api/v1/cycles?page_size=1", headers=system)
    assert status == 200 and cycles["total"] == len(selected), cycles
    for code in selected:
        status, cycle_view = http("GET", f"/api/v1/villages/{code}/cycle", headers=system)
        assert status == 200, cycle_view
        assert sorted(a["activity"] for a in cycle_view["timeline"]) == sorted(ACTIVITIES)
    platform.plpbk("rebuild", "--check")                   # exit 0: no difference
    assert platform.plpbk("parked").strip() == "no parked events"
    wait_for(caught_up, "the relay and every subscriber to catch up")


def check_new_work_is_served(system, selected, next_kabupaten):
    """After the cuts the platform takes new work as before."""
    status, answer = http("POST", f"/api/v1/villages/{selected[0]}/cycle/activities", {
        "activity": "pengukuhan_tipp", "held_on": date.today().isoformat(),
        "place": "Balai Desa", "attendance": {"men": 3, "women": 4, "poor": 1},
        "facilitator": "Faskel", "evidence": ["BA-tipp"],
        "members": [{"name": "Siti", "sex": "P", "role": "ketua"}]},
        {**system, "Idempotency-Key": "drill-after"})
    assert status == 200, answer
    for path, body in [("/api/v1/quotas", {"kabupaten": next_kabupaten, "quota": 2,
                                           "decree_reference": "KepMen PUPR 8/2026"}),
                       ("/api/v1/selections", {"kabupaten": next_kabupaten})]:
        status, answer = http("POST", path, body, system)
        assert status == 200, answer
    picked = answer["selected"][next_kabupaten]
    assert len(picked) == 2
    wait_for(lambda: all(http("GET", f"/api/v1/villages/{code}/cycle", headers=system)[0]
                         == 200 for code in picked), "the new selection's cycles")
