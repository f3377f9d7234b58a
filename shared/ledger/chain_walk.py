"""The walk that checks stored records against every rule of docs/ledger-format.md.

A walk covers one stretch of consecutive positions and reports what it found without
knowing what came before: the streams it met first (with the version they had there)
are judged afterwards, against the stretches before it. So one stretch is the whole
ledger walked in order, and several stretches can be walked by several processes
and judged in order (shared.ledger.parallel_verify) with the same verdict.
"""
import hashlib
from dataclasses import dataclass, field

import orjson

from ..collector import quiet_collector
from .canonical import GENESIS_HASH, admitted, check_value
from .errors import InvalidEvent


@dataclass
class VerifyReport:
    """count and head: the records that verified (all of them, or those before the break)."""
    ledger: str
    count: int = 0
    head_position: int = 0
    head_hash: str = GENESIS_HASH
    first_bad_position: int | None = None
    problem: str | None = None
    checkpoint: dict | None = field(default=None)

    @property
    def ok(self):
        return self.problem is None

    def as_dict(self):
        return {"ledger": self.ledger, "ok": self.ok, "count": self.count,
                "head_position": self.head_position, "head_hash": self.head_hash,
                "first_bad_position": self.first_bad_position, "problem": self.problem,
                "checkpoint": self.checkpoint}


@dataclass
class Stretch:
    """What one walk found, from position `first` on."""
    first: int
    last: int = 0                   # last position that passed (first - 1: none)
    last_hash: str = GENESIS_HASH   # its stored hash
    broken: tuple | None = None     # (position, problem) where the walk stopped
    # stream -> (version, position, hash before it) where the walk first met the stream
    new_streams: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)  # stream -> last version met


# docs/ledger-format.md section 1: a record has exactly these members
MEMBERS = frozenset({"ledger", "position", "event_id", "stream_id", "stream_version", "type",
                     "schema_version", "occurred_at", "recorded_at", "actor",
                     "correlation_id", "causation_id", "payload", "prev_hash"})


class _Broken(Exception):
    def __init__(self, position, problem):
        self.position, self.problem = position, problem


def walk(ledger_name, batches, first=1, previous_hash=GENESIS_HASH, previous_time="",
         progress=None) -> Stretch:
    """Walk batches of (position, body, stored_hash[, query columns]) from `first` on;
    previous_hash and previous_time belong to the record before `first`."""
    stretch = Stretch(first, first - 1, previous_hash)
    expected, versions, new_streams = first, stretch.versions, stretch.new_streams
    # dumps with sorted keys is canonical.canonical_bytes, called directly: a parsed
    # body always encodes, and this loop runs once per record of the ledger
    sha256, loads, dumps, sort_keys = hashlib.sha256, orjson.loads, orjson.dumps, \
        orjson.OPT_SORT_KEYS
    try:
        with quiet_collector():  # the walk makes a dict per record and no cycles
            for batch in batches:
                for row in batch:
                    position, body, stored_hash = row[0], row[1], row[2]
                    if position != expected:   # first: a gap is named where it begins
                        raise _Broken(expected, f"record {expected} is missing (next stored "
                                                f"position is {position}): deleted or inserted")
                    if type(body) is not bytes:
                        raise _Broken(position, "body is not stored as bytes (changed "
                                                "outside the ledger)")
                    if sha256(body).hexdigest() != stored_hash:
                        raise _Broken(position, "content does not match its stored hash "
                                                "(changed after recording)")
                    try:
                        record = loads(body)
                    except orjson.JSONDecodeError:
                        raise _Broken(position, "body is not JSON (changed after "
                                                "recording)") from None
                    if type(record) is not dict:
                        raise _Broken(position, "body is not a JSON object (changed after "
                                                "recording)")
                    if record.keys() != MEMBERS:
                        raise _Broken(position, "body does not have exactly the members of "
                                                f"a record: {sorted(record.keys() ^ MEMBERS)}")
                    if record.get("prev_hash") != previous_hash:
                        raise _Broken(position, "prev_hash does not match the hash of record "
                                                f"{position - 1}: removed, inserted or reordered")
                    said = record.get("position")
                    if type(said) is not int or said != position:   # not 6.0, not true
                        raise _Broken(position, f"body says position {said!r}: moved")
                    if record.get("ledger") != ledger_name:
                        raise _Broken(position,
                                      f"body belongs to ledger {record.get('ledger')!r}")
                    recorded_at = record.get("recorded_at")
                    if type(recorded_at) is not str or recorded_at < previous_time:
                        raise _Broken(position, "recorded_at goes back in time")
                    stream, version = record.get("stream_id"), record.get("stream_version")
                    if type(stream) is not str or type(version) is not int:
                        raise _Broken(position, "stream_id or stream_version is not a string "
                                                "and an integer")
                    known = versions.get(stream)
                    if known is None:
                        new_streams[stream] = (version, position, previous_hash)
                    elif version != known + 1:
                        raise _Broken(position, f"stream {stream!r} jumps to version {version}")
                    versions[stream] = version
                    if dumps(record, option=sort_keys) != body:
                        raise _Broken(position, "bytes are not in canonical form")
                    if not admitted(record, body):
                        raise _Broken(position, _not_admitted(record))
                    if len(row) > 3 and (row[3] != stream or row[4] != version or
                                         row[5] != record.get("type") or
                                         row[6] != recorded_at):
                        raise _Broken(position, "query columns (stream, version, type or "
                                                "time) differ from the body")
                    previous_hash, previous_time = stored_hash, recorded_at
                    expected += 1
                stretch.last, stretch.last_hash = expected - 1, previous_hash
                if progress:
                    progress(stretch.last)
    except _Broken as broken:
        stretch.last, stretch.last_hash = expected - 1, previous_hash
        stretch.broken = (broken.position, broken.problem)
    return stretch


def _not_admitted(record):
    """The words for a body holding a value that section 1 admits on no append (a
    float, an integer beyond +-(2**53 - 1), a key outside the BMP): only a forger who
    re-sealed the chain writes one, and orjson encodes it byte-identically."""
    try:
        check_value(record, "body")
    except InvalidEvent as exc:
        return f"holds a value the canonical form does not admit: {exc}"
    return "holds a value the canonical form does not admit"


def judge(ledger_name, stretches, ends=None) -> VerifyReport:
    """The verdict on stretches walked in position order. ends: the last position each
    stretch had to reach (None: wherever its rows ended)."""
    report, before = VerifyReport(ledger_name), {}
    for index, stretch in enumerate(stretches):
        problems = [(position, f"stream {stream!r} jumps to version {version}", hash_)
                    for stream, (version, position, hash_) in stretch.new_streams.items()
                    if version != before.get(stream, 0) + 1]
        if stretch.broken:
            # last: at the same position a single walk checks versions before what broke
            # here (the walk stops before noting a stream, had an earlier check failed)
            problems.append((*stretch.broken, stretch.last_hash))
        elif ends is not None and stretch.last < ends[index]:
            problems.append((stretch.last + 1, f"record {stretch.last + 1} is missing: deleted",
                             stretch.last_hash))
        if problems:
            position, problem, hash_ = min(problems, key=lambda found: found[0])
            report.count = report.head_position = position - 1
            report.head_hash, report.first_bad_position, report.problem = (
                hash_, position, problem)
            return report
        before.update(stretch.versions)
        report.count = report.head_position = stretch.last
        report.head_hash = stretch.last_hash
    return report


RAW_BATCH = 20_000  # stored records fetched per query while verifying


def raw_batches(ledger, batch=RAW_BATCH, fetch=None, after=0, upto=None):
    """The ledger's stored records in position order from after + 1 (up to upto), a
    batch of rows at a time, as ledger.raw gives them (or fetch, of the same shape)."""
    fetch = fetch or ledger.raw
    while upto is None or after < upto:
        rows = fetch(after, batch if upto is None else min(batch, upto - after))
        if not rows:
            return
        yield rows
        after = rows[-1][0]

