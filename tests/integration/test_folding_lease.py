"""Two instances of a service on one durable view store: one folds the views, the other
serves from them, waits for the folder, and takes over when it stops (decision 24)."""
import json
import os
import socket
import subprocess
import sys
import time

import eventlet
import pytest

from services.audit.service import AuditService
from shared.chassis.platform import Platform
from shared.ledger import open_ledger
from shared.ledger.verify import generate_key
from shared.messaging.folding import KEY, FoldingLease
from shared.views import open_view_store

from .conftest import wait_for
from .test_messaging import tick
from .ticking import FAILING, Consumer


def platform_of(container):
    return next(e for e in container.extensions if isinstance(e, Platform))


def counts(platform):
    return {doc["position"]: doc["times"]
            for doc in platform.views.collection("applied").find()}


@pytest.fixture
def two(container_factory, platform_config, tmp_path):
    """Two instances of the consumer on one SQLite view folder, the first started first
    (so the folder); the producer's ledger."""
    config = {**platform_config, "VIEW_URI": f"sqlite:///{tmp_path}/views"}
    producer = open_ledger(config["STORE_URI"], "producer")
    first, second = container_factory(Consumer, config), container_factory(Consumer, config)
    first.start()
    second.start()
    yield first, platform_of(first), platform_of(second), producer
    producer.close()


def test_one_instance_folds_the_other_waits_for_it_and_takes_over(two):
    first, folder, standby, producer = two
    assert folder.lease.holding and standby.lease.holding is False
    for subscription in standby.subscriptions:
        subscription.wait = 0.3

    tick(producer, 50)
    standby.catch_up()                   # a doorbell or safety-net round: applies nothing
    standby.catch_up(wait=True)          # before a command's answer: waits, in vain here
    assert counts(standby) == {}
    eventlet.spawn_after(0.1, folder.catch_up)
    for subscription in standby.subscriptions:
        subscription.wait = 10.0
    standby.catch_up(wait=True)          # back once the folder has applied them
    assert counts(standby) == {position: 1 for position in range(1, 51)}

    first.stop()                         # releases the lease: the standby takes over
    tick(producer, 10)
    standby.catch_up()
    assert standby.lease.holding
    assert counts(standby) == {position: 1 for position in range(1, 61)}


def test_a_second_audit_service_on_the_same_state_store_is_refused(container_factory,
                                                                   platform_config, tmp_path):
    (tmp_path / "key.pem").write_bytes(generate_key())
    config = {**platform_config, "TREE_HEAD_KEY": str(tmp_path / "key.pem")}
    first = container_factory(AuditService, config)
    first.start()
    with pytest.raises(SystemExit, match="another audit service .* keeps the Merkle trees"):
        container_factory(AuditService, config).start()
    first.stop()
    container_factory(AuditService, config).start()   # once the first has stopped


def test_a_lease_whose_process_is_gone_is_taken_at_once(tmp_path):
    """A restart after a kill on the same machine does not wait for the lease to run out."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    views = open_view_store(f"sqlite:///{tmp_path}", "consumer")
    leases = views.collection("leases")
    now = time.time()
    assert leases.claim(KEY, f"{socket.gethostname()}:{gone}:dead", now + 30, now)
    assert FoldingLease(views, "consumer").held()
    alive = f"{socket.gethostname()}:{os.getpid()}:other"   # this process: alive
    leases.release(KEY, leases.get(KEY)["holder"])
    assert leases.claim(KEY, alive, now + 30, now)
    assert not FoldingLease(views, "consumer").held()
    views.close()


def test_two_processes_on_one_view_store_apply_each_event_once(platform_config, tmp_path):
    """The consumer counts every application; two instances catching up every 10 ms,
    each in its own process, on one SQLite view folder: without the lease both fold."""
    config = {**platform_config, "VIEW_URI": f"sqlite:///{tmp_path}/views",
              "CATCH_UP_INTERVAL": 0.01}
    producer = open_ledger(config["STORE_URI"], "producer")
    tick(producer, 1)   # the ledger exists before the consumers read it
    command = [sys.executable, "-m", "tests.integration.consumer_process", json.dumps(config)]
    processes = [subprocess.Popen(command, env=dict(os.environ, PYTHONPATH=os.getcwd()),
                                  stderr=subprocess.DEVNULL) for _ in range(2)]
    views = open_view_store(config["VIEW_URI"], "consumer")
    try:
        wait_for(lambda: views.collection("applied").count() == 1, what="both started")
        time.sleep(1.0)
        for _ in range(40):
            tick(producer, 50)
            time.sleep(0.02)
        wait_for(lambda: views.collection("applied").count() == 2001, timeout=60,
                 what="2,001 applied")
        time.sleep(0.5)   # a second folder would have applied them again by now
        times = {doc["times"] for doc in views.collection("applied").find()}
        assert times == {1}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        views.close()
        producer.close()


def test_a_parked_event_is_replayed_by_the_folding_instance_only(two):
    _, folder, standby, producer = two
    FAILING["positions"] = {2}
    try:
        tick(producer, 3)
        folder.catch_up()
    finally:
        FAILING["positions"] = set()
    counts_of = next(s for s in standby.subscriptions if s.name.endswith("tick_counts"))
    (refused,) = counts_of.replay_parked()
    assert refused["position"] == 2 and not refused["ok"]
    assert "another instance of the service folds its views" in refused["error"]
    (replayed,) = next(s for s in folder.subscriptions
                       if s.name.endswith("tick_counts")).replay_parked()
    assert replayed["ok"] and counts(folder) == {1: 1, 2: 1, 3: 1}
