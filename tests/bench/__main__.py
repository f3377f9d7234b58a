"""Run the benchmarks: `python -m tests.bench [module ...] [--json FILE]` (make bench).

Without arguments: every foundation benchmark in order (ledger, verify, relay, views),
then a summary of the targets. Naming modules runs only those, in the order given
(`python -m tests.bench ledger views`). The other tests/bench/bench_*.py modules (the
services at national scale: registration, audit, cycle, gateway, ...) run the platform
as processes for minutes each, so they run only when named, with their defaults.

Each module's run() prints its own tables and returns a dict of figures; the runner
collects them (and writes them to FILE with --json). Figures are compared with baselines
measured in the same run; nothing asserts on time. Exit status 1 if a module failed.
"""
import argparse
import importlib
import json
import os
import pkgutil
import sys
import time
import traceback

from .common import console, heading, peak_rss_mb, table

FOUNDATION = ["ledger", "verify", "relay", "views"]
ON_REQUEST = sorted(info.name.removeprefix("bench_")
                    for info in pkgutil.iter_modules([os.path.dirname(__file__)])
                    if info.name.startswith("bench_")
                    and info.name.removeprefix("bench_") not in FOUNDATION)


def _value(target):
    value = target["value"]
    if target["unit"].startswith("x "):
        return f"{value:,.1f}x", f">= {target['target']:g}x {target['unit'][2:]}"
    return f"{value:,.0f} {target['unit']}", f">= {target['target']:,} {target['unit']}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", metavar="module",
                        help=f"any of {', '.join(FOUNDATION + ON_REQUEST)} (default: "
                             f"{' '.join(FOUNDATION)})")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    args = parser.parse_args(argv)
    names = [name.removeprefix("bench_") for name in args.modules] or FOUNDATION
    unknown = [name for name in names if name not in FOUNDATION + ON_REQUEST]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; "
                     f"choose from {', '.join(FOUNDATION + ON_REQUEST)}")

    load_before = os.getloadavg()
    started, figures, seconds, failed = time.perf_counter(), {}, {}, []
    for name in names:
        began = time.perf_counter()
        try:
            module = importlib.import_module(f"{__package__}.bench_{name}")
            figures[name] = module.run()
        except Exception:  # report and go on with the other modules
            failed.append(name)
            console.print(f"[red]benchmark {name} failed:[/red]")
            console.print(traceback.format_exc(), markup=False, highlight=False)
        seconds[name] = time.perf_counter() - began
    total = time.perf_counter() - started

    heading("Summary")
    rows = []
    for name in names:
        targets = (figures.get(name) or {}).get("targets") or []
        if name in failed:
            rows.append([name, f"{seconds[name]:,.1f}", "FAILED", "", "", ""])
        elif not targets:
            rows.append([name, f"{seconds[name]:,.1f}", "(figures only, no target)", "", "",
                         ""])
        for index, target in enumerate(targets):
            value, goal = _value(target)
            rows.append([name if index == 0 else "", f"{seconds[name]:,.1f}" if index == 0
                         else "", target["name"], value, goal,
                         "met" if target["met"] else "NOT met"])
    table("Targets of the issue (figures of this run; ratios against baselines of this run)",
          ["module", "seconds", "figure", "value", "target", "verdict"], rows, align="lrlrrl",
          caption=f"total {total:,.1f} s, peak memory {peak_rss_mb():,.0f} MB "
                  f"(resource.getrusage), {os.cpu_count()} CPUs, 1-minute load average "
                  f"{load_before[0]:.2f} before and {os.getloadavg()[0]:.2f} after (this run "
                  "included: other processes on the machine disturb the figures); nothing "
                  "here asserts on time")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"modules": figures, "seconds": seconds, "total_seconds": total,
                       "failed": failed, "cpus": os.cpu_count(),
                       "load_average_before": load_before,
                       "load_average_after": os.getloadavg()},
                      handle, indent=2, default=str)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
