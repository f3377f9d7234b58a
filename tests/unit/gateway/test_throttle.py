"""Failed logins: free at first, then locked for 1 s, 2 s, 4 s, ... per subject."""
import multiprocessing
import time

import pytest

from services.gateway.errors import TooManyRequests
from services.gateway.throttle import LoginThrottle, Policy
from shared.views import open_view_store


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def throttle(clock):
    store = open_view_store("memory://", "gateway")
    return LoginThrottle(store.collection("login_failures"),
                         {"user": Policy(3), "address": Policy(5)}, clock)


USER, ADDRESS = ("user", "siti"), ("address", "10.0.0.1")


def test_lockouts_double_after_the_free_failures(throttle, clock):
    for _ in range(3):
        throttle.check([USER, ADDRESS])
        throttle.failed([USER, ADDRESS])
    throttle.check([USER])   # three free failures
    throttle.failed([USER])  # the fourth locks for 1 s
    with pytest.raises(TooManyRequests) as locked:
        throttle.check([USER, ADDRESS])
    assert locked.value.retry_after == 1 and locked.value.field == "username"
    clock.now += 1.01
    throttle.check([USER])
    throttle.failed([USER])  # the fifth: 2 s
    clock.now += 1.5
    with pytest.raises(TooManyRequests):
        throttle.check([USER])
    clock.now += 0.6
    throttle.check([USER])


def test_the_lock_is_capped_and_failures_are_forgotten():
    policy = Policy(3, first_lock_seconds=1, max_lock_seconds=900)
    assert [policy.lock_seconds(n) for n in (1, 3, 4, 5, 6, 30)] == [0, 0, 1, 2, 4, 900]


def test_addresses_are_throttled_across_usernames(throttle):
    for number in range(6):
        throttle.failed([("user", f"guess{number}"), ADDRESS])
    with pytest.raises(TooManyRequests) as locked:
        throttle.check([("user", "someone-else"), ADDRESS])
    assert locked.value.field == "address"


def test_success_clears_the_username_not_the_address(throttle, clock):
    for _ in range(6):
        throttle.failed([USER, ADDRESS])
    throttle.succeeded("siti")
    throttle.check([USER])
    with pytest.raises(TooManyRequests):
        throttle.check([ADDRESS])


def test_old_failures_are_forgotten(throttle, clock):
    for _ in range(3):
        throttle.failed([USER])
    clock.now += 3601
    throttle.failed([USER])   # counts as the first again: no lock
    throttle.check([USER])


def test_failures_forgotten_are_deleted_not_kept_for_ever(clock):
    """Every username and address ever tried left a document: a spray of made-up
    usernames grew the state store for good."""
    store = open_view_store("memory://", "gateway")
    failures = store.collection("login_failures")
    throttle = LoginThrottle(failures, {"user": Policy(3), "address": Policy(5)}, clock,
                             expiry=store.collection("login_failures_expiry"))
    for number in range(30):
        throttle.failed([("user", f"guess{number}"), ADDRESS])
    throttle.failed([USER])
    clock.now += 3000
    throttle.failed([USER])                            # siti's count goes on
    clock.now += 1000                                  # the guesses are an hour old
    for _ in range(4):   # each failure recorded deletes a few forgotten ones
        throttle.failed([("user", "budi")])
    assert failures.get("user:guess0") is None and failures.get("address:10.0.0.1") is None
    assert failures.get("user:siti")["failures"] == 2   # failed 1000 s ago: remembered
    assert failures.count() == 2                        # siti and budi


def _guess(uri, start, count):
    store = open_view_store(uri, "gateway")
    throttle = LoginThrottle(store.collection("login_failures"), {"user": Policy(3)})
    while time.time() < start:   # all at once
        pass
    for _ in range(count):
        throttle.failed([USER])
    store.close()


def test_failures_at_once_on_several_gateways_are_each_counted(tmp_path):
    """Gateway processes share the state store: a guesser spreading guesses over them
    got a read-then-write count that lost some of them (40 of 160 here)."""
    uri = f"sqlite:///{tmp_path}"
    open_view_store(uri, "gateway").close()
    context = multiprocessing.get_context("spawn")
    start = time.time() + 2.0
    workers = [context.Process(target=_guess, args=(uri, start, 40)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    store = open_view_store(uri, "gateway")
    assert store.collection("login_failures").get("user:siti")["failures"] == 160
    store.close()
