"""The ledger interface and the sealing every adapter shares.

A ledger is one append-only, hash-chained sequence of records with a gapless global
position. Adapters only persist and fetch sealed rows; validation, canonical encoding
and chaining live here so that every backend writes byte-identical records.
"""
from abc import ABC, abstractmethod
from dataclasses import dataclass

import orjson

from .canonical import GENESIS_HASH, canonical_record, record_hash
from .envelope import (CANONICAL_TIME, AppendRequest, AppendResult, Head, Metadata, Record,
                       format_time, now_iso, parse_time, validate_append)
from .group_commit import GroupCommitter
from .errors import ConcurrencyError, InvalidEvent
from .upcasting import UpcasterRegistry
from ..metrics import LEDGER_APPENDS, LEDGER_CONFLICTS

LEDGER_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"


@dataclass(slots=True)
class SealedRow:
    position: int
    stream_id: str
    stream_version: int
    type: str
    recorded_at: str
    body: bytes
    hash: str


@dataclass(slots=True)
class Draft:
    """A sealed unit not yet part of the running state: its rows and results, and the
    head, stream versions and idempotency keys it leaves behind."""
    rows: list
    results: list
    position: int
    prev_hash: str
    versions: dict
    seen: dict


class Sealer:
    """Seals units of requests one after another against a running head. Pure: no I/O.

    versions: current version of every stream the units touch; recorded: idempotency
    key -> AppendResult already in the ledger. A unit that fails (version conflict,
    unencodable payload) raises and leaves the running state as it was, so the other
    units of a group commit are unaffected.
    """

    def __init__(self, ledger_name, head, versions, recorded):
        self.ledger_name = ledger_name
        self.recorded_at = max(now_iso(), head.recorded_at or "")
        self.position, self.prev_hash = head.position, head.hash
        self.versions, self.seen = dict(versions), dict(recorded)

    def seal(self, requests):
        """(rows to write, results in request order) for one all-or-nothing unit."""
        return self.accept(self.draft(requests))

    def draft(self, requests) -> "Draft":
        """A unit sealed against the running state, which moves only on accept(draft)."""
        position, prev_hash = self.position, self.prev_hash
        versions, seen = {}, {}  # this unit's changes, kept apart until it is whole
        rows, results = [], []
        recorded_at, ledger_name = self.recorded_at, self.ledger_name
        for request in requests:
            key, stream_id = request.idempotency_key, request.stream_id
            if key is not None and (earlier := seen.get(key) or self.seen.get(key)):
                results.append(_as_duplicate(earlier))
                continue
            actual = versions.get(stream_id)
            if actual is None:
                actual = self.versions.get(stream_id, 0)
            if actual != request.expected_version:
                raise ConcurrencyError(stream_id, request.expected_version, actual)
            meta, first = request.metadata, position + 1
            actor = meta.actor.as_dict()
            for event in request.events:
                position += 1
                actual += 1
                body = canonical_record({
                    "ledger": ledger_name, "position": position,
                    "event_id": event.event_id, "stream_id": stream_id,
                    "stream_version": actual, "type": event.type,
                    "schema_version": event.schema_version,
                    "occurred_at": _ledger_time(event.occurred_at) if event.occurred_at
                    else recorded_at,
                    "recorded_at": recorded_at, "actor": actor,
                    "correlation_id": meta.correlation_id,
                    "causation_id": meta.causation_id, "payload": event.payload,
                    "prev_hash": prev_hash})
                prev_hash = record_hash(body)
                rows.append(SealedRow(position, stream_id, actual, event.type, recorded_at,
                                      body, prev_hash))
            versions[stream_id] = actual
            result = AppendResult(first, position, actual)
            if key is not None:
                seen[key] = result
            results.append(result)
        return Draft(rows, results, position, prev_hash, versions, seen)

    def accept(self, draft):
        """Move the running state past a drafted unit; (its rows, its results)."""
        self.position, self.prev_hash = draft.position, draft.prev_hash
        self.versions.update(draft.versions)
        self.seen.update(draft.seen)
        return draft.rows, draft.results


def _check_event_ids_unique(requests):
    """One event id, one event: the same NewEvent given twice would be recorded twice."""
    seen = set()
    for request in requests:
        for event in request.events:
            if event.event_id in seen:
                raise InvalidEvent(f"event_id: {event.event_id} is given to two events of "
                                   "one append (each NewEvent needs its own)")
            seen.add(event.event_id)


def _ledger_time(moment) -> str:
    """A datetime or ISO-8601 text with a zone, as the ledger writes times (UTC, micro-
    seconds, Z), so that it compares with recorded times as text."""
    if isinstance(moment, str):
        if CANONICAL_TIME.fullmatch(moment):
            return moment
        moment = parse_time(moment)
    return format_time(moment)


def new_keyed_commits(requests, results):
    """(idempotency key, first position, last position) of each newly recorded keyed request."""
    return [(request.idempotency_key, result.first_position, result.last_position)
            for request, result in zip(requests, results)
            if request.idempotency_key is not None and not result.duplicate]


def _as_duplicate(result):
    return AppendResult(result.first_position, result.last_position, result.stream_version,
                        duplicate=True)


class Ledger(ABC):
    """Append-only event ledger. There is no update and no delete, by design."""
    offload_commits = False  # True: commits block in C (SQLite) and may run in a thread

    def __init__(self, name: str, upcasters: UpcasterRegistry | None = None):
        self.name = name
        self.upcasters = upcasters or UpcasterRegistry()
        self._committer = GroupCommitter(self._commit_units, self.offload_commits)
        self._appended = LEDGER_APPENDS.labels(name)  # label lookups cost on every append
        self._conflicts = LEDGER_CONFLICTS.labels(name)

    # -- writing -------------------------------------------------------------------------
    def append(self, stream_id, expected_version, events, metadata=Metadata(),
               idempotency_key=None) -> AppendResult:
        """Record events at the end of a stream, all or none.

        expected_version is the stream version the caller decided on (0: new stream);
        ConcurrencyError if the stream moved on. A repeated idempotency_key records
        nothing and returns the first append's positions with duplicate=True.
        """
        return self.append_batch(
            [AppendRequest(stream_id, expected_version, list(events), metadata,
                           idempotency_key)])[0]

    def append_batch(self, requests) -> list:
        """Several appends in one transaction: all recorded or (on any error) none."""
        requests = list(requests)
        for request in requests:
            validate_append(request)
        _check_event_ids_unique(requests)
        try:
            results = self._committer.submit(requests)
        except ConcurrencyError:
            self._conflicts.inc()
            raise
        self._appended.inc(
            sum(r.last_position - r.first_position + 1 for r in results if not r.duplicate))
        return results

    @abstractmethod
    def recorded(self, idempotency_key: str) -> AppendResult | None:
        """The result of the append that used this key (duplicate=True), or None."""

    @abstractmethod
    def _commit_units(self, units) -> list:
        """Write several independent units in one transaction.

        Returns, per unit, its list of AppendResult or the LedgerError that refused it.
        """

    # -- reading -------------------------------------------------------------------------
    @abstractmethod
    def head(self) -> Head:
        """Position and hash of the last record (0 and the genesis hash when empty)."""

    @abstractmethod
    def stream_version(self, stream_id: str) -> int:
        """Number of events in the stream (0 if it has none)."""

    @abstractmethod
    def _stream_rows(self, stream_id, to_version):
        """(body, hash) of a stream's rows in version order, up to to_version if given."""

    @abstractmethod
    def _rows(self, after, upto, limit, types):
        """(body, hash) of rows with after < position <= upto, in position order."""

    @abstractmethod
    def raw(self, after=0, limit=10000):
        """(position, body bytes, stored hash) in position order, for verification."""

    def verification_rows(self, after=0, limit=10000):
        """Rows for the verify walk, in position order: (position, body bytes, stored hash),
        followed by the row's query columns (stream_id, stream_version, type, recorded_at)
        where an adapter keeps them beside each row, so the walk checks them against the
        hashed body in the same pass. Queries find records through these columns, so a
        changed column could hide a record from a stream without touching the chain."""
        return self.raw(after, limit)

    def index_mismatches(self):
        """(position, problem) of query columns that disagree with their hashed body, for
        adapters whose columns are not in verification_rows (MongoDB keeps them in the
        commit documents)."""
        return iter(())

    @abstractmethod
    def recorded_at(self, position) -> str | None:
        """recorded_at of one position, or None past the head."""

    def check_writable(self):
        """LedgerUnavailable unless appends can be written (a service checks its own
        ledger before it starts, rather than at its first request)."""

    def close(self):
        """Release connections."""

    def read_stream(self, stream_id, *, to_version=None, as_of=None) -> list:
        """A stream's events in order, optionally only up to a version or a moment."""
        records = [self._record(body, hash_) for body, hash_ in
                   self._stream_rows(stream_id, to_version)]
        if as_of is not None:
            cutoff = _ledger_time(as_of)
            records = [record for record in records if record.recorded_at <= cutoff]
        return records

    def read(self, after=0, *, upto=None, limit=1000, types=None) -> list:
        """Records after a global position, in position order, at most limit of them."""
        if type(limit) is not int or limit < 0:  # SQLite reads -1 as "all", MongoDB as none
            raise ValueError(f"limit {limit!r} must be a whole number >= 0")
        return [self._record(body, hash_) for body, hash_ in
                self._rows(after, upto, limit, tuple(types) if types else None)]

    def iter_records(self, after=0, *, upto=None, batch=1000, types=None):
        """Every record after a position up to upto (default: the head when called)."""
        upto = self.head().position if upto is None else upto
        while after < upto:
            records = self.read(after, upto=upto, limit=batch, types=types)
            if not records:
                return
            yield from records
            after = records[-1].position
            if len(records) < batch:
                return

    def position_at(self, moment) -> int:
        """Last position recorded at or before a moment (recorded_at never decreases)."""
        cutoff = _ledger_time(moment)
        low, high = 0, self.head().position
        while low < high:
            middle = (low + high + 1) // 2
            if self.recorded_at(middle) <= cutoff:
                low = middle
            else:
                high = middle - 1
        return low

    def _record(self, body, hash_) -> Record:
        record = Record.from_body(orjson.loads(body), hash_)
        return self.upcasters.upcast(record) if self.upcasters else record


EMPTY_HEAD = Head(0, GENESIS_HASH, None)
