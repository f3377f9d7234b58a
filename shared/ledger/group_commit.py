"""Group commit: appends that arrive while a transaction is running share the next one.

A durable commit costs one fsync, whatever it holds. Callers on several threads (or
eventlet greenthreads, which monkey-patching turns these primitives into) each submit
their unit; whoever finds no commit running becomes the leader, takes every unit
waiting and commits them together. Each unit keeps its own outcome: a version conflict
in one refuses only that one.
"""
import sys
import threading


def _off_the_hub(function, *args):
    """Under eventlet (nameko), run blocking SQLite work in a real thread, so the hub keeps
    serving other workers meanwhile and their appends gather for the next commit. (Not for
    drivers whose sockets eventlet made green: those must stay on the hub.)"""
    # An eventlet never imported has patched nothing; looking in sys.modules keeps this
    # free on every commit and imports nothing where eventlet is not wanted.
    patcher = sys.modules.get("eventlet.patcher")
    if patcher is not None and patcher.is_monkey_patched("thread"):
        from eventlet import tpool
        return tpool.execute(function, *args)
    return function(*args)


class _Slot:
    __slots__ = ("unit", "outcome", "done")

    def __init__(self, unit):
        self.unit, self.outcome, self.done = unit, None, False


class GroupCommitter:
    def __init__(self, commit_units, offload=False):
        self._commit_units = commit_units  # list of units -> list of outcomes
        self._offload = offload            # blocking C I/O (SQLite): keep it off the hub
        self._cond = threading.Condition()
        self._waiting = []
        self._leading = False

    def submit(self, unit):
        slot = _Slot(unit)
        with self._cond:
            self._waiting.append(slot)
            while not slot.done and self._leading:
                self._cond.wait()
            if slot.done:
                return _unwrap(slot.outcome)
            self._leading = True
        try:
            self._lead()
        finally:
            with self._cond:
                self._leading = False
                self._cond.notify_all()
        return _unwrap(slot.outcome)

    def _lead(self):
        with self._cond:
            batch, self._waiting = self._waiting, []
        try:
            units = [slot.unit for slot in batch]
            outcomes = _off_the_hub(self._commit_units, units) if self._offload else \
                self._commit_units(units)
        except BaseException as exc:  # the transaction failed as a whole
            outcomes = [exc] * len(batch)
        with self._cond:
            for slot, outcome in zip(batch, outcomes):
                slot.outcome, slot.done = outcome, True
            self._cond.notify_all()


def _unwrap(outcome):
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
