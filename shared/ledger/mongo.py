"""MongoDB adapter: one collection `<name>_ledger` per ledger, reached through mongoengine.

One document per committed unit (an append, or an append_batch that must be all or
nothing), so a unit is recorded entirely or not at all without transactions, which
standalone servers and mongomock do not have:

    {_id: 17,                    # global position of the unit's first event
     count: 3,                   # its events hold positions _id .. _id + count - 1
     recorded_at: "...Z",        # copy of every body's recorded_at (one per commit)
     streams: [{stream_id, first_version, last_version}],    # one per stream it extends
     keys: [{key, first_position, last_position, stream_version}],  # absent: no keyed request
     events: [{stream_id, stream_version, type, body: BSON binary, hash}]}

Why racing writers cannot both record, and positions stay gapless: a writer reads the
head FIRST (last document: position N), then the stream versions and idempotency keys
it needs, seals, and inserts its document at _id N + 1. Every document starts right
after the end of the one before it, so the first document anybody commits after the
head read has _id N + 1 too: the unique _id acts as a compare-and-swap on the head.
If the insert succeeds, nothing was committed since the head read, so the versions and
keys it read were exactly those of positions 1..N; if it fails (DuplicateKeyError), the
unit is read and sealed again, and the Sealer then refuses a real version conflict
(ConcurrencyError) or returns the recorded result of a key recorded meanwhile.

The unique multikey indexes (stream, first_version) and keys.key state the same rules
to a real server a second time, as a guard against any other writer. mongomock does
not enforce unique indexes over arrays of subdocuments, so there the _id argument
above is the whole protection (tests/contract/test_mongo_adapter.py shows both); and
mongomock checks and stores an _id in two steps, so several ledger objects writing
one collection from threads can race on it there. One ledger object is safe (its
group commit has one writer); a real server's unique _id has no such gap.

Writes use w:"majority", j:true and reads read concern "majority": a record is only
"recorded" once it cannot be rolled back by a failover, and no writer builds on (no
reader sees) one that could be. So a writer inserts N + 1 only after N was majority
committed, and a reader never sees N + 1 before N. Reads go to the primary whatever
the URI says: a secondary's snapshot lags, and each read could go to another one. Even
there, after a failover the new primary's majority snapshot can be older than the one
the head was read from, so the versions and keys read after the head can be older
than it: there the unique indexes above, not the _id argument, refuse the stale seal
(decision 0018). A write waits at most MAJORITY_WAIT_MS (shared/mongo_connection.py)
for its majority; a write error or timeout leaves the append "may or may not be
recorded" (a retry with its idempotency key answers which). pymongo retries a write
once after a network error (retryable writes, on by default on a replica set), and the
server answers a retry of a write that did commit with its first result, not a
duplicate key.
"""
import functools
import re
import threading
import time

import bson
import mongoengine
import orjson
from mongoengine import DictField, Document, IntField, ListField, StringField
from mongoengine.connection import ConnectionFailure
from pymongo import ReadPreference
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern

from ..mongo_connection import connect, database_name, majority, may
from ..mongo_connection import redacted as _redacted
from .base import EMPTY_HEAD, LEDGER_NAME_PATTERN, Ledger, Sealer
from .envelope import AppendResult, Head
from .errors import InvalidEvent, LedgerDamaged, LedgerError, LedgerUnavailable

SUFFIX = "_ledger"
MAX_TRIES = 100  # collisions with other writers before giving up on a group
MAX_COMMIT_BYTES = 15 * 2**20  # BSON documents stop at 16 MiB
EVENT_OVERHEAD = 200  # BSON bytes around one body, at least: a quick first check
DUPLICATE_KEY = 11000

_LOCK = threading.Lock()
_DOCUMENTS = {}  # (alias, ledger name) -> mongoengine Document class


# -- connecting ----------------------------------------------------------------------------

def _connect(uri, mongo_client_class):
    if not database_name(uri):
        raise LedgerUnavailable(
            f"STORE_URI {_redacted(uri)!r} names no database: use mongodb://<host>/<database>")
    return connect(uri, mongo_client_class)


def _document_class(alias, name):
    """The stored commit document of one ledger; built on first open, not at import."""
    with _LOCK:
        key = (alias, name)
        if key not in _DOCUMENTS:
            _DOCUMENTS[key] = type(f"LedgerCommit_{name}_{alias[-16:]}", (Document,), {
                "id": IntField(primary_key=True),
                "count": IntField(required=True),
                "recorded_at": StringField(required=True),
                "streams": ListField(DictField()),
                "keys": ListField(DictField()),
                "events": ListField(DictField()),
                "meta": {
                    "collection": f"{name}{SUFFIX}", "db_alias": alias,
                    "auto_create_index": False,  # opening calls ensure_indexes() once
                    "indexes": [
                        # A stream continues at a version once: racing writers collide.
                        {"fields": ["streams.stream_id", "streams.first_version"],
                         "unique": True, "name": "stream_continues_once"},
                        # read_stream and stream_version: a stream's commits in order.
                        {"fields": ["streams.stream_id", "_id"], "name": "stream_commits"},
                        # Sparse: commits without a keyed request have no `keys` field.
                        {"fields": ["keys.key"], "unique": True, "sparse": True,
                         "name": "idempotency_key_once"},
                    ]}})
        return _DOCUMENTS[key]


def _durable(collection):
    """The collection as the ledger uses it: see "Writes use ..." at the top."""
    return collection.with_options(
        write_concern=majority(collection.write_concern), read_concern=ReadConcern("majority"),
        read_preference=ReadPreference.PRIMARY)


def _has_indexes(document):
    """Every index the document class declares exists already (the ledger was opened
    before): creating them again is a round trip for nothing, and mongomock would even
    rebuild them over arrays of subdocuments and fail."""
    wanted = {index["name"] for index in document._meta["indexes"]}
    return wanted <= set(document._get_collection().index_information())


# What reading a document without the layout above raises (one inserted by hand: the
# insert/find-only role cannot stop that).
MALFORMED = (KeyError, IndexError, TypeError, ValueError, StopIteration)


def _reading(what):
    """Turn driver errors into LedgerUnavailable naming the ledger and the operation, and
    a malformed commit document into LedgerDamaged naming the first damaged commit."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except PyMongoError as exc:
                raise LedgerUnavailable(
                    f"ledger {self.name!r} at {self.where}: cannot {what}: {exc}") from None
            except MALFORMED:
                damaged = next(self.index_mismatches(), None)  # all read: a rare case
                if damaged is None:
                    raise   # every commit has the layout: the fault is ours, not the data's
                raise LedgerDamaged(f"ledger {self.name!r} at {self.where}: cannot {what}: "
                                    f"{damaged[1]}") from None
        return wrapper
    return decorate


def mongo_ledger_names(store_uri, mongo_client_class=None) -> list:
    """Names of the ledgers in the database of store_uri (collections <name>_ledger)."""
    try:
        alias = _connect(store_uri, mongo_client_class)
        names = mongoengine.connection.get_db(alias).list_collection_names()
    except (PyMongoError, ConnectionFailure) as exc:
        raise LedgerUnavailable(f"cannot list ledgers at {_redacted(store_uri)}: {exc}") from None
    return sorted(name[:-len(SUFFIX)] for name in names if name.endswith(SUFFIX)
                  and re.fullmatch(LEDGER_NAME_PATTERN, name[:-len(SUFFIX)]))


def _bytes(value):
    """bytes of a stored body (mongomock may hand back Binary); anything else as it is,
    for the verify walk to name (a body stored as text, say)."""
    return bytes(value) if isinstance(value, bytes) else value


class MongoLedger(Ledger):
    def __init__(self, uri, name, upcasters=None, mongo_client_class=None, read_only=False):
        super().__init__(name, upcasters)
        self.where = f"{_redacted(uri)} (collection {name}{SUFFIX})"
        try:
            document = _document_class(_connect(uri, mongo_client_class), name)
            if not read_only and not _has_indexes(document):  # a find-only role may not
                document.ensure_indexes()   # create them; a reopened ledger has them
            self._commits = _durable(document._get_collection())
        except (PyMongoError, ConnectionFailure) as exc:
            raise LedgerUnavailable(f"cannot open ledger {name!r} at {self.where}: {exc}") \
                from None

    @_reading("check the account's privileges")
    def check_writable(self):
        """An account without insert here (the reader role given by mistake) is named
        before the service starts, not at each append as "may or may not be recorded"."""
        collection = self._commits.name
        if not may(self._commits.database, collection, "insert"):
            raise LedgerUnavailable(f"ledger {self.name!r} at {self.where}: this account "
                                    f"may not insert into {collection} (give it the "
                                    "plpbkLedgerWriter role: deploy/mongo/README.md)")

    def close(self):
        # The client belongs to the alias and is shared with every ledger (and view store)
        # on this URI; disconnecting it here would break them. Only drop our handle.
        self._commits = None

    # -- writing (the group-commit leader only) --------------------------------------------
    def _commit_units(self, units):
        outcomes, done = [None] * len(units), 0
        for attempt in range(MAX_TRIES):
            if attempt > 1:  # another writer keeps winning: let it finish
                time.sleep(min(0.001 * attempt, 0.05))
            try:
                sealed = self._seal(units[done:])
            except LedgerDamaged as exc:   # nothing more is written on top of it
                return outcomes[:done] + [exc] * (len(units) - done)
            except (PyMongoError, LedgerUnavailable) as exc:
                return self._failed(outcomes, done, f"cannot read it ({exc}); nothing of "
                                                    "this append was recorded")
            try:
                written = self._insert([doc for _, doc in sealed if doc is not None])
            except PyMongoError as exc:
                return self._failed(outcomes, done, f"cannot write ({exc}); the append may "
                                    "or may not be recorded: retry with its idempotency key")
            # Units up to the first document that was not written are settled; the rest
            # are sealed again against the state that beat them.
            for outcome, doc in sealed:
                if doc is not None:
                    if not written:
                        break
                    written -= 1
                outcomes[done] = outcome
                done += 1
            if done == len(units):
                return outcomes
        return self._failed(outcomes, done, f"other writers won {MAX_TRIES} races in a row; "
                                            "nothing of this append was recorded")

    def _failed(self, outcomes, done, problem):
        refusal = LedgerUnavailable(f"ledger {self.name!r} at {self.where}: {problem}")
        return outcomes[:done] + [refusal] * (len(outcomes) - done)

    def _seal(self, units):
        """(outcome, commit document or None) per unit, sealed against a fresh state."""
        requests = [request for unit in units for request in unit]
        head, versions, recorded = self._state(
            {r.stream_id for r in requests},
            {r.idempotency_key for r in requests if r.idempotency_key is not None})
        sealer = Sealer(self.name, head, versions, recorded)
        sealed = []
        for unit in units:
            try:
                draft = sealer.draft(unit)
                # a commit too big for one document is refused before the head moves
                document = _commit_document(unit, draft.rows, draft.results) if draft.rows \
                    else None
                sealer.accept(draft)
                sealed.append((draft.results, document))
            except LedgerError as exc:
                sealed.append((exc, None))
        return sealed

    @_reading("read the state to seal against")
    def _state(self, streams, keys):
        """(head, stream versions, recorded keys). The head is read first: see the top."""
        head = self.head()
        recorded = {}
        if keys:
            for doc in self._commits.find({"keys.key": {"$in": list(keys)}}, {"keys": 1}):
                for entry in doc["keys"]:
                    if entry["key"] in keys:
                        recorded[entry["key"]] = _key_result(entry)
        return head, {stream: self.stream_version(stream) for stream in streams}, recorded

    def _insert(self, docs):
        """How many of docs (in order) were written before one collided with a rival's."""
        if not docs:
            return 0
        try:
            if len(docs) == 1:
                self._commits.insert_one(docs[0])
            else:  # one round trip for a whole group commit; stops at the first collision
                self._commits.insert_many(docs, ordered=True)
        except DuplicateKeyError:
            return 0
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or [{}]
            # A write concern error beside the collision: the documents written before it
            # may still be rolled back, so none of them counts as recorded.
            if errors[0].get("code") != DUPLICATE_KEY or exc.details.get("writeConcernErrors"):
                raise
            return exc.details["nInserted"]
        return len(docs)

    # -- reading ---------------------------------------------------------------------------
    @_reading("look up an idempotency key")
    def recorded(self, idempotency_key):
        doc = self._commits.find_one({"keys.key": idempotency_key}, {"keys": 1})
        for entry in doc["keys"] if doc else ():
            if entry["key"] == idempotency_key:
                return _key_result(entry)
        return None

    @_reading("read the head")
    def head(self):
        doc = self._commits.find_one({}, {"count": 1, "recorded_at": 1, "events.hash": 1},
                                     sort=[("_id", -1)])
        if doc is None:
            return EMPTY_HEAD
        return Head(doc["_id"] + doc["count"] - 1, doc["events"][-1]["hash"], doc["recorded_at"])

    @_reading("read a stream version")
    def stream_version(self, stream_id):
        # A stream's commits follow each other in _id order (each was sealed after the
        # one before it was visible), so its last commit holds its version.
        doc = self._commits.find_one({"streams.stream_id": stream_id}, {"streams": 1},
                                     sort=[("_id", -1)])
        if doc is None:
            return 0
        return next(entry["last_version"] for entry in doc["streams"]
                    if entry["stream_id"] == stream_id)

    @_reading("read a stream")
    def _stream_rows(self, stream_id, to_version):
        rows = []
        cursor = self._commits.find(
            {"streams.stream_id": stream_id},
            {"events.stream_id": 1, "events.stream_version": 1, "events.body": 1,
             "events.hash": 1}).sort("_id", 1)
        with cursor:
            for doc in cursor:
                for event in doc["events"]:
                    if event["stream_id"] != stream_id:
                        continue  # a batch that also extended other streams
                    if to_version is not None and event["stream_version"] > to_version:
                        return rows
                    rows.append((_bytes(event["body"]), event["hash"]))
        return rows

    def _rows(self, after, upto, limit, types):
        return [(_bytes(event["body"]), event["hash"])
                for _, event in self._scan(after, upto, limit, types)]

    def raw(self, after=0, limit=10000):
        return [(position, _bytes(event["body"]), event["hash"])
                for position, event in self._scan(after, None, limit, None)]

    @_reading("read records")
    def _scan(self, after, upto, limit, types):
        """(position, event) with after < position <= upto, in position order, <= limit."""
        if limit <= 0:
            return []
        # The commit holding position after + 1 may start before it.
        first = self._commits.find_one({"_id": {"$lte": after + 1}}, {"_id": 1},
                                       sort=[("_id", -1)])
        query = {"_id": {"$gte": first["_id"] if first else after + 1}}
        if upto is not None:
            query["_id"]["$lte"] = upto
        fields = {"events.body": 1, "events.hash": 1}
        if types:
            query["events.type"] = {"$in": list(types)}
            fields["events.type"] = 1
        found = []
        # Every commit but the first yields at least one row: limit + 1 commits suffice.
        cursor = self._commits.find(query, fields).sort("_id", 1).limit(limit + 1)
        with cursor:
            for doc in cursor:
                for offset, event in enumerate(doc["events"]):
                    position = doc["_id"] + offset
                    if position <= after or (types and event["type"] not in types):
                        continue
                    if upto is not None and position > upto:
                        return found
                    found.append((position, event))
                    if len(found) == limit:
                        return found
        return found

    def index_mismatches(self):
        try:
            with self._commits.find({}).sort("_id", 1) as cursor:
                for doc in cursor:
                    mismatch = _commit_mismatch(doc)
                    if mismatch:
                        yield mismatch
        except PyMongoError as exc:
            raise LedgerUnavailable(
                f"ledger {self.name!r} at {self.where}: cannot check records: {exc}") from None

    @_reading("read a record's time")
    def recorded_at(self, position):
        doc = self._commits.find_one({"_id": {"$lte": position}}, {"count": 1, "recorded_at": 1},
                                     sort=[("_id", -1)])
        return doc["recorded_at"] if doc and position < doc["_id"] + doc["count"] else None


def _commit_document(unit, rows, results):
    """The one document recording a sealed unit (see the layout at the top), refused when
    its BSON, keys and stream ids included, would pass MAX_COMMIT_BYTES (a server refuses
    a document past 16 MiB with an error that is no PyMongoError)."""
    least = sum(len(row.body) + EVENT_OVERHEAD for row in rows)
    if least > MAX_COMMIT_BYTES:   # surely too big: not worth encoding
        _too_big(rows, f"at least {least}")
    streams = {}
    for row in rows:
        streams.setdefault(row.stream_id, [row.stream_version, row.stream_version])[1] = (
            row.stream_version)
    doc = {"_id": rows[0].position, "count": len(rows), "recorded_at": rows[0].recorded_at,
           "streams": [{"stream_id": stream, "first_version": first, "last_version": last}
                       for stream, (first, last) in streams.items()],
           "events": [{"stream_id": row.stream_id, "stream_version": row.stream_version,
                       "type": row.type, "body": row.body, "hash": row.hash} for row in rows]}
    keys = [{"key": request.idempotency_key, "first_position": result.first_position,
             "last_position": result.last_position, "stream_version": result.stream_version}
            for request, result in zip(unit, results)
            if request.idempotency_key is not None and not result.duplicate]
    if keys:  # absent rather than empty: the sparse unique index skips the document
        doc["keys"] = keys
    size = len(bson.encode(doc))
    if size > MAX_COMMIT_BYTES:
        _too_big(rows, str(size))
    return doc


def _too_big(rows, size):
    raise InvalidEvent(f"append of {len(rows)} events is {size} bytes; MongoDB records at "
                       f"most {MAX_COMMIT_BYTES} in one commit: split it")


def _key_result(entry):
    return AppendResult(entry["first_position"], entry["last_position"],
                        entry["stream_version"], duplicate=True)


def _commit_mismatch(doc):
    """(position, problem) if a commit's query fields disagree with its hashed bodies."""
    start = doc.get("_id")
    try:
        events, streams = doc["events"], {}
        if doc["count"] != len(events) or not events:
            return start, f"commit at {start}: count {doc['count']} but {len(events)} events"
        for offset, event in enumerate(events):
            body = orjson.loads(_bytes(event["body"]))
            if (event["stream_id"], event["stream_version"], event["type"], doc["recorded_at"]) \
                    != (body["stream_id"], body["stream_version"], body["type"],
                        body["recorded_at"]):
                return start + offset, ("query fields (stream, version, type or time) differ "
                                        "from the body")
            streams.setdefault(event["stream_id"], []).append(event["stream_version"])
        listed = {entry["stream_id"]: (entry["first_version"], entry["last_version"])
                  for entry in doc["streams"]}
        if len(listed) != len(doc["streams"]) or listed != {
                stream: (min(versions), max(versions)) for stream, versions in streams.items()}:
            return start, f"commit at {start}: its stream list differs from its events"
        for entry in doc.get("keys", ()):
            last = entry["last_position"] - start
            if not (0 <= entry["first_position"] - start <= last < len(events)) or \
                    events[last]["stream_version"] != entry["stream_version"]:
                return start, f"commit at {start}: idempotency key {entry['key']!r} points " \
                              "outside it"
    except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as exc:
        return start, f"commit at {start} is malformed ({type(exc).__name__}: {exc})"
    return None
