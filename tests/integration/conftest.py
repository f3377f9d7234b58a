"""Integration tests run against the real RabbitMQ (nameko's rabbit_config gives each test
its own virtual host) with SQLite ledgers in a temporary folder."""
import time

import kombu
import pytest

from services.gateway.event_payloads import CATALOGS
from shared.ledger import Metadata, NewEvent, open_ledger
from shared.messaging.relay import Relay, exchange_name
from shared.views import open_view_store

from .log_capture import captured


@pytest.fixture
def platform_config(rabbit_config, tmp_path):
    return {**rabbit_config,
            "STORE_URI": f"sqlite:///{tmp_path}/ledgers",
            "STATE_URI": f"sqlite:///{tmp_path}/state",
            "VIEW_URI": "memory://",
            "CATCH_UP_INTERVAL": 3600,  # only doorbells and start-up, unless a test says so
            "WEB_SERVER_ADDRESS": "127.0.0.1:0"}


def wait_for(condition, timeout=30.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# Another service's events, for a service that reacts to them: recorded in that service's
# ledger and published as its relay would, when its own commands are slow to reach them
# (docs/services.md, "Adding a service").

def record(config, ledger_name, stream_id, event_type, payload, metadata=Metadata(),
           foreign=False):
    """Append one event to a service's ledger (at the end of its stream); the record.
    Its payload must be one that service's catalog describes (CATALOGS), as the service
    would record it: a consumer is tested on what its producer records. foreign=True
    skips that, for a test of a consumer given what today's producer cannot record (a
    kind a later version adds, a malformed record)."""
    event = NewEvent(event_type, payload)
    if ledger_name in CATALOGS and not foreign:
        CATALOGS[ledger_name].check(event)
    ledger = open_ledger(config["STORE_URI"], ledger_name)
    try:
        version = len(ledger.read_stream(stream_id))
        result = ledger.append(stream_id, version, [event], metadata)
        return ledger.read(result.first_position - 1, limit=1)[0]
    finally:
        ledger.close()


def publish(config, ledger_name, from_position=None):
    """Publish a ledger's records to RabbitMQ as its service's relay would (again from a
    position, to redeliver: as a relay that crashed before saving its position sends
    them again, even while another holds the ledger's lease). The number published."""
    state = open_view_store(config["STATE_URI"], ledger_name)
    ledger = open_ledger(config["STORE_URI"], ledger_name)
    relay = Relay(ledger, config["AMQP_URI"], state)
    try:
        if from_position is not None:
            relay._take_lease = lambda channel: None
            state.collection("relay_positions").put(ledger_name, {"position": from_position})
        return relay.publish_pending()
    finally:
        relay.close()
        ledger.close()
        state.close()


@pytest.fixture
def json_logs():
    """lines() -> the JSON log lines written so far (INFO and above), as dicts."""
    with captured("INFO") as lines:
        yield lines


@pytest.fixture
def debug_json_logs():
    with captured("DEBUG") as lines:
        yield lines


@pytest.fixture
def tap(platform_config):
    """A plain queue bound to every producer event: what the relay really published."""
    connection = kombu.Connection(platform_config["AMQP_URI"])
    exchange = kombu.Exchange(exchange_name("producer"), "topic", durable=True)
    queue = kombu.Queue("test-tap", exchange, routing_key="#", durable=False)
    queue(connection.default_channel).declare()
    seen = []

    def drain():
        while (message := queue(connection.default_channel).get(no_ack=True)) is not None:
            seen.append(message.payload["position"])
        return seen

    yield drain
    connection.release()


def race(*calls):
    """Send every (service proxy, method, args) before awaiting any answer: each call's
    answer, or the refusal (CommandRejected) it raised, in the order given."""
    return answers([getattr(service, method).call_async(*args)
                    for service, method, args in calls])


def answers(replies):
    """Each awaited RPC reply's answer, or the refusal it raised, in order."""
    from shared.chassis.errors import CommandRejected
    outcomes = []
    for reply in replies:
        try:
            outcomes.append(reply.result())
        except CommandRejected as refused:
            outcomes.append(refused)
    return outcomes
