"""The view-store interface: named collections of JSON documents keyed by a string.

Read models (projections) and operator state (relay positions, subscriber tracking,
parked events) use it. Filters are a small MongoDB-like language, the same for every
implementation:

    {"status": "eligible"}                      equality (dotted paths reach nested fields)
    {"status": {"$in": ["eligible", "selected"]}}
    {"_id": {"$prefix": "52.01"}}               string prefix (region codes)
    {"score": {"$gte": 10, "$lt": 20}}          $gt $gte $lt $lte $ne

sort is a list of (field, 1 or -1); documents carry their key as "_id".
Every store gives the same answers for scalar fields: a value of another type never
compares, and a missing field is null. Filter on scalars: MongoDB looks into arrays
("tags": "p" matches ["p", "q"]), the others do not.
"""
import re
from abc import ABC, abstractmethod

import orjson

OPERATORS = {"$in", "$prefix", "$gt", "$gte", "$lt", "$lte", "$ne"}


class ViewStoreError(Exception):
    """A query or document the store cannot take, named precisely."""


class Collection(ABC):
    name: str

    @abstractmethod
    def get(self, key: str) -> dict | None:
        """A copy of the document, or None."""

    def get_many(self, keys) -> dict:
        return {key: doc for key in keys if (doc := self.get(key)) is not None}

    @abstractmethod
    def put(self, key: str, doc: dict) -> None:
        """Insert or replace the whole document."""

    def put_many(self, items) -> None:
        for key, doc in items:
            self.put(key, doc)

    def update(self, key: str, change) -> bool:
        """Apply change(doc) to a stored document; False if there is none.

        Projections fold events this way (the in-process store does it without copies).
        change must leave only JSON values in the document.
        """
        doc = self.get(key)
        if doc is None:
            return False
        change(doc)
        self.put(key, doc)
        return True

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the document if present."""

    @abstractmethod
    def find(self, filter=None, sort=None, skip=0, limit=None) -> list:
        """Copies of matching documents; by key order unless sort is given."""

    @abstractmethod
    def count(self, filter=None) -> int:
        """Number of matching documents."""

    @abstractmethod
    def clear(self) -> None:
        """Remove every document (used when a view is rebuilt from the ledgers)."""

    def ensure_index(self, field: str) -> None:
        """Hint that queries filter on field by equality; a no-op where not needed."""


class ViewStore(ABC):
    """A set of collections belonging to one service (prefix = service name)."""

    def __init__(self, name: str):
        self.name = name
        self._collections = {}

    def collection(self, name: str) -> Collection:
        if name not in self._collections:
            self._collections[name] = self._open_collection(name)
        return self._collections[name]

    @abstractmethod
    def _open_collection(self, name: str) -> Collection:
        ...

    def close(self):
        """Release connections."""


FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def check_field(field):
    """A plain dotted path: every store reads it the same way."""
    if not isinstance(field, str) or not FIELD.fullmatch(field):
        raise ViewStoreError(f"field name {field!r} is not a plain dotted path")


def check_query(filter, sort, skip, limit):
    """What every store's find checks first, so that all refuse the same queries."""
    check_filter(filter)
    for field, _direction in sort or []:
        check_field(field)
    if type(skip) is not int or skip < 0 or limit is not None and (
            type(limit) is not int or limit < 0):
        raise ViewStoreError(f"skip {skip!r} and limit {limit!r} must be whole numbers >= 0")


def check_filter(filter):
    """Raise ViewStoreError for a field or an operator this language does not have."""
    for field, condition in (filter or {}).items():
        check_field(field)
        if isinstance(condition, dict):
            unknown = set(condition) - OPERATORS
            if unknown:
                raise ViewStoreError(f"filter on {field!r}: unknown operator(s) {sorted(unknown)}")
            if "$in" in condition and not isinstance(condition["$in"], (list, tuple, set)):
                raise ViewStoreError(f"filter on {field!r}: $in needs a list")
            if "$prefix" in condition and not isinstance(condition["$prefix"], str):
                raise ViewStoreError(f"filter on {field!r}: $prefix needs a string")


def field_value(doc, path):
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def matches(doc, filter) -> bool:
    """Python evaluation of the filter language (memory store and tests)."""
    for path, condition in filter.items():
        value = field_value(doc, path)
        if not isinstance(condition, dict):
            if value != condition:
                return False
            continue
        for op, operand in condition.items():
            if not _compare(op, value, operand):
                return False
    return True


def _compare(op, value, operand):
    if op == "$in":
        return value in operand
    if op == "$ne":
        return value != operand
    if op == "$prefix":
        return isinstance(value, str) and value.startswith(operand)
    if value is None or type(value) is bool or type(operand) is bool:
        return False
    try:
        if op == "$gt":
            return value > operand
        if op == "$gte":
            return value >= operand
        if op == "$lt":
            return value < operand
        return value <= operand  # $lte
    except TypeError:
        return False


def sort_key(fields):
    """Key function sorting documents by (field, direction) pairs; None sorts first."""
    def key(doc):
        return tuple(_Ordered(field_value(doc, f), d) for f, d in fields)
    return key


class _Ordered:
    """Mixed-type, direction-aware comparison so sorting never raises."""
    __slots__ = ("rank", "value", "direction")

    def __init__(self, value, direction):
        # None, then numbers, then strings, then anything else by its JSON text
        if value is None:
            self.rank, self.value = 0, 0
        elif isinstance(value, (int, float)):
            self.rank, self.value = 1, value
        elif isinstance(value, str):
            self.rank, self.value = 2, value
        else:
            self.rank, self.value = 3, orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        self.direction = direction

    def __lt__(self, other):
        left, right = (self.rank, self.value), (other.rank, other.value)
        if self.rank != other.rank:
            left, right = (self.rank,), (other.rank,)
        return left < right if self.direction >= 0 else left > right

    def __eq__(self, other):
        return self.rank == other.rank and self.value == other.value
