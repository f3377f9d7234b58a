"""The view-store interface: named collections of JSON documents keyed by a string.

Read models (projections) and operator state (relay positions, subscriber tracking,
parked events) use it. Filters are a small MongoDB-like language, the same for every
implementation:

    {"status": "eligible"}                      equality (dotted paths reach nested fields)
    {"status": {"$in": ["eligible", "selected"]}}
    {"_id": {"$prefix": "52.01"}}               string prefix (region codes)
    {"score": {"$gte": 10, "$lt": 20}}          $gt $gte $lt $lte $ne

sort is a list of (field, 1 or -1); documents carry their key (a string) as "_id".

Every store gives the same answers, MongoDB included (its adapter translates the
places where MongoDB alone would differ):
  - filters compare scalars: filter values are null, true/false, numbers (64-bit
    integers, finite floats) or strings; a list or an object as a value is refused;
  - a field holding an array (or an object) is one value, never matched element by
    element: {"tags": "p"} does not match "tags": ["p", "q"], {"tags": {"$ne": "p"}}
    does; a dotted path through an array or a scalar reads as a missing field;
  - a missing field is null; true and false equal only themselves, never 1 and 0;
    1 equals 1.0; a range or $prefix compares numbers with numbers and text with
    text only ($gt etc. take a number or a string);
  - sort orders null (and missing), numbers, text, objects, then false, true; ties,
    and no sort at all, in key order; text by code point (case and accents are not
    folded). Sort on scalars: objects among themselves are ordered each store's own
    way, and MongoDB sorts an array (and a path through one) by its least element
    (ascending; a server takes the greatest descending, mongomock the least again)
    among the scalars, [] before null, where the others put arrays after objects
    and read a path through an array as missing;
  - skip past the end gives [];
  - text holding NUL is compared whole by filters; in a range or a sort SQLite compares
    it up to the NUL only (its JSON functions cut it there);
  - keys and filter text are UTF-8 (a lone surrogate is refused); documents come back
    with their fields in the order put, "_id" last;
  - a document MongoDB cannot hold is refused by every store (ViewStoreError), before
    anything of a put_many is written: an integer past 64 bits, a field name holding NUL
    or, at the top level, starting with "$", more than 16 MiB as BSON. Dotted field
    names and nested "$" names are kept (filters cannot reach them: check_field);
  - update keeps what put keeps (a datetime as its ISO text, an enum as its value), save
    a NaN or a UUID, which the memory store keeps as the Python value until the next put
    (change must leave only JSON values: a NaN, null elsewhere, matches no null there),
    and the memory store keeps the very objects a change puts in (change builds them:
    never one object for two documents).
"""
import math
import re
from abc import ABC, abstractmethod

import orjson

OPERATORS = {"$in", "$prefix", "$gt", "$gte", "$lt", "$lte", "$ne"}
RANGES = {"$gt", "$gte", "$lt", "$lte"}
# Beyond any collection's size; skip and limit above it give the same answer, and the
# SQLite and MongoDB drivers cannot send numbers past 64 bits.
MAX_ROWS = 2 ** 62
_INT64 = range(-2 ** 63, 2 ** 63)


class ViewStoreError(Exception):
    """A query or document the store cannot take, named precisely."""


class ViewStoreUnavailable(ViewStoreError):
    """The store cannot be opened or written now (a full disk, a read-only file): the
    environment's fault, not the document's; nothing of the failed write was kept."""


class Collection(ABC):
    name: str

    @abstractmethod
    def get(self, key: str) -> dict | None:
        """A copy of the document, or None. Every document read back (get, find, the doc
        update's change sees) carries its key as `_id`, besides the fields put."""

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
        """Declare that queries filter on field by equality or prefix: every store then
        serves those from an index (decision 22)."""
        check_field(field)   # refused alike where the hint does nothing

    @abstractmethod
    def swap(self, key: str, change) -> dict | None:
        """In one atomic step across every process using the store: the document at key
        (None if there is none) is handed to change, and what change returns (a new
        dict, or the same one untouched, or None for none) is kept. Returns what is
        kept. change may run more than once (MongoDB retries when another writer came
        between its read and its write): it must not act outside its answer. For shared
        state that several instances change (a lease, a counter, a first value);
        projections need none of it (decision 24) and use update."""

    def claim(self, key: str, holder: str, until: float, now: float) -> bool:
        """A lease: document `key` names `holder` as holding it up to `until` (epoch
        seconds) unless another holder's lease runs past `now`; whether `holder` holds
        it. Renewing one's own lease is claiming it again."""
        lease = _lease_document(holder, until)
        kept = self.swap(key, lambda doc: lease if _lease_is_free(doc, holder, now) else doc)
        return (kept or {}).get("holder") == holder and kept.get("until") == lease["until"]

    def release(self, key: str, holder: str) -> None:
        """End `holder`'s lease `key` (another's is left as it is)."""
        self.swap(key, lambda doc: {**doc, "until": 0.0}
                  if doc and doc.get("holder") == holder else doc)

    def keep_first(self, key: str, doc: dict) -> dict:
        """Store doc at key unless a document is there already; the document kept at key
        either way (the first one put, whoever put it)."""
        return self.swap(key, lambda kept: doc if kept is None else kept)


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

    def check_writable(self):
        """ViewStoreUnavailable unless the store takes writes (checked before a service
        starts, where a store that opens read-only would fail only at its first write)."""

    def close(self):
        """Release connections."""


def _lease_is_free(doc, holder, now) -> bool:
    """Whether holder may claim the lease document doc (None: nobody holds it)."""
    return not doc or doc.get("holder") == holder or not doc.get("until", 0) > now


def _lease_document(holder, until):
    if not isinstance(holder, str) or not holder:
        raise ViewStoreError(f"a lease holder is a non-empty text, not {holder!r}")
    return {"holder": holder, "until": float(until)}


def check_key(key):
    """Keys are UTF-8 text, as in every store (SQLite would read 5 as "5", the others not;
    SQLite and MongoDB cannot send a lone surrogate, the memory store would answer)."""
    if type(key) is not str:
        raise ViewStoreError(f"key {key!r} is not a string")
    _check_text("key", key)


def _check_text(what, text):
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ViewStoreError(f"{what} {text!r} is not valid UTF-8 text") from None


FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


# What a MongoDB server cannot hold, refused by every store alike. Most documents show
# none of these marks in their JSON, so only the few that do are looked at field by field.
_DIGITS = bytes(ord("9") if ord("0") <= byte <= ord("9") else ord(" ")
                for byte in range(256))
_LONG_NUMBER = b"9" * 19   # 2**63 has 19 digits: only such runs can be past 64 bits
MAX_DOCUMENT_BYTES = 16 * 2 ** 20   # MongoDB's limit, in BSON bytes
_BSON_PER_JSON_BYTE = 8             # BSON is at most 6.5 times the JSON ("0," in an array)


def document_json(key, doc):
    """The JSON of a document to store under key (ViewStoreError if it is none, or if
    MongoDB could not hold it: an integer past 64 bits, a field name starting with "$"
    at the top or holding NUL anywhere, more than 16 MiB as BSON)."""
    check_key(key)
    if not isinstance(doc, dict):
        raise ViewStoreError(f"document {key!r} is not a JSON object")
    try:   # integers within 53 bits, nearly all: no need to look for wider ones
        data, wide = orjson.dumps(doc, option=orjson.OPT_STRICT_INTEGER), False
    except TypeError:
        try:
            data, wide = orjson.dumps(doc), True
        except TypeError as exc:
            raise ViewStoreError(f"document {key!r} is not JSON: {exc}") from None
    check_storable(key, data, wide)
    return data


def check_storable(key, data, wide=True):
    """ViewStoreError if MongoDB could not hold the document whose JSON is data (wide:
    it may hold integers past 53 bits). One-byte searches first: they are the fast ones."""
    if b"$" in data and b'"$' in data or b"\\" in data and b"\\u0000" in data \
            or wide and _LONG_NUMBER in data.translate(_DIGITS) \
            or len(data) * _BSON_PER_JSON_BYTE > MAX_DOCUMENT_BYTES:
        _check_storable(key, {**orjson.loads(data), "_id": key})


def _check_storable(key, doc):
    problem = _unstorable(doc, top=True)
    if problem is None and len(data := _bson(doc)) > MAX_DOCUMENT_BYTES:
        problem = f"it is {len(data)} bytes as BSON, over MongoDB's {MAX_DOCUMENT_BYTES}"
    if problem:
        raise ViewStoreError(f"document {key!r} cannot be stored: {problem}")


def _bson(doc):
    import bson  # pymongo's, only for the few documents big enough to be near the limit
    return bson.encode(doc)


def _unstorable(value, top=False):
    if isinstance(value, dict):
        for name, item in value.items():
            if "\x00" in name:
                return f"field name {name!r} holds NUL"
            if top and name.startswith("$"):
                return f"field name {name!r} starts with '$' (MongoDB takes it only nested)"
            problem = _unstorable(item)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = _unstorable(item)
            if problem:
                return problem
    elif type(value) is int and value not in _INT64:
        return f"{value} is past 64-bit integers"
    return None


def check_field(field):
    """A plain dotted path: every store reads it the same way."""
    if not isinstance(field, str) or not FIELD.fullmatch(field):
        raise ViewStoreError(f"field name {field!r} is not a plain dotted path")


def check_query(filter, sort, skip, limit):
    """What every store's find checks first, so that all refuse the same queries."""
    check_filter(filter)
    if sort is not None and not isinstance(sort, (list, tuple)):
        raise ViewStoreError(f"sort {sort!r} must be a list of (field, 1 or -1)")
    named = set()
    for entry in sort or []:
        if not isinstance(entry, (list, tuple)) or len(entry) != 2 or \
                type(entry[1]) is not int or entry[1] not in (1, -1):
            raise ViewStoreError(f"sort entry {entry!r} must be (field, 1 or -1)")
        check_field(entry[0])
        if entry[0] in named:   # pymongo would keep its last direction, the others the first
            raise ViewStoreError(f"sort names field {entry[0]!r} twice")
        named.add(entry[0])
    if type(skip) is not int or skip < 0 or limit is not None and (
            type(limit) is not int or limit < 0):
        raise ViewStoreError(f"skip {skip!r} and limit {limit!r} must be whole numbers >= 0")


def check_filter(filter):
    """Raise ViewStoreError for a field or an operator this language does not have."""
    if filter is not None and not isinstance(filter, dict):
        raise ViewStoreError(f"filter {filter!r} is not an object")
    for field, condition in (filter or {}).items():
        check_field(field)
        if not isinstance(condition, dict):
            _check_scalar(field, condition)
            continue
        if not condition:
            raise ViewStoreError(f"filter on {field!r}: an empty condition compares nothing")
        unknown = set(condition) - OPERATORS
        if unknown:
            raise ViewStoreError(f"filter on {field!r}: unknown operator(s) {sorted(unknown)}")
        if "$in" in condition:
            if not isinstance(condition["$in"], (list, tuple, set)):
                raise ViewStoreError(f"filter on {field!r}: $in needs a list")
            for value in condition["$in"]:
                _check_scalar(field, value)
        if "$prefix" in condition:
            if not isinstance(condition["$prefix"], str):
                raise ViewStoreError(f"filter on {field!r}: $prefix needs a string")
            _check_scalar(field, condition["$prefix"])
        if "$ne" in condition:
            _check_scalar(field, condition["$ne"])
        for op in RANGES & set(condition):
            operand = condition[op]
            if not isinstance(operand, str) and not _number(operand):
                raise ViewStoreError(f"filter on {field!r}: {op} needs a number or a string")
            _check_scalar(field, operand)


def _number(value):
    return isinstance(value, (int, float)) and type(value) is not bool


def _check_scalar(field, value):
    """A value every store can compare the same way."""
    if isinstance(value, str):
        return _check_text(f"filter on {field!r}:", value)
    if value is None or isinstance(value, bool):
        return
    if type(value) is int and value in _INT64 or type(value) is float and math.isfinite(value):
        return
    raise ViewStoreError(f"filter on {field!r}: {value!r} is not a string, a finite number "
                         "within 64 bits, true, false or null (filters compare scalars only)")


def same_value(left, right):
    """JSON equality: true is not 1 and false is not 0 (Python says they are)."""
    return left == right and (type(left) is bool) == (type(right) is bool)


def prefix_end(prefix):
    """The least string above every string that starts with prefix (None: no bound)."""
    stem = prefix.rstrip("\U0010ffff")
    if not stem:
        return None
    following = ord(stem[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not text (keys are UTF-8)
        following = 0xE000
    return stem[:-1] + chr(following)


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
            if not same_value(value, condition):
                return False
            continue
        for op, operand in condition.items():
            if not _compare(op, value, operand):
                return False
    return True


def _compare(op, value, operand):
    if op == "$in":
        return any(same_value(value, candidate) for candidate in operand)
    if op == "$ne":
        return not same_value(value, operand)
    if op == "$prefix":
        return isinstance(value, str) and value.startswith(operand)
    if not (isinstance(value, str) and isinstance(operand, str)
            or _number(value) and _number(operand)):
        return False  # numbers compare with numbers, text with text, nothing else
    if op == "$gt":
        return value > operand
    if op == "$gte":
        return value >= operand
    if op == "$lt":
        return value < operand
    return value <= operand  # $lte


def sort_key(fields):
    """Key function sorting documents by (field, direction) pairs; None sorts first."""
    def key(doc):
        return tuple(_Ordered(field_value(doc, f), d) for f, d in fields)
    return key


class _Ordered:
    """Mixed-type, direction-aware comparison so sorting never raises."""
    __slots__ = ("rank", "value", "direction")

    def __init__(self, value, direction):
        # MongoDB's order of types: null, numbers, strings, objects, arrays, booleans
        if value is None:
            self.rank, self.value = 0, 0
        elif type(value) is bool:
            self.rank, self.value = 5, value
        elif isinstance(value, (int, float)):
            self.rank, self.value = 1, value
        elif isinstance(value, str):
            self.rank, self.value = 2, value
        else:  # objects and arrays by their JSON text
            self.rank = 3 if isinstance(value, dict) else 4
            self.value = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        self.direction = direction

    def __lt__(self, other):
        left, right = (self.rank, self.value), (other.rank, other.value)
        if self.rank != other.rank:
            left, right = (self.rank,), (other.rank,)
        return left < right if self.direction >= 0 else left > right

    def __eq__(self, other):
        return self.rank == other.rank and self.value == other.value
