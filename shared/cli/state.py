"""Operator state (--state) as commands see it: never a ledger, and read without writing.
Durable read models (--views of plpbk rebuild) are held to the same rule.

Opening a SQLite view store creates the tables it is asked for and switches the file to
WAL. `plpbk parked --state sqlite:///var/ledgers` (--state where --store was meant) thus
wrote a table into every ledger file, and `relay`/`users` would keep their state there.
"""
import os
import sqlite3
import urllib.parse

from .common import fail

LEDGER_TABLES = {"records", "commits"}   # docs/ledger-format.md, section 4


def _sqlite_file(state_uri, name):
    if not state_uri.startswith("sqlite:///"):
        return None
    return f"{state_uri[len('sqlite:///'):].rstrip('/') or '.'}/{name}.db"


def sqlite_tables(path):
    """The tables of a SQLite file, read without writing a byte of it."""
    db = sqlite3.connect(f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro", uri=True)
    try:
        return {row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()


def _folder(uri):
    return os.path.realpath(uri[len("sqlite:///"):] or ".") if uri.startswith("sqlite:///") \
        else None


def refuse_ledgers(state_uri, names, store_uri=None, option="--state",
                   what=("operator state", "state")):
    """Exit 2 when the state of any of these services would be kept in a ledger file:
    one that is there, or one the command is about to create (--store is the folder).
    option and what (its content, and that in short) word it for --views too."""
    if store_uri and _folder(store_uri) and _folder(store_uri) == _folder(state_uri):
        fail(f"{option} {state_uri} is the --store folder: {what[1]} and ledgers live in "
             "different folders")
    for name in names:
        path = _sqlite_file(state_uri, name)
        if path and os.path.isfile(path) and LEDGER_TABLES <= sqlite_tables(path):
            fail(f"{option} {state_uri}: {path} is a ledger, not {what[0]}; {what[1]} and "
                 "ledgers live in different folders (was --store meant?)")


def holds_collection(state_uri, name, collection):
    """Whether service NAME keeps COLLECTION at STATE_URI, found without creating it."""
    path = _sqlite_file(state_uri, name)
    return path is None or f"c_{collection}" in sqlite_tables(path)
