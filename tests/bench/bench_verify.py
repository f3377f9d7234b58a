"""verify_ledger over a ledger of 200,000 events, events/s, next to plain reads of it.

The ledger is built quickly with append_batch (500 village commands of two events per
transaction), then reopened so SQLite's own page cache starts empty (the operating
system's file cache stays warm: nothing here drops it). Each reading figure is the
median of a few passes. Baselines in the same run: plain reads through
ledger.iter_records (Record objects, as projections read), ledger.raw (the rows verify
itself fetches) and raw rows plus SHA-256 of each body (the least any hash-chain check
must do). verify_ledger runs as `plpbk verify` runs it (one process per CPU) and in one
process.
usage: python -m tests.bench verify
"""
import hashlib
import os
import statistics

from shared.ledger import open_ledger
from shared.ledger.verify import raw_batches, verify_ledger, verify_records

from .common import (Stopwatch, build_ledger, heading, met, note, peak_rss_mb, rate, table,
                     temp_folder, unique_name, village_workload)

EVENTS = 200_000
TARGET = 100_000  # events/s, the target for verify_ledger
PASSES = 3
WORKERS = os.cpu_count() or 1


def _read_raw(ledger):
    return sum(len(rows) for rows in raw_batches(ledger))


def _read_and_hash(ledger):
    sha256, count = hashlib.sha256, 0
    for rows in raw_batches(ledger):
        for _position, body, _hash in rows:
            sha256(body).hexdigest()
        count += len(rows)
    return count


def _iter_records(ledger):
    return sum(1 for _record in ledger.iter_records())


def _verify(ledger, **spread):
    report = verify_ledger(ledger, **spread)
    if not report.ok or report.count != EVENTS:
        raise RuntimeError(f"verify_ledger found a problem in a fresh ledger: {report.as_dict()}")
    return report.count


def _chain_walk(ledger):
    return verify_records(ledger.name, raw_batches(ledger)).count


def _passes(function, ledger):
    rates = []
    for _ in range(PASSES):
        with Stopwatch() as watch:
            count = function(ledger)
        if count != EVENTS:
            raise RuntimeError(f"{function.__name__} saw {count} events, expected {EVENTS}")
        rates.append(EVENTS / watch.seconds)
    return statistics.median(rates), rates


def run():
    heading(f"Verification of a {EVENTS:,}-event ledger (events/s)")
    village_workload(EVENTS // 2)  # generated before the clock starts
    with temp_folder("verify") as folder:
        uri, name = f"sqlite:///{folder}", unique_name("verify")
        ledger = open_ledger(uri, name)
        with Stopwatch() as build:
            head = build_ledger(ledger, EVENTS // 2)
        ledger.close()
        if head != EVENTS:
            raise RuntimeError(f"built {head} events, expected {EVENTS}")
        ledger = open_ledger(uri, name)
        try:
            measures = [
                (f"verify_ledger, {WORKERS} processes (plpbk verify's default here)",
                 lambda ledger: _verify(ledger, workers=WORKERS, store_uri=uri)),
                ("verify_ledger, one process (chain, fields, canonical bytes, query columns)",
                 _verify),
                ("  the same walk without the query columns (over ledger.raw)", _chain_walk),
                ("ledger.iter_records (Record objects, batch 1000)", _iter_records),
                ("ledger.raw rows only (batch 20,000)", _read_raw),
                ("ledger.raw + SHA-256 of each body (floor for any chain check)",
                 _read_and_hash),
            ]
            results = {label: _passes(function, ledger) for label, function in measures}
        finally:
            ledger.close()

    verify_rate = results[measures[0][0]][0]
    single_rate = results[measures[1][0]][0]
    iter_rate = results[measures[3][0]][0]
    rows = [[label, rate(median), f"{rate(min(all_))}-{rate(max(all_))}",
             f"{EVENTS / median:,.2f}"] for label, (median, all_) in results.items()]
    table(f"Reading and verifying {EVENTS:,} events (median of {PASSES} passes)",
          ["what", "events/s", "min-max", "seconds"], rows,
          caption=f"ledger built with append_batch at {EVENTS / build.seconds:,.0f} events/s "
                  f"({build.seconds:,.1f} s); SQLite file, OS file cache warm")
    table("Targets", ["figure", "value", "target", "verdict"],
          [[f"verify_ledger events/s, {WORKERS} processes", rate(verify_rate), f">= {TARGET:,}",
            met(verify_rate, TARGET)],
           ["verify_ledger events/s, one process", rate(single_rate), "-", ""],
           ["verify_ledger / iter_records", f"{verify_rate / iter_rate:,.2f}x", "-", ""]])
    note("verify_ledger checks each row's query columns against its body in the same walk "
         "(Ledger.verification_rows); 'the same walk without' shows what that costs. With "
         "processes, this one and its helpers (python -m shared.ledger.parallel_verify) "
         "take stretches of 20,000 positions as they free up, judged in order; the "
         "helpers' start is inside the figure.")
    return {
        "events": EVENTS, "build_events_per_s": EVENTS / build.seconds,
        "verify_events_per_s": verify_rate,
        "workers": WORKERS, "verify_one_process_events_per_s": single_rate,
        "chain_walk_events_per_s": results[measures[2][0]][0],
        "iter_records_events_per_s": iter_rate,
        "raw_rows_events_per_s": results[measures[4][0]][0],
        "raw_sha256_events_per_s": results[measures[5][0]][0],
        "verify_vs_iter_records": verify_rate / iter_rate,
        "targets": [{"name": "verify_ledger", "value": verify_rate, "unit": "events/s",
                     "target": TARGET, "met": verify_rate >= TARGET}],
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    run()
