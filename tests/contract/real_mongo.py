"""The real MongoDB server of MONGO_URI (when set), one fresh database per test."""
import os
from urllib.parse import urlsplit, urlunsplit


def with_database(uri, database):
    """uri with its path set to /database, its options kept (?replicaSet=rs0 ...)."""
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path=f"/{database}"))


def real_server_uri(database):
    return with_database(os.environ["MONGO_URI"], database)
