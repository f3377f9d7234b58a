"""View stores: where read models and operator state live.

open_view_store(uri, name) picks the implementation by URI:
  memory://                     in-process (the embedded default for read models)
  sqlite:///var/state           durable, one SQLite file per service: var/state/<name>.db
  mongodb://host/plpbk_views    MongoDB through mongoengine, collections <name>_<collection>
"""
from .base import Collection, ViewStore, ViewStoreError

__all__ = ["Collection", "ViewStore", "ViewStoreError", "open_view_store", "store_names"]


def open_view_store(uri: str, name: str, rebuildable=False, **options) -> ViewStore:
    """rebuildable: the store holds read models only (VIEW_URI), which a service folds
    again from the ledgers, so SQLite need not wait for the disk on each commit."""
    if uri.startswith("memory://"):
        from .memory import MemoryViewStore
        return MemoryViewStore(name)
    if uri.startswith("sqlite:///"):
        from .sqlite import SqliteViewStore
        folder = uri[len("sqlite:///"):].rstrip("/") or "."
        return SqliteViewStore(f"{folder}/{name}.db", name, rebuildable)
    if uri.startswith(("mongodb://", "mongodb+srv://")):
        from .mongo import MongoViewStore
        return MongoViewStore(uri, name, **options)
    raise ViewStoreError(
        f"view store URI {uri!r}: expected memory://, sqlite:///<folder> or mongodb://...")


def store_names(uri: str) -> list:
    """Services that have a store at this URI (memory stores exist only in-process)."""
    if uri.startswith("sqlite:///"):
        import os
        folder = uri[len("sqlite:///"):].rstrip("/") or "."
        return sorted(entry[:-3] for entry in os.listdir(folder)
                      if entry.endswith(".db")) if os.path.isdir(folder) else []
    if uri.startswith(("mongodb://", "mongodb+srv://")):
        from .mongo import mongo_store_names
        return mongo_store_names(uri)
    if uri.startswith("memory://"):
        return []
    raise ViewStoreError(
        f"view store URI {uri!r}: expected memory://, sqlite:///<folder> or mongodb://...")
