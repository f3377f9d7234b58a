"""National scale in one run (issue 3): import all 83,762 official villages with generated
indicators, decide eligibility for all, set quotas and select under them, with every
event published to RabbitMQ and the views caught up. Prints wall time, events/s and the
peak memory of each process.

Runs the registration service as its own process (`nameko run`), exactly as `make run`
does, in a private RabbitMQ virtual host and a temporary folder; the import goes through
the real `plpbk import villages` code path (RPC in chunks).
usage: python -m tests.bench.bench_registration [--villages N] [--views sqlite]
(--views sqlite keeps the read models in durable SQLite views, VIEW_URI=sqlite:///...,
instead of the embedded default, process memory)
"""
import argparse
import csv
import os
import random
import resource
import subprocess
import time

from rich.console import Console
from rich.table import Table

from shared.regions import all_village_codes

from .platform import BIN, isolated_platform

console = Console()
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


def run(villages=None, views="memory"):
    codes = all_village_codes()[:villages] if villages else all_village_codes()
    with isolated_platform(durable_views=views == "sqlite") as platform:
        csv_path = os.path.join(platform.folder, "villages.csv")
        write_csv(csv_path, codes)
        platform.start("registration").start_relay()
        with platform.proxy() as cluster:
            platform.wait_until_up(cluster, "registration")
            started = time.perf_counter()
            imported = subprocess.run([os.path.join(BIN, "plpbk"), "import", "villages",
                                       csv_path], env=platform.env, capture_output=True,
                                      text=True)
            import_done = time.perf_counter()
            cli_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            for code in sorted({code[:5] for code in codes}):
                cluster.registration.set_quota({"kabupaten": code, "quota": QUOTA_PER_KABUPATEN,
                                                "decree_reference": "KepMen PUPR 2026/17"})
            selected = cluster.registration.select_villages()["selected"]
            selection_done = time.perf_counter()
            head = cluster.registration.status()["ledger_head"]
            while platform.relay_position("registration") < head:
                time.sleep(0.05)
            published = time.perf_counter()
            eligible = cluster.registration.list_villages({"status": "eligible",
                                                           "page_size": 1})["total"]
        memory = platform.peak_memory_mb()
    wall = published - started
    figures = {
        "villages": len(codes), "views": views, "events": head, "wall_s": wall,
        "import_s": import_done - started, "quotas_and_selection_s": selection_done - import_done,
        "relay_tail_s": published - selection_done, "events_per_s": head / wall,
        "eligible": eligible, "selected": sum(len(v) for v in selected.values()),
        "service_peak_mb": memory["registration"], "relay_peak_mb": memory["relay"],
        "bench_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cli_peak_mb": cli_peak_mb,  # the only child waited for at that point
        "import_output": imported.stdout.strip().splitlines()[:1],
    }
    table = Table("figure", "value", title="Registration at national scale")
    for key, value in figures.items():
        table.add_row(key, f"{value:,.1f}" if isinstance(value, float) else str(value))
    console.print(table)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--villages", type=int, default=None)
    parser.add_argument("--views", choices=["memory", "sqlite"], default="memory")
    arguments = parser.parse_args()
    run(arguments.villages, arguments.views)
