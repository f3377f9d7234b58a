"""A service whose subscription reads a ledger that no running service writes yet (the
cycle reads construction's) starts without creating it, and applies its events once
another process records them (docs/cycle.md: "the ledger need not exist yet")."""
from shared.chassis.platform import Platform
from shared.ledger import ledger_names, open_ledger

from .conftest import wait_for
from .test_messaging import applied, tick, tocks
from .ticking import Consumer


def test_a_missing_source_is_not_created_and_is_read_once_it_appears(container_factory,
                                                                      platform_config):
    config = {**platform_config, "CATCH_UP_INTERVAL": 0.1}   # the safety net finds it
    container = container_factory(Consumer, config)
    container.start()
    (platform,) = [ext for ext in container.extensions if isinstance(ext, Platform)]
    platform.ready.wait()
    assert ledger_names(config["STORE_URI"]) == ["consumer"]   # was: consumer, producer
    assert applied(config) == {}

    producer = open_ledger(config["STORE_URI"], "producer")   # its service, deployed later
    try:
        tick(producer, 3)
        wait_for(lambda: applied(config) == {1: 1, 2: 1, 3: 1}, what="ticks applied")
        wait_for(lambda: len(tocks(config)) == 3, what="tocks recorded")
    finally:
        producer.close()
