"""The messaging guarantees, end to end on the real RabbitMQ: nothing lost, nothing
applied twice, failures parked where an operator sees them."""
import logging
import os
import shutil
import sqlite3
import subprocess
import sys

import eventlet
import kombu
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from shared.chassis.errors import Forbidden
from shared.ledger import Actor, AppendRequest, Metadata, NewEvent, open_ledger
from shared.messaging.relay import PublishFailed, Relay, exchange_name
from shared.views import open_view_store

from .conftest import wait_for
from .log_capture import captured
from .ticking import FAILING, TIMING_OUT, Consumer

META = Metadata(Actor("tester", "system"), "corr-int")
OPERATOR = {"id": "operator:ani", "role": "ministry", "region": ""}
HERE = os.path.dirname(__file__)


def tick(ledger, count):
    start = ledger.head().position
    ledger.append_batch([AppendRequest(f"ticker-{start + n}", 0,
                                       [NewEvent("Ticked", {"n": start + n})], META)
                         for n in range(count)])


def run_relay(config, crash_after=0, batch_size=100):
    return subprocess.run(
        [sys.executable, os.path.join(HERE, "relay_process.py"), config["STORE_URI"],
         config["STATE_URI"], config["AMQP_URI"], "producer", str(batch_size),
         str(crash_after), "1"], env=dict(os.environ, PYTHONPATH=os.getcwd()), timeout=60)


def applied(config):
    with ServiceRpcProxy("consumer", config) as consumer:
        return {int(position): times for position, times in consumer.applied().items()}


def tocks(config):
    ledger = open_ledger(config["STORE_URI"], "consumer")
    try:
        return [r for r in ledger.iter_records() if r.type == "Tocked"]
    finally:
        ledger.close()


def test_relay_killed_between_publish_and_save_loses_nothing_and_applies_once(
        container_factory, platform_config, tap):
    producer = open_ledger(platform_config["STORE_URI"], "producer")
    container = container_factory(Consumer, platform_config)
    container.start()

    tick(producer, 250)
    # dies once batch 2 is confirmed; batch 3 (201-250) was already in flight too
    assert run_relay(platform_config, crash_after=2).returncode == 9
    tick(producer, 50)  # recorded while the relay is down
    assert run_relay(platform_config).returncode == 0  # resumes from 100, re-sends 101-200

    published = wait_for(lambda: len(tap()) >= 400 and tap(), what="all publications")
    assert sorted(set(published)) == list(range(1, 301)), "an event never reached RabbitMQ"
    assert published.count(150) == 2, "the batch in flight at the crash was re-sent"

    wait_for(lambda: len(applied(platform_config)) == 300, what="300 applied")
    assert set(applied(platform_config).values()) == {1}
    recorded = tocks(platform_config)
    assert sorted(r.payload["tick"] for r in recorded) == list(range(1, 301))
    assert all(r.causation_id and r.actor["role"] == "system" for r in recorded)


def test_batches_after_a_refused_message_are_not_saved_as_published(platform_config):
    """RabbitMQ nacks what a full queue (overflow: reject-publish) cannot take. With
    several batches in flight, the saved position must stop at the last batch whose
    every message was confirmed, and the next run resends from there."""
    connection = kombu.Connection(platform_config["AMQP_URI"])
    channel = connection.default_channel
    channel.exchange_declare(exchange_name("producer"), "topic", durable=True,
                             auto_delete=False)
    channel.queue_declare("test-full", durable=True, auto_delete=False,
                          arguments={"x-max-length": 12, "x-overflow": "reject-publish"})
    channel.queue_bind("test-full", exchange_name("producer"), routing_key="#")
    producer = open_ledger(platform_config["STORE_URI"], "producer")
    tick(producer, 40)
    relay = Relay(producer, platform_config["AMQP_URI"],
                  open_view_store(platform_config["STATE_URI"], "producer"), batch_size=5)
    try:
        with pytest.raises(PublishFailed, match="refused"):
            relay.publish_pending()
        assert relay.published_position() == 10  # batches 1-2 whole; 11 and 12 not enough

        channel.queue_purge("test-full")
        with pytest.raises(PublishFailed):
            relay.publish_pending()               # resends from 11
        assert relay.published_position() == 20
    finally:
        relay.close()
        channel.queue_delete("test-full")
        connection.release()


def test_a_record_whose_correlation_id_exceeds_an_amqp_short_string_does_not_stop_the_relay(
        platform_config, tap):
    """The ledger takes a correlation id of 200 characters; 200 'é' are 400 bytes, and
    the AMQP correlation-id property holds 255: building the message raised struct.error,
    every round, so that record and every later one were never published."""
    producer = open_ledger(platform_config["STORE_URI"], "producer")
    long_id = "é" * 200
    producer.append("traced-1", 0, [NewEvent("Ticked", {"n": 1})],
                    Metadata(Actor("tester", "system"), long_id))
    tick(producer, 1)
    relay = Relay(producer, platform_config["AMQP_URI"],
                  open_view_store(platform_config["STATE_URI"], "producer"))
    try:
        assert relay.publish_pending() == 2
        assert relay.published_position() == 2
    finally:
        relay.close()
    assert wait_for(lambda: len(tap()) == 2 and tap(), what="both published") == [1, 2]


def test_a_round_that_fails_between_two_messages_leaves_the_next_in_step_with_rabbitmq(
        platform_config, tap, monkeypatch):
    """A failure of ours while publishing (not RabbitMQ's) left the channel open with a
    delivery tag counted for a message RabbitMQ never received: the next round waited
    for a confirm that could not come, or, confirms arriving out of order, could take
    the next message's confirm for the last one of a batch and save past it."""
    from shared.messaging import relay as relay_module

    producer = open_ledger(platform_config["STORE_URI"], "producer")
    tick(producer, 6)
    build, failures = relay_module._message, []

    def fails_once_at_4(body, hash_, envelope):
        if envelope["position"] == 4 and not failures:
            failures.append(4)
            raise RuntimeError("cannot build the message of #4")
        return build(body, hash_, envelope)

    monkeypatch.setattr(relay_module, "_message", fails_once_at_4)
    relay = Relay(producer, platform_config["AMQP_URI"],
                  open_view_store(platform_config["STATE_URI"], "producer"), batch_size=3,
                  confirm_timeout=3.0)
    try:
        with pytest.raises(RuntimeError, match="#4"):
            relay.publish_pending()
        assert relay.published_position() in (0, 3)
        relay.publish_pending()
        assert relay.published_position() == 6
    finally:
        relay.close()
    assert sorted(set(wait_for(lambda: len(set(tap())) == 6 and tap(),
                               what="all six published"))) == [1, 2, 3, 4, 5, 6]


def test_one_bell_after_a_gap_catches_up_and_malformed_bells_are_dropped(
        container_factory, platform_config):
    """Only the ledger is trusted: one ring for position 5 (1-4 never rung) applies 1-5,
    each once; a body that is not JSON, not an object, has no usable position or a
    refused content type neither stops the consumer nor stays in its queue."""
    producer = open_ledger(platform_config["STORE_URI"], "producer")
    container = container_factory(Consumer, platform_config)
    container.start()
    assert applied(platform_config) == {}  # answers once the start-up catch-up is done
    connection = kombu.Connection(platform_config["AMQP_URI"])
    channel = connection.default_channel
    queue = "evt-producer-Ticked--consumer.on_producer"

    def ring(body, content_type="application/json"):
        channel.basic_publish(channel.prepare_message(body, content_type=content_type),
                              exchange=exchange_name("producer"), routing_key="Ticked")

    def drained_and_consumed():
        _name, waiting, consumers = channel.queue_declare(queue, passive=True)
        return waiting == 0 and consumers == 1

    try:
        tick(producer, 5)
        ring(b'{"position": 5}')
        wait_for(lambda: len(applied(platform_config)) == 5, what="1-5 applied")

        for body, content_type in [
                (b"not json", "application/json"), (b"\xff\xfe", "application/json"),
                (b"[1, 2]", "application/json"), (b'{"position": "6"}', "application/json"),
                (b"\x80\x04K\x06.", "application/x-python-serialize"), (b"6", "text/plain")]:
            ring(body, content_type)
        wait_for(drained_and_consumed, what="the malformed bells taken, the consumer alive")
        tick(producer, 1)
        ring(b'{"position": 6}')
        wait_for(lambda: len(applied(platform_config)) == 6, what="6 applied")
        assert set(applied(platform_config).values()) == {1}
    finally:
        connection.release()


def test_a_consumer_that_was_down_applies_1000_events_exactly_once(
        container_factory, platform_config, tmp_path):
    config = {**platform_config, "VIEW_URI": f"sqlite:///{tmp_path}/views"}  # survives restart
    producer = open_ledger(config["STORE_URI"], "producer")
    first = container_factory(Consumer, config)
    first.start()
    tick(producer, 10)
    run_relay(config)
    wait_for(lambda: len(applied(config)) == 10, what="first 10 applied")
    first.stop()

    tick(producer, 1000)  # while the consumer is down; the relay publishes into its queue
    run_relay(config)
    second = container_factory(Consumer, config)
    second.start()

    wait_for(lambda: len(applied(config)) == 1010, what="1010 applied")
    counts = applied(config)
    assert set(counts.values()) == {1}
    assert len(tocks(config)) == 1010


def test_a_failing_handler_is_retried_then_parked_and_can_be_replayed(
        container_factory, platform_config):
    producer = open_ledger(platform_config["STORE_URI"], "producer")
    FAILING["positions"] = {3}
    try:
        container = container_factory(Consumer, platform_config)
        container.start()
        tick(producer, 5)
        run_relay(platform_config)
        wait_for(lambda: len(applied(platform_config)) == 4, what="the other 4 applied")
        with ServiceRpcProxy("consumer", platform_config) as anonymous:
            with pytest.raises(Forbidden, match="names no actor"):
                anonymous.replay_parked()                    # nobody named: refused
        with ServiceRpcProxy("consumer", platform_config,
                             context_data={"actor": OPERATOR}) as consumer:
            (entry,) = consumer.parked()
            assert (entry["position"], entry["type"], entry["attempts"]) == (3, "Ticked", 4)
            assert "cannot apply tick at 3" in entry["error"]

            listing = subprocess.run(
                [os.path.join(os.path.dirname(sys.executable), "plpbk"), "parked"], capture_output=True,
                text=True, env=dict(os.environ, STATE_URI=platform_config["STATE_URI"],
                                    COLUMNS="200"))
            assert listing.returncode == 0 and "cannot apply tick at 3" in listing.stdout
            def replay(**env):   # as the operator, who is named to the service
                return subprocess.run(
                    [os.path.join(os.path.dirname(sys.executable), "plpbk"), "parked",
                     "--replay"], capture_output=True, text=True, env=dict(
                        os.environ, STATE_URI=platform_config["STATE_URI"], COLUMNS="200",
                        AMQP_URI=platform_config["AMQP_URI"], PLPBK_ACTOR="operator:ani",
                        **env))
            replayed = replay()
            assert replayed.returncode == 1, replayed.stderr   # it failed again
            assert "consumer.tick_counts producer #3: RuntimeError: cannot apply tick at 3" in \
                replayed.stdout
            # a line per service while it works (each may take up to 120 s), then its result
            assert "consumer: replaying 1 parked event" in replayed.stderr
            assert "consumer: 0 applied, 1 still parked" in replayed.stdout
            quiet = replay(PLPBK_NO_PROGRESS="1")
            assert quiet.returncode == 1 and "replaying" not in quiet.stderr
            assert "consumer: 0 applied, 1 still parked" in quiet.stdout

            assert consumer.replay_parked()[0]["ok"] is False  # still broken: stays parked
            FAILING["positions"] = set()
            assert consumer.replay_parked() == [
                {"subscriber": "consumer.tick_counts", "source": "producer", "position": 3,
                 "ok": True}]
            assert consumer.parked() == []
        assert applied(platform_config) == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
    finally:
        FAILING["positions"] = set()


def test_a_wildcard_handler_sees_every_type_in_order(tmp_path):
    from shared.messaging.subscription import Subscription
    from shared.views import open_view_store

    producer = open_ledger(f"sqlite:///{tmp_path}", "producer")
    producer.append("ticker-1", 0, [NewEvent("Ticked", {}), NewEvent("Tocked", {}),
                                    NewEvent("Rang", {})], META)
    state = open_view_store("memory://", "consumer")
    seen = []
    everything = Subscription("all", producer, {"*": lambda r: seen.append(r.type)},
                              state.collection("tracking"), state.collection("parked"))
    assert everything.catch_up() == 3 and seen == ["Ticked", "Tocked", "Rang"]


def test_a_wildcard_reaction_reacts_to_every_type_and_parks_nothing(tmp_path):
    """handles("*") means every type for a Reaction too: it looked its decision up by
    the record's own type, failed with KeyError on each, and parked every event."""
    from types import SimpleNamespace

    from shared.chassis.platform import ServiceContext
    from shared.chassis.subscribers import React, Reaction, handles
    from shared.messaging.subscription import Subscription

    from .ticking import TOCKS

    class TockOnAnything(Reaction):
        name = "tock_on_anything"

        @handles("*")
        def anything(self, record):
            return React(TOCKS, f"tock-{record.event_id}", {"tick": record.position})

    producer = open_ledger(f"sqlite:///{tmp_path}", "producer")
    producer.append("ticker-1", 0, [NewEvent("Ticked", {}), NewEvent("Rang", {})], META)
    consumer = open_ledger(f"sqlite:///{tmp_path}", "consumer")
    state = open_view_store("memory://", "consumer")
    platform = SimpleNamespace(service_name="consumer", views=state, ledger=consumer,
                               appended=lambda: None)
    reaction = TockOnAnything(ServiceContext(platform))
    subscription = Subscription("consumer.tock_on_anything", producer, reaction.handlers(),
                                state.collection("tracking"), state.collection("parked"),
                                retries=0, backoff=0, batch_handler=reaction.handle_batch)
    assert subscription.catch_up() == 2
    assert list(subscription.parked_events()) == []
    assert sorted(r.payload["tick"] for r in consumer.iter_records()) == [1, 2]


def test_a_handler_that_times_out_is_parked_and_the_service_keeps_serving(
        container_factory, platform_config):
    producer = open_ledger(platform_config["STORE_URI"], "producer")
    TIMING_OUT.add(3)
    try:
        container = container_factory(Consumer, dict(platform_config, CATCH_UP_INTERVAL=0.2))
        container.start()
        tick(producer, 5)
        run_relay(platform_config)
        wait_for(lambda: len(applied(platform_config)) == 4, what="the other 4 applied")
        tick(producer, 1)   # the safety net's rounds go on past it
        wait_for(lambda: len(applied(platform_config)) == 5, what="a later event applied")
        with ServiceRpcProxy("consumer", platform_config,
                             context_data={"actor": OPERATOR}) as consumer:
            (entry,) = consumer.parked()
            assert entry["position"] == 3 and entry["error"].startswith("Timeout")
            TIMING_OUT.clear()
            assert consumer.replay_parked()[0]["ok"] is True
        assert applied(platform_config) == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1}
    finally:
        TIMING_OUT.clear()


def test_a_producer_ledger_restored_behind_a_reaction_is_refused_once_not_skipped(
        container_factory, platform_config, tmp_path):
    producer_file = tmp_path / "ledgers" / "producer.db"
    producer = open_ledger(platform_config["STORE_URI"], "producer")
    tick(producer, 3)
    backup = tmp_path / "producer-backup.db"
    with sqlite3.connect(producer_file) as live, sqlite3.connect(backup) as copy:
        live.backup(copy)
    tick(producer, 2)
    producer.close()
    first = container_factory(Consumer, platform_config)
    first.start()
    wait_for(lambda: len(tocks(platform_config)) == 5, what="5 tocks")
    first.stop()

    for leftover in tmp_path.glob("ledgers/producer.db*"):   # restore that ledger alone
        leftover.unlink()
    shutil.copy(backup, producer_file)
    producer = open_ledger(platform_config["STORE_URI"], "producer")
    tick(producer, 3)   # 4, 5, 6: new events; 4 and 5 are not the ones reacted to
    with captured(logging.INFO) as lines:
        second = container_factory(Consumer, dict(platform_config, CATCH_UP_INTERVAL=0.1))
        second.start()
        wait_for(lambda: len(applied(platform_config)) == 6, what="the views rebuilt")
        eventlet.sleep(0.5)   # several safety-net rounds
        refused = [line for line in lines() if "restored from an older backup" in
                   line.get("event", "")]
    assert len(refused) == 1 and "tock_on_tick" in refused[0]["event"], refused
    assert "exception" not in refused[0]
    assert sorted(r.payload["tick"] for r in tocks(platform_config)) == [1, 2, 3, 4, 5]
