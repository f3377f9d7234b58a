"""Each metric the platform promises moves on the path it describes: a version conflict
counts a conflict, a failing handler counts its failed attempts and then sets the parked
gauge, and the relay's lag is what RabbitMQ has not yet confirmed. Values are read from
the process registry, which is what every /metrics page renders."""
import os
import subprocess
import sys

import pytest
from prometheus_client import REGISTRY

from shared.chassis import commands
from shared.chassis.commands import Decider
from shared.ledger import Actor, AppendRequest, ConcurrencyError, Metadata, NewEvent, open_ledger
from shared.messaging.relay import Relay
from shared.messaging.subscription import Subscription
from shared.views import open_view_store

META = Metadata(Actor("tester", "system"), "corr-metric-paths")
UNREACHABLE_AMQP = "amqp://guest:guest@127.0.0.1:1/"   # nothing listens on port 1


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def tick(ledger, count):
    ledger.append_batch([AppendRequest(f"ticker-{n}", 0, [NewEvent("Ticked", {"n": n})], META)
                         for n in range(count)])


def test_a_stale_append_and_a_raced_command_count_conflicts(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path}", "conflicted")
    ledger.append("stream-1", 0, [NewEvent("Noted", {})], META)
    before = value("plpbk_ledger_conflicts_total", ledger="conflicted")
    with pytest.raises(ConcurrencyError):
        ledger.append("stream-1", 0, [NewEvent("Noted", {})], META)
    assert value("plpbk_ledger_conflicts_total", ledger="conflicted") == before + 1

    raced = []   # another writer appends while this command decides, once

    def decide(state, command):
        if not raced:
            raced.append(ledger.append("stream-1", ledger.stream_version("stream-1"),
                                       [NewEvent("Noted", {})], META))
        return [NewEvent("Noted", {})]
    noting = Decider(initial=lambda: None, evolve=lambda state, record: state, decide=decide)
    commands.execute(ledger, noting, "stream-1", {}, META)   # retried, then recorded
    assert value("plpbk_ledger_conflicts_total", ledger="conflicted") == before + 2
    assert ledger.stream_version("stream-1") == 3


def failing_subscription(tmp_path, producer):
    state = open_view_store(f"sqlite:///{tmp_path}/state", "consumer")

    def refuse(record):
        raise RuntimeError(f"cannot apply #{record.position}")
    return Subscription("consumer.refuser", producer, {"Ticked": refuse},
                        state.collection("tracking"), state.collection("parked"),
                        retries=2, backoff=0)


def test_a_failing_handler_counts_each_attempt_then_sets_parked(tmp_path):
    producer = open_ledger(f"sqlite:///{tmp_path}", "producer")
    tick(producer, 2)
    labels = {"subscriber": "consumer.refuser", "source": "producer"}
    before = value("plpbk_subscriber_handler_failures_total", **labels)
    subscription = failing_subscription(tmp_path, producer)
    subscription.catch_up()
    assert value("plpbk_subscriber_handler_failures_total", **labels) == before + 6
    assert value("plpbk_parked_events", subscriber="consumer.refuser") == 2
    subscription.replay_parked()   # fails again: still parked
    assert value("plpbk_parked_events", subscriber="consumer.refuser") == 2


def test_a_restarted_service_reports_the_events_still_parked(tmp_path):
    producer = open_ledger(f"sqlite:///{tmp_path}", "producer")
    tick(producer, 2)
    failing_subscription(tmp_path, producer).catch_up()
    restarted = subprocess.run(   # a new process on the same state, nothing new to apply
        [sys.executable, "-c", (
            "import pathlib, sys\n"
            "from prometheus_client import REGISTRY\n"
            "from shared.ledger import open_ledger\n"
            "from tests.integration.test_metric_paths import failing_subscription\n"
            "path = pathlib.Path(sys.argv[1])\n"
            "failing_subscription(path, open_ledger(f'sqlite:///{path}', 'producer'))"
            ".catch_up()\n"
            "print(REGISTRY.get_sample_value('plpbk_parked_events',"
            " {'subscriber': 'consumer.refuser'}))"), str(tmp_path)],
        capture_output=True, text=True, timeout=60, env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert restarted.stdout.strip() == "2.0", restarted.stderr


def test_relay_lag_is_what_rabbitmq_has_not_confirmed(tmp_path, rabbit_config):
    ledger = open_ledger(f"sqlite:///{tmp_path}", "relayed")
    tick(ledger, 30)
    state = open_view_store(f"sqlite:///{tmp_path}/state", "relayed")
    relay = Relay(ledger, rabbit_config["AMQP_URI"], state, batch_size=10)
    seen = []
    relay.publish_pending(on_batch=lambda records: seen.append(
        value("plpbk_relay_lag_events", ledger="relayed")))
    assert seen[1:] == [20, 10]   # after the first and second batch were confirmed
    assert value("plpbk_relay_lag_events", ledger="relayed") == 0
    relay.close()


def test_relay_lag_grows_while_rabbitmq_cannot_be_reached(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path}", "unrelayed")
    tick(ledger, 5)
    relay = Relay(ledger, UNREACHABLE_AMQP, open_view_store(f"sqlite:///{tmp_path}/s", "u"))
    with pytest.raises(Exception):
        relay.publish_pending()
    assert value("plpbk_relay_lag_events", ledger="unrelayed") == 5
