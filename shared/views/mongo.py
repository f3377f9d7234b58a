"""MongoDB view store: collections `<name>_<collection>` in the database of the URI.

Reached through mongoengine (one alias per URI and client class, shared with the ledger
adapter: shared/mongo_connection.py), so tests run it on mongomock. Documents are stored
with `_id` = key; the filter language maps onto MongoDB queries almost one to one.
"""
import re
from contextlib import contextmanager

import orjson
from bson.errors import InvalidDocument
from mongoengine.connection import get_db
from pymongo import ReplaceOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, PyMongoError

from ..mongo_connection import connect, database_name, redacted
from .base import (MAX_ROWS, Collection, ViewStore, ViewStoreError, ViewStoreUnavailable,
                   check_field, check_filter, check_key, check_query, document_json, matches, prefix_end)

# Operator state every service with state has (see shared/chassis, shared/messaging).
STATE_COLLECTIONS = ("parked", "relay_positions", "tracking")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,60}$")
# Server refusals that are the document's fault, not the server's state: a field name
# starting with "$" in a replacement (52), a document past 16 MiB (10334, 17419).
_DOCUMENT_CODES = {52, 10334, 17419}


def _field(field):
    check_field(field)  # a field such as "$where" would otherwise reach the server
    return field


def _json(key, doc):
    """A JSON-only copy with its key: what every store keeps (orjson alone would pass
    datetimes, UUIDs and dataclasses through as BSON types)."""
    copy = orjson.loads(document_json(key, doc))
    copy.pop("_id", None)
    copy["_id"] = key
    return copy


def _as_read(doc):
    """A filter matching exactly this document, as read (field by field, and no other;
    _id first, where the server keeps it)."""
    stored = {"_id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}
    return {"_id": doc["_id"], "$expr": {"$eq": ["$$ROOT", {"$literal": stored}]}}


def _key_last(doc):
    """The server moves _id to the front; every other store keeps it last."""
    if doc is not None:
        doc["_id"] = doc.pop("_id")
    return doc


def _query(filter):
    check_filter(filter)
    clauses = [_clause(_field(field), condition) for field, condition in (filter or {}).items()]
    return {"$and": clauses} if clauses else {}


def _clause(field, condition):
    """One field's condition, answered as the other stores answer it (base.py).

    MongoDB alone matches a scalar against the elements of an array ({"tags": "p"} finds
    ["p", "q"]), follows a dotted path into the objects of an array, and in mongomock
    takes true for 1. So the value test applies only where no part of the path is an
    array; an array, or a path blocked by a non-object, gets the answer the other stores
    give a list or a missing field, worked out here with their own evaluator.
    """
    if field == "_id":  # keys are strings: never an array, nothing to follow
        return _value_test(field, condition)
    parts = field.split(".")
    prefixes = [".".join(parts[:end]) for end in range(1, len(parts))]
    no_array = [{prefix: {"$not": {"$type": "array"}}} for prefix in prefixes]
    branches = [no_array + [{field: {"$not": {"$type": "array"}}},
                            _value_test(field, condition)]]
    if matches({"value": []}, {"value": condition}):
        branches.append(no_array + [{field: {"$type": "array"}}])
    if prefixes and matches({}, {"value": condition}):
        for depth, prefix in enumerate(prefixes):  # the first part that is no object
            branches.append(no_array[:depth] + [{prefix: {"$type": "array"}}])
            branches.append(no_array[:depth] + [
                {prefix: {"$exists": True, "$not": {"$type": "object"}}}, no_array[depth]])
    if len(branches) == 1:
        return {"$and": branches[0]}
    return {"$or": [{"$and": branch} for branch in branches]}


def _value_test(field, condition):
    """The condition on a value that is not an array, in MongoDB's language."""
    operators = condition if isinstance(condition, dict) else {"$eq": condition}
    tests = []
    for op, operand in operators.items():
        if op == "$eq":
            tests.append(_equal(field, [operand]))
        elif op == "$in":
            tests.append(_equal(field, list(operand)))
        elif op == "$ne":
            tests.append({"$nor": [_equal(field, [operand])]})
        elif op == "$prefix":  # a range of text (an index serves it); a server refuses
            bound = prefix_end(operand)  # NUL in a $regex, and reads it as PCRE
            tests.append({field: {"$gte": operand, **({"$lt": bound} if bound else {})}})
        else:  # ranges: MongoDB compares numbers with numbers, strings with strings
            tests.append({field: {op: operand}})
    return {"$and": tests}


def _equal(field, values):
    """field equals one of values, where true is not 1 (a MongoDB server agrees,
    mongomock does not) and 1 is 1.0."""
    kinds = {"bool": [], "number": [], None: []}
    for value in values:
        kind = "bool" if type(value) is bool else "number" if isinstance(value, (int, float)) \
            else None
        kinds[kind].append(value)
    tests = [{field: {"$in": found, **({"$type": kind} if kind else {})}}
             for kind, found in kinds.items() if found]
    if len(tests) == 1:
        return tests[0]
    return {"$or": tests} if tests else {field: {"$in": []}}


def _code(exc):
    if isinstance(exc, BulkWriteError):
        errors = exc.details.get("writeErrors") or [{}]
        return errors[0].get("code")
    return exc.code if isinstance(exc, OperationFailure) else None


@contextmanager
def _answered(store, collection):
    """pymongo's errors as the other stores name theirs: a server away, unreachable or
    refusing us (ViewStoreUnavailable: retried, never parked, a 503 to a caller) or a
    document it cannot hold (ViewStoreError)."""
    try:
        yield
    except (InvalidDocument, OverflowError) as exc:   # JSON that BSON cannot hold
        raise ViewStoreError(f"document not storable in MongoDB: {exc}") from None
    except PyMongoError as exc:
        if _code(exc) in _DOCUMENT_CODES:
            raise ViewStoreError(f"document not storable in MongoDB: {exc}") from None
        # pymongo appends its whole topology description: the first clause is the news
        cause = str(exc).split(" (configured")[0].split(", Timeout:")[0]
        raise ViewStoreUnavailable(f"store {store!r}, collection {collection!r}: MongoDB is "
                                   f"unavailable: {cause}") from None


def _outage_safe(method):
    def wrapper(self, *args, **kwargs):
        with _answered(self.store, self.name):
            return method(self, *args, **kwargs)
    wrapper.__name__, wrapper.__doc__ = method.__name__, method.__doc__
    return wrapper


class MongoCollection(Collection):
    def __init__(self, docs, name, store="?"):
        self.name, self._docs, self.store = name, docs, store
        # mongomock 4.3 cannot take ReplaceOne in bulk_write under pymongo >= 4.11 (it
        # passes sort=; mongomock/mongomock#912), so there put_many writes one by one.
        self._bulk = not type(docs).__module__.startswith("mongomock")

    @_outage_safe
    def ensure_index(self, field):
        if _field(field) != "_id":  # _id is always indexed
            self._docs.create_index([(field, 1)])

    @_outage_safe
    def get(self, key):
        check_key(key)
        return _key_last(self._docs.find_one({"_id": key}))

    def put(self, key, doc):
        self.put_many([(key, doc)])

    @_outage_safe
    def put_many(self, items):
        docs = [_json(key, doc) for key, doc in items]  # all checked before any is written
        try:
            if self._bulk and len(docs) > 1:  # one round trip for a whole batch
                self._docs.bulk_write([ReplaceOne({"_id": doc["_id"]}, doc, upsert=True)
                                       for doc in docs], ordered=True)
            else:
                for doc in docs:
                    self._docs.replace_one({"_id": doc["_id"]}, doc, upsert=True)
        except ValueError as exc:  # pymongo's own check of a replacement ("$" first)
            raise ViewStoreError(f"document not storable in MongoDB: {exc}") from None

    @_outage_safe
    def delete(self, key):
        check_key(key)
        self._docs.delete_one({"_id": key})

    @_outage_safe
    def swap(self, key, change, attempts=50):
        """Compare and set: the write names the whole document read, so it matches
        nothing once another writer changed it, and the swap reads again."""
        check_key(key)
        for _ in range(attempts):
            doc = _key_last(self._docs.find_one({"_id": key}))
            new = change(None if doc is None else dict(doc))
            if new is None or new == doc:
                return doc
            kept = _json(key, new)
            if doc is None:
                try:
                    self._docs.insert_one(kept)
                    return _key_last(kept)
                except DuplicateKeyError:   # another inserted it first: read it
                    continue
            if self._docs.replace_one(_as_read(doc), kept).matched_count:
                return _key_last(kept)
        raise ViewStoreUnavailable(f"store {self.store!r}, collection {self.name!r}: "
                                   f"document {key!r} kept changing under {attempts} swaps")

    @_outage_safe
    def clear(self):
        self._docs.delete_many({})

    @_outage_safe
    def find(self, filter=None, sort=None, skip=0, limit=None):
        check_query(filter, sort, skip, limit)
        if limit == 0:
            return []  # MongoDB reads limit 0 as "no limit"
        order = [(_field(field), -1 if direction < 0 else 1) for field, direction in sort or []]
        if "_id" not in dict(order):
            order.append(("_id", 1))  # ties (and no sort at all) in key order
        return [_key_last(doc) for doc in self._docs.find(
            _query(filter), sort=order, skip=min(skip, MAX_ROWS), limit=min(limit or 0, MAX_ROWS))]

    @_outage_safe
    def count(self, filter=None):
        return self._docs.count_documents(_query(filter))


class MongoViewStore(ViewStore):
    def __init__(self, uri, name, mongo_client_class=None):
        super().__init__(name)
        if not database_name(uri):
            raise ViewStoreError(f"view store URI {redacted(uri)!r} names no database: "
                                 "use mongodb://<host>/<database>")
        if not _NAME.fullmatch(name):
            raise ViewStoreError(f"view store name {name!r} must be lowercase letters, "
                                 "digits and _")
        self._db = get_db(connect(uri, mongo_client_class))

    def _open_collection(self, name):
        if not _NAME.fullmatch(name):
            raise ViewStoreError(f"collection name {name!r} must be lowercase letters, "
                                 "digits and _")
        return MongoCollection(self._db[f"{self.name}_{name}"], name, self.name)

    def check_writable(self):
        """A round trip before a service starts: a server away is said there, once."""
        with _answered(self.name, "*"):
            self._db.command("ping")

    def close(self):
        # The client belongs to the alias, shared with every store and ledger on this URI.
        self._db = None


def mongo_store_names(uri, mongo_client_class=None) -> list:
    """Services with operator state in the database of uri.

    A database holds no list of services, so they are read off the collection names:
    `<service>_<collection>` where the collection is one every service with state has
    (STATE_COLLECTIONS). The service is all that precedes `_<collection>`, not just the
    text before the first `_`, because service names may contain `_` themselves.
    """
    if not database_name(uri):
        raise ViewStoreError(f"view store URI {redacted(uri)!r} names no database")
    names = get_db(connect(uri, mongo_client_class)).list_collection_names()
    return sorted({name[:-len(suffix) - 1] for name in names for suffix in STATE_COLLECTIONS
                   if name.endswith("_" + suffix) and len(name) > len(suffix) + 1})
