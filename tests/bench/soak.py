"""Soak test: a steady mixed load on a running platform, with every process sampled each
minute, to show whether anything grows without bound (memory, descriptors, threads, WAL
files, queues, relay lag).

Runs against a platform started with `plpbk run` whose village list is imported
(`plpbk import villages`). Run it from the repository folder with the platform's
STORE_URI, STATE_URI and AMQP_URI in the environment: it creates its users there with
`plpbk users create` (existing ones are kept) and then drives the gateway over HTTP.

    python -m tests.bench.soak --minutes 20 --store-folder /tmp/soak --vhost soak

Each minute it appends a JSON line to --samples (RSS, threads and open descriptors of
every process, database and WAL sizes, RabbitMQ queue depths, relay lag, subscriber lag,
the load's latency percentiles and answers by status), and prints a summary line. Any 5xx
answer is printed as it happens (599: the client's own failure, such as a refused
connection or an answer that is not JSON). Exit code 1 when any 5xx was seen. Failed
logins are left out: they lock the client's address for every user (the throttle).
"""
import argparse
import base64
import collections
import datetime
import itertools
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse

import requests

from services import RELAY_METRICS_PORT, SERVICES
from shared import regions

PASSWORD = "a soak test passphrase"
BIN = os.path.join(os.path.dirname(sys.executable), "plpbk")
# what `plpbk run` starts, from its own table: a service added there is watched too.
# name -> what its command line holds (`nameko run ... <target>`), and its /metrics port
PROCESSES = {name: target for name, (target, _port) in SERVICES.items()} | {
    "relay": "plpbk relay"}
METRIC_PORTS = {name: port for name, (_target, port) in SERVICES.items()} | {
    "relay": RELAY_METRICS_PORT}
USERS = [("soak-admin", "ministry", None), ("soak-district", "district", "52.01"),
         ("soak-faskel", "facilitator", "52.01"), ("soak-auditor", "auditor", None)]
NAMES = ["bajur", "sari", "jaya", "makmur", "baru", "indah", "mekar", "tengah", "utara", "lor"]
STAGE_ACTIVITIES = {1: ["lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal",
                        "pengukuhan_tipp"], 2: ["refleksi_perkara_kritis"], 3: ["pemetaan_swadaya"]}


class Stats:
    """Latencies and statuses of the load, per minute and in total."""

    def __init__(self):
        self.lock = threading.Lock()
        self.window = []
        self.statuses = collections.Counter()
        self.total = collections.Counter()
        self.by_action = collections.Counter()
        self.every = []   # every latency, for the whole run's percentiles
        self.server_errors = []

    def record(self, action, status, seconds, body=""):
        with self.lock:
            self.window.append(seconds)
            self.every.append(seconds)
            self.statuses[status] += 1
            self.total[status] += 1
            self.by_action[f"{action} {status}"] += 1
            if status >= 500:
                self.server_errors.append((action, status, body[:300]))
                print(f"5xx: {action} {status} {body[:300]}", flush=True)

    def take(self):
        with self.lock:
            window, statuses = sorted(self.window), dict(self.statuses)
            self.window, self.statuses = [], collections.Counter()
        return {"requests": len(window), "statuses": statuses,
                **{f"p{q}_ms": percentile(window, q) for q in (50, 95, 99)},
                "max_ms": round(window[-1] * 1000, 1) if window else None}


def percentile(ordered, q):
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))] * 1000, 1)


class Client:
    """One user's session: logs in again when its token is refused or old."""

    def __init__(self, base, stats, username):
        self.base, self.stats, self.username = base, stats, username
        self.http = requests.Session()
        self.token, self.since = None, 0

    def login(self):
        while True:
            answer = self.call("login", "POST", "/api/v1/auth/login", auth=False,
                               json={"username": self.username, "password": PASSWORD})
            if answer.status_code != 429:
                break
            time.sleep(int(answer.headers.get("Retry-After", 1)))
        self.token, self.since = answer.json()["access_token"], time.monotonic()

    def call(self, action, method, path, auth=True, headers=None, **kwargs):
        if auth and (self.token is None or time.monotonic() - self.since > 600):
            self.login()
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        started = time.perf_counter()
        answer = self.http.request(method, self.base + path, headers=headers, timeout=60,
                                   **kwargs)
        self.stats.record(action, answer.status_code, time.perf_counter() - started,
                          answer.text if answer.status_code >= 500 else "")
        return answer


class Load:
    """The mixed workload: each call of step() does one weighted action."""

    def __init__(self, base, stats, codes, seed):
        self.rng = random.Random(seed)
        self.codes = codes
        self.local = [code for code in codes if code.startswith("52.01.")]
        self.kabupaten = sorted({code[:5] for code in codes})
        self.admin = Client(base, stats, "soak-admin")
        self.district = Client(base, stats, "soak-district")
        self.faskel = Client(base, stats, "soak-faskel")
        self.auditor = Client(base, stats, "soak-auditor")
        self.stats = stats
        self.actions = [(self.listing, 10), (self.read_village, 10), (self.evidence, 8),
                        (self.evaluation, 3), (self.select, 2), (self.cycle_work, 8),
                        (self.planning, 6), (self.meeting, 2), (self.audit, 5),
                        (self.proof, 3), (self.bundle, 1), (self.bad_request, 4),
                        (self.retry, 3), (self.fresh_login, 1), (self.report, 2)]

    def step(self):
        action = self.rng.choices([a for a, _ in self.actions], [w for _, w in self.actions])[0]
        action()

    def code(self):
        return self.rng.choice(self.codes)

    def listing(self):
        query = self.rng.choice([
            {"page": self.rng.randint(1, 1600)}, {"name": self.rng.choice(NAMES)},
            {"name": self.rng.choice(NAMES), "page": 2}, {"status": "eligible"},
            {"region": self.rng.choice(self.kabupaten)}])
        self.admin.call("list", "GET", "/api/v1/villages?" + urllib.parse.urlencode(query))

    def report(self):
        region = self.rng.choice([self.rng.choice(self.kabupaten), self.code()[:8], ""])
        self.auditor.call("on-time-share", "GET",
                          "/api/v1/cycles/on-time-share?" + urllib.parse.urlencode(
                              {"region": region} if region else {}))

    def read_village(self):
        code = self.code()
        self.admin.call("read", "GET", f"/api/v1/villages/{code}")
        if self.rng.random() < 0.3:
            self.admin.call("eligibility-history", "GET",
                            f"/api/v1/villages/{code}/eligibility/history")

    def indicators(self):
        return {"source_document": f"Survei soak {self.rng.randint(1, 10**9)}",
                "observed_on": "2025-06-30", "indicators": {
                    "poverty_rate": f"{self.rng.uniform(10, 60):.1f}",
                    "slum_area": {"present": True, "hectares": "12.4"},
                    "bookkeeping_rating": "memadai", "voter_turnout": "42",
                    "fund_misuse_cases": 0, "pemda_priority": {
                        "prioritised": True, "decree_reference": "SK Bupati 050/12/2024"}}}

    def evidence(self):
        self.admin.call("evidence", "POST", f"/api/v1/villages/{self.code()}/indicators",
                        json=self.indicators(),
                        headers={"Idempotency-Key": f"soak-{self.rng.getrandbits(64):x}"})

    def evaluation(self):
        self.admin.call("evaluation", "POST",
                        f"/api/v1/villages/{self.code()}/eligibility/decisions")

    def select(self):
        kabupaten = self.rng.choice(self.kabupaten + ["52.01"] * 20)
        quota = self.rng.randint(1, 40)
        self.admin.call("quota", "POST", "/api/v1/quotas", json={
            "kabupaten": kabupaten, "quota": quota, "decree_reference": f"KepMen soak {quota}"})
        self.admin.call("selection", "POST", "/api/v1/selections", json={"kabupaten": kabupaten})

    def cycle_work(self):
        cycles = self.admin.call("cycles", "GET", "/api/v1/cycles?" + urllib.parse.urlencode(
            {"page": self.rng.randint(1, 3)})).json()
        items = cycles.get("items") or []
        if not items:
            return
        code = self.rng.choice(items)["code"]
        cycle = self.admin.call("cycle", "GET", f"/api/v1/villages/{code}/cycle").json()
        stage = cycle.get("stage")
        todo = STAGE_ACTIVITIES.get(stage, [])
        today = datetime.date.today().isoformat()
        if not todo or self.rng.random() < 0.3:
            self.admin.call("stage-completion", "POST",
                            f"/api/v1/villages/{code}/cycle/stage-completions",
                            json={"completed_on": today, "stage": stage})
            return
        activity = self.rng.choice(todo)
        body = {"activity": activity, "held_on": today, "place": "Balai Desa",
                "attendance": {"men": 21, "women": 14, "poor": 9}, "facilitator": "Faskel",
                "evidence": [f"BA-{activity}"]}
        if activity == "pengukuhan_tipp":
            body["members"] = [{"name": "Siti", "sex": "P", "role": "koordinator"},
                               {"name": "Ahmad", "sex": "L", "role": "anggota"}]
        self.admin.call("activity", "POST", f"/api/v1/villages/{code}/cycle/activities",
                        json=body)

    def rules(self):
        return {"rules": [{"topic": "Persampahan", "current_condition": "Sampah di saluran",
                           "ideal_condition": "Saluran bersih",
                           "agreed_rule": f"Aturan {self.rng.randint(1, 10**6)}",
                           "enforced_by": "UPL BKM", "sanction": "Teguran"}]}

    def planning(self):
        code = self.rng.choice(self.local)
        base = f"/api/v1/villages/{code}/documents/aturan_bersama"
        today = datetime.date.today().isoformat()
        version = self.latest_version(code)
        if version is None:
            self.faskel.call("draft", "POST", base,
                             json={"drafted_on": today, "content": self.rules()})
        else:
            self.faskel.call("revision", "POST", base + "/versions", json={
                "drafted_on": today, "content": self.rules(), "based_on": version})
            self.faskel.call("version", "GET", base + f"/versions/{version}")
            if version > 1:
                self.faskel.call("diff", "GET", base + f"/diff?from_version=1&to_version={version}")

    def latest_version(self, code):
        answer = self.faskel.call("documents", "GET", f"/api/v1/villages/{code}/documents")
        return next((d["latest_version"] for d in answer.json() if isinstance(d, dict)
                     and d.get("kind") == "aturan_bersama"), None) \
            if answer.status_code == 200 else None

    def upload(self, code, kind):
        content = f"%PDF-1.4\n% {kind} {self.rng.getrandbits(64):x}\n".encode()
        answer = self.faskel.call("upload", "POST", f"/api/v1/villages/{code}/attachments",
                                  json={"filename": f"{kind}.pdf", "media_type": "application/pdf",
                                        "kind": kind,
                                        "content_base64": base64.b64encode(content).decode()})
        return answer.json().get("sha256") if answer.status_code == 201 else None

    def meeting(self):
        code = self.rng.choice(self.local)
        listing, minutes = self.upload(code, "attendance_list"), self.upload(code, "minutes")
        if not (listing and minutes):
            return
        version = self.latest_version(code)
        if not version:
            return
        answer = self.faskel.call("meeting", "POST", f"/api/v1/villages/{code}/meetings", json={
            "meeting_type": "musyawarah", "held_on": datetime.date.today().isoformat(),
            "place": "Balai Desa", "agenda": ["Aturan bersama"],
            "chair": {"name": "H. Lalu Ahmad", "position": "Koordinator BKM"},
            "minute_taker": {"name": "Baiq Siti", "position": "Sekretaris BKM"},
            "attendance": {"men": 20, "women": 12, "poor": 9},
            "attendance_list": {"sha256": listing, "title": "Daftar hadir"},
            "minutes": {"sha256": minutes, "title": "Berita acara"},
            "decisions": [{"text": f"Menyetujui versi {version}",
                           "approves": {"kind": "aturan_bersama", "version": version}}]})
        if answer.status_code == 201:
            meeting = answer.json()["meeting_id"]
            self.faskel.call("meeting-read", "GET", f"/api/v1/meetings/{meeting}")
            self.faskel.call("approval", "POST",
                             f"/api/v1/villages/{code}/documents/aturan_bersama/approvals",
                             json={"version": version, "meeting_id": meeting})
        self.faskel.call("attachment-read", "GET", f"/api/v1/villages/{code}/attachments/{minutes}")

    def audit(self):
        code = self.rng.choice(self.local if self.rng.random() < 0.5 else self.codes)
        history = self.auditor.call("history", "GET", f"/api/v1/audit/villages/{code}/history")
        if self.rng.random() < 0.3:
            self.auditor.call("as-of", "GET", f"/api/v1/audit/villages/{code}/state?as_of="
                              + datetime.date.today().isoformat())
        items = history.json().get("items") if history.status_code == 200 else None
        if items:
            self.auditor.call("event-proof", "GET",
                              f"/api/v1/audit/events/{self.rng.choice(items)['event_id']}/proof")

    def proof(self):
        ledger = self.rng.choice(["registration", "cycle", "planning"])
        head = self.auditor.call("tree-head", "GET", f"/api/v1/audit/ledgers/{ledger}/tree-head")
        size = head.json().get("tree_size") if head.status_code == 200 else None
        if size:
            self.auditor.call("record-proof", "GET", f"/api/v1/audit/ledgers/{ledger}/records/"
                              f"{self.rng.randint(1, size)}/proof")
            self.auditor.call("consistency", "GET", f"/api/v1/audit/ledgers/{ledger}/consistency"
                              f"?first={self.rng.randint(1, size)}&second={size}")

    def bundle(self):
        self.auditor.call("bundle", "POST", "/api/v1/audit/bundles",
                          json={"village": self.rng.choice(self.local)})

    def bad_request(self):
        choice = self.rng.randrange(5)
        if choice == 0:
            self.admin.call("bad-404", "GET", "/api/v1/villages/99.99.99.9999")
        elif choice == 1:
            self.admin.call("bad-400", "POST", f"/api/v1/villages/{self.code()}/indicators",
                            json={"observed_on": "yesterday"})
        elif choice == 2:
            self.admin.call("bad-401", "GET", "/api/v1/villages", auth=False,
                            headers={"Authorization": f"Bearer x{self.rng.getrandbits(64):x}"})
        elif choice == 3:
            self.admin.call("bad-path", "GET", f"/api/v1/nothing/{self.rng.getrandbits(32)}")
        else:   # no failed logins: they lock this client's address for everyone (throttle)
            self.admin.call("bad-json", "POST", "/api/v1/quotas", data="{not json",
                            headers={"Content-Type": "application/json"})

    def retry(self):
        key = f"soak-retry-{self.rng.getrandbits(64):x}"
        body, code = self.indicators(), self.code()
        for _ in range(2):
            self.admin.call("idempotent", "POST", f"/api/v1/villages/{code}/indicators",
                            json=body, headers={"Idempotency-Key": key})

    def fresh_login(self):
        self.rng.choice([self.admin, self.district, self.faskel, self.auditor]).login()


# -- sampling ----------------------------------------------------------------------------------

def find_processes():
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        for name, marker in PROCESSES.items():
            if marker in command and "soak" not in command:
                found[name] = int(pid)
    return found


def process_sample(pid):
    try:
        status = open(f"/proc/{pid}/status").read()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024
        threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
        return {"rss_mb": rss, "threads": threads, "fds": len(os.listdir(f"/proc/{pid}/fd"))}
    except (OSError, AttributeError):
        return None


def file_sizes(folder):
    sizes = {}
    for root, _, files in os.walk(folder or "/nonexistent"):
        for name in files:
            if name.endswith(("-wal", ".db", ".sqlite", "-shm")):
                path = os.path.join(root, name)
                sizes[os.path.relpath(path, folder)] = os.path.getsize(path) // 1024
    return sizes


def queue_depths(management, vhost):
    if not vhost:
        return {}
    try:
        queues = requests.get(f"{management}/api/queues/{urllib.parse.quote(vhost, safe='')}",
                              auth=("guest", "guest"), timeout=10).json()
        return {q["name"]: q.get("messages", 0) for q in queues if q.get("messages")} | {
            "_total": sum(q.get("messages", 0) for q in queues), "_queues": len(queues)}
    except (requests.RequestException, ValueError) as error:
        return {"error": str(error)}


def metrics(host):
    wanted = ("plpbk_relay_lag_events", "plpbk_subscriber_lag_events", "plpbk_parked_events")
    found = {}
    for name, port in METRIC_PORTS.items():
        try:
            text = requests.get(f"http://{host}:{port}/metrics", timeout=10).text
        except requests.RequestException:
            continue
        for line in text.splitlines():
            if line.startswith(wanted):
                metric, value = line.rsplit(" ", 1)
                if float(value):
                    found[metric] = float(value)
    return found


def sample(args, stats, started):
    processes = {name: process_sample(pid) for name, pid in find_processes().items()}
    return {"minute": round((time.monotonic() - started) / 60, 1),
            "at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "processes": processes, "files_kb": file_sizes(args.store_folder),
            "queues": queue_depths(args.management, args.vhost),
            "nonzero_metrics": metrics(urllib.parse.urlparse(args.base_url).hostname),
            "load": stats.take()}


def summary_line(record):
    procs = " ".join(f"{n}={p['rss_mb']}M/{p['fds']}fd/{p['threads']}t"
                     for n, p in sorted(record["processes"].items()) if p)
    wal = sum(v for k, v in record["files_kb"].items() if k.endswith("-wal"))
    load = record["load"]
    return (f"[{record['minute']:5.1f} min] {procs} wal={wal}K "
            f"queued={record['queues'].get('_total')} req={load['requests']} "
            f"p50={load['p50_ms']} p99={load['p99_ms']} {load['statuses']}")


def final_summary(first, last, stats):
    lines = ["process        RSS MB start -> end   fds start -> end   threads start -> end"]
    for name in PROCESSES:
        a, b = first["processes"].get(name), last["processes"].get(name)
        if a and b:
            lines.append(f"{name:<14} {a['rss_mb']:>6} -> {b['rss_mb']:<6}      "
                         f"{a['fds']:>4} -> {b['fds']:<4}          "
                         f"{a['threads']:>3} -> {b['threads']}")
    for label, record in (("start", first), ("end", last)):
        wal = {k: v for k, v in record["files_kb"].items() if k.endswith("-wal")}
        lines.append(f"WAL KiB at {label}: {dict(sorted(wal.items()))}")
    every = sorted(stats.every)
    lines.append(f"requests {len(every)}: p50 {percentile(every, 50)} ms, p95 "
                 f"{percentile(every, 95)} ms, p99 {percentile(every, 99)} ms, max "
                 f"{round(every[-1] * 1000, 1) if every else None} ms")
    lines.append(f"answers by status: {dict(sorted(stats.total.items()))}")
    lines.append(f"by action and status: {dict(sorted(stats.by_action.items()))}")
    return "\n".join(lines)


# -- setup and main ------------------------------------------------------------------------------

def create_users():
    for username, role, region in USERS:
        command = [BIN, "users", "create", username, "--name", username, "--role", role,
                   "--password-stdin"] + (["--region", region] if region else [])
        subprocess.run(command, input=PASSWORD, text=True, capture_output=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20, help="how long to load (default 20)")
    parser.add_argument("--threads", type=int, default=4, help="load threads (default 4)")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="the gateway")
    parser.add_argument("--store-folder", help="folder whose SQLite and WAL files to size")
    parser.add_argument("--vhost", help="RabbitMQ virtual host whose queues to watch")
    parser.add_argument("--management", default="http://127.0.0.1:15672",
                        help="RabbitMQ management API (guest/guest)")
    parser.add_argument("--samples", default="soak-samples.jsonl",
                        help="where to append each minute's JSON line")
    parser.add_argument("--interval", type=float, default=60, help="seconds between samples")
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args(argv)

    create_users()
    codes = regions.all_village_codes()
    stats = Stats()
    stop = threading.Event()
    loads = [Load(args.base_url, stats, codes, args.seed + n) for n in range(args.threads)]

    def work(load):
        while not stop.is_set():
            try:
                load.step()
            except (requests.RequestException, ValueError, KeyError) as error:
                stats.record("client-error", 599, 0, repr(error))

    threads = [threading.Thread(target=work, args=(load,), daemon=True) for load in loads]
    started = time.monotonic()
    with open(args.samples, "a") as out:
        def write(record):
            out.write(json.dumps(record) + "\n")
            out.flush()
            print(summary_line(record), flush=True)
        first = sample(args, stats, started)
        write(first)
        for thread in threads:
            thread.start()
        deadline = started + args.minutes * 60
        for tick in itertools.count(1):
            time.sleep(max(0, min(started + tick * args.interval, deadline) - time.monotonic()))
            write(sample(args, stats, started))
            if time.monotonic() >= deadline:
                break
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        last = sample(args, stats, started)
        write(last)
    print(final_summary(first, last, stats))
    return 1 if stats.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
