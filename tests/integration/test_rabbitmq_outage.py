"""RabbitMQ goes away and comes back while the relay and a subscriber run: the relay
resumes from its last confirmed position, the subscriber reconnects, every event is
published and applied exactly once in effect.

The shared RabbitMQ server is never stopped: the relay and the consumer reach it
through a TCP forwarder of this test, which can cut every connection and refuse new
ones (what a broker restart or a network cut looks like from the client's side)."""
import logging
import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from shared.ledger import open_ledger
from shared.messaging.relay import Relay
from shared.messaging.relay import log as relay_log
from shared.views import open_view_store

from .conftest import wait_for
from .test_messaging import applied, tick, tocks
from .ticking import Consumer


class Forwarder:
    """127.0.0.1:<port> -> RabbitMQ, byte for byte, until cut()."""

    def __init__(self, target):
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.up, self.pairs, self.lock = True, [], threading.Lock()
        self.refused = 0   # connections refused while cut
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:   # closed: the test is over
                return
            if not self.up:
                client.close()   # refused, as a broker that is down
                self.refused += 1
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.pairs.append((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):   # one side gone: the whole connection is
            _shut(end)

    def cut(self):
        self.up = False
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for end in pair:
                _shut(end)

    def restore(self):
        self.up = True

    def close(self):
        self.cut()
        self.server.close()


@pytest.fixture
def forwarder(platform_config):
    parts = urlsplit(platform_config["AMQP_URI"])
    forwarder = Forwarder((parts.hostname or "127.0.0.1", parts.port or 5672))
    credentials = parts.netloc.rsplit("@", 1)[0]
    forwarder.uri = urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{forwarder.port}"))
    yield forwarder
    forwarder.close()


def test_relay_and_subscriber_ride_out_rabbitmq_going_away(container_factory, platform_config,
                                                           forwarder, tap):  # noqa: F811
    through = {**platform_config, "AMQP_URI": forwarder.uri}
    producer = open_ledger(platform_config["STORE_URI"], "producer")
    consumer = container_factory(Consumer, through)
    consumer.start()
    relay = Relay(producer, forwarder.uri,
                  open_view_store(platform_config["STATE_URI"], "producer"), batch_size=10)
    running = threading.Thread(target=relay.run, kwargs={"poll_interval": 0.05,
                                                          "retry_interval": 0.2}, daemon=True)
    running.start()
    try:
        tick(producer, 20)
        wait_for(lambda: len(applied(platform_config)) == 20, what="20 applied")

        forwarder.cut()
        tick(producer, 30)   # recorded while RabbitMQ is away for both
        # the relay cannot publish meanwhile: it waits in kombu's connect retry, or fails
        time.sleep(1.0)
        assert relay.published_position() == 20
        forwarder.restore()

        wait_for(lambda: relay.published_position() == 50, what="the relay to resume")
        wait_for(lambda: len(applied(platform_config)) == 50, what="50 applied")
        assert set(applied(platform_config).values()) == {1}     # none applied twice
        assert sorted(r.payload["tick"] for r in tocks(platform_config)) == \
            list(range(1, 51))                                    # one reaction each
        published = wait_for(lambda: len(set(tap())) == 50 and tap(), what="all published")
        assert sorted(set(published)) == list(range(1, 51))
    finally:
        relay.stop()
        running.join(10)


def test_the_relay_says_once_that_rabbitmq_is_away_and_once_that_it_is_back(
        platform_config, forwarder, caplog):
    """Every failed round logged a line (every 4 s by default: a refused connect takes
    2 s, then the relay waits 2 s): an outage buried everything else in the log."""
    producer = open_ledger(platform_config["STORE_URI"], "producer")
    relay = Relay(producer, forwarder.uri,
                  open_view_store(platform_config["STATE_URI"], "producer"), batch_size=10)
    caplog.set_level(logging.INFO, logger=relay_log.name)
    forwarder.cut()
    tick(producer, 5)
    running = threading.Thread(target=relay.run, kwargs={"poll_interval": 0.05,
                                                          "retry_interval": 0.1}, daemon=True)
    running.start()
    try:   # each round's connect is refused twice (kombu retries once), 2 s in all
        wait_for(lambda: forwarder.refused >= 6, what="three rounds to fail")
        forwarder.restore()
        wait_for(lambda: relay.published_position() == 5, what="the relay to resume")
    finally:
        relay.stop()
        running.join(10)
        producer.close()
    lines = [(r.levelno, r.getMessage(), r.exc_info) for r in caplog.records
             if r.name == relay_log.name]
    assert [(level, exc_info) for level, _, exc_info in lines] == \
        [(logging.WARNING, None), (logging.INFO, None)]   # was: a warning every round
    assert lines[0][1].startswith("relay of producer stopped: ")
    assert lines[1][1] == "relay of producer resumed after an outage"


def _shut(end):
    """Close a socket both ways; already closed is fine."""
    try:
        end.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
