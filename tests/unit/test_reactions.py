"""A Reaction's handler returns the commands an event causes: one React, None, or a list
(an event about many things: planning's InvestmentItemsPublished opens a work package
per item in construction, and a funding need per item in marketing)."""
from types import SimpleNamespace

import pytest

from shared.chassis.platform import ServiceContext
from shared.chassis.subscribers import React, Reaction, handles
from shared.ledger import NewEvent, open_ledger
from shared.messaging.subscription import Subscription
from shared.views import open_view_store
from tests.integration.ticking import TOCKS


class TockPerItem(Reaction):
    name = "tock_per_item"
    source = "producer"

    @handles("Listed")
    def listed(self, record):
        return [React(TOCKS, f"tock-{item}", {"tick": record.position})
                for item in record.payload["items"]]


class TockOnce(Reaction):
    name = "tock_once"
    source = "producer"

    @handles("Listed")
    def listed(self, record):
        return React(TOCKS, "tock-once", {"tick": record.position})


def reacting(tmp_path, reaction_class, *payloads):
    producer = open_ledger(f"sqlite:///{tmp_path}", "producer")
    for number, payload in enumerate(payloads):
        producer.append(f"list-{number}", 0, [NewEvent("Listed", payload)])
    consumer = open_ledger(f"sqlite:///{tmp_path}", "consumer")
    state = open_view_store("memory://", "consumer")
    platform = SimpleNamespace(service_name="consumer", views=state, ledger=consumer,
                               appended=lambda: None, catch_up=lambda source=None, wait=False: None)
    reaction = reaction_class(ServiceContext(platform))
    subscription = Subscription(f"consumer.{reaction.name}", producer, reaction.handlers(),
                                state.collection("tracking"), state.collection("parked"),
                                retries=0, backoff=0, batch_handler=reaction.handle_batch)
    return producer, consumer, reaction, subscription


def test_a_list_of_commands_records_each_once_even_when_the_event_comes_again(tmp_path):
    producer, consumer, reaction, subscription = reacting(
        tmp_path, TockPerItem, {"items": ["a", "b", "c"]}, {"items": []})
    assert subscription.catch_up() == 2 and subscription.parked_events() == []
    recorded = {r.stream_id: r for r in consumer.iter_records()}
    assert sorted(recorded) == ["tock-a", "tock-b", "tock-c"]
    listed = producer.read(0, limit=1)[0]
    assert {r.causation_id for r in recorded.values()} == {listed.event_id}
    # delivered again (a restart that lost its position): each key is already recorded
    reaction.handle_batch(producer.read(0))
    assert len(list(consumer.iter_records())) == 3
    # and each command has a key of its own, not the event's one key for all
    assert consumer.recorded(f"tock_per_item:producer:{listed.event_id}") is None
    assert consumer.recorded(f"tock_per_item:producer:{listed.event_id}:tock-b") is not None


def test_one_command_keeps_the_key_it_always_had(tmp_path):
    """Keys already in ledgers say "done" for events redelivered after an upgrade."""
    producer, consumer, _, subscription = reacting(tmp_path, TockOnce, {"items": []})
    subscription.catch_up()
    listed = producer.read(0, limit=1)[0]
    assert consumer.recorded(f"tock_once:producer:{listed.event_id}") is not None


def test_two_commands_for_one_stream_in_a_list_are_a_bug_said_plainly(tmp_path):
    class Twice(TockPerItem):
        name = "twice"

        @handles("Listed")
        def listed(self, record):
            return [React(TOCKS, "tock-a", {"tick": 1}), React(TOCKS, "tock-a", {"tick": 2})]

    producer, consumer, reaction, _ = reacting(tmp_path, Twice, {"items": []})
    with pytest.raises(ValueError, match="tock-a"):
        reaction.handle_batch(producer.read(0))
    assert list(consumer.iter_records()) == []


def test_a_long_stream_id_still_gives_a_key_the_ledger_takes(tmp_path):
    """Stream ids run to 241 characters, keys to 300: the stream's digest stands in."""
    class Long(TockPerItem):
        name = "open_work_packages_on_publication"

        @handles("Listed")
        def listed(self, record):
            return [React(TOCKS, f"{'t' * 40}-{item * 200}", {"tick": 1})
                    for item in record.payload["items"]]

    producer, consumer, reaction, subscription = reacting(
        tmp_path, Long, {"items": ["a", "b"]})
    assert subscription.catch_up() == 1 and subscription.parked_events() == []
    assert len(list(consumer.iter_records())) == 2
    reaction.handle_batch(producer.read(0))   # again: recorded once
    assert len(list(consumer.iter_records())) == 2
