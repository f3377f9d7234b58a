"""In-process view store: the embedded default for read models.

Dictionaries in memory, rebuilt from the ledgers at start (views are disposable).
Fast at national scale (~100,000 documents): indexes for declared fields (equality, and
text prefixes through their sorted values), and a lazily re-sorted key list so region
queries (key prefix) touch only their range.
Documents are copied in and out (orjson round trip), so callers can never change the
store behind its back, and only JSON values get in, as with every other store.
"""
import bisect
import threading

import orjson

from .base import (Collection, ViewStore, ViewStoreError, check_field, check_filter, check_key,
                   check_query, check_storable, document_json, field_value, matches,
                   prefix_end, sort_key)

_SWAPS = threading.Lock()   # a swap reads and writes in one step


# orjson would write these as JSON silently (and integers past 53 bits need a closer
# look); refused, they send a change the way put goes
_NATIVE_ONLY = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_STRICT_INTEGER)


def _copy(doc):
    try:
        return orjson.loads(orjson.dumps(doc))
    except TypeError as exc:
        raise ViewStoreError(f"document is not JSON: {exc}") from None


def _new_document(key, doc):
    stored = orjson.loads(document_json(key, doc))
    stored.pop("_id", None)
    stored["_id"] = key   # last, in every store
    return stored


class MemoryCollection(Collection):
    def __init__(self, name):
        self.name = name
        self._docs = {}
        self._indexes = {}   # field -> value -> set of keys
        self._ordered = {}   # (field, value) -> that set's keys sorted, until it changes
        self._texts = {}     # field -> its index's text values sorted, until a new one comes
        self._sorted = []    # keys in order, rebuilt when dirty
        self._dirty = False

    def ensure_index(self, field):
        check_field(field)
        if field in self._indexes:
            return
        self._indexes[field] = {}
        for key, doc in self._docs.items():
            self._index_add(field, field_value(doc, field), key)

    def _index_add(self, field, value, key):
        value = _hashable(value)
        keys = self._indexes[field].get(value)
        if keys is None:
            keys = self._indexes[field][value] = set()
            self._texts.pop(field, None)
        keys.add(key)
        self._ordered.pop((field, value), None)

    def _index_discard(self, field, value, key):
        value = _hashable(value)
        keys = self._indexes[field].get(value)
        if keys is not None and key in keys:
            keys.discard(key)
            self._ordered.pop((field, value), None)

    def get(self, key):
        check_key(key)
        doc = self._docs.get(key)
        return None if doc is None else _copy(doc)

    def put(self, key, doc):
        self._keep(key, _new_document(key, doc))

    def put_many(self, items):
        checked = [(key, _new_document(key, doc)) for key, doc in items]  # all, then write
        for key, stored in checked:
            self._keep(key, stored)

    def _keep(self, key, stored):
        old = self._docs.get(key)
        if old is None:
            self._dirty = True
        for field in self._indexes:
            if old is not None:
                self._index_discard(field, field_value(old, field), key)
            self._index_add(field, field_value(stored, field), key)
        self._docs[key] = stored

    def swap(self, key, change):
        with _SWAPS:
            doc = self.get(key)
            new = change(doc)
            if new is not None and new is not doc:
                self.put(key, new)
            return self.get(key)

    def update(self, key, change):
        """In place, without the copies get/put make: the hot path of every projection.

        The store keeps the objects the change puts in (SQLite and MongoDB keep values):
        a change builds what it puts in, never one object for two documents nor one its
        caller goes on changing. A copy here doubled an update's time (docs/decisions/0005)."""
        check_key(key)
        doc = self._docs.get(key)
        if doc is None:
            return False
        before = {field: _hashable(field_value(doc, field)) for field in self._indexes}
        saved = orjson.dumps(doc)  # a change that raises half-way must leave no trace:
        try:                       # its handler is retried, as a transaction would be
            change(doc)
            doc.pop("_id", None)
            doc["_id"] = key   # last, in every store
            doc = self._checked(key, doc)
        except BaseException:
            self._docs[key] = orjson.loads(saved)
            raise
        for field in self._indexes:
            if _hashable(field_value(doc, field)) != before[field]:
                self._index_discard(field, before[field], key)
                self._index_add(field, field_value(doc, field), key)
        return True

    def _checked(self, key, doc):
        """The changed document as put would keep it, refused where put refuses it.

        Without a copy when it holds only JSON's own types and integers within 53 bits
        (the hot path): a datetime, an enum, a Decimal or a wider integer stops the
        first dump and takes the way put takes.
        """
        try:
            data = orjson.dumps(doc, option=_NATIVE_ONLY)
        except TypeError:
            doc = self._docs[key] = orjson.loads(document_json(key, doc))
            return doc
        check_storable(key, data, wide=False)
        return doc

    def delete(self, key):
        check_key(key)
        old = self._docs.pop(key, None)
        if old is None:
            return
        self._dirty = True
        for field in self._indexes:
            self._index_discard(field, field_value(old, field), key)

    def clear(self):
        self._docs.clear()
        for index in self._indexes.values():
            index.clear()
        self._ordered.clear()
        self._texts.clear()
        self._sorted, self._dirty = [], False

    def _candidates(self, filter):
        """Keys that may match, in key order, narrowed by the key prefix or an index."""
        if self._dirty:
            self._sorted, self._dirty = sorted(self._docs), False
        keys = self._sorted
        id_condition = filter.get("_id")
        if isinstance(id_condition, dict) and "$prefix" in id_condition:
            prefix = id_condition["$prefix"]
            start, bound = bisect.bisect_left(keys, prefix), prefix_end(prefix)
            end = len(keys) if bound is None else bisect.bisect_left(keys, bound, start)
            keys = keys[start:end]
        narrowest = None   # (how many, its keys in order): the filter still applies
        for field, condition in filter.items():
            if field not in self._indexes:
                continue
            if not isinstance(condition, dict):
                value = _hashable(condition)
                size = len(self._indexes[field].get(value, ()))
                if narrowest is None or size < narrowest[0]:
                    narrowest = (size, lambda field=field, value=value:
                                 self._in_order(field, value))
            elif set(condition) == {"$prefix"}:
                found = self._prefixed(field, condition["$prefix"])
                if narrowest is None or len(found) < narrowest[0]:
                    narrowest = (len(found), lambda found=found: found)
        if narrowest is not None and narrowest[0] < len(keys):
            keys = narrowest[1]()
        return keys

    def _prefixed(self, field, prefix):
        """Keys whose field is text starting with prefix, in key order (a name search
        of the whole country reads its matches, not 83,762 documents)."""
        texts = self._texts.get(field)
        if texts is None:
            texts = self._texts[field] = sorted(
                value for value in self._indexes[field] if isinstance(value, str))
        start, bound = bisect.bisect_left(texts, prefix), prefix_end(prefix)
        end = len(texts) if bound is None else bisect.bisect_left(texts, bound, start)
        index = self._indexes[field]
        return sorted(key for text in texts[start:end] for key in index[text])

    def _in_order(self, field, value):
        """One index value's keys, sorted once and kept until that set changes."""
        ordered = self._ordered.get((field, value))
        if ordered is None:
            ordered = self._ordered[(field, value)] = sorted(
                self._indexes[field].get(value, ()))
        return ordered

    def _exact(self, filter):
        """True when the candidates are exactly the matches: one key prefix or one index."""
        if len(filter) != 1:
            return False
        field, condition = next(iter(filter.items()))
        if field == "_id" and isinstance(condition, dict):
            return set(condition) == {"$prefix"}
        return field in self._indexes and not isinstance(condition, dict)

    def _matching(self, filter):
        """The matching keys, in key order."""
        filter = filter or {}
        check_filter(filter)
        docs = self._docs
        if not filter or self._exact(filter):
            return self._candidates(filter)
        return [key for key in self._candidates(filter) if matches(docs[key], filter)]

    def find(self, filter=None, sort=None, skip=0, limit=None):
        check_query(filter, sort, skip, limit)
        end = None if limit is None else skip + limit
        docs = self._docs
        if not sort:   # a page of keys, then only its documents
            return [_copy(docs[key]) for key in self._matching(filter)[skip:end]]
        found = sorted((docs[key] for key in self._matching(filter)), key=sort_key(sort))
        return [_copy(doc) for doc in found[skip:end]]

    def count(self, filter=None):
        check_filter(filter)  # before the index shortcut, so that every store refuses alike
        if not filter:
            return len(self._docs)
        field, condition = next(iter(filter.items()))
        if len(filter) == 1 and field in self._indexes and not isinstance(condition, dict):
            return len(self._indexes[field].get(_hashable(condition), ()))
        return len(self._matching(filter))


def _hashable(value):
    """An index key: true and 1 must not share one (Python says True == 1)."""
    if type(value) is bool:
        return ("bool", value)
    return orjson.dumps(value) if isinstance(value, (dict, list)) else value


class MemoryViewStore(ViewStore):
    def _open_collection(self, name):
        return MemoryCollection(name)
