"""Slowing down password guessing: per username and per client address.

Each subject (a username, an address) may fail a few times freely; after that every
further failure locks it for twice as long as the last time (1 s, 2 s, 4 s, ... up to a
cap), and while locked its attempts are refused with 429 and Retry-After without
checking any password. Failures are forgotten after a quiet period; a successful login
clears its username (not its address, so one good account cannot launder guesses
against others). State is durable and shared by every gateway process (state store).
"""
import math
import time
from dataclasses import dataclass
from functools import partial

from .errors import TooManyRequests


@dataclass(frozen=True)
class Policy:
    free_failures: int
    first_lock_seconds: float = 1.0
    max_lock_seconds: float = 900.0
    forget_after_seconds: float = 3600.0

    def lock_seconds(self, failures):
        beyond = failures - self.free_failures
        if beyond <= 0:
            return 0.0
        return min(self.first_lock_seconds * 2 ** (beyond - 1), self.max_lock_seconds)


PRUNE_BATCH = 20   # forgotten subjects deleted per failure recorded


class LoginThrottle:
    def __init__(self, collection, policies: dict, clock=time.time, expiry=None):
        """policies: subject kind ("user", "address") -> Policy. expiry: a collection
        keyed by time then subject (the oldest first in key order), so that each
        failure recorded deletes a few subjects forgotten since: every username and
        address ever tried would otherwise stay in the store for good."""
        self.collection, self.policies, self.clock = collection, policies, clock
        self.expiry = expiry

    def check(self, subjects):
        """Raise TooManyRequests if any (kind, value) subject is locked now."""
        now = self.clock()
        for kind, value in subjects:
            doc = self.collection.get(f"{kind}:{value}")
            if doc and doc["locked_until"] > now:
                wait = math.ceil(doc["locked_until"] - now)
                what = "username" if kind == "user" else "address"
                raise TooManyRequests(f"too many failed logins from this {what}; try again "
                                      f"in {wait} s", what, wait)

    def failed(self, subjects):
        """Count a failure of each subject, in one step of the store each: failures
        at once (on several gateways, or one on MongoDB) are each counted."""
        now = self.clock()
        for kind, value in subjects:
            key = f"{kind}:{value}"
            self.collection.swap(key, partial(_one_more, self.policies[kind], now))
            self._expire(kind, key, now)

    def _expire(self, kind, key, now):
        if self.expiry is None:
            return
        entry = f"{now:020.6f}:{key}"
        self.expiry.put(entry, {"entry": entry, "key": key, "kind": kind, "at": now})
        for old in self.expiry.find(limit=PRUNE_BATCH):
            forget = self.policies[old["kind"]].forget_after_seconds
            if now - old["at"] <= forget:
                return   # the rest are younger
            doc = self.collection.get(old["key"])
            if doc is not None and doc["last_failure"] == old["at"]:   # no later failure
                self.collection.delete(old["key"])
            self.expiry.delete(old["entry"])

    def succeeded(self, username):
        self.collection.delete(f"user:{username}")


def _one_more(policy, now, doc):
    """The subject's failures with one more at now (a quiet period forgets the rest)."""
    if doc is None or now - doc["last_failure"] > policy.forget_after_seconds:
        doc = {"failures": 0}
    failures = doc["failures"] + 1
    return {"failures": failures, "last_failure": now,
            "locked_until": now + policy.lock_seconds(failures)}
