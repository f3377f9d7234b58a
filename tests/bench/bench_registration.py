"""National scale in one run (issue 3): import all 83,762 official villages with generated
indicators, decide eligibility for all, set quotas and select under them, with every
event published to RabbitMQ and the views caught up. Prints wall time, events/s and the
peak memory of each process.

Runs the registration service as its own process (`nameko run`), exactly as `make run`
does, in a private RabbitMQ virtual host and a temporary folder; the import goes through
the real `plpbk import villages` code path (RPC in chunks).
usage: python -m tests.bench.bench_registration [--villages N]
"""
import argparse
import csv
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

from rich.console import Console
from rich.table import Table

from shared.regions import all_village_codes
from shared.config import QUIET_EVENTLET

console = Console()
MGMT = "http://127.0.0.1:15672/api"
QUOTA_PER_KABUPATEN = 5


def write_csv(path, codes, seed=20261128):
    """Indicators drawn so that about a third of villages come out eligible."""
    chance = random.Random(seed)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "source_document", "observed_on", "poverty_rate", "slum_area",
                         "slum_hectares", "bookkeeping_rating", "voter_turnout",
                         "fund_misuse_cases", "pemda_priority", "pemda_decree"])
        for code in codes:
            prioritised = chance.random() < 0.8
            writer.writerow([
                code, f"BPS/{code[:5]}/2024", "2024-06-30",
                f"{chance.uniform(10, 60):.2f}", "ya" if chance.random() < 0.85 else "tidak",
                f"{chance.uniform(0.5, 40):.2f}",
                chance.choice(["tidak_memadai", "memadai", "memadai", "baik"]),
                f"{chance.uniform(15, 80):.2f}", 0 if chance.random() < 0.9 else 1,
                "ya" if prioritised else "tidak", f"SK/{code[:5]}/2024" if prioritised else ""])


def _management(method, path):
    request = urllib.request.Request(f"{MGMT}{path}", method=method)
    request.add_header("Authorization", "Basic Z3Vlc3Q6Z3Vlc3Q=")  # guest:guest
    request.add_header("content-type", "application/json")
    data = b'{"configure":".*","write":".*","read":".*"}' if "permissions" in path else None
    urllib.request.urlopen(request, data=data).read()


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def relay_position(state_dir, ledger):
    path = os.path.join(state_dir, f"{ledger}.db")
    if not os.path.exists(path):
        return 0
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT doc FROM c_relay_positions WHERE key = ?", (ledger,)).fetchone()
    except sqlite3.OperationalError:
        row = None
    db.close()
    import orjson
    return orjson.loads(row[0])["position"] if row else 0


def run(villages=None):
    codes = all_village_codes()
    if villages:
        codes = codes[:villages]
    vhost = f"plpbk-bench-{uuid.uuid4().hex[:8]}"
    _management("PUT", f"/vhosts/{vhost}")
    _management("PUT", f"/permissions/{vhost}/guest")
    amqp = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    folder = tempfile.mkdtemp(prefix="plpbk-bench-")
    env = dict(os.environ, AMQP_URI=amqp, STORE_URI=f"sqlite:///{folder}/ledgers",
               STATE_URI=f"sqlite:///{folder}/state", VIEW_URI="memory://",
               WEB_SERVER_ADDRESS="127.0.0.1:0", LOG_LEVEL="WARNING", PLPBK_NO_PROGRESS="1",
               RELAY="external",
               PYTHONPATH=os.getcwd(), PYTHONWARNINGS=QUIET_EVENTLET)
    bin_dir = os.path.dirname(sys.executable)
    csv_path = os.path.join(folder, "villages.csv")
    write_csv(csv_path, codes)
    service = subprocess.Popen([os.path.join(bin_dir, "nameko"), "run", "--config",
                                "config.yml", "services.registration.service:RegistrationService"],
                               env=env)
    relay = subprocess.Popen([os.path.join(bin_dir, "plpbk"), "relay", "--all"], env=env,
                             stdout=subprocess.DEVNULL)
    try:
        from nameko.standalone.rpc import ClusterRpcProxy
        actor = {"actor": {"id": "bench", "role": "ministry", "region": ""}}
        with ClusterRpcProxy({"AMQP_URI": amqp}, timeout=600, context_data=actor) as cluster:
            _wait_until_up(cluster)
            started = time.perf_counter()
            imported = subprocess.run([os.path.join(bin_dir, "plpbk"), "import", "villages",
                                       csv_path], env=env, capture_output=True, text=True)
            import_done = time.perf_counter()
            kabupaten = sorted({code[:5] for code in codes})
            for code in kabupaten:
                cluster.registration.set_quota({"kabupaten": code, "quota": QUOTA_PER_KABUPATEN,
                                                "decree_reference": "KepMen PUPR 2026/17"})
            selected = cluster.registration.select_villages()
            selection_done = time.perf_counter()
            head = cluster.registration.status()["ledger_head"]
            while relay_position(f"{folder}/state", "registration") < head:
                time.sleep(0.05)
            published = time.perf_counter()
            eligible = cluster.registration.list_villages({"status": "eligible",
                                                           "page_size": 1})["total"]
        wall = published - started
        figures = {
            "villages": len(codes), "events": head, "wall_s": wall,
            "import_s": import_done - started, "quotas_and_selection_s":
                selection_done - import_done, "relay_tail_s": published - selection_done,
            "events_per_s": head / wall, "eligible": eligible,
            "selected": sum(len(v) for v in selected.values()),
            "service_peak_mb": peak_rss_mb(service.pid),
            "relay_peak_mb": peak_rss_mb(relay.pid),
            "bench_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "cli_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "import_output": imported.stdout.strip().splitlines()[:1],
        }
    finally:
        for process in (service, relay):
            process.terminate()
            process.wait(timeout=30)
        _management("DELETE", f"/vhosts/{vhost}")
        shutil.rmtree(folder, ignore_errors=True)
    table = Table("figure", "value", title="Registration at national scale")
    for key, value in figures.items():
        table.add_row(key, f"{value:,.1f}" if isinstance(value, float) else str(value))
    console.print(table)
    return figures


def _wait_until_up(cluster, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return cluster.registration.status()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--villages", type=int, default=None)
    run(parser.parse_args().villages)
