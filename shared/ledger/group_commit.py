"""Group commit: appends that arrive while a transaction is running share the next one.

A durable commit costs one fsync, whatever it holds. Callers on several threads (or
eventlet greenthreads, which monkey-patching turns these primitives into) each submit
their unit; whoever finds no commit running becomes the leader, takes every unit
waiting and commits them together. Each unit keeps its own outcome: a version conflict
in one refuses only that one.
"""
import threading


class _Slot:
    __slots__ = ("unit", "outcome", "done")

    def __init__(self, unit):
        self.unit, self.outcome, self.done = unit, None, False


class GroupCommitter:
    def __init__(self, commit_units):
        self._commit_units = commit_units  # list of units -> list of outcomes
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
            outcomes = self._commit_units([slot.unit for slot in batch])
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
