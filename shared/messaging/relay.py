"""The relay: publishes a ledger's records to RabbitMQ, in position order, confirmed.

The ledger is the outbox: an event reaches RabbitMQ only after it is recorded. The
relay remembers the last position RabbitMQ confirmed (in the durable state store) and
resumes from there after any crash, so nothing is lost; a crash after publishing but
before saving re-publishes that batch, and consumers drop what they already applied.

Messages go to the durable topic exchange "<ledger>.events" with the event type as
routing key, which is what nameko's @event_handler("<ledger>", "<type>") binds to.
The body is the record's stored bytes (its canonical JSON: envelope and payload), sent
as they are; the record's hash travels in the header plpbk.hash.

One relay publishes a ledger at a time: each holds an exclusive RabbitMQ queue named
for its ledger (the lease) on its publishing connection. Another relay of the same
ledger (a second instance of the service, `plpbk relay` beside an embedded relay) is
refused that queue and stands by; RabbitMQ deletes the queue with the connection that
held it, so a standby takes over within its retry interval once the holder is gone.

Publishing and confirming overlap: up to WINDOW batches are in flight, and positions
are saved strictly in order, each when its whole batch is confirmed (about 40% more
events/s than waiting for each batch before sending the next, on a 2-core machine
that runs RabbitMQ too).
"""
import logging
import select
import socket
import threading
import time
from collections import deque

import amqp
import kombu
import kombu.exceptions
import orjson

from ..metrics import RELAY_LAG, RELAY_PUBLISHED
from .outages import OUTAGES, OutageLog

log = logging.getLogger(__name__)


BATCH_SIZE = 1000  # records per batch; a position is saved per confirmed batch
WINDOW = 4         # batches in flight: RabbitMQ confirms some while the next go out


class PublishFailed(Exception):
    """RabbitMQ refused (nacked) or did not confirm a batch in time."""


class RelayStandby(Exception):
    """Another relay holds this ledger's lease: it publishes, this one waits."""


# RabbitMQ or a store away: said once per outage (connecting raises kombu's error)
RELAY_OUTAGES = OUTAGES + (PublishFailed, kombu.exceptions.OperationalError, OSError,
                           amqp.exceptions.AMQPError)


def exchange_name(ledger_name):
    return f"{ledger_name}.events"


def lease_name(ledger_name):
    return f"relay.{ledger_name}.lease"


class Relay:
    def __init__(self, ledger, amqp_uri, state, batch_size=BATCH_SIZE, confirm_timeout=30.0):
        self.ledger, self.amqp_uri, self.batch_size = ledger, amqp_uri, batch_size
        self.confirm_timeout = confirm_timeout
        self._positions = state.collection("relay_positions")
        self._connection = self._channel = None
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._outages = OutageLog(log)
        self.standing_by = False

    # -- position -------------------------------------------------------------------------
    def published_position(self) -> int:
        doc = self._positions.get(self.ledger.name)
        return doc["position"] if doc else 0

    def _save(self, position):
        self._positions.put(self.ledger.name, {"position": position})

    # -- publishing -----------------------------------------------------------------------
    def publish_pending(self, on_batch=None) -> int:
        """Publish everything recorded since the last confirmed position; return the count.

        Up to WINDOW batches are in flight: the next is published while RabbitMQ confirms
        the last. Positions are saved in order, each once its whole batch is confirmed.
        """
        published, head = self.published_position(), self.ledger.head().position
        after, total = published, 0  # after: the last position handed to RabbitMQ
        in_flight = deque()          # (last delivery tag, deadline, records) per batch
        # the lag as it stands before RabbitMQ is asked: while it cannot be reached the
        # gauge grows, so the lag alerts fire in the very case they exist for
        RELAY_LAG.labels(self.ledger.name).set(max(0, head - published))
        if published >= head:        # nothing new: no need of RabbitMQ at all
            return 0
        channel = self._ensure_channel()
        confirms = _Confirms(channel)
        try:
            while after < head or in_flight:
                if after < head and len(in_flight) < WINDOW:
                    records = self.ledger.raw(after, self.batch_size)
                    if not records:  # the head read above is always there; never spin
                        head = after
                        continue
                    self._publish(channel, records, confirms)
                    in_flight.append((self._tag, time.monotonic() + self.confirm_timeout,
                                      records))
                    after = records[-1][0]
                    confirms.read_ready(self._connection)
                else:
                    confirms.wait(self._connection, in_flight[0][1])
                while in_flight and confirms.through(in_flight[0][0]):
                    _tag, _deadline, records = in_flight.popleft()
                    if on_batch:
                        on_batch(records)  # test hook: runs between confirm and save
                    published = records[-1][0]
                    self._save(published)
                    total += len(records)
                    RELAY_PUBLISHED.labels(self.ledger.name).inc(len(records))
                    RELAY_LAG.labels(self.ledger.name).set(head - published)
                if in_flight and confirms.refused_through(in_flight[0][0]):
                    raise PublishFailed("RabbitMQ refused messages of the batch after "
                                        f"position {published}")
        except (OSError, amqp.exceptions.AMQPError, socket.timeout) as exc:
            self.close()
            raise PublishFailed(f"publishing to RabbitMQ failed: {exc}") from exc
        except BaseException:
            # A fresh channel next time: no late confirm of these tags counts, and our tag
            # count cannot drift from RabbitMQ's after a message that was never sent.
            self.close()
            raise
        finally:
            confirms.close()
        RELAY_LAG.labels(self.ledger.name).set(max(0, self.ledger.head().position - published))
        return total

    def _publish(self, channel, records, confirms):
        exchange = exchange_name(self.ledger.name)
        for _position, body, hash_ in records:
            envelope = orjson.loads(body)
            channel.basic_publish(_message(body, hash_, envelope), exchange=exchange,
                                  routing_key=envelope["type"])
            self._tag += 1  # counted once sent: RabbitMQ numbers only what it received
            confirms.expect(self._tag)

    def _ensure_channel(self):
        if self._channel is None:
            self._connection = kombu.Connection(self.amqp_uri, connect_timeout=10)
            self._connection.connect()
            channel = self._connection.channel()
            self._take_lease(channel)
            channel.exchange_declare(exchange_name(self.ledger.name), "topic", durable=True,
                                     auto_delete=False)
            channel.confirm_select()
            self._channel, self._tag = channel, 0
        return self._channel

    def _take_lease(self, channel):
        name = self.ledger.name
        try:
            channel.queue_declare(lease_name(name), exclusive=True, auto_delete=True)
        except amqp.exceptions.ResourceLocked:
            self.close()
            if not self.standing_by:
                log.info("relay of %s: standing by, another relay is publishing it", name)
            self.standing_by = True
            raise RelayStandby(f"another relay is publishing ledger {name!r} (it holds the "
                               f"RabbitMQ queue {lease_name(name)}); this one stands by "
                               "and takes over when that one stops") from None
        if self.standing_by:
            log.info("relay of %s: the other relay has stopped; publishing", name)
        self.standing_by = False

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
        what = f"relay of {self.ledger.name}"
        while not self._stopped.is_set():
            try:   # whatever fails, keep relaying: the next round resumes from the ledger
                self.publish_pending()
                self._outages.up(what)
                wait = poll_interval
            except RelayStandby:
                wait = retry_interval
            except RELAY_OUTAGES as exc:
                self._outages.down(what, exc)
                wait = retry_interval
            except Exception:
                log.exception("%s failed; retrying in %ss", what, retry_interval)
                wait = retry_interval
            self._wake.wait(wait)
            self._wake.clear()
        self.close()


class _Confirms:
    """Publisher confirms of one channel. Tags rise in publishing order; RabbitMQ answers
    each, or all up to one at once (multiple), with an ack or a nack."""

    def __init__(self, channel):
        self.channel = channel
        self.outstanding = deque()  # tags in publishing order; answered ones leave the front
        self.answered = set()       # tags answered one by one, still in outstanding
        self.answered_upto = 0      # every tag up to this one answered
        self.first_refused = None   # lowest tag RabbitMQ nacked
        channel.events["basic_ack"].add(self._acked)
        channel.events["basic_nack"].add(self._nacked)

    def expect(self, tag):
        self.outstanding.append(tag)

    def _acked(self, tag, multiple):
        if multiple:
            self.answered_upto = max(self.answered_upto, tag)
        else:
            self.answered.add(tag)

    def _nacked(self, tag, multiple):
        oldest = self._oldest_unanswered()
        first = oldest if multiple and oldest is not None and oldest < tag else tag
        self.first_refused = min(first, self.first_refused or first)
        self._acked(tag, multiple)

    def _oldest_unanswered(self):
        outstanding = self.outstanding
        while outstanding and (outstanding[0] <= self.answered_upto
                               or outstanding[0] in self.answered):
            self.answered.discard(outstanding.popleft())
        return outstanding[0] if outstanding else None

    def through(self, tag):
        """Every message up to this tag acked (none nacked)."""
        oldest = self._oldest_unanswered()
        return (oldest is None or oldest > tag) and not self.refused_through(tag)

    def refused_through(self, tag):
        return self.first_refused is not None and self.first_refused <= tag

    def read_ready(self, connection):
        """Take in the confirms that have already arrived, without waiting."""
        sock = connection.connection.sock
        while select.select([sock], [], [], 0)[0]:
            connection.drain_events(timeout=1)

    def wait(self, connection, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            self._oldest_unanswered()
            raise PublishFailed(f"{len(self.outstanding)} messages unconfirmed after the timeout")
        connection.drain_events(timeout=remaining)

    def close(self):
        self.channel.events["basic_ack"].discard(self._acked)
        self.channel.events["basic_nack"].discard(self._nacked)


SHORT_STRING = 255  # bytes: the most an AMQP message property such as correlation-id holds


def _message(body, hash_, envelope):
    correlation_id = envelope["correlation_id"]
    # The ledger takes 200 characters (up to 800 bytes); a property too long for AMQP
    # made every round fail at this record. The header (a long string) carries it whole.
    fits = len(correlation_id.encode("utf-8")) <= SHORT_STRING
    return amqp.Message(
        body, content_type="application/json", content_encoding="utf-8", delivery_mode=2,
        message_id=envelope["event_id"],
        correlation_id=correlation_id if correlation_id and fits else None,
        application_headers={"nameko.correlation_id": correlation_id,
                             "plpbk.position": envelope["position"], "plpbk.hash": hash_})
