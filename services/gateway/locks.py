"""One request at a time per key within this process (logins per username, writes per
idempotency key), so a burst of identical requests is decided one after another."""
from contextlib import contextmanager

from eventlet.semaphore import Semaphore


class KeyedLocks:
    def __init__(self):
        self._locks = {}   # key -> [semaphore, holders]

    @contextmanager
    def hold(self, key):
        entry = self._locks.setdefault(key, [Semaphore(1), 0])
        entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._locks.pop(key, None)
