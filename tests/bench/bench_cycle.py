"""Cycle at national scale (issue 4): every village selected in the national run of the
registration issue opens its cycle, and the four Persiapan activities are recorded for each.

Workload: the registration benchmark's national run itself (bench_registration: all
83,762 official villages imported with generated indicators through `plpbk import
villages`, eligibility decided, a quota of 5 per kabupaten/kota, selection), with the
registration service, the cycle service and `plpbk relay --all` as their own processes
(as `make run` runs them). The selections reach the cycle service only through the relay
and its doorbell. Then, one kabupaten/kota at a time, the ministry raises a quota by one
and selects again: single selections on a quiet platform.

Figures: cycles opened per second; latency from each VillageSelected being recorded to
the cycle being recorded (ledger times) and to the cycle view showing it (polled over
RPC), p50 and p99, for the national selection and for single selections; Persiapan
activities recorded per second over RPC (several concurrent callers). Nothing here
asserts on time.

usage: python -m tests.bench.bench_cycle [--villages N] [--callers N]
"""
import argparse
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from rich.console import Console
from rich.table import Table

from shared.ledger import open_ledger
from shared.regions import all_village_codes

from .bench_registration import QUOTA_PER_KABUPATEN, write_csv
from .platform import BIN, isolated_platform

console = Console()
PERSIAPAN = ["lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal", "pengukuhan_tipp"]
CALLERS = 16
PAGE = 500
TRICKLE = 50      # kabupaten/kota selecting one more village each, one at a time


def selections(store_uri):
    """code -> recorded_at of every VillageSelected in the registration ledger."""
    ledger = open_ledger(store_uri, "registration")
    try:
        return {r.payload["code"]: r.recorded_at
                for r in ledger.iter_records(types=["VillageSelected"], batch=5000)}
    finally:
        ledger.close()


def cycle_openings(store_uri):
    ledger = open_ledger(store_uri, "cycle")
    try:
        return {r.payload["code"]: r.recorded_at for r in ledger.iter_records()
                if r.type == "CycleOpened"}
    finally:
        ledger.close()


def event_count(store_uri, name):
    ledger = open_ledger(store_uri, name)
    try:
        return ledger.head().position
    finally:
        ledger.close()


def _time(text):
    return datetime.fromisoformat(text)


def _ms(start, end):
    return (end - start).total_seconds() * 1000


def watch_openings(cluster, expected, pause=0.02):
    """When each cycle first shows in the view: sweeps of the listing over RPC (so a
    latency includes up to one sweep, tens of milliseconds). expected() is the number of
    cycles to wait for, or None while the selection is still running."""
    seen = {}
    while expected() is None or len(seen) < expected():
        page, total = 1, 0
        while page == 1 or (page - 1) * PAGE < total:
            listing = cluster.cycle.list_cycles({"page": page, "page_size": PAGE})
            now = datetime.now(UTC)
            for item in listing["items"]:
                seen.setdefault(item["code"], now)
            total, page = listing["total"], page + 1
        time.sleep(pause)
    return seen


def one_at_a_time(cluster, store_uri, kabupaten, gap=0.1):
    """Raise one kabupaten/kota's quota by one and select again, one after another: for
    each new selection, the milliseconds from its recording to its cycle in the view."""
    found = []
    for code in kabupaten:
        cluster.registration.set_quota({"kabupaten": code, "quota": QUOTA_PER_KABUPATEN + 1,
                                        "decree_reference": "KepMen PUPR 2026/18"})
        chosen = cluster.registration.select_villages(code)["selected"][code]
        if not chosen:
            continue  # no eligible village left there
        village = chosen[0] if isinstance(chosen[0], str) else chosen[0]["code"]
        while cluster.cycle.list_cycles({"region": village})["total"] == 0:
            time.sleep(0.002)
        shown = datetime.now(UTC)
        found.append(_ms(_time(selections(store_uri)[village]), shown))
        time.sleep(gap)
    return found


def record_persiapan(platform, codes, callers):
    """The four Persiapan activities of every village over RPC, `callers` at a time;
    returns (seconds, RPC latencies in ms)."""
    today = date.today().isoformat()
    members = [{"name": "Baiq Siti", "sex": "P", "role": "ketua"},
               {"name": "Lalu Ahmad", "sex": "L", "role": "anggota"}]
    latencies, lock = [], threading.Lock()

    def caller(chunk):
        found = []
        with platform.proxy({"id": "faskel-bench", "role": "facilitator", "region": ""}) \
                as cluster:
            for code in chunk:
                for key in PERSIAPAN:
                    started = time.perf_counter()
                    cluster.cycle.record_activity(code, {
                        "activity": key, "held_on": today, "place": "Balai kelurahan",
                        "attendance": {"men": 21, "women": 18, "poor": 9},
                        "facilitator": "Faskel", "evidence": [f"BA/{code}/{key}"],
                        **({"members": members} if key == "pengukuhan_tipp" else {})})
                    found.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(found)

    started = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:  # real threads, one RPC connection each
        list(pool.map(caller, [codes[i::callers] for i in range(callers)]))
    return time.perf_counter() - started, latencies


def percentile(values, percent):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


def run(villages=None, callers=CALLERS):
    codes_in_run = all_village_codes()[:villages] if villages else all_village_codes()
    with isolated_platform(CATCH_UP_INTERVAL="30") as platform:
        store = platform.env["STORE_URI"]
        csv_path = os.path.join(platform.folder, "villages.csv")
        write_csv(csv_path, codes_in_run)
        platform.start("registration", "cycle").start_relay()
        with platform.proxy() as cluster:
            platform.wait_until_up(cluster, "registration", "cycle")
            imported = subprocess.run([os.path.join(BIN, "plpbk"), "import", "villages",
                                       csv_path], env=platform.env, capture_output=True,
                                      text=True)
            if imported.returncode not in (0, 1):
                raise RuntimeError(f"import failed: {imported.stderr[-2000:]}")
            kabupaten = sorted({code[:5] for code in codes_in_run})
            for code in kabupaten:
                cluster.registration.set_quota({"kabupaten": code,
                                                "quota": QUOTA_PER_KABUPATEN,
                                                "decree_reference": "KepMen PUPR 2026/17"})
            chosen = {}

            def select():  # its own connection: the watcher polls while it runs
                with platform.proxy() as selector:
                    chosen.update(selector.registration.select_villages()["selected"])
                    chosen["done"] = True

            selector = threading.Thread(target=select)
            started = time.perf_counter()
            selector.start()
            seen = watch_openings(cluster, lambda: sum(
                len(v) for k, v in chosen.items() if k != "done") if "done" in chosen
                else None)
            open_seconds = time.perf_counter() - started
            selector.join()
            del chosen["done"]
            codes = sorted(code for picked in chosen.values() for code in picked)
            recorded = selections(store)
            singles = one_at_a_time(cluster, store, kabupaten[:TRICKLE])
        opened = cycle_openings(store)
        to_ledger = [_ms(_time(recorded[c]), _time(opened[c])) for c in codes]
        to_view = [_ms(_time(recorded[c]), seen[c]) for c in codes]
        before = event_count(store, "cycle")
        activity_seconds, rpc_ms = record_persiapan(platform, codes, callers)
        activity_events = event_count(store, "cycle") - before
        memory = platform.peak_memory_mb()
    cycles, activities = len(codes) + len(singles), len(codes) * len(PERSIAPAN)
    if (len(opened), activity_events) != (cycles, activities):  # the workload went wrong
        raise RuntimeError(f"expected {cycles} cycles and {activities} activities, got "
                           f"{len(opened)} and {activity_events}")
    figures = {
        "villages_in_run": len(codes_in_run), "villages_selected": len(codes),
        "kabupaten": len(kabupaten),
        "open_all_s": open_seconds, "cycles_opened_per_s": len(codes) / open_seconds,
        "selection_to_cycle_recorded_p50_ms": percentile(to_ledger, 50),
        "selection_to_cycle_recorded_p99_ms": percentile(to_ledger, 99),
        "selection_to_view_p50_ms": percentile(to_view, 50),
        "selection_to_view_p99_ms": percentile(to_view, 99),
        "one_at_a_time_selections": len(singles),
        "one_at_a_time_to_view_p50_ms": percentile(singles, 50),
        "one_at_a_time_to_view_p99_ms": percentile(singles, 99),
        "activities": activity_events, "rpc_callers": callers,
        "activities_s": activity_seconds,
        "activity_events_per_s": activity_events / activity_seconds,
        "activity_rpc_p50_ms": percentile(rpc_ms, 50),
        "activity_rpc_p99_ms": percentile(rpc_ms, 99),
        "registration_peak_mb": memory["registration"], "cycle_peak_mb": memory["cycle"],
        "relay_peak_mb": memory["relay"]}
    show(figures)
    return figures


def show(figures):
    table = Table("figure", "value", title="Cycle (issue 4): open and record Persiapan for "
                                           "every selected village")
    for key, value in figures.items():
        table.add_row(key, f"{value:,.1f}" if isinstance(value, float) else f"{value:,}")
    console.print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--villages", type=int, default=None,
                        help="only the first N official villages (default: all 83,762)")
    parser.add_argument("--callers", type=int, default=CALLERS)
    arguments = parser.parse_args()
    run(arguments.villages, arguments.callers)
