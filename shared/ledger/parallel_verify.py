"""Verifying one big ledger with several processes.

The ledger is cut into stretches of STRETCH positions. The verifying process and
workers - 1 helper processes each take the next stretch as they finish one, so none
idles while a helper starts. The stretches are judged in order (chain_walk.judge): the
verdict and the position it names are those of a single walk. A stretch starts from
the stored hash and time of the record before it: the stretch before checks that
record, and is judged first.

A helper is `python -m shared.ledger.parallel_verify`: it imports the ledger and
nothing else (a multiprocessing child would first re-run the caller's main module,
all of `plpbk` with every service, for about as long as it then walks), opens its own
connection, and trades one JSON line per stretch over its stdin and stdout.
"""
import subprocess
import sys
import threading

import orjson

from ..collector import quiet_collector
from . import open_ledger
from .canonical import GENESIS_HASH
from .chain_walk import Stretch, judge, raw_batches, walk

STRETCH = 20_000   # positions per task: small enough that no walker idles long at the end
WORTH_IT = 50_000  # fewer records: one walk is done before a helper would have started
PARENT_WALKS = True  # the verifying process walks stretches too (tests make helpers do all)


def verify_in_processes(ledger, store_uri, workers, batch, progress=None):
    """The report of walking the ledger up to its present head in `workers` processes."""
    plan = stretches(ledger.head().position)
    tasks = _Tasks([(first, last, *_before(ledger, first)) for first, last in plan],
                   progress)
    helpers = [_Helper(store_uri, ledger.name, batch) for _ in range(workers - 1)]
    threads = [threading.Thread(target=helper.serve, args=(tasks,), daemon=True)
               for helper in helpers]
    # The stretches coming back are many small objects and no cycles: no collector
    # passes over the caller's heap meanwhile (the walks pause it only while they walk).
    with quiet_collector():
        for thread in threads:
            thread.start()
        try:
            if PARENT_WALKS or not helpers:
                for index, task in tasks.taken():
                    tasks.done(index, _walk_task(ledger, batch, task))
            for thread in threads:
                thread.join()
            for index, task in tasks.taken():  # left by a helper that failed
                tasks.done(index, _walk_task(ledger, batch, task))
        finally:
            for helper in helpers:
                helper.close()
    walked = tasks.results()
    return judge(ledger.name, walked, [last for _first, last in plan][:len(walked)])


def stretches(head):
    """(first, last) positions of each task, in order, covering 1..head."""
    return [(first, min(first + STRETCH - 1, head)) for first in range(1, head + 1, STRETCH)]


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


def _walk_task(ledger, batch, task):
    first, last, previous_hash, previous_time = task
    rows = raw_batches(ledger, batch, ledger.verification_rows, after=first - 1, upto=last)
    return walk(ledger.name, rows, first, previous_hash, previous_time)


class _Tasks:
    """The stretches to walk, handed out in order to whoever is free, and what came back.
    Beyond a broken stretch nothing can change the verdict: those are not handed out."""

    def __init__(self, tasks, progress):
        self.tasks, self.walked = tasks, [None] * len(tasks)
        self._next, self._end, self._returned = 0, len(tasks), []
        self._count, self._lock, self._progress = 0, threading.Lock(), progress

    def take(self):
        with self._lock:
            if self._returned:
                index = self._returned.pop()
            elif self._next < self._end:
                index, self._next = self._next, self._next + 1
            else:
                return None
            return index, self.tasks[index]

    def taken(self):
        while (taken := self.take()) is not None:
            yield taken

    def give_back(self, index):
        """A helper failed on this task: the next walker free takes it."""
        with self._lock:
            self._returned.append(index)

    def done(self, index, stretch):
        with self._lock:
            self.walked[index] = stretch
            if stretch.broken:
                self._end = min(self._end, index + 1)
            self._count += stretch.last - stretch.first + 1
            count = self._count
        if self._progress:
            self._progress(count)

    def results(self):
        """The walked stretches in order, up to the first broken one."""
        return self.walked[:self._end]


class _Helper:
    """A helper process and the thread feeding it stretches; if it fails, the task it
    had goes back to the others (the verdict never depends on a helper)."""

    def __init__(self, store_uri, name, batch):
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, store_uri, name, str(batch)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:
            self.process = None

    def serve(self, tasks):
        if self.process is None:
            return
        for index, task in tasks.taken():
            try:
                self.process.stdin.write(orjson.dumps(task) + b"\n")
                self.process.stdin.flush()
                tasks.done(index, _stretch(orjson.loads(self.process.stdout.readline())))
            except (OSError, ValueError, TypeError, KeyError):  # gone, or no stretch back
                tasks.give_back(index)
                return

    def close(self):
        if self.process is None:
            return
        try:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


def _stretch(found):
    broken = found["broken"]
    return Stretch(found["first"], found["last"], found["last_hash"],
                   tuple(broken) if broken else None,
                   {stream: tuple(seen) for stream, seen in found["new_streams"].items()},
                   found["versions"])


def _serve(store_uri, name, batch):
    """A helper's life: walk each stretch read from stdin, answer each on stdout."""
    ledger = open_ledger(store_uri, name, read_only=True)
    try:
        for line in sys.stdin.buffer:
            stretch = _walk_task(ledger, batch, orjson.loads(line))
            sys.stdout.buffer.write(orjson.dumps(vars(stretch)) + b"\n")
            sys.stdout.buffer.flush()
    finally:
        ledger.close()


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))
