"""The relay to RabbitMQ with publisher confirms, events/s, against one-at-a-time kombu.

A ledger of 20,000 events (10,000 villages, two events each) is relayed by
Relay.publish_pending() with the relay's defaults (batches of 1,000, up to 4 in flight:
the next batches go out while RabbitMQ confirms earlier ones); each batch's position is
saved, once all its confirms are in, in the relay's durable state (SQLite, as STATE_URI
by default). The exchange <ledger>.events has a durable queue bound with '#',
so every message is really routed and persisted (delivery_mode 2) before RabbitMQ
confirms it; the queue's count is checked afterwards.

Baseline in the same run: kombu publishing one confirmed message at a time
(Connection(transport_options={'confirm_publish': True}), Producer.publish waits for each
confirm) of the same bodies and headers to the same kind of exchange and queue, half
before and half after the relay run. Virtual host "/", only exchanges and queues named
for this run, deleted afterwards.
usage: python -m tests.bench relay
"""
import kombu

from shared.ledger import open_ledger
from shared.messaging.relay import BATCH_SIZE, WINDOW, Relay, exchange_name
from shared.views import open_view_store

from .common import (AMQP_URI, Stopwatch, build_ledger, heading, met, note, peak_rss_mb,
                     rate, ratio, table, temp_folder, times, unique_name, village_workload)

EVENTS = 20_000
BASELINE = 2_000   # messages, published in two halves around the relay run
TARGET = 5.0       # the issue: at least 5x one confirmed message at a time


def _declare(channel, exchange, queue):
    channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
    channel.queue_declare(queue, durable=True, auto_delete=False)
    channel.queue_bind(queue, exchange, routing_key="#")


def _queued(channel, queue):
    return channel.queue_declare(queue, passive=True).message_count


def _baseline_publish(rows, exchange):
    """One message at a time, each publish waiting for its confirm."""
    import orjson
    with kombu.Connection(AMQP_URI, transport_options={"confirm_publish": True},
                          connect_timeout=10) as connection:
        producer = connection.Producer()
        with Stopwatch() as watch:
            for _position, body, hash_ in rows:
                envelope = orjson.loads(body)  # the relay reads the envelope too
                producer.publish(
                    body, exchange=exchange, routing_key=envelope["type"],
                    serializer=None, content_type="application/json",
                    content_encoding="utf-8", delivery_mode=2,
                    message_id=envelope["event_id"],
                    correlation_id=envelope["correlation_id"] or None,
                    headers={"nameko.correlation_id": envelope["correlation_id"],
                             "plpbk.position": envelope["position"], "plpbk.hash": hash_},
                    retry=False)
    return watch.seconds


def run():
    heading(f"Relay to RabbitMQ with confirms, {EVENTS:,} events (events/s)")
    village_workload(EVENTS // 2)
    name = unique_name("relay")
    relay_exchange, relay_queue = exchange_name(name), f"{name}.all"
    baseline_exchange, baseline_queue = f"{name}_kombu.events", f"{name}_kombu.all"
    with temp_folder("relay") as folder, \
            kombu.Connection(AMQP_URI, connect_timeout=10) as admin:
        ledger = open_ledger(f"sqlite:///{folder}/ledgers", name)
        state = open_view_store(f"sqlite:///{folder}/state", "relay")
        channel = admin.channel()
        try:
            build_ledger(ledger, EVENTS // 2)
            rows = ledger.raw(0, BASELINE)
            _declare(channel, relay_exchange, relay_queue)
            _declare(channel, baseline_exchange, baseline_queue)

            half = BASELINE // 2
            first = _baseline_publish(rows[:half], baseline_exchange)
            relay = Relay(ledger, AMQP_URI, state, batch_size=BATCH_SIZE)
            try:
                with Stopwatch() as watch:
                    published = relay.publish_pending()
            finally:
                relay.close()
            second = _baseline_publish(rows[half:], baseline_exchange)

            relayed_count = _queued(channel, relay_queue)
            baseline_count = _queued(channel, baseline_queue)
            confirmed_position = relay.published_position()
        finally:
            for queue in (relay_queue, baseline_queue):
                channel.queue_delete(queue)
            for exchange in (relay_exchange, baseline_exchange):
                channel.exchange_delete(exchange)
            ledger.close()
            state.close()

    if (published, relayed_count, confirmed_position) != (EVENTS, EVENTS, EVENTS) \
            or baseline_count != BASELINE:
        raise RuntimeError(f"relay published {published}, queue holds {relayed_count}, "
                           f"position {confirmed_position}; baseline queue {baseline_count}")
    relay_rate = EVENTS / watch.seconds
    baseline_rate = BASELINE / (first + second)
    factor = ratio(relay_rate, baseline_rate)
    table("Publishing with publisher confirms, persistent messages into a durable queue",
          ["publisher", "messages", "seconds", "events/s", "ratio", f"target >= {TARGET:g}x"],
          [[f"Relay.publish_pending (batches of {BATCH_SIZE}, {WINDOW} in flight)",
            f"{EVENTS:,}", f"{watch.seconds:,.2f}", rate(relay_rate), times(factor),
            met(factor, TARGET)],
           ["kombu Producer.publish, confirm_publish=True (one at a time)",
            f"{BASELINE:,}", f"{first + second:,.2f}", rate(baseline_rate), "1.0x", ""],
           ["  first half (before the relay run)", f"{half:,}", f"{first:,.2f}",
            rate(half / first), "", ""],
           ["  second half (after the relay run)", f"{BASELINE - half:,}", f"{second:,.2f}",
            rate((BASELINE - half) / second), "", ""]],
          caption=f"RabbitMQ at {AMQP_URI.split('@')[-1]}, vhost '/', exchanges and queues "
                  "of this run only (deleted); every message routed by '#' to a durable queue, "
                  f"checked: {relayed_count:,} + {baseline_count:,} messages queued")
    note("The relay's time includes reading the ledger and saving its position after each "
         "confirmed batch.")
    return {"events": EVENTS, "batch_size": BATCH_SIZE, "relay_events_per_s": relay_rate,
            "kombu_one_at_a_time_per_s": baseline_rate, "ratio": factor,
            "targets": [{"name": "relay publish_pending", "value": factor,
                         "unit": "x kombu one at a time", "target": TARGET,
                         "met": factor >= TARGET}],
            "peak_rss_mb": peak_rss_mb()}


if __name__ == "__main__":
    run()
