"""Projections and reactions: the two kinds of subscriber a service declares.

    class VillageList(Projection):
        name = "village_list"          # unique within the service
        source = "registration"        # ledger read; None = the service's own ledger

        @handles("VillageRegistered")
        def registered(self, record):
            self.views.collection("villages").put(...)

A Projection folds events into view documents; its tracking position lives with its
views, so both are rebuilt together. Its handlers meet an event again whenever a
catch-up stopped part-way through a batch, so they must leave a view as it was then
(decision 23; tests/integration/audit/test_refolding.py checks every view).

A Reaction (process manager) turns another service's event into a command on this
service: its handlers *return* the command

    @handles("VillageSelected")
    def selected(self, record):
        return React(CYCLE, f"cycle-{record.payload['code']}", OpenCycle(...))

(or None, or a list of React: one per stream, when one event causes a command on each
of many streams) and the Reaction issues them, a whole read batch in one transaction,
each with an idempotency key derived from the source event (and, in a list, its
stream: replays record nothing twice) and the source event as causation. Its position
is kept durably.
"""
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from ..ledger.envelope import MAX_KEY_LENGTH
from .commands import Decider, Job
from .errors import CommandRejected

log = logging.getLogger(__name__)


def handles(*event_types):
    """Mark a method as the handler of these event types ("*": every type)."""
    def mark(method):
        method.handles = event_types
        return method
    return mark


class Subscriber:
    name = None
    handle_batch = None  # optional: apply a whole read batch at once
    source = None          # None: the service's own ledger
    durable_tracking = False

    def __init__(self, context):
        self.context = context        # a ServiceContext: views, ledger, execute
        self.views = context.views

    @classmethod
    def handled_types(cls):
        return [t for attr in dir(cls) for t in getattr(getattr(cls, attr), "handles", ())]

    def handlers(self):
        found = {}
        for attr in dir(type(self)):
            for event_type in getattr(getattr(type(self), attr), "handles", ()):
                if event_type in found:
                    raise TypeError(f"{type(self).__name__} handles {event_type} twice")
                found[event_type] = getattr(self, attr)
        return found

    def reset(self):
        """Forget everything derived (before a rebuild); projections clear their views."""


class Projection(Subscriber):
    collections = ()       # view collections this projection owns (cleared on rebuild)
    # Raised by one whenever what the projection writes changes (a field added, renamed
    # or computed anew): durable views folded to an earlier shape (by an earlier version
    # of the code) are then cleared and folded again from the ledgers when the service
    # starts (docs/decisions/0019-recorded-events-are-never-rewritten.md).
    shape = 1

    def reset(self):
        for name in self.collections:
            self.views.collection(name).clear()


SHAPES = "shapes"   # projection -> {"shape": n}: what its views in this store were folded to


def fold_again_if_reshaped(projection, name, views, tracking):
    """Views folded to another shape of the projection (by an earlier version of the
    code, kept in a durable VIEW_URI) are cleared and folded again from the ledgers, as
    `plpbk rebuild` would: read as they are, they lacked what the new shape adds. name is
    the subscription's; its positions (one per source ledger, "<name>:<ledger>") are
    forgotten. The shape is marked last, so a start stopped midway clears them again."""
    shapes = views.collection(SHAPES)
    kept = (shapes.get(name) or {}).get("shape", 1)
    if kept == projection.shape:
        return
    positions = tracking.find({"_id": {"$prefix": f"{name}:"}})
    if positions:   # not a new (or in-memory) store: say what happens
        log.warning("%s: its views were folded to shape %s, this code's is %s; folding "
                    "them again from the ledgers", name, kept, projection.shape)
    projection.reset()
    for position in positions:
        tracking.delete(position["_id"])
    shapes.put(name, {"shape": projection.shape})


def _with_stream(key, stream_id):
    """key:stream_id, or key:sha256:<digest of the stream id> where that would pass the
    ledger's MAX_KEY_LENGTH (stream ids run to 241 characters)."""
    keyed = f"{key}:{stream_id}"
    if len(keyed) <= MAX_KEY_LENGTH:
        return keyed
    return f"{key}:sha256:{hashlib.sha256(stream_id.encode()).hexdigest()}"


def check_subscribers(classes):
    """Subscriber classes a service declares, as the platform needs them: each a
    Projection or Reaction class with a name of its own. The name keys its tracked
    position, so two of one name (a projection copied, not renamed) or none shared one
    position and one of them skipped every event the other applied, silently."""
    named = {}
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, (Projection, Reaction))):
            raise TypeError(f"subscribers takes Projection or Reaction classes, not {cls!r}")
        if not isinstance(cls.name, str) or not cls.name:
            raise TypeError(f"{cls.__name__} has no name: give it name = \"...\", unique "
                            "in its service (it keys its tracked position)")
        if cls.name in named:
            raise TypeError(f"{named[cls.name].__name__} and {cls.__name__} are both named "
                            f"{cls.name!r}: a subscriber's name is unique in its service (it "
                            "keys its tracked position)")
        named[cls.name] = cls
    return list(classes)


@dataclass(frozen=True)
class React:
    """The command a reaction issues because of an event."""
    decider: Decider
    stream_id: str
    command: Any


class Reaction(Subscriber):
    durable_tracking = True

    def command_key(self, record):
        """Idempotency key of the command caused by record: same event, same key."""
        return f"{self.name}:{record.ledger}:{record.event_id}"

    def _keyed(self, record, wanted):
        """(idempotency key, React) of each command a handler returned. One React keeps
        the event's own key (the keys already in ledgers); each of a list has the key of
        its stream, so one event can cause a command on each of many streams."""
        if wanted is None:
            return []
        if isinstance(wanted, React):
            return [(self.command_key(record), wanted)]
        if not isinstance(wanted, (list, tuple)) or \
                not all(isinstance(react, React) for react in wanted):
            raise TypeError(f"{self.name} returned {wanted!r:.200}: return React(decider, "
                            "stream_id, command), a list of them, or None")
        streams = [react.stream_id for react in wanted]
        twice = sorted({stream for stream in streams if streams.count(stream) > 1})
        if twice:
            raise ValueError(f"{self.name} returned two commands for {', '.join(twice)}: "
                             "return one React per stream")
        base = self.command_key(record)
        return [(_with_stream(base, react.stream_id), react) for react in wanted]

    def handlers(self):
        decide = super().handlers()
        self._decide = decide
        return {event_type: self.handle_one for event_type in decide}

    def handle_one(self, record):
        self.handle_batch([record])

    def handle_batch(self, records):
        """Issue the commands records call for, in one transaction. A command the target
        refuses (e.g. the cycle is already open) is an answer, not a failure."""
        jobs = []
        for record in records:
            wanted = (self._decide.get(record.type) or self._decide["*"])(record)
            for key, react in self._keyed(record, wanted):
                jobs.append(Job(react.decider, react.stream_id, [react.command],
                                self.context.reaction_metadata(record), key))
        if not jobs:
            return
        for job, outcome in zip(jobs, self.context.execute_many(jobs)):
            if isinstance(outcome, CommandRejected):
                log.info("%s: %s refused %s: %s", self.name, job.stream_id,
                         type(job.commands[0]).__name__, outcome)
