"""A doorbell rings every subscription to its source, even when one of them fails."""
from types import SimpleNamespace

from .test_platform_outages import bare_platform


class Subscription:
    def __init__(self, name, source, fails=False):
        self.name, self.source, self.fails = name, SimpleNamespace(name=source), fails
        self.rung = []

    def ring(self, position):
        if self.fails:
            raise RuntimeError("its view store is down")
        self.rung.append(position)


def test_one_failing_subscription_does_not_keep_the_doorbell_from_the_others(caplog):
    first = Subscription("cycle.Gates", "registration", fails=True)
    second = Subscription("cycle.Board", "registration")
    other = Subscription("cycle.Plans", "planning")
    platform = bare_platform([first, second, other])
    platform.ring("registration", 42)
    assert second.rung == [42] and other.rung == []
    assert "catch-up of cycle.Gates failed" in caplog.text
