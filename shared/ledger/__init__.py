"""The append-only, hash-chained event ledger.

open_ledger(store_uri, name) picks the adapter by URI scheme:
  sqlite:///var/ledgers      -> one SQLite file per ledger: var/ledgers/<name>.db
  mongodb://host/plpbk_ledger -> one MongoDB collection per ledger in that database
"""
import re

from .base import LEDGER_NAME_PATTERN, Ledger
from .envelope import (Actor, AppendRequest, AppendResult, Head, Metadata, NewEvent, Record,
                       SYSTEM)
from .errors import (AppendOnlyViolation, ConcurrencyError, InvalidEvent, LedgerDamaged,
                     LedgerError, LedgerUnavailable)
from .upcasting import UpcasterRegistry

__all__ = ["Actor", "AppendOnlyViolation", "AppendRequest", "AppendResult",
           "ConcurrencyError", "Head", "InvalidEvent", "Ledger", "LedgerDamaged", "LedgerError",
           "LedgerUnavailable", "Metadata", "NewEvent", "Record", "SYSTEM",
           "UpcasterRegistry", "open_ledger", "ledger_names"]


def open_ledger(store_uri: str, name: str, upcasters=None, **options) -> Ledger:
    check_ledger_name(name)
    if store_uri.startswith("sqlite:///"):
        from .sqlite import SqliteLedger
        return SqliteLedger(sqlite_path(store_uri, name), name, upcasters, **options)
    if store_uri.startswith(("mongodb://", "mongodb+srv://")):
        from .mongo import MongoLedger
        return MongoLedger(store_uri, name, upcasters, **options)
    raise LedgerUnavailable(
        f"STORE_URI {store_uri!r}: expected sqlite:///<folder> or mongodb://<host>/<database>")


def check_ledger_name(name):
    if not re.fullmatch(LEDGER_NAME_PATTERN, name or ""):
        raise LedgerUnavailable(f"ledger name {name!r} must match {LEDGER_NAME_PATTERN}")


def sqlite_path(store_uri: str, name: str) -> str:
    return f"{store_uri[len('sqlite:///'):].rstrip('/') or '.'}/{name}.db"


def ledger_names(store_uri: str, **options) -> list:
    """Names of the ledgers that exist at a store location (options: as open_ledger's).
    SQLite: every <name>.db entry, also one that is no ledger file (damaged, a folder):
    opening it raises LedgerDamaged, so that the one who lists all names it."""
    if store_uri.startswith("sqlite:///"):
        import os
        folder = store_uri[len("sqlite:///"):] or "."
        if not os.path.isdir(folder):
            return []
        return sorted(entry[:-3] for entry in os.listdir(folder)
                      if entry.endswith(".db") and re.fullmatch(LEDGER_NAME_PATTERN, entry[:-3]))
    if store_uri.startswith(("mongodb://", "mongodb+srv://")):
        from .mongo import mongo_ledger_names
        return mongo_ledger_names(store_uri, **options)
    raise LedgerUnavailable(
        f"STORE_URI {store_uri!r}: expected sqlite:///<folder> or mongodb://<host>/<database>")
