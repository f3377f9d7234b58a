"""Command handling: load a stream, fold it, decide, append; retry on a version conflict.

The domain stays pure: a Decider is three functions with no I/O. This module is the
only place that turns them into ledger reads and appends.

evolve(state, event) must use only an event's type, payload, event_id and
schema_version, so that events decided but not yet recorded (NewEvent) fold exactly
like recorded ones (Record): several commands can then be decided in a row.
"""
from dataclasses import dataclass
from typing import Any, Callable

from ..ledger import AppendRequest, ConcurrencyError, LedgerError
from ..ledger.envelope import MAX_KEY_LENGTH
from .errors import CommandRejected, Conflict, InvalidInput, lone_surrogate
from .payloads import EventCatalog


@dataclass(frozen=True)
class Decider:
    initial: Callable[[], Any]                 # state of a stream with no events
    evolve: Callable[[Any, Any], Any]          # (state, event) -> state
    decide: Callable[[Any, Any], list]         # (state, command) -> [NewEvent]; raises
    # each decided event is checked against it before recording (payloads.py); None only
    # for tests' own deciders: every service's decider names its catalog (test_payloads)
    payloads: EventCatalog | None = None


def fold(decider, events, state=None):
    state = decider.initial() if state is None else state
    for event in events:
        state = decider.evolve(state, event)
    return state


def decide_all(decider, state, commands):
    """Decide commands one after another on the evolving state: (events, state)."""
    decided = []
    for command in commands:
        events = decider.decide(state, command)
        if decider.payloads is not None:
            for event in events:
                decider.payloads.check(event)
        state = fold(decider, events, state)
        decided.extend(events)
    return decided, state


@dataclass(frozen=True)
class Outcome:
    events: list            # NewEvents recorded now ([] when nothing was recorded)
    result: Any             # the AppendResult, or None when nothing needed recording
    state: Any              # stream state after the command(s)
    duplicate: bool = False  # the idempotency key had been used: nothing was recorded


# Decisions again after losing a version race. Each round has a winner, so this many
# writers to one stream at once are all recorded (a facilitator's app sending a dozen
# activities recorded offline; with 3, some were refused 409 though nothing was wrong).
RETRIES = 20


def checked_key(key):
    """An RPC's idempotency key as the ledger records it (text, 1-300 characters), else
    a 400 naming it: a direct RPC caller's 5 or [] must not get as far as the ledger."""
    if key is None or (type(key) is str and 0 < len(key) <= MAX_KEY_LENGTH
                       and lone_surrogate(key) is None):
        return key
    raise InvalidInput(f"must be text of 1 to {MAX_KEY_LENGTH} characters (UTF-8)",
                       "idempotency_key")


def refuse_key_of_another_stream(ledger, done, stream_id):
    """A key names one request for ever (the ledger never forgets it). Its first record
    says which stream it was used on; sent with a request for another stream, answering
    "done" would lose this request, so it is refused and the caller told to use a new key."""
    first = ledger.read(done.first_position - 1, limit=1)
    if first and first[0].stream_id != stream_id:
        raise CommandRejected(f"this idempotency key was already used for "
                              f"{first[0].stream_id}; nothing was recorded now: send this "
                              "request with a new key", "idempotency_key")


def execute(ledger, decider, stream_id, command, metadata, idempotency_key=None,
            retries=RETRIES) -> Outcome:
    """Decide on the current state and record the events; bounded retry on conflicts.

    command may be one command or a list decided in a row and recorded together.
    """
    commands = command if isinstance(command, list) else [command]
    checked_key(idempotency_key)
    if idempotency_key is not None:
        done = ledger.recorded(idempotency_key)
        if done is not None:
            refuse_key_of_another_stream(ledger, done, stream_id)
            return Outcome([], done, fold(decider, ledger.read_stream(stream_id)), True)
    for attempt in range(retries + 1):
        records = ledger.read_stream(stream_id)
        events, state = decide_all(decider, fold(decider, records), commands)
        if not events:
            return Outcome([], None, state)
        try:
            result = ledger.append(stream_id, len(records), events, metadata,
                                   idempotency_key)
        except ConcurrencyError as exc:
            if attempt == retries:
                raise kept_changing(stream_id, exc) from None
            continue
        if result.duplicate:   # the same key recorded meanwhile, by another request:
            refuse_key_of_another_stream(ledger, result, stream_id)
            return _duplicate(ledger, decider, stream_id, result)
        return Outcome(events, result, state)


@dataclass(frozen=True)
class Job:
    """One stream's commands in a batch."""
    decider: Decider
    stream_id: str
    commands: list
    metadata: Any
    idempotency_key: str | None = None


def execute_many(ledger, jobs, retries=RETRIES) -> list:
    """Many streams' commands in one transaction (bulk work: imports, selections).

    Returns per job an Outcome, or the CommandRejected that refused it; a refused job
    records nothing and does not stop the others. Several jobs may touch one stream:
    each decides on the state the earlier ones leave. A version conflict (someone else
    wrote meanwhile) re-decides the whole batch, a bounded number of times.
    """
    for job in jobs:
        checked_key(job.idempotency_key)
    for attempt in range(retries + 1):
        outcomes, requests, placed, streams = [], [], [], {}
        for job in jobs:
            done = job.idempotency_key is not None and ledger.recorded(job.idempotency_key)
            if done:
                try:
                    refuse_key_of_another_stream(ledger, done, job.stream_id)
                    outcomes.append(Outcome([], done, None, True))
                except CommandRejected as exc:
                    outcomes.append(exc)
                continue
            if job.stream_id not in streams:
                records = ledger.read_stream(job.stream_id)
                streams[job.stream_id] = (fold(job.decider, records), len(records))
            state, version = streams[job.stream_id]
            try:
                events, state = decide_all(job.decider, state, job.commands)
            except CommandRejected as exc:
                outcomes.append(exc)
                # evolve may have changed the state in place: rebuild it without this job
                streams[job.stream_id] = _refold(ledger, job, requests)
                continue
            outcomes.append(Outcome(events, None, state))
            if events:
                placed.append(len(outcomes) - 1)
                requests.append(AppendRequest(job.stream_id, version, events, job.metadata,
                                              job.idempotency_key))
                streams[job.stream_id] = (state, version + len(events))
        if not requests:
            return outcomes
        try:
            results = ledger.append_batch(requests)
        except ConcurrencyError:
            if attempt == retries:
                raise
            continue
        for index, result in zip(placed, results):
            job = jobs[index]
            if not result.duplicate:
                outcomes[index] = Outcome(outcomes[index].events, result, outcomes[index].state)
                continue
            try:   # the key recorded meanwhile by another request
                refuse_key_of_another_stream(ledger, result, job.stream_id)
                outcomes[index] = _duplicate(ledger, job.decider, job.stream_id, result)
            except CommandRejected as exc:
                outcomes[index] = exc
        return outcomes
    raise LedgerError("unreachable")  # the loop returns or raises


def kept_changing(what, exc) -> Conflict:
    """The 409 of a command whose retries were all spent losing version races."""
    return Conflict(f"{what} kept changing while deciding; send it again ({exc})")


def _duplicate(ledger, decider, stream_id, result):
    """The answer to a key another request recorded while this one decided: the stream as
    the ledger holds it (what the key did), not this decision, of which nothing was."""
    return Outcome([], result, fold(decider, ledger.read_stream(stream_id)), True)


def _refold(ledger, job, requests):
    """State of a stream from the ledger plus the events already decided in this batch."""
    records = ledger.read_stream(job.stream_id)
    pending = [e for r in requests if r.stream_id == job.stream_id for e in r.events]
    return fold(job.decider, records + pending), len(records) + len(pending)
