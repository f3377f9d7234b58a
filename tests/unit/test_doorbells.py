"""A subscriber to another service's ledger whose event types have no doorbell on the
service class gets them only at the safety-net catch-up (CATCH_UP_INTERVAL: seconds in
a deployment, an hour in the integration tests, where a reaction forgotten its doorbell
timed out with nothing saying why). The service says so when it starts."""
import logging
from types import SimpleNamespace

from shared.chassis.entrypoints import OperatorEntrypoints
from shared.chassis.platform import Platform, doorbell, unbelled
from shared.chassis.subscribers import Projection, handles


class Packages(Projection):
    name = "packages"
    source = "planning"

    @handles("InvestmentItemsPublished", "DocumentSignedOff")
    def apply(self, record):
        pass


class Own(Projection):
    name = "own"

    @handles("WorkPackageOpened")
    def apply(self, record):
        pass


class Everything(Projection):
    name = "everything"
    source = "cycle"

    @handles("*")
    def apply(self, record):
        pass


class Works(OperatorEntrypoints):
    name = "works"
    platform = Platform(subscribers=[Packages, Own, Everything])
    on_planning = doorbell("planning", "InvestmentItemsPublished")


def test_types_of_another_ledger_without_a_doorbell_are_named():
    assert unbelled(Works, "works", Works.platform.subscriber_classes) == [
        ("packages", "planning", ["DocumentSignedOff"])]


def test_every_service_rings_for_what_it_reads():
    import importlib

    from services import SERVICES
    for name, (target, _port) in SERVICES.items():
        module, _, class_name = target.partition(":")
        cls = getattr(importlib.import_module(module), class_name)
        classes = getattr(cls.platform, "subscriber_classes", ())
        assert unbelled(cls, name, classes) == [], name


def test_the_service_says_so_when_it_starts(tmp_path, caplog):
    platform = Platform(subscribers=[Packages])
    platform.container = SimpleNamespace(
        service_name="works", service_cls=Works,
        config={"STORE_URI": f"sqlite:///{tmp_path}/ledgers",
                "STATE_URI": f"sqlite:///{tmp_path}/state", "VIEW_URI": "memory://",
                "RELAY": "external", "CATCH_UP_INTERVAL": 2})
    with caplog.at_level(logging.WARNING, "shared.chassis.platform"):
        platform.setup()
    try:
        (warning,) = [r.getMessage() for r in caplog.records if "doorbell" in r.getMessage()]
        assert "works.packages reads planning's DocumentSignedOff without a " \
               "doorbell('planning', ...)" in warning
    finally:
        platform.stop()
