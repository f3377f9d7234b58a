"""A store outage is said once per outage, naming the subscription and the cause, not
with a traceback every catch-up round; its end is said once too. A failure nobody
expects keeps its traceback every round."""
import logging

import pytest

from shared.chassis.platform import Platform, log
from shared.ledger import NewEvent, open_ledger
from shared.messaging.outages import OutageLog
from shared.messaging.source import SourceLedger
from shared.messaging.subscription import Subscription
from shared.views import open_view_store


def bare_platform(subscriptions):
    platform = Platform.__new__(Platform)   # only its subscriptions take part here
    platform.subscriptions = subscriptions
    platform.outages = OutageLog(log)
    return platform


@pytest.fixture
def stores(tmp_path):
    uri = f"sqlite:///{tmp_path}/ledgers"
    producer = open_ledger(uri, "producer")
    state = open_view_store(f"sqlite:///{tmp_path}/state", "consumer")
    yield uri, producer, state
    producer.close()
    state.close()


def subscription(source, state):
    return Subscription("consumer.ticks", source, {"Ticked": lambda record: None},
                        state.collection("tracking"), state.collection("parked"))


def platform_lines(caplog):
    lines = [(r.levelno, r.getMessage(), r.exc_info) for r in caplog.records
             if r.name == log.name]
    caplog.clear()
    return lines


def test_a_store_outage_is_one_warning_without_traceback_and_its_end_one_info(stores, caplog):
    _uri, producer, state = stores
    producer.append("ticker-1", 0, [NewEvent("Ticked", {})])
    ticks = subscription(producer, state)
    ticks.tracking.get("warm")   # the tracking table exists before the store turns read-only
    platform = bare_platform([ticks])
    caplog.set_level(logging.INFO)

    state._db.execute("PRAGMA query_only = 1")   # a write-protected state store
    for _round in range(3):
        platform.catch_up()
    ((level, message, exc_info),) = platform_lines(caplog)   # was: 3 tracebacks
    assert level == logging.WARNING and exc_info is None
    assert "catch-up of consumer.ticks stopped" in message
    assert "store 'consumer'" in message and "read-only" in message

    state._db.execute("PRAGMA query_only = 0")
    platform.catch_up()
    platform.catch_up()
    assert platform_lines(caplog) == [
        (logging.INFO, "catch-up of consumer.ticks resumed after an outage", None)]
    assert ticks.position == 1

    state._db.execute("PRAGMA query_only = 1")   # the next outage is said again
    producer.append("ticker-2", 0, [NewEvent("Ticked", {})])
    platform.catch_up()
    assert [level for level, _, _ in platform_lines(caplog)] == [logging.WARNING]
    state._db.execute("PRAGMA query_only = 0")


def test_a_damaged_source_is_one_error_without_traceback(stores, tmp_path, caplog):
    """A file in the ledger folder that is no ledger: named once, at ERROR (`/health` and
    `plpbk ledgers` name it too), not a traceback every round of the safety net."""
    uri, _producer, state = stores
    with open(f"{tmp_path}/ledgers/foreign.db", "wb") as damaged:
        damaged.write(b"not a ledger at all" * 300)
    platform = bare_platform([subscription(SourceLedger(uri, "foreign"), state)])
    for _round in range(3):
        platform.catch_up()
    ((level, message, exc_info),) = platform_lines(caplog)   # was: a traceback a round
    assert level == logging.ERROR and exc_info is None
    assert "catch-up of consumer.ticks stopped" in message
    assert "'foreign'" in message and "not a readable PLPBK ledger" in message


class Exploding:
    """A source whose every call fails in a way nobody foresaw."""
    name = "exploding"

    def __getattr__(self, attribute):
        raise RuntimeError(f"{attribute} exploded")


def test_an_unexpected_failure_keeps_its_traceback_every_round(stores, caplog):
    _uri, _producer, state = stores
    platform = bare_platform([subscription(Exploding(), state)])
    platform.catch_up()
    platform.catch_up()
    lines = platform_lines(caplog)
    assert [(level, message) for level, message, _ in lines] == \
        [(logging.ERROR, "catch-up of consumer.ticks failed")] * 2
    assert all(exc_info and exc_info[0] is RuntimeError for _, _, exc_info in lines)
