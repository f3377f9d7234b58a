"""One relay publishes a ledger at a time, on the real RabbitMQ: a second relay on the
same ledger (a second instance of a service, or `plpbk relay` started beside it) stands
by instead of publishing every event again, and takes over when the first goes away."""
import threading

import pytest

from shared.ledger import open_ledger
from shared.messaging.relay import Relay, RelayStandby
from shared.views import open_view_store

from .conftest import wait_for
from .test_messaging import tick


@pytest.fixture
def relays(platform_config):
    """Two relays of the producer ledger, each with its own ledger, state and connection,
    as two processes would have them."""
    made = []

    def make():
        relay = Relay(open_ledger(platform_config["STORE_URI"], "producer"),
                      platform_config["AMQP_URI"],
                      open_view_store(platform_config["STATE_URI"], "producer"))
        made.append(relay)
        return relay

    yield make
    for relay in made:
        relay.close()
        relay.ledger.close()


def test_a_second_relay_stands_by_and_takes_over_when_the_first_closes(relays, tap):
    first, second = relays(), relays()
    tick(first.ledger, 30)
    assert first.publish_pending() == 30
    tick(first.ledger, 20)
    with pytest.raises(RelayStandby, match="another relay is publishing ledger 'producer'"):
        second.publish_pending()
    assert first.publish_pending() == 20
    first.close()                                   # the lease goes with its connection
    tick(second.ledger, 10)
    assert second.publish_pending() == 10
    assert tap() == list(range(1, 61))               # each event once, in order


def test_two_running_relays_publish_each_event_once(relays, tap):
    leader, standby = relays(), relays()
    runners = [threading.Thread(target=relay.run, kwargs={"retry_interval": 0.1})
               for relay in (leader, standby)]
    for runner in runners:
        runner.start()
    try:
        tick(leader.ledger, 300)
        wait_for(lambda: len(tap()) >= 300, what="the 300 events to be published")
        leader.stop()
        runners[0].join(10)
        tick(standby.ledger, 200)
        wait_for(lambda: len(tap()) >= 500, what="the standby to publish the next 200")
    finally:
        for relay in (leader, standby):
            relay.stop()
        for runner in runners:
            runner.join(10)
    assert tap() == list(range(1, 501))
