"""Backends the one ledger contract suite runs against.

sqlite: a file in tmp_path. mongomock: the MongoDB adapter on mongomock (no MongoDB
server can be installed on the development machines). mongodb: a real server, only
when MONGO_URI is set (e.g. MONGO_URI=mongodb://localhost:27017).
"""
import os
import uuid

import pytest

from shared.ledger import open_ledger
from tests.contract.real_mongo import real_server_uri

BACKENDS = ["sqlite", "mongomock"] + (["mongodb"] if os.environ.get("MONGO_URI") else [])


def store_uri(backend, tmp_path):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/ledgers", {}
    database = f"plpbk_test_{uuid.uuid4().hex[:12]}"
    if backend == "mongomock":
        import mongomock
        return f"mongodb://localhost/{database}", {"mongo_client_class": mongomock.MongoClient}
    return real_server_uri(database), {}


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def open_store(backend, tmp_path):
    """open_store(name, **kw) -> a Ledger on this test's backend; all closed at the end."""
    uri, options = store_uri(backend, tmp_path)
    opened = []

    def open_(name="test", **kwargs):
        ledger = open_ledger(uri, name, **options, **kwargs)
        opened.append(ledger)
        return ledger

    open_.uri, open_.options, open_.backend = uri, options, backend
    yield open_
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(open_store):
    return open_store("test")
