"""Cycle at national scale (issue 4): for every village selected in the national run
(5 per kabupaten/kota, 2,570), open its cycle from registration's VillageSelected and
record the four Persiapan activities over RPC. Prints events/s and the latency from each
selection being recorded to the cycle view showing the open cycle (p50, p99).

The cycle service and the relay run as their own processes (as `make run` does); the
selections are appended to a real registration ledger in batches, as selection rounds
are, and reach the cycle service through the relay and its doorbell.
usage: python -m tests.bench.bench_cycle [--per-kabupaten N]
"""
import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone

from rich.console import Console
from rich.table import Table

from shared.ledger import Actor, AppendRequest, Metadata, NewEvent, open_ledger
from shared.regions import all_village_codes, region_name

from .platform import isolated_platform

console = Console()
ACTIVITIES = ["lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal", "pengukuhan_tipp"]
CALLERS = 16


def selections(per_kabupaten):
    chosen, seen = [], {}
    for code in all_village_codes():
        if seen.get(code[:5], 0) < per_kabupaten:
            seen[code[:5]] = seen.get(code[:5], 0) + 1
            chosen.append(code)
    return chosen


def append_selections(store_uri, codes):
    ledger = open_ledger(store_uri, "registration")
    meta = Metadata(Actor("bench", "ministry"), "bench-selection")
    for start in range(0, len(codes), 500):
        ledger.append_batch([AppendRequest(f"village-{code}", 0, [NewEvent("VillageSelected", {
            "code": code, "name": code, "kabupaten": {"code": code[:5],
                                                      "name": region_name(code[:5])},
            "province": {"code": code[:2], "name": region_name(code[:2])},
            "rank": 1, "quota": 5, "score": "50.00", "selection_round": 1})], meta)
            for code in codes[start:start + 500]])
    recorded = {r.payload["code"]: r.recorded_at for r in ledger.iter_records()}
    ledger.close()
    return recorded


def _iso(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run(per_kabupaten=5):
    codes = selections(per_kabupaten)
    with isolated_platform(CATCH_UP_INTERVAL="30") as platform:
        # steady state: registration's ledger exists before the relay starts (a relay
        # --all only rescans for new ledgers every few seconds)
        open_ledger(platform.env["STORE_URI"], "registration").close()
        platform.start("cycle").start_relay()
        with platform.proxy() as cluster:
            platform.wait_until_up(cluster, "cycle")
            started = time.perf_counter()
            appender = threading.Thread(target=lambda: recorded.update(
                append_selections(platform.env["STORE_URI"], codes)))
            recorded = {}
            appender.start()
            seen = _watch_openings(cluster, len(codes))
            appender.join()
            opened_s = time.perf_counter() - started
            latencies = [(seen[code] - _iso(recorded[code])).total_seconds() * 1000
                         for code in codes]
        activities_s = _record_activities(platform, codes)
        memory = platform.peak_memory_mb()
    figures = {
        "villages": len(codes), "open_all_s": opened_s, "cycles_opened_per_s": len(codes) /
        opened_s, "selection_to_view_p50_ms": _percentile(latencies, 50),
        "selection_to_view_p99_ms": _percentile(latencies, 99),
        "activities": len(codes) * len(ACTIVITIES), "activities_s": activities_s,
        "activity_events_per_s": len(codes) * len(ACTIVITIES) / activities_s,
        "rpc_callers": CALLERS, "cycle_peak_mb": memory["cycle"],
        "relay_peak_mb": memory["relay"]}
    table = Table("figure", "value", title="Cycle: open and Persiapan for every selected village")
    for key, value in figures.items():
        table.add_row(key, f"{value:,.1f}" if isinstance(value, float) else str(value))
    console.print(table)
    return figures


def _watch_openings(cluster, expected):
    """When each cycle first shows in the view, polling the listing over RPC (the
    latency measured includes up to one polling sweep, ~tens of ms)."""
    seen = {}
    while len(seen) < expected:
        page = 1
        while True:
            listing = cluster.cycle.list_cycles({"page": page, "page_size": 500})
            now = datetime.now(timezone.utc)
            for item in listing["items"]:
                seen.setdefault(item["code"], now)
            if page * 500 >= listing["total"]:
                break
            page += 1
    return seen


def _record_activities(platform, codes):
    today = date.today().isoformat()
    members = [{"name": "Siti", "sex": "P", "role": "ketua"}]

    def village(chunk):
        with platform.proxy({"id": "faskel", "role": "facilitator", "region": ""}) as cluster:
            for code in chunk:
                for key in ACTIVITIES:
                    cluster.cycle.record_activity(code, {
                        "activity": key, "held_on": today, "place": "Balai desa",
                        "attendance": {"men": 20, "women": 18, "poor": 9},
                        "facilitator": "Faskel", "evidence": ["BA-1"],
                        **({"members": members} if key == "pengukuhan_tipp" else {})})

    chunks = [codes[i::CALLERS] for i in range(CALLERS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(CALLERS) as callers:  # real threads: one RPC client each
        list(callers.map(village, chunks))
    return time.perf_counter() - started


def _percentile(values, percent):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))] if ordered else 0.0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-kabupaten", type=int, default=5)
    run(parser.parse_args().per_kabupaten)
