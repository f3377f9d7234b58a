"""Subscriptions: apply a source ledger's events to handlers, in order, once in effect.

RabbitMQ is the doorbell, the ledger is the truth. Whatever rings (a message, a timer,
start-up, our own append), the subscription reads the source ledger from its tracked
position to the head and applies each event it has a handler for. So a subscriber that
was down, missed a message, or sees one out of order simply catches up; a message for a
position already applied changes nothing.

A handler that raises is retried a few times with back-off. If it still fails because a
store cannot take writes (a full disk, a read-only file: OUTAGES), or a reaction lost
the race for its target stream on every try (ConcurrencyError), the catch-up stops
there without moving its position, and the next round (a doorbell, the safety net)
runs it again: the event did nothing wrong. Any other failure is
the event's: it is parked (durable, visible to `plpbk parked`) and the subscription
moves on, so one poisonous event cannot stop a service. The later events of the same
stream are held (parked behind it, not run): applied out of order they could set a view
back or issue a command before its cause. `replay_parked` runs a stream's parked events
again in position order and stops at the first that still fails.

Handlers must be idempotent in effect (tracking is saved per batch, so a crash can make
a batch run again): projections set state, reactions append with an idempotency key
derived from the source event.
"""
import logging
import threading
import time
import traceback
from contextlib import contextmanager

import eventlet
from structlog.contextvars import bound_contextvars

from ..ledger.envelope import now_iso
from ..ledger.errors import ConcurrencyError
from ..metrics import HANDLER_APPLIED, HANDLER_FAILURES, PARKED_EVENTS, SUBSCRIBER_LAG
from .outages import OUTAGES

log = logging.getLogger(__name__)

# A handler's failure: also its own eventlet.Timeout, a BaseException that would otherwise
# end the catch-up thread (and the service) at every start. GreenletExit is not one: it is
# nameko stopping the worker, and the event is run again at the next start.
HANDLER_ERRORS = (Exception, eventlet.Timeout)

# Failures that are no fault of the event: a store away, or a target stream that changed
# under a reaction on every retry (busy, not wrong). The catch-up stops there, its
# position unmoved, and the next round (a doorbell, the safety net) runs it again.
RETRY_LATER = OUTAGES + (ConcurrencyError,)


class SourceRewound(Exception):
    """The source ledger no longer holds the events this subscription applied (it was
    restored from an older backup, its tracking was not): applying on would skip or
    misapply the events written since, so nothing is applied until an operator acts."""


class HalfRebuilt(Exception):
    """plpbk rebuild stopped while it replaced this subscriber's view (killed, a power
    cut): the view is part old, part new, so nothing is applied onto it until the
    rebuild runs again."""


class Subscription:
    def __init__(self, name, source, handlers, tracking, parked, retries=3,
                 backoff=0.05, batch=1000, batch_handler=None, lease=None, wait=5.0):
        """name: unique per subscriber; source: the Ledger read; handlers: type -> fn(record),
        or "*" -> fn(record) for every type; tracking / parked: view-store collections for
        the position and parked events; lease: a FoldingLease (shared.messaging.folding)
        when other instances may fold the same tracking's views: then only its holder
        applies, and the others wait for it, up to `wait` seconds, where asked to."""
        self.name, self.source, self.handlers = name, source, dict(handlers)
        self.tracking, self.parked = tracking, parked
        self.retries, self.backoff, self.batch = retries, backoff, batch
        self.batch_handler = batch_handler  # fn(records): one go; on failure, one by one
        self.lease, self.wait = lease, wait
        self._lock = threading.Lock()
        self._runner = None   # the thread catching up now
        self._key = f"{name}:{source.name}"
        self._held = {}   # stream -> positions parked, while a catch-up or replay runs
        self._source_checked = False   # once per start: a restore happens while stopped
        self._count_parked()   # events parked before a restart are still parked

    @property
    def position(self) -> int:
        doc = self.tracking.get(self._key)
        return doc["position"] if doc else 0

    def ring(self, position=None) -> int:
        """A doorbell: catch up unless `position` was already applied."""
        if position is not None and position <= self.position:
            return 0
        return self.catch_up()

    def catch_up(self, progress=None, wait=False) -> int:
        """Apply every event after the tracked position up to the current head. Where
        another instance folds (lease), apply nothing; with wait, first wait for that
        one to reach the head (a command about to answer from the views)."""
        if not self.handlers:   # nothing to apply (and no type would mean every type)
            return 0
        if self._runner == threading.get_ident():
            # called from one of its own handlers (a reaction appended to the ledger this
            # subscription reads, and the platform caught that ledger up): the lock is
            # this thread's; what the handler recorded is applied at the next round
            return 0
        if self.lease is not None and not self.lease.held():
            if wait:
                self._await_folder()
            return 0
        with self._running():
            return self._catch_up_locked(progress)

    def _await_folder(self):
        """Another instance folds: wait (a while) for it to apply what the source holds
        now, so a command's answer read from the views shows what it recorded."""
        head = self.source.head().position
        deadline = time.monotonic() + self.wait
        while self.position < head and time.monotonic() < deadline:
            time.sleep(0.02)

    @contextmanager
    def _running(self):
        """One catch-up or replay at a time, knowing which thread runs it."""
        with self._lock:
            self._runner = threading.get_ident()
            try:
                yield
            finally:
                self._runner = None

    def _catch_up_locked(self, progress):
        tracked = self.tracking.get(self._key) or {"position": 0}
        if tracked.get("rebuilding"):
            raise HalfRebuilt(f"subscriber {self.name}: its view was left half rebuilt "
                              "(the rebuild was stopped while replacing it); nothing is "
                              f"applied onto it until `plpbk rebuild {self.name}` runs "
                              "again")
        applied, after = 0, tracked["position"]
        head = self.source.head().position
        self._check_source(tracked, head)
        if after >= head:   # nothing new: the common case of every doorbell and command
            return 0
        self._held = self._parked_by_stream()
        types = None if "*" in self.handlers else list(self.handlers)
        while after < head:
            records = self.source.read(after, upto=head, limit=self.batch, types=types)
            self._apply_all(records)
            applied += len(records)
            after = records[-1].position if len(records) == self.batch else head
            if records:   # the last event applied, to know it again after a restart
                tracked = {"last": records[-1].position, "hash": records[-1].hash}
            self.tracking.put(self._key, {"position": after, "source": self.source.name,
                                          "subscriber": self.name, "last": tracked.get(
                                              "last"), "hash": tracked.get("hash")})
            SUBSCRIBER_LAG.labels(self.name, self.source.name).set(head - after)
            if progress:
                progress(after, head)
        return applied

    def _check_source(self, tracked, head):
        """Refuse a source that lost what we applied: its head is behind our position, or
        (checked once per start) the last event we applied is not there any more."""
        where = f"subscriber {self.name}: ledger {self.source.name!r}"
        todo = ("nothing is applied until the state copied with that ledger is restored "
                "too, or the subscriber is rebuilt (plpbk rebuild)")
        if head < tracked["position"]:
            raise SourceRewound(f"{where}: tracked position {tracked['position']} is past "
                                f"its head {head} (restored from an older backup?); {todo}")
        if not self._source_checked and tracked.get("hash"):
            found = self.source.read(tracked["last"] - 1, limit=1)
            if not found or found[0].hash != tracked["hash"]:
                raise SourceRewound(f"{where}: its event #{tracked['last']} is not the one "
                                    f"applied (restored from an older backup?); {todo}")
        self._source_checked = True

    def _apply_all(self, records):
        if self.batch_handler and records and not (
                self._held and any(record.stream_id in self._held for record in records)):
            try:
                self.batch_handler(records)
                HANDLER_APPLIED.labels(self.name, self.source.name).inc(len(records))
                return
            except HANDLER_ERRORS as exc:  # handlers are idempotent: redo one by one, parking
                log.warning("subscriber %s: batch of %d failed (%s); applying one by one",
                            self.name, len(records), exc)
        for record in records:
            self._apply(record)

    def _apply(self, record):
        # every line logged while applying it (reactions' too) carries its cause's id,
        # also when no request is running: at start-up and in the safety-net round
        with bound_contextvars(correlation_id=record.correlation_id):
            self._apply_one(record)

    def _apply_one(self, record):
        held = self._held.get(record.stream_id)
        if held and held[0] < record.position:   # its stream waits for a parked event
            self._park(record, None, behind=held[0])
            return
        handler = self.handlers.get(record.type) or self.handlers["*"]
        for attempt in range(self.retries + 1):
            try:
                handler(record)
                HANDLER_APPLIED.labels(self.name, self.source.name).inc()
                if held:   # met again (a rebuild from the start): parked no more
                    self._mark_replayed(record)
                return
            except HANDLER_ERRORS as exc:  # retried, then parked: never lost, never silent
                HANDLER_FAILURES.labels(self.name, self.source.name).inc()
                error = exc
                if attempt < self.retries:
                    time.sleep(self.backoff * 2 ** attempt)
        if isinstance(error, RETRY_LATER):
            raise error
        self._park(record, error)

    def _park(self, record, error, behind=None):
        key = f"{self._key}:{record.position}"
        if behind is None:
            log.error("subscriber %s parked %s #%s (%s): %s", self.name, record.type,
                      record.position, record.event_id, error)
        self.parked.put(key, {
            "subscriber": self.name, "source": self.source.name,
            "position": record.position, "event_id": record.event_id, "type": record.type,
            "stream_id": record.stream_id, "status": "parked",
            "attempts": 0 if behind is not None else self.retries + 1,
            "error": f"held behind #{behind}, parked earlier in the same stream"
            if behind is not None else f"{type(error).__name__}: {error}",
            "trace": [] if behind is not None else traceback.format_exception(error)[-3:],
            "parked_at": now_iso()})
        self._held.setdefault(record.stream_id, []).append(record.position)
        self._count_parked()

    def _parked_by_stream(self, entries=None):
        """stream -> positions of its parked events, in order."""
        held = {}
        for entry in entries if entries is not None else self._parked_in_order():
            held.setdefault(entry["stream_id"], []).append(entry["position"])
        return held

    def _parked_in_order(self):
        return sorted(self.parked_events(), key=lambda entry: entry["position"])

    def _mark_replayed(self, record):
        key = f"{self._key}:{record.position}"
        entry = self.parked.get(key)
        if entry is not None and entry["status"] == "parked":
            self.parked.put(key, {**entry, "status": "replayed", "replayed_at": now_iso()})
        positions = self._held.get(record.stream_id, [])
        if record.position in positions:
            positions.remove(record.position)
        if not positions:
            self._held.pop(record.stream_id, None)
        self._count_parked()

    def _count_parked(self):
        PARKED_EVENTS.labels(self.name).set(
            self.parked.count({"subscriber": self.name, "status": "parked"}))

    def parked_events(self):
        return self.parked.find({"subscriber": self.name, "source": self.source.name,
                                 "status": "parked"})

    def replay_parked(self, positions=None) -> list:
        """Run parked events again (all, or those at the given positions): each stream's
        in position order, up to the first that fails; one held behind an event still
        parked is not run."""
        outcomes = []
        if self.lease is not None and not self.lease.held():
            return [{"subscriber": self.name, "source": self.source.name,
                     "position": entry["position"], "ok": False,
                     "error": "another instance of the service folds its views and replays "
                              "them: ask again (the call may reach that one)"}
                    for entry in self._parked_in_order()
                    if positions is None or entry["position"] in positions]
        with self._running():
            entries = self._parked_in_order()
            self._held = self._parked_by_stream(entries)
            stuck = set()   # streams whose earlier parked event failed again just now
            for entry in entries:
                if positions is not None and entry["position"] not in positions:
                    continue
                first = self._held[entry["stream_id"]][0]
                if entry["stream_id"] in stuck or first < entry["position"]:
                    outcome = {"position": entry["position"], "ok": False,
                               "error": f"held behind #{first}, still parked"}
                else:
                    outcome = self._replay(entry)
                    if not outcome["ok"]:
                        stuck.add(entry["stream_id"])
                outcomes.append({"subscriber": self.name, "source": self.source.name,
                                 **outcome})
        self._count_parked()
        return outcomes

    def _replay(self, entry):
        record = self.source.read(entry["position"] - 1, limit=1)[0]
        try:
            (self.handlers.get(record.type) or self.handlers["*"])(record)
        except HANDLER_ERRORS as exc:
            entry.update(attempts=entry["attempts"] + 1,
                         error=f"{type(exc).__name__}: {exc}", retried_at=now_iso())
            self.parked.put(entry["_id"], entry)
            return {"position": record.position, "ok": False, "error": entry["error"]}
        self._mark_replayed(record)
        return {"position": record.position, "ok": True}
