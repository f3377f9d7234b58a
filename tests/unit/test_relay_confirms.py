"""The relay's bookkeeping of publisher confirms: which batches may be saved as published.

RabbitMQ answers each delivery tag, or every tag up to one at once (multiple), with an
ack or a nack; a real broker seldom nacks, so the answers are fed in directly here (the
nack of a full queue is tested on the real RabbitMQ in tests/integration/test_messaging.py).
"""
from collections import defaultdict

from shared.ledger import open_ledger
from shared.messaging.relay import Relay, _Confirms
from shared.views import open_view_store


class Channel:
    def __init__(self):
        self.events = defaultdict(set)

    def answer(self, kind, tag, multiple=False):
        for handler in list(self.events[kind]):
            handler(tag, multiple)


def confirms_for(tags):
    channel = Channel()
    confirms = _Confirms(channel)
    for tag in tags:
        confirms.expect(tag)
    return channel, confirms


def test_single_acks_in_any_order_confirm_a_prefix():
    channel, confirms = confirms_for(range(1, 6))
    channel.answer("basic_ack", 2)
    assert not confirms.through(2)
    channel.answer("basic_ack", 1)
    assert confirms.through(2) and not confirms.through(3)
    channel.answer("basic_ack", 4)
    assert not confirms.through(4)


def test_a_multiple_ack_confirms_everything_up_to_its_tag():
    channel, confirms = confirms_for(range(1, 11))
    channel.answer("basic_ack", 7, multiple=True)
    assert confirms.through(7) and not confirms.through(8)
    channel.answer("basic_ack", 10, multiple=True)
    assert confirms.through(10)


def test_a_multiple_nack_refuses_from_the_oldest_unanswered_tag():
    channel, confirms = confirms_for(range(1, 11))
    channel.answer("basic_ack", 3, multiple=True)
    channel.answer("basic_nack", 8, multiple=True)   # refuses 4 to 8
    assert confirms.through(3)
    assert not confirms.through(5) and confirms.refused_through(4)
    assert not confirms.refused_through(3)


def test_a_single_nack_refuses_only_its_tag_and_what_follows_is_not_through():
    channel, confirms = confirms_for(range(1, 6))
    channel.answer("basic_nack", 4)
    channel.answer("basic_ack", 5, multiple=True)
    assert confirms.through(3) and not confirms.through(4) and not confirms.through(5)


def test_close_stops_listening():
    channel, confirms = confirms_for([1])
    confirms.close()
    channel.answer("basic_ack", 1)
    assert not confirms.through(1)


def test_nothing_to_publish_needs_no_rabbitmq(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path}", "registration")
    relay = Relay(ledger, "amqp://guest:guest@127.0.0.1:1//",  # nothing listens there
                  open_view_store(f"sqlite:///{tmp_path}/state", "relay"))
    assert relay.publish_pending() == 0
    ledger.close()
