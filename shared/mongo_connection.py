"""One mongoengine connection per (URI, client class), shared by ledgers and view stores."""
import hashlib
import re
import threading
from urllib.parse import unquote, urlsplit

import mongoengine
from mongoengine.connection import ConnectionFailure, get_connection
from pymongo.errors import OperationFailure
from pymongo.write_concern import WriteConcern

_LOCK = threading.Lock()
# How long a write that must survive a failover (a ledger record, an attachment) waits
# for a majority before it fails as "may or may not be written"; a wtimeoutMS in the URI
# wins. Without a bound it waits for ever where no majority can answer (a secondary down
# beside an arbiter): decision 18.
MAJORITY_WAIT_MS = 10_000


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


def majority(write_concern):
    """w: "majority", j: true, waiting at most the wtimeout write_concern has (the URI's
    wtimeoutMS) or MAJORITY_WAIT_MS."""
    wait = write_concern.document.get("wtimeout") or MAJORITY_WAIT_MS
    return WriteConcern(w="majority", j=True, wtimeout=wait)


def may(database, collection, action) -> bool:
    """Whether the connection's users hold action on database.collection, as the server
    says. A server without access control, or one that cannot say (no connectionStatus),
    is taken at its word: the first write tells."""
    try:
        status = database.command("connectionStatus", showPrivileges=True)
    except (OperationFailure, NotImplementedError):
        return True
    info = status.get("authInfo", {})
    if not info.get("authenticatedUsers"):
        return True
    return any((action in p.get("actions", ()) or "anyAction" in p.get("actions", ()))
               and _covers(p.get("resource", {}), database.name, collection)
               for p in info.get("authenticatedUserPrivileges", ()))


def _covers(resource, database, collection):
    """A privilege's resource names this collection: anyResource, or db and collection
    each the same or "" (every one); a cluster resource names no collection."""
    if resource.get("anyResource"):
        return True
    return ("db" in resource and resource["db"] in ("", database)
            and resource.get("collection") in ("", collection))
