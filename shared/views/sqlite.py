"""SQLite view store: durable documents on the embedded default.

Used for operator state that must survive a restart (relay positions, subscriber
tracking, parked events) and usable for any view. One file per service; one table per
collection; filters become SQL over the documents' JSON. Equality with text or true/false
and prefixes compare the field's JSON text as stored (`doc -> '$.field'`), which
ensure_index indexes; numbers, null and ranges compare json_extract's values.
"""
import re
import sqlite3
import threading
from contextlib import contextmanager

import orjson

from ..ledger.sqlite import make_folder, trouble
from .base import (MAX_ROWS, Collection, ViewStore, ViewStoreError, ViewStoreUnavailable,
                   check_field, check_filter, check_key, check_query, document_json, prefix_end)

_SQL_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
# MongoDB's order of types, as every store sorts (base.py); a missing field is null.
_RANK = ("CASE {kind} WHEN 'null' THEN 0 WHEN 'integer' THEN 1 WHEN 'real' THEN 1 "
         "WHEN 'text' THEN 2 WHEN 'object' THEN 3 WHEN 'array' THEN 4 ELSE 5 END")


def _path(field):
    check_field(field)
    return "key" if field == "_id" else f"json_extract(doc, '$.{field}')"


def _kind(field):
    """The JSON type at field, never NULL: json_extract alone reads true as 1 and an
    array as its JSON text, so every comparison checks the type first."""
    return f"coalesce(json_type(doc, '$.{field}'), 'null')"


def _equal(field, value, params):
    """Equality with a scalar: true is not 1, and an array or object equals no scalar."""
    if field == "_id":  # keys are text
        if not isinstance(value, str):
            return "0"
        params.append(value)
        return "key = ?"
    if value is None:
        return f"{_kind(field)} = 'null'"
    if isinstance(value, (str, bool)):
        # the value's JSON text as stored: exact (NUL and escapes included, "true" is no
        # 1 and no "true"), null-safe under NOT, and what ensure_index indexes
        params.append(_json_text(value))
        return f"{_json(field)} IS ?"
    params.append(value)
    return f"({_kind(field)} IN ('integer', 'real') AND {_path(field)} = ?)"


def _json(field):
    """The field's JSON text as the document holds it (SQL NULL when it has none)."""
    check_field(field)
    return f"(doc -> '$.{field}')"


def _json_text(text):
    """text as the store wrote it into the document's JSON (orjson, as put writes it)."""
    return orjson.dumps(text).decode()


def _range(field, op, operand, params):
    """A range compares numbers with numbers and text with text only."""
    if field == "_id" and not isinstance(operand, str):
        return "0"
    params.append(operand)
    if field == "_id":
        return f"key {_SQL_OPS[op]} ?"
    kinds = "('text')" if isinstance(operand, str) else "('integer', 'real')"
    return f"({_kind(field)} IN {kinds} AND {_path(field)} {_SQL_OPS[op]} ?)"


def _prefix(field, prefix, params):
    if field == "_id":  # a range: uses the primary key
        params.append(prefix)
        bound = prefix_end(prefix)
        if bound is None:
            return "key >= ?"
        params.append(bound)
        return "(key >= ? AND key < ?)"
    # the JSON text of every string starting with prefix starts with the prefix's own
    # (escapes are per character): a range an index serves, then the exact test
    opening = _json_text(prefix)[:-1]   # without the closing quote
    params.extend([opening, prefix_end(opening), len(opening), opening])
    return (f"({_json(field)} >= ? AND {_json(field)} < ? AND "
            f"substr({_json(field)}, 1, ?) = ?)")


def _order(field, direction):
    way = "DESC" if direction < 0 else "ASC"
    if field == "_id":
        return f"key {way}"
    return f"{_RANK.format(kind=_kind(field))} {way}, {_path(field)} {way}"


class SqliteCollection(Collection):
    def __init__(self, store, name):
        self.name, self._store = name, store
        self._table = f'"c_{name}"'
        store.execute(f"CREATE TABLE IF NOT EXISTS {self._table} "
                      "(key TEXT PRIMARY KEY, doc BLOB NOT NULL) WITHOUT ROWID")

    def get(self, key):
        check_key(key)
        rows = self._store.execute(f"SELECT doc FROM {self._table} WHERE key = ?", (key,))
        return orjson.loads(rows[0][0]) if rows else None

    def put(self, key, doc):
        self.put_many([(key, doc)])

    def put_many(self, items):
        rows = [self._row(key, doc) for key, doc in items]
        self._store.execute_many(
            f"INSERT OR REPLACE INTO {self._table} (key, doc) VALUES (?, ?)", rows)

    @staticmethod
    def _row(key, doc):
        if not isinstance(doc, dict):
            raise ViewStoreError(f"document {key!r} is not a JSON object")
        doc = {name: value for name, value in doc.items() if name != "_id"}
        doc["_id"] = key   # last, in every store
        return key, document_json(key, doc)

    def ensure_index(self, field):
        """An index on the field's JSON text, which equality and prefix filters read."""
        check_field(field)
        if field != "_id":   # the primary key
            self._store.execute(f'CREATE INDEX IF NOT EXISTS "ix_{self.name}_{field}" '
                                f"ON {self._table} {_json(field)}")

    def delete(self, key):
        check_key(key)
        self._store.execute(f"DELETE FROM {self._table} WHERE key = ?", (key,))

    def swap(self, key, change):
        check_key(key)

        def swapping(db):   # in one write transaction: no other process between
            row = db.execute(f"SELECT doc FROM {self._table} WHERE key = ?", (key,)).fetchone()
            doc = orjson.loads(row[0]) if row else None
            new = change(doc)
            if new is None or new is doc:
                return doc
            kept = self._row(key, new)
            db.execute(f"INSERT OR REPLACE INTO {self._table} (key, doc) VALUES (?, ?)", kept)
            return orjson.loads(kept[1])
        return self._store.in_transaction(swapping)

    def clear(self):
        self._store.execute(f"DELETE FROM {self._table}")

    def _where(self, filter):
        """SQL for the filter language, with the other stores' answers (base.py)."""
        check_filter(filter)
        clauses, params = [], []
        for field, condition in (filter or {}).items():
            if not isinstance(condition, dict):
                clauses.append(_equal(field, condition, params))
                continue
            for op, operand in condition.items():
                if op == "$in":
                    clauses.append("(" + " OR ".join(
                        _equal(field, value, params) for value in operand) + ")"
                        if operand else "0")
                elif op == "$prefix":
                    clauses.append(_prefix(field, operand, params))
                elif op == "$ne":
                    clauses.append(f"NOT {_equal(field, operand, params)}")
                else:
                    clauses.append(_range(field, op, operand, params))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def find(self, filter=None, sort=None, skip=0, limit=None):
        check_query(filter, sort, skip, limit)
        where, params = self._where(filter)
        order = "".join(_order(field, direction) + ", " for field, direction in sort or [])
        sql = f"SELECT doc FROM {self._table}{where} ORDER BY {order}key LIMIT ? OFFSET ?"
        params += [-1 if limit is None else min(limit, MAX_ROWS), min(skip, MAX_ROWS)]
        return [orjson.loads(row[0]) for row in self._store.execute(sql, params)]

    def count(self, filter=None):
        where, params = self._where(filter)
        return self._store.execute(f"SELECT count(*) FROM {self._table}{where}", params)[0][0]


class SqliteViewStore(ViewStore):
    def __init__(self, path, name, rebuildable=False):
        """rebuildable: read models folded from the ledgers (VIEW_URI), committed without
        waiting for the disk (synchronous=NORMAL). A power cut may take back their last
        commits, a prefix kept in order, as a kill earlier would have: they fold those
        events again (docs/decisions/0023-views-fold-again.md). Operator
        state (STATE_URI) is not derivable and waits for every commit to reach the disk."""
        super().__init__(name)
        self.path = path
        make_folder(path, f"store {name!r}", ViewStoreUnavailable)
        with self._unavailable_on_trouble():
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                       timeout=60)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'NORMAL' if rebuildable else 'FULL'}")
        self._lock = threading.Lock()

    @contextmanager
    def _unavailable_on_trouble(self):
        """SQLite's full disk, read-only file, I/O error: ViewStoreUnavailable naming the
        store (never a raw sqlite3 error, which reads as a damaged file)."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            cause = trouble(exc)
            if cause is None:
                raise
            raise ViewStoreUnavailable(f"store {self.name!r} at {self.path} is unavailable: "
                                       f"{cause} ({exc})") from None

    def execute(self, sql, params=()):
        with self._lock, self._unavailable_on_trouble():
            return self._db.execute(sql, params).fetchall()

    def execute_many(self, sql, rows):
        self.in_transaction(lambda db: db.executemany(sql, rows))

    def in_transaction(self, work):
        """work(connection) in one write transaction, taken before it reads."""
        with self._lock, self._unavailable_on_trouble():
            try:
                self._db.execute("BEGIN IMMEDIATE")
                result = work(self._db)
                self._db.execute("COMMIT")
                return result
            except BaseException:
                if self._db.in_transaction:   # a full disk has rolled it back already
                    self._db.execute("ROLLBACK")
                raise

    def check_writable(self):
        with self._lock, self._unavailable_on_trouble():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("CREATE TABLE writable_probe (x)")   # never committed
            finally:
                self._db.execute("ROLLBACK")

    def _open_collection(self, name):
        if not re.fullmatch(r"^[a-z][a-z0-9_]{0,60}$", name):
            raise ViewStoreError(f"collection name {name!r} must be lowercase letters, "
                                 "digits and _")
        return SqliteCollection(self, name)

    def close(self):
        self._db.close()
