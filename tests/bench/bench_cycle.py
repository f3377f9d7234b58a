"""Cycle at national scale (issue 4): every village selected in the national run opens its
cycle, and the four Persiapan activities are recorded for each.

Workload: 5 villages in each kabupaten/kota of shared.regions.kabupaten_codes() (2,570),
selected as registration selects them: one transaction per kabupaten/kota, VillageSelected
with the real payload shape, appended to a real registration ledger in a temporary
folder. The cycle service runs as its own `nameko run` process and `plpbk relay --all`
as the relay (as `make run` does); the selections reach the service only through the
relay and the service's doorbell.

Figures: cycles opened per second; Persiapan activities recorded per second over RPC
(several concurrent callers); latency from each VillageSelected being recorded to the
cycle being recorded (ledger times) and to the cycle view showing it (polled over RPC),
p50 and p99. Nothing here asserts on time.

usage: python -m tests.bench.bench_cycle [--per-kabupaten N] [--callers N]
"""
import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from rich.console import Console
from rich.table import Table

from shared.ledger import Actor, AppendRequest, Metadata, NewEvent, open_ledger
from shared.regions import all_village_codes, kabupaten_codes, village

from .platform import isolated_platform

console = Console()
PERSIAPAN = ["lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal", "pengukuhan_tipp"]
CALLERS = 16
PAGE = 500
TRICKLE = 50      # selections recorded one at a time after the burst


def selected_codes(per_kabupaten):
    """The first villages (by code) of every kabupaten/kota."""
    wanted, taken, chosen = set(kabupaten_codes()), {}, []
    for code in all_village_codes():
        kabupaten = code[:5]
        if kabupaten in wanted and taken.get(kabupaten, 0) < per_kabupaten:
            taken[kabupaten] = taken.get(kabupaten, 0) + 1
            chosen.append(code)
    return chosen


def selection_payloads(codes):
    """VillageSelected payloads as registration writes them, per kabupaten/kota."""
    rounds = {}
    for code in codes:
        official = village(code)
        rounds.setdefault(code[:5], []).append({
            "code": code, "name": official["name"], "kabupaten": official["kabupaten"],
            "province": official["province"], "rank": len(rounds.get(code[:5], [])) + 1,
            "quota": 5, "score": "62.50", "selection_round": 1})
    return rounds


def append_selections(store_uri, rounds):
    """One transaction per kabupaten/kota, as registration's selection does."""
    ledger = open_ledger(store_uri, "registration")
    meta = Metadata(Actor("kemen-bench", "ministry"), "bench-national-selection")
    try:
        for payloads in rounds.values():
            ledger.append_batch([AppendRequest(f"village-{p['code']}", 0,
                                               [NewEvent("VillageSelected", p)], meta)
                                 for p in payloads])
        return {r.payload["code"]: r.recorded_at for r in ledger.iter_records()}
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
    latency includes up to one sweep, tens of milliseconds)."""
    seen = {}
    while len(seen) < expected:
        page, total = 1, 0
        while page == 1 or (page - 1) * PAGE < total:
            listing = cluster.cycle.list_cycles({"page": page, "page_size": PAGE})
            now = datetime.now(UTC)
            for item in listing["items"]:
                seen.setdefault(item["code"], now)
            total, page = listing["total"], page + 1
        time.sleep(pause)
    return seen


def trickle(cluster, store_uri, payloads, gap=0.1):
    """Selections one at a time (a quiet platform): for each, the milliseconds from its
    recording to its cycle showing in the view, polling that one cycle every 2 ms."""
    ledger = open_ledger(store_uri, "registration")
    meta = Metadata(Actor("kemen-bench", "ministry"), "bench-trickle")
    found = []
    try:
        for payload in payloads:
            result = ledger.append(f"village-{payload['code']}", 0,
                                   [NewEvent("VillageSelected", payload)], meta)
            (selected,) = ledger.read(result.first_position - 1, limit=1)
            while cluster.cycle.list_cycles({"region": payload["code"]})["total"] == 0:
                time.sleep(0.002)
            found.append(_ms(_time(selected.recorded_at), datetime.now(UTC)))
            time.sleep(gap)
    finally:
        ledger.close()
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


def run(per_kabupaten=5, callers=CALLERS):
    codes = selected_codes(per_kabupaten)
    rounds = selection_payloads(codes)
    # the next village of the first kabupaten/kota, selected one at a time afterwards
    extra = [c for c in selected_codes(per_kabupaten + 1) if c not in set(codes)][:TRICKLE]
    singles = [{**p, "rank": per_kabupaten + 1, "selection_round": 2}
               for round_ in selection_payloads(extra).values() for p in round_]
    with isolated_platform(CATCH_UP_INTERVAL="30") as platform:
        store = platform.env["STORE_URI"]
        # steady state: the ledger exists before the relay starts (`relay --all` looks for
        # new ledgers only every few seconds)
        open_ledger(store, "registration").close()
        platform.start("cycle").start_relay()
        with platform.proxy() as cluster:
            platform.wait_until_up(cluster, "cycle")
            recorded = {}
            appender = threading.Thread(target=lambda: recorded.update(
                append_selections(store, rounds)))
            started = time.perf_counter()
            appender.start()
            seen = watch_openings(cluster, len(codes))
            open_seconds = time.perf_counter() - started
            appender.join()
            one_at_a_time = trickle(cluster, store, singles)
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
        "villages": len(codes), "kabupaten": len(rounds),
        "open_all_s": open_seconds, "cycles_opened_per_s": len(codes) / open_seconds,
        "selection_to_cycle_recorded_p50_ms": percentile(to_ledger, 50),
        "selection_to_cycle_recorded_p99_ms": percentile(to_ledger, 99),
        "selection_to_view_p50_ms": percentile(to_view, 50),
        "selection_to_view_p99_ms": percentile(to_view, 99),
        "one_at_a_time_selections": len(singles),
        "one_at_a_time_to_view_p50_ms": percentile(one_at_a_time, 50),
        "one_at_a_time_to_view_p99_ms": percentile(one_at_a_time, 99),
        "activities": activity_events, "rpc_callers": callers,
        "activities_s": activity_seconds,
        "activity_events_per_s": activity_events / activity_seconds,
        "activity_rpc_p50_ms": percentile(rpc_ms, 50),
        "activity_rpc_p99_ms": percentile(rpc_ms, 99),
        "cycle_peak_mb": memory["cycle"], "relay_peak_mb": memory["relay"]}
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
    parser.add_argument("--per-kabupaten", type=int, default=5)
    parser.add_argument("--callers", type=int, default=CALLERS)
    arguments = parser.parse_args()
    run(arguments.per_kabupaten, arguments.callers)
