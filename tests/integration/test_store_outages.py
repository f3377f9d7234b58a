"""Stores that stop taking writes (a full disk, a read-only file) while the platform runs:
a request gets a 503 naming the store, never a 500; a subscription or the relay does
not move past what it could not record, parks nothing for it, and after the store is
back applies each event once in effect.

A full ledger is SQLite's own size limit on the writer connection (SQLITE_FULL); a
state store that refuses writes is SQLite's query_only (SQLITE_READONLY, what a
write-protected file gives)."""
from types import SimpleNamespace

import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from shared.chassis.entrypoints import OperatorEntrypoints
from shared.chassis.errors import EXPECTED, StoreUnavailable
from shared.chassis.platform import Platform, ServiceContext
from shared.ledger import LedgerUnavailable, open_ledger
from shared.ledger.verify import verify_ledger
from shared.messaging.relay import Relay
from shared.messaging.subscription import Subscription
from shared.views import open_view_store
from shared.views.base import ViewStoreUnavailable

from .test_messaging import OPERATOR, tick
from .ticking import TOCKS, TockOnTick

FULL, SPACE = "PRAGMA max_page_count = {pages}", "PRAGMA max_page_count = 1073741823"


def fill(ledger):
    pages = ledger._writer.execute("PRAGMA page_count").fetchone()[0]
    ledger._writer.execute(FULL.format(pages=pages))


class Tocker(OperatorEntrypoints):
    name = "tocker"
    platform = Platform()

    @rpc(expected_exceptions=EXPECTED)
    def tock(self, n):
        result = self.platform.execute(TOCKS, f"tock-{n}", {"tick": n * 1000 * "x"},
                                       self.platform.metadata).result
        return result.first_position


def test_a_request_on_a_full_ledger_is_a_503_naming_the_ledger(container_factory,
                                                               platform_config):
    container = container_factory(Tocker, platform_config)
    container.start()
    (platform,) = [ext for ext in container.extensions if isinstance(ext, Platform)]
    with ServiceRpcProxy("tocker", platform_config,
                         context_data={"actor": OPERATOR}) as tocker:
        assert tocker.tock(1) == 1
        fill(platform.ledger)
        with pytest.raises(StoreUnavailable) as refused:   # was RemoteError: a 502
            tocker.tock(8)
        assert refused.value.status == 503
        assert "ledger 'tocker'" in str(refused.value) and "disk is full" in str(refused.value)
        platform.ledger._writer.execute(SPACE)
        assert tocker.tock(8) == 2   # recorded now, at the next position
    assert verify_ledger(platform.ledger).ok


@pytest.fixture
def reaction(tmp_path):
    """TockOnTick reading a producer with 5 Ticked, its tracking and parking durable."""
    producer = open_ledger(f"sqlite:///{tmp_path}/ledgers", "producer")
    tick(producer, 5)
    consumer = open_ledger(f"sqlite:///{tmp_path}/ledgers", "consumer")
    state = open_view_store(f"sqlite:///{tmp_path}/state", "consumer")
    platform = SimpleNamespace(service_name="consumer", views=state, ledger=consumer,
                               appended=lambda: None)
    subscriber = TockOnTick(ServiceContext(platform))
    subscription = Subscription("consumer.tock_on_tick", producer, subscriber.handlers(),
                                state.collection("tracking"), state.collection("parked"),
                                retries=1, backoff=0, batch_handler=subscriber.handle_batch)
    yield subscription, consumer, state
    for store in (producer, consumer, state):
        store.close()


def tocks(consumer):
    return sorted(r.payload["tick"] for r in consumer.iter_records())


def test_a_reaction_whose_ledger_refuses_writes_parks_nothing_and_resumes(reaction):
    """The event did nothing wrong: parking it would leave it to an operator's replay."""
    subscription, consumer, _state = reaction
    consumer._writer.execute("PRAGMA query_only = 1")
    with pytest.raises(LedgerUnavailable, match="ledger 'consumer'.*read-only"):
        subscription.catch_up()
    assert list(subscription.parked_events()) == []   # was: all 5 parked, position 5
    assert subscription.position == 0
    consumer._writer.execute("PRAGMA query_only = 0")
    assert subscription.catch_up() == 5
    assert tocks(consumer) == [1, 2, 3, 4, 5] and subscription.position == 5


def test_a_reaction_whose_state_store_refuses_writes_does_not_advance(reaction):
    subscription, consumer, state = reaction
    subscription.tracking.get("warm")   # the tracking table exists
    state._db.execute("PRAGMA query_only = 1")
    with pytest.raises(ViewStoreUnavailable, match="store 'consumer'.*read-only"):
        subscription.catch_up()
    assert subscription.position == 0
    assert tocks(consumer) == [1, 2, 3, 4, 5]   # recorded before the position could be
    state._db.execute("PRAGMA query_only = 0")
    assert subscription.catch_up() == 5         # runs again: its idempotency keys hold
    assert tocks(consumer) == [1, 2, 3, 4, 5] and subscription.position == 5


def test_the_relay_does_not_save_past_a_state_store_that_refuses_writes(platform_config):
    producer = open_ledger(platform_config["STORE_URI"], "producer")
    tick(producer, 30)
    state = open_view_store(platform_config["STATE_URI"], "producer")
    relay = Relay(producer, platform_config["AMQP_URI"], state, batch_size=10)
    try:
        assert relay.published_position() == 0
        state._db.execute("PRAGMA query_only = 1")
        with pytest.raises(ViewStoreUnavailable, match="store 'producer'.*read-only"):
            relay.publish_pending()
        assert relay.published_position() == 0
        state._db.execute("PRAGMA query_only = 0")
        relay.publish_pending()   # resends from 1: consumers drop what they applied
        assert relay.published_position() == 30
    finally:
        relay.close()
