"""Command handling: load a stream, fold it, decide, append; retry on a version conflict.

The domain stays pure: a Decider is three functions with no I/O. This module is the
only place that turns them into ledger reads and appends.
"""
from dataclasses import dataclass
from typing import Any, Callable

from ..ledger import ConcurrencyError
from .errors import Conflict


@dataclass(frozen=True)
class Decider:
    initial: Callable[[], Any]                 # state of a stream with no events
    evolve: Callable[[Any, Any], Any]          # (state, record) -> state
    decide: Callable[[Any, Any], list]         # (state, command) -> [NewEvent]; raises


def fold(decider, records, state=None):
    state = decider.initial() if state is None else state
    for record in records:
        state = decider.evolve(state, record)
    return state


@dataclass(frozen=True)
class Outcome:
    events: list            # NewEvents recorded now ([] for a repeated idempotency key)
    result: Any             # the AppendResult, or None when nothing needed recording
    state: Any              # stream state after the command


def execute(ledger, decider, stream_id, command, metadata, idempotency_key=None,
            retries=3) -> Outcome:
    """Decide on the current state and record the events; bounded retry on conflicts."""
    if idempotency_key is not None:
        done = ledger.recorded(idempotency_key)
        if done is not None:
            return Outcome([], done, fold(decider, ledger.read_stream(stream_id)))
    for attempt in range(retries + 1):
        records = ledger.read_stream(stream_id)
        state = fold(decider, records)
        events = decider.decide(state, command)
        if not events:
            return Outcome([], None, state)
        try:
            result = ledger.append(stream_id, len(records), events, metadata,
                                   idempotency_key)
        except ConcurrencyError as exc:
            if attempt == retries:
                raise Conflict(f"{stream_id} kept changing while deciding; try again "
                               f"({exc})") from None
            continue
        # evolve() may use any envelope field, so fold what was actually recorded.
        state = fold(decider, ledger.read_stream(stream_id, to_version=result.stream_version)[
            len(records):], state)
        return Outcome(events, result, state)
