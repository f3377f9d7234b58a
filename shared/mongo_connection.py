"""One mongoengine connection per (URI, client class), shared by ledgers and view stores."""
import hashlib
import re
import threading
from urllib.parse import unquote, urlsplit

import mongoengine
from mongoengine.connection import ConnectionFailure, get_connection

_LOCK = threading.Lock()


def redacted(uri):
    return re.sub(r"//[^@/]*@", "//***@", uri)


def database_name(uri):
    """The database in the URI path, or "" when there is none (callers name the problem)."""
    return unquote(urlsplit(uri).path.lstrip("/"))


def connect(uri, mongo_client_class=None):
    """The mongoengine alias for this URI and client class, connected once per process."""
    kind = "pymongo" if mongo_client_class is None else (
        f"{mongo_client_class.__module__}.{mongo_client_class.__qualname__}")
    # Hashed: the URI may hold a password, and aliases show up in logs and errors.
    alias = "plpbk_mongo_" + hashlib.sha256(f"{uri}\0{kind}".encode()).hexdigest()[:16]
    with _LOCK:
        try:
            get_connection(alias)
        except ConnectionFailure:  # not registered yet
            options = {} if mongo_client_class is None else {
                "mongo_client_class": mongo_client_class}
            mongoengine.connect(db=database_name(uri), host=uri, alias=alias, **options)
    return alias
