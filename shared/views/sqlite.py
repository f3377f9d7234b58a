"""SQLite view store: durable documents on the embedded default.

Used for operator state that must survive a restart (relay positions, subscriber
tracking, parked events) and usable for any view. One file per service; one table per
collection; filters become SQL over json_extract.
"""
import os
import re
import sqlite3
import threading

import orjson

from .base import Collection, ViewStore, ViewStoreError, check_field, check_filter, check_query

_SQL_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<=", "$ne": "IS NOT"}
def _path(field):
    check_field(field)
    return "key" if field == "_id" else f"json_extract(doc, '$.{field}')"


def _param(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        raise ViewStoreError("filters compare scalar values only")
    return value


def _equal(field, column, value, params):
    if value is None:
        return f"{column} IS NULL"
    params.append(_param(value))
    if isinstance(value, str) and value[:1] in ("{", "[") and column != "key":
        # json_extract gives an object or array as its JSON text: not equal to a string
        return f"(json_type(doc, '$.{field}') = 'text' AND {column} = ?)"
    return f"{column} IS ?"


def _same_kind(column, operand):
    """A range compares numbers with numbers and text with text only."""
    if isinstance(operand, str):
        return f"typeof({column}) = 'text' AND "
    if isinstance(operand, (int, float)) and not isinstance(operand, bool):
        return f"typeof({column}) IN ('integer', 'real') AND "
    return ""


class SqliteCollection(Collection):
    def __init__(self, store, name):
        self.name, self._store = name, store
        self._table = f'"c_{name}"'
        store.execute(f"CREATE TABLE IF NOT EXISTS {self._table} "
                      "(key TEXT PRIMARY KEY, doc BLOB NOT NULL) WITHOUT ROWID")

    def get(self, key):
        rows = self._store.execute(f"SELECT doc FROM {self._table} WHERE key = ?", (key,))
        return orjson.loads(rows[0][0]) if rows else None

    def put(self, key, doc):
        self.put_many([(key, doc)])

    def put_many(self, items):
        rows = []
        for key, doc in items:
            try:
                rows.append((key, orjson.dumps({**doc, "_id": key})))
            except TypeError as exc:
                raise ViewStoreError(f"document {key!r} is not JSON: {exc}") from None
        self._store.execute_many(
            f"INSERT OR REPLACE INTO {self._table} (key, doc) VALUES (?, ?)", rows)

    def delete(self, key):
        self._store.execute(f"DELETE FROM {self._table} WHERE key = ?", (key,))

    def clear(self):
        self._store.execute(f"DELETE FROM {self._table}")

    def _where(self, filter):
        """SQL for the filter language, with the memory store's answers: values of
        another type never compare (SQLite would order numbers before text), and a
        missing field is null."""
        check_filter(filter)
        clauses, params = [], []
        for field, condition in (filter or {}).items():
            column = _path(field)
            if not isinstance(condition, dict):
                clauses.append(_equal(field, column, condition, params))
                continue
            for op, operand in condition.items():
                if op == "$in":
                    clauses.append("(" + " OR ".join(
                        _equal(field, column, value, params) for value in operand) + ")"
                        if operand else "0")
                elif op == "$prefix" and column == "key":  # a range: uses the primary key
                    clauses.append("key >= ? AND key < ?")
                    params.extend([operand, operand + "\U0010ffff"])
                elif op == "$prefix":
                    clauses.append(f"typeof({column}) = 'text' AND substr({column}, 1, ?) = ?")
                    params.extend([len(operand), operand])
                elif op == "$ne":
                    clauses.append(f"{column} IS NOT ?")
                    params.append(_param(operand))
                else:
                    clauses.append(f"{_same_kind(column, operand)}{column} {_SQL_OPS[op]} ?")
                    params.append(_param(operand))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def find(self, filter=None, sort=None, skip=0, limit=None):
        check_query(filter, sort, skip, limit)
        where, params = self._where(filter)
        order = ", ".join(f"{_path(f)} {'DESC' if d < 0 else 'ASC'}" for f, d in sort or [])
        sql = f"SELECT doc FROM {self._table}{where} ORDER BY {order + ', ' if order else ''}key"
        sql += " LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, skip]
        return [orjson.loads(row[0]) for row in self._store.execute(sql, params)]

    def count(self, filter=None):
        where, params = self._where(filter)
        return self._store.execute(f"SELECT count(*) FROM {self._table}{where}", params)[0][0]


class SqliteViewStore(ViewStore):
    def __init__(self, path, name):
        super().__init__(name)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                   timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()

    def execute(self, sql, params=()):
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def execute_many(self, sql, rows):
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(sql, rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _open_collection(self, name):
        if not re.fullmatch(r"^[a-z][a-z0-9_]{0,60}$", name):
            raise ViewStoreError(f"collection name {name!r} must be lowercase letters, "
                                 "digits and _")
        return SqliteCollection(self, name)

    def close(self):
        self._db.close()
