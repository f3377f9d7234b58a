"""Idempotency-Key on writes: a retried request gets the first answer, recorded once.

The first answer (status and body) to a write that carried a key is kept in the
gateway's durable state store under the principal and the key, with a fingerprint of
the request (method, path, query, body). A retry with the same fingerprint gets that
answer again (header Idempotent-Replayed: true) and nothing is sent to the services; a
reused key with a different request is refused (422 naming the header). Server-side
failures (5xx) are not kept, so they can be retried for real.

The key is also passed down to the service RPCs that take one, so the ledger itself
refuses to record a command twice even when two gateway processes race on one key. A
write without a key goes down with a key of its own (own_key).
"""
import hashlib
import re
import time
import uuid

import orjson

from shared.chassis.errors import CommandRejected, InvalidInput

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
KEEP_SECONDS = 24 * 3600


def parse_key(headers) -> str | None:
    key = headers.get(HEADER)
    if key is None:
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidInput("must be 1-200 visible ASCII characters (a UUID is ideal)", HEADER)
    return key


def slot_of(principal_id: str, key: str) -> str:
    return hashlib.sha256(f"{principal_id}\0{key}".encode()).hexdigest()


def service_key(slot: str, request_fingerprint: str) -> str:
    """The key services record with the events (bounded, no principal data in clear).

    Of the request too, not the slot alone: ledgers keep keys for good while the gateway
    keeps answers 24 hours, so the key sent again later with another request (a monthly
    "evidence-june") would find the first one done and record nothing, answered as done."""
    return "http:" + hashlib.sha256(f"{slot}\0{request_fingerprint}".encode()).hexdigest()[:40]


def own_key() -> str:
    """The key a write sent without an Idempotency-Key goes down with: this request's
    alone, so the ledger records it once however often RabbitMQ delivers the call (a
    service killed while running it gets it again at restart), and a new request anew."""
    return f"once:{uuid.uuid4().hex}"


def fingerprint(method, path, query_string, body: bytes) -> str:
    try:  # the same JSON written differently is the same request
        body = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else b""
    except orjson.JSONDecodeError:
        pass
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query_string, body):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


PRUNE_BATCH = 20   # expired answers deleted per answer kept: the store stays bounded


class StoredResponses:
    """Answers by slot ("idempotency"), and when each was kept ("idempotency_expiry",
    keyed by time then slot, so the oldest come first in key order): every answer kept
    deletes a few that expired, and the store holds about one day of answers."""

    def __init__(self, state, clock=time.time, keep_seconds=KEEP_SECONDS):
        self.collection = state.collection("idempotency")
        self.expiry = state.collection("idempotency_expiry")
        self.clock, self.keep_seconds = clock, keep_seconds

    def first_answer(self, slot, request_fingerprint) -> dict | None:
        """The kept answer {status, body, headers}, None, or 422 for a different request."""
        doc = self.collection.get(slot)
        if doc is None or self.clock() - doc["at"] > self.keep_seconds:
            return None
        if doc["fingerprint"] != request_fingerprint:
            raise CommandRejected("this Idempotency-Key was already used for a different "
                                  "request; use a new key for a new request", HEADER)
        return doc

    def keep(self, slot, request_fingerprint, status, body, headers):
        if status >= 500:
            return
        now = self.clock()
        self.collection.put(slot, {"fingerprint": request_fingerprint, "status": status,
                                   "body": body, "headers": headers, "at": now})
        entry = f"{now:020.6f}:{slot}"
        self.expiry.put(entry, {"entry": entry, "slot": slot, "at": now})
        self._prune(now)

    def _prune(self, now):
        for entry in self.expiry.find(limit=PRUNE_BATCH):
            if now - entry["at"] <= self.keep_seconds:
                return   # the rest are younger
            kept = self.collection.get(entry["slot"])
            if kept is not None and kept["at"] == entry["at"]:   # not a newer answer
                self.collection.delete(entry["slot"])
            self.expiry.delete(entry["entry"])
