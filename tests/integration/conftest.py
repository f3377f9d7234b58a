"""Integration tests run against the real RabbitMQ (nameko's rabbit_config gives each test
its own virtual host) with SQLite ledgers in a temporary folder."""
import time

import kombu
import pytest

from shared.messaging.relay import exchange_name

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
