"""In-process view store: the embedded default for read models.

Dictionaries in memory, rebuilt from the ledgers at start (views are disposable).
Fast at national scale (~100,000 documents): equality indexes for declared fields,
and a lazily re-sorted key list so region queries (key prefix) touch only their range.
Documents are copied in and out (orjson round trip), so callers can never change the
store behind its back, and only JSON values get in, as with every other store.
"""
import bisect

import orjson

from .base import Collection, ViewStore, ViewStoreError, check_filter, matches, sort_key


def _copy(doc):
    try:
        return orjson.loads(orjson.dumps(doc))
    except TypeError as exc:
        raise ViewStoreError(f"document is not JSON: {exc}") from None


class MemoryCollection(Collection):
    def __init__(self, name):
        self.name = name
        self._docs = {}
        self._indexes = {}   # field -> value -> set of keys
        self._sorted = []    # keys in order, rebuilt when dirty
        self._dirty = False

    def ensure_index(self, field):
        if field in self._indexes:
            return
        index = self._indexes[field] = {}
        for key, doc in self._docs.items():
            index.setdefault(_hashable(doc.get(field)), set()).add(key)

    def get(self, key):
        doc = self._docs.get(key)
        return None if doc is None else _copy(doc)

    def put(self, key, doc):
        stored = _copy(doc)
        stored["_id"] = key
        old = self._docs.get(key)
        if old is None:
            self._dirty = True
        for field, index in self._indexes.items():
            if old is not None:
                keys = index.get(_hashable(old.get(field)))
                if keys is not None:
                    keys.discard(key)
            index.setdefault(_hashable(stored.get(field)), set()).add(key)
        self._docs[key] = stored

    def update(self, key, change):
        """In place, without the copies get/put make: the hot path of every projection."""
        doc = self._docs.get(key)
        if doc is None:
            return False
        before = {field: _hashable(doc.get(field)) for field in self._indexes}
        change(doc)
        doc["_id"] = key
        for field, index in self._indexes.items():
            after = _hashable(doc.get(field))
            if after != before[field]:
                index.get(before[field], set()).discard(key)
                index.setdefault(after, set()).add(key)
        return True

    def delete(self, key):
        old = self._docs.pop(key, None)
        if old is None:
            return
        self._dirty = True
        for field, index in self._indexes.items():
            index.get(_hashable(old.get(field)), set()).discard(key)

    def clear(self):
        self._docs.clear()
        for index in self._indexes.values():
            index.clear()
        self._sorted, self._dirty = [], False

    def _candidates(self, filter):
        """Keys that may match, in key order, narrowed by the key prefix or an index."""
        if self._dirty:
            self._sorted, self._dirty = sorted(self._docs), False
        keys = self._sorted
        id_condition = filter.get("_id")
        if isinstance(id_condition, dict) and "$prefix" in id_condition:
            prefix = id_condition["$prefix"]
            start = bisect.bisect_left(keys, prefix)
            end = bisect.bisect_left(keys, prefix + "\U0010ffff", start)
            keys = keys[start:end]
        narrowest = None
        for field, condition in filter.items():
            if field in self._indexes and not isinstance(condition, dict):
                found = self._indexes[field].get(_hashable(condition), set())
                if narrowest is None or len(found) < len(narrowest):
                    narrowest = found
        if narrowest is not None and len(narrowest) < len(keys):
            keys = sorted(narrowest)  # the full filter is applied to these afterwards
        return keys

    def _exact(self, filter):
        """True when the candidates are exactly the matches: one key prefix or one index."""
        if len(filter) != 1:
            return False
        field, condition = next(iter(filter.items()))
        if field == "_id" and isinstance(condition, dict):
            return set(condition) == {"$prefix"}
        return field in self._indexes and not isinstance(condition, dict)

    def _matching(self, filter):
        filter = filter or {}
        check_filter(filter)
        docs = self._docs
        if not filter or self._exact(filter):
            return [docs[key] for key in self._candidates(filter)]
        return [docs[key] for key in self._candidates(filter) if matches(docs[key], filter)]

    def find(self, filter=None, sort=None, skip=0, limit=None):
        found = self._matching(filter)
        if sort:
            found = sorted(found, key=sort_key(sort))
        end = None if limit is None else skip + limit
        return [_copy(doc) for doc in found[skip:end]]

    def count(self, filter=None):
        if not filter:
            return len(self._docs)
        field, condition = next(iter(filter.items()))
        if len(filter) == 1 and field in self._indexes and not isinstance(condition, dict):
            return len(self._indexes[field].get(_hashable(condition), ()))
        return len(self._matching(filter))


def _hashable(value):
    return orjson.dumps(value) if isinstance(value, (dict, list)) else value


class MemoryViewStore(ViewStore):
    def _open_collection(self, name):
        return MemoryCollection(name)
