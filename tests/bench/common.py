"""Shared helpers of the foundation benchmarks: timing, memory, workloads, tables.

Every figure is measured in the run that prints it, next to a baseline measured on the
same machine with the same workload; nothing here asserts on time.
"""
import contextlib
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid

from rich.console import Console
from rich.table import Table

# Wide enough for the figure tables when output goes to a file or a pipe (make bench | tee).
console = Console(width=None if sys.stdout.isatty() else 150)

AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
SEED = 20261128


# -- timing and memory ----------------------------------------------------------------------

class Stopwatch:
    """`with Stopwatch() as watch: ...` then watch.seconds."""

    def __enter__(self):
        self.started = time.perf_counter()
        self.seconds = None
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        return False


def timed(function, *args, **kwargs):
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def latencies_ms(function, arguments):
    """Milliseconds of function(argument) for each argument, in order."""
    found = []
    for argument in arguments:
        started = time.perf_counter()
        function(argument)
        found.append((time.perf_counter() - started) * 1000)
    return found


def summary_ms(samples):
    """median and 95th percentile of latency samples (ms)."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"median_ms": statistics.median(ordered), "p95_ms": p95, "samples": len(ordered)}


def peak_rss_mb():
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


@contextlib.contextmanager
def temp_folder(tag):
    """A fresh temporary folder, removed afterwards whatever happens."""
    folder = tempfile.mkdtemp(prefix=f"plpbk-bench-{tag}-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def unique_name(tag):
    """A lowercase name no other run uses (ledger names, exchanges, queues)."""
    return f"bench_{tag}_{uuid.uuid4().hex[:10]}"


# -- workload -------------------------------------------------------------------------------

_IDENTITIES = []


def village_identities(count):
    """count official villages (code order, real names from the Kemendagri list); past the
    83,762 real ones, synthetic siblings in the same kecamatan (village digits 4xxx-9xxx,
    which the official list does not use) so national-scale sizes beyond it stay realistic."""
    from shared.regions import _name, all_village_codes
    from lokal import wilayah

    codes = all_village_codes()
    identities = _IDENTITIES  # built once per run, shared by every benchmark
    for index in range(len(identities), count):
        real = codes[index % len(codes)]
        lap = index // len(codes)
        if lap == 0:
            code, found = real, wilayah.get_wilayah(real)
            name, kind = found.name, ("kelurahan" if found.type == "kelurahan" else "desa")
        else:
            if lap > 2:
                raise ValueError(f"at most {3 * len(codes)} villages")
            digit = 4 + 3 * (lap - 1) + (int(real[9]) - 1)
            code = f"{real[:9]}{digit}{real[10:]}"
            name, kind = f"{_name(real)} {['Baru', 'Hilir'][lap - 1]}", "desa"
        identities.append({
            "code": code, "name": name, "kind": kind,
            "kecamatan": {"code": code[:8], "name": _name(code[:8])},
            "kabupaten": {"code": code[:5], "name": _name(code[:5])},
            "province": {"code": code[:2], "name": _name(code[:2])}})
    return identities[:count]


def registration_payload(village):
    """What VillageRegistered carries: the official identity and where it came from."""
    return {**village, "source_document": f"Permendagri 58/2021 lampiran {village['code'][:5]}",
            "registered_via": "import", "observed_on": "2024-06-30"}


def decision_payload(village, chance):
    """What EligibilityDecided carries: indicator values as decimal strings, no floats."""
    poverty, slum, turnout = (chance.uniform(10, 60), chance.uniform(0.5, 40),
                              chance.uniform(15, 80))
    score = 0.6 * poverty + 0.4 * slum
    return {
        "code": village["code"], "rule_set": "pnpm-perkotaan-2026/v1",
        "status": "eligible" if score > 25 else "ineligible", "score": f"{score:05.2f}",
        "criteria": {"poverty_rate": f"{poverty:.2f}", "slum_hectares": f"{slum:.2f}",
                     "voter_turnout": f"{turnout:.2f}",
                     "bookkeeping_rating": chance.choice(["memadai", "baik"]),
                     "fund_misuse_cases": chance.choice([0, 0, 0, 1])},
        "trigger": "evidence", "evidence": f"BPS/{village['code'][:5]}/2024"}


_WORKLOADS = {}


def village_workload(count):
    """[(stream id, registration payload, decision payload)] for the first count villages;
    the same villages and payloads in every benchmark and every run (fixed seed)."""
    items = _WORKLOADS.get("items", [])
    if len(items) < count:
        chance = _WORKLOADS.setdefault("chance", random.Random(SEED))
        items.extend((f"village-{v['code']}", registration_payload(v),
                      decision_payload(v, chance))
                     for v in village_identities(count)[len(items):])
        _WORKLOADS["items"] = items
    return items[:count]


def village_events(item):
    """The two NewEvents of one village (fresh event ids each call)."""
    from shared.ledger import NewEvent
    _stream, registered, decided = item
    return [NewEvent("VillageRegistered", registered), NewEvent("EligibilityDecided", decided)]


def append_requests(items, metadata):
    from shared.ledger import AppendRequest
    return [AppendRequest(item[0], 0, village_events(item), metadata) for item in items]


def bench_metadata():
    from shared.ledger import Actor, Metadata
    return Metadata(actor=Actor("bench", "system"), correlation_id="bench-foundation")


def build_ledger(ledger, villages, batch=500):
    """Fill a ledger quickly: villages x 2 events, append_batch of `batch` commands."""
    items = village_workload(villages)
    metadata = bench_metadata()
    for start in range(0, len(items), batch):
        ledger.append_batch(append_requests(items[start:start + batch], metadata))
    return ledger.head().position


def payload_bytes(items):
    """Average size of the two payloads as compact JSON."""
    import orjson
    sizes = [len(orjson.dumps(p)) for item in items for p in item[1:]]
    return sum(sizes) / len(sizes)


def chunks(items, size):
    return [items[start:start + size] for start in range(0, len(items), size)]


def split(items, parts):
    """items dealt round-robin into `parts` lists."""
    return [items[index::parts] for index in range(parts)]


# -- printing -------------------------------------------------------------------------------

def rate(value):
    return f"{value:,.0f}"


def ms(value):
    if value < 0.1:
        return f"{value:.4f}"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def ratio(ours, baseline):
    return ours / baseline if baseline else float("nan")


def times(value):
    if value != value:
        return "n/a"
    return f"{value:,.1f}x" if value < 1000 else f"{value:,.0f}x"


def met(value, target):
    return "met" if value >= target else "NOT met"


def table(title, columns, rows, caption=None, align=None):
    """Print a rich table; align is one letter per column (l/r), default: first left."""
    align = align or "l" + "r" * (len(columns) - 1)
    shown = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    for column, side in zip(columns, align):
        shown.add_column(column, justify="left" if side == "l" else "right")
    for row in rows:
        shown.add_row(*[str(cell) for cell in row])
    console.print(shown)


def heading(text):
    console.rule(f"[bold]{text}")


def note(text):
    console.print(text, style="dim")
