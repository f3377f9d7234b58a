"""What only the MongoDB view store has to prove: a server that is away is an outage.

A real pymongo client pointed at a port where no server listens (no MongoDB server can
be installed here, and none is needed to see the driver give up).
"""
import pytest

from shared.views import open_view_store
from shared.views.base import ViewStoreUnavailable

AWAY = "mongodb://127.0.0.1:9/plpbk_views?serverSelectionTimeoutMS=100"


@pytest.fixture
def things():
    store = open_view_store(AWAY, "svc")
    yield store.collection("things")
    store.close()


@pytest.mark.parametrize("operation", [
    lambda c: c.get("a"), lambda c: c.put("a", {"n": 1}),
    lambda c: c.put_many([("a", {}), ("b", {})]), lambda c: c.delete("a"),
    lambda c: c.find({"n": 1}), lambda c: c.count(), lambda c: c.clear(),
    lambda c: c.ensure_index("n"), lambda c: c.update("a", lambda doc: None),
])
def test_a_server_that_is_away_is_an_outage_naming_the_store(things, operation):
    """An outage (retried, never parked; a 503 to a caller), as SQLite's full disk is:
    pymongo's own error would park every event a projection met and answer 500."""
    with pytest.raises(ViewStoreUnavailable, match=r"store 'svc'.*things"):
        operation(things)


def test_a_server_that_is_away_is_said_before_a_service_starts():
    store = open_view_store(AWAY, "svc")
    with pytest.raises(ViewStoreUnavailable, match="store 'svc'"):
        store.check_writable()
    store.close()


def test_a_reachable_store_passes_the_start_check():
    import mongomock
    store = open_view_store("mongodb://localhost/plpbk_views_ping", "svc",
                            mongo_client_class=mongomock.MongoClient)
    store.check_writable()
    store.close()
