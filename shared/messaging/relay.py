"""The relay: publishes a ledger's records to RabbitMQ, in position order, confirmed.

The ledger is the outbox: an event reaches RabbitMQ only after it is recorded. The
relay remembers the last position RabbitMQ confirmed (in the durable state store) and
resumes from there after any crash, so nothing is lost; a crash after publishing but
before saving re-publishes that batch, and consumers drop what they already applied.

Messages go to the durable topic exchange "<ledger>.events" with the event type as
routing key, which is what nameko's @event_handler("<ledger>", "<type>") binds to.
The body is the record's stored bytes (its canonical JSON: envelope and payload), sent
as they are; the record's hash travels in the header plpbk.hash.
"""
import logging
import socket
import threading
import time

import amqp
import kombu
import orjson

from ..metrics import RELAY_LAG, RELAY_PUBLISHED

log = logging.getLogger(__name__)


class PublishFailed(Exception):
    """RabbitMQ refused (nacked) or did not confirm a batch in time."""


def exchange_name(ledger_name):
    return f"{ledger_name}.events"


class Relay:
    def __init__(self, ledger, amqp_uri, state, batch_size=500, confirm_timeout=30.0):
        self.ledger, self.amqp_uri, self.batch_size = ledger, amqp_uri, batch_size
        self.confirm_timeout = confirm_timeout
        self._positions = state.collection("relay_positions")
        self._connection = self._channel = None
        self._wake = threading.Event()
        self._stopped = threading.Event()

    # -- position -------------------------------------------------------------------------
    def published_position(self) -> int:
        doc = self._positions.get(self.ledger.name)
        return doc["position"] if doc else 0

    def _save(self, position):
        self._positions.put(self.ledger.name, {"position": position})

    # -- publishing -----------------------------------------------------------------------
    def publish_pending(self, on_batch=None) -> int:
        """Publish everything recorded since the last confirmed position; return the count."""
        published, head = self.published_position(), self.ledger.head().position
        total = 0
        while published < head:
            records = self.ledger.raw(published, self.batch_size)
            self._publish_confirmed(records)
            if on_batch:
                on_batch(records)  # test hook: runs between confirm and save
            published = records[-1][0]
            self._save(published)
            total += len(records)
            RELAY_PUBLISHED.labels(self.ledger.name).inc(len(records))
            RELAY_LAG.labels(self.ledger.name).set(head - published)
        RELAY_LAG.labels(self.ledger.name).set(max(0, self.ledger.head().position - published))
        return total

    def _publish_confirmed(self, records):
        channel = self._ensure_channel()
        pending = {}  # delivery tag -> position, until RabbitMQ acks it
        refused = []

        def acked(tag, multiple):
            for done in ([t for t in pending if t <= tag] if multiple else [tag]):
                pending.pop(done, None)

        def nacked(tag, multiple):
            refused.append(tag)
            acked(tag, multiple)

        channel.events["basic_ack"].add(acked)
        channel.events["basic_nack"].add(nacked)
        try:
            exchange = exchange_name(self.ledger.name)
            for position, body, hash_ in records:
                self._tag += 1
                pending[self._tag] = position
                envelope = orjson.loads(body)
                channel.basic_publish(_message(body, hash_, envelope), exchange=exchange,
                                      routing_key=envelope["type"])
            deadline = time.monotonic() + self.confirm_timeout
            while pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PublishFailed(f"{len(pending)} messages unconfirmed after "
                                        f"{self.confirm_timeout}s")
                self._connection.drain_events(timeout=remaining)
        except (OSError, amqp.exceptions.AMQPError, socket.timeout) as exc:
            self.close()
            raise PublishFailed(f"publishing to RabbitMQ failed: {exc}") from exc
        finally:
            channel.events["basic_ack"].discard(acked)
            channel.events["basic_nack"].discard(nacked)
        if refused:
            raise PublishFailed(f"RabbitMQ refused {len(refused)} messages")

    def _ensure_channel(self):
        if self._channel is None:
            self._connection = kombu.Connection(self.amqp_uri, connect_timeout=10)
            self._connection.connect()
            channel = self._connection.channel()
            channel.exchange_declare(exchange_name(self.ledger.name), "topic", durable=True,
                                     auto_delete=False)
            channel.confirm_select()
            self._channel, self._tag = channel, 0
        return self._channel

    def close(self):
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # already broken; nothing left to release
                pass
        self._connection = self._channel = None

    # -- running --------------------------------------------------------------------------
    def wake(self):
        """Tell the relay there is something new (it also polls on its own)."""
        self._wake.set()

    def stop(self):
        self._stopped.set()
        self._wake.set()

    def run(self, poll_interval=0.2, retry_interval=2.0):
        """Publish until stop(); survive RabbitMQ or store outages by retrying."""
        while not self._stopped.is_set():
            try:
                self.publish_pending()
                wait = poll_interval
            except Exception as exc:  # keep relaying: the next round resumes from the ledger
                log.warning("relay %s: %s; retrying in %ss", self.ledger.name, exc,
                            retry_interval)
                wait = retry_interval
            self._wake.wait(wait)
            self._wake.clear()
        self.close()


def _message(body, hash_, envelope):
    return amqp.Message(
        body, content_type="application/json", content_encoding="utf-8", delivery_mode=2,
        message_id=envelope["event_id"], correlation_id=envelope["correlation_id"] or None,
        application_headers={"nameko.correlation_id": envelope["correlation_id"],
                             "plpbk.position": envelope["position"], "plpbk.hash": hash_})
