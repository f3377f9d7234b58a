"""Verifying one big ledger with several processes.

Each process walks a stretch of positions on its own connection; the stretches are
judged in order (chain_walk.judge), so the verdict and the position it names are the
ones a single walk would give. A stretch starts from the stored hash and time of the
record before it: the stretch before checks that record, and is judged first.
"""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import orjson

from . import open_ledger
from .canonical import GENESIS_HASH
from .chain_walk import judge, raw_batches, walk

STRETCH = 100_000  # positions per task: progress moves, and no process idles long at the end
WORTH_IT = 50_000  # fewer records: one walk is done before processes would have started


def verify_in_processes(ledger, store_uri, workers, batch, progress=None):
    """The report of walking the ledger up to its present head in `workers` processes."""
    plan = stretches(ledger.head().position, workers)
    tasks = [(store_uri, ledger.name, first, last, *_before(ledger, first), batch)
             for first, last in plan]
    walked = []
    # spawn, not fork: a forked child would inherit SQLite's per-process lock state
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for stretch in pool.map(_walk_stretch, tasks):
            walked.append(stretch)
            if progress:
                progress(stretch.last)
    return judge(ledger.name, walked, [last for _first, last in plan])


def stretches(head, workers):
    """(first, last) positions of each task, in order, covering 1..head."""
    size = max(1, min(STRETCH, -(-head // workers)))
    return [(first, min(first + size - 1, head)) for first in range(1, head + 1, size)]


def _before(ledger, first):
    """Stored hash and recorded_at of the record before `first`, as the walk starts."""
    if first == 1:
        return GENESIS_HASH, ""
    rows = ledger.raw(first - 2, 1)
    if not rows or rows[0][0] != first - 1:
        return "", ""  # missing: the stretch before names it
    try:
        return rows[0][2], orjson.loads(rows[0][1]).get("recorded_at") or ""
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        return rows[0][2], ""  # not a record: the stretch before names it


def _walk_stretch(task):
    store_uri, name, first, last, previous_hash, previous_time, batch = task
    ledger = open_ledger(store_uri, name)
    try:
        rows = raw_batches(ledger, batch, ledger.verification_rows, after=first - 1, upto=last)
        return walk(name, rows, first, previous_hash, previous_time)
    finally:
        ledger.close()
