"""What a subscription does with failures that are not plain Exceptions, and with a source
ledger that no longer holds the events it tracked (restored from an older backup)."""
import threading
import time

import eventlet
import pytest
from greenlet import GreenletExit

from shared.ledger import NewEvent, open_ledger
from shared.messaging.subscription import HalfRebuilt, SourceRewound, Subscription
from shared.views import open_view_store


def ledger_with(path, statuses):
    source = open_ledger(f"sqlite:///{path}", "registration")
    for version, status in enumerate(statuses):
        source.append("village-1", version, [NewEvent("StatusSet", {"status": status})])
    return source


def subscribe(source, state, handle):
    return Subscription("board", source, {"StatusSet": handle}, state.collection("tracking"),
                        state.collection("parked"), retries=1, backoff=0)


def test_a_handler_that_times_out_is_retried_then_parked_and_the_rest_applied(tmp_path):
    seen = []

    def handle(record):
        if record.position == 2:
            with eventlet.Timeout(0.01):   # the handler's own deadline, not caught
                eventlet.sleep(1)
        seen.append(record.position)

    source = ledger_with(tmp_path, ["a", "b", "c"])
    state = open_view_store("memory://", "svc")
    subscription = subscribe(source, state, handle)
    subscription.catch_up()
    assert seen == [1] and subscription.position == 3
    assert [(e["position"], e["error"].split(":")[0]) for e in subscription.parked_events()] \
        == [(2, "Timeout"), (3, "held behind #2, parked earlier in the same stream")]


def test_a_worker_killed_while_handling_parks_nothing_and_keeps_its_position(tmp_path):
    def handle(record):
        raise GreenletExit()   # what nameko throws into its threads when it stops

    source = ledger_with(tmp_path, ["a"])
    state = open_view_store("memory://", "svc")
    subscription = subscribe(source, state, handle)
    with pytest.raises(GreenletExit):
        subscription.catch_up()
    assert subscription.position == 0 and subscription.parked_events() == []


def test_a_source_restored_behind_the_tracked_position_is_refused_not_skipped(tmp_path):
    seen = []
    state = open_view_store("memory://", "svc")
    subscribe(ledger_with(tmp_path / "before", ["a", "b", "c", "d", "e"]), state,
              lambda record: None).catch_up()
    restored = ledger_with(tmp_path / "restored", ["a", "b", "c"])
    subscription = subscribe(restored, state, lambda record: seen.append(record.position))
    with pytest.raises(SourceRewound, match=r"position 5 .* head 3"):
        subscription.catch_up()
    for status in ["x", "y", "z"]:   # written after the restore: 4 and 5 are new events
        restored.append("village-1", restored.stream_version("village-1"),
                        [NewEvent("StatusSet", {"status": status})])
    with pytest.raises(SourceRewound, match=r"event #5 .* not the one applied"):
        subscription.catch_up()
    assert seen == [] and subscription.position == 5


def test_the_same_source_after_a_restart_is_caught_up_as_before(tmp_path):
    seen = []
    source = ledger_with(tmp_path, ["a", "b"])
    state = open_view_store("memory://", "svc")
    subscribe(source, state, lambda record: None).catch_up()
    source.append("village-1", 2, [NewEvent("StatusSet", {"status": "c"})])
    assert subscribe(source, state, lambda record: seen.append(record.position)).catch_up() == 1
    assert seen == [3]


def test_two_replays_at_once_run_a_parked_event_once(tmp_path):
    runs, failing = [], {1}

    def handle(record):
        if record.position in failing:
            raise RuntimeError("not yet")
        time.sleep(0.05)   # the other replay arrives meanwhile
        runs.append(record.position)

    subscription = subscribe(ledger_with(tmp_path, ["a"]), open_view_store("memory://", "svc"),
                             handle)
    subscription.catch_up()
    failing.clear()
    outcomes = []
    replays = [threading.Thread(target=lambda: outcomes.append(subscription.replay_parked()))
               for _ in range(2)]
    for replay in replays:
        replay.start()
    for replay in replays:
        replay.join()
    assert runs == [1] and sorted(map(len, outcomes)) == [0, 1]


def test_a_view_left_half_rebuilt_is_not_applied_onto(tmp_path):
    """plpbk rebuild marks the view's tracking while it replaces the view; killed there
    (kill -9, a power cut), the mark stays, and the service must not fold new events onto
    a view that is part old, part new."""
    seen = []
    state = open_view_store("memory://", "svc")
    state.collection("tracking").put("board:registration", {
        "position": 0, "source": "registration", "subscriber": "board", "rebuilding": True})
    subscription = subscribe(ledger_with(tmp_path, ["a"]), state, lambda r: seen.append(r))
    with pytest.raises(HalfRebuilt, match="plpbk rebuild board"):
        subscription.catch_up()
    assert seen == []


def test_a_handler_that_keeps_losing_version_races_is_tried_again_later_not_parked(tmp_path):
    """A reaction whose target stream changed under it on every retry (busy, not wrong):
    the catch-up stops there without parking, and the next round applies it."""
    from shared.ledger import ConcurrencyError
    races = iter(range(6))   # lost races: more than one round (two tries) retries

    def handle(record):
        if record.position == 2 and next(races, None) is not None:
            raise ConcurrencyError("cycle-52.01.08.2006", 3, 4)

    source = ledger_with(tmp_path, ["a", "b", "c"])
    state = open_view_store("memory://", "svc")
    subscription = subscribe(source, state, handle)
    with pytest.raises(ConcurrencyError):
        subscription.catch_up()
    assert subscription.position < 2 and subscription.parked_events() == []
    for _ in range(3):
        try:
            subscription.catch_up()
        except ConcurrencyError:
            continue
    assert subscription.position == 3 and subscription.parked_events() == []


def test_a_reaction_on_its_own_ledger_does_not_wait_for_itself(tmp_path):
    """A reaction to its own service's events records into the ledger it reads; after
    that append the platform catches up the subscriptions of that ledger, its own among
    them, whose lock the running catch-up holds: it waited for itself for ever. The inner
    call now returns at once, and the next round applies what the reaction recorded."""
    from types import SimpleNamespace

    from shared.chassis.platform import ServiceContext
    from shared.chassis.subscribers import React, Reaction, handles
    from tests.integration.ticking import TOCKS

    class TockOnTick(Reaction):
        name = "tock_on_tick"

        @handles("Ticked")
        def ticked(self, record):
            return React(TOCKS, f"tock-{record.event_id}", {"tick": record.position})

    own = open_ledger(f"sqlite:///{tmp_path}", "consumer")
    own.append("ticker-1", 0, [NewEvent("Ticked", {})])
    state = open_view_store("memory://", "consumer")
    subscriptions = []
    platform = SimpleNamespace(
        service_name="consumer", views=state, ledger=own,
        appended=lambda: [s.catch_up() for s in subscriptions])   # Platform.appended's
    reaction = TockOnTick(ServiceContext(platform))
    subscriptions.append(Subscription(
        "consumer.tock_on_tick", own, reaction.handlers(), state.collection("tracking"),
        state.collection("parked"), retries=0, backoff=0, batch_handler=reaction.handle_batch))
    done = []
    runner = threading.Thread(target=lambda: done.append(subscriptions[0].catch_up()),
                              daemon=True)
    runner.start()
    runner.join(10)
    assert done == [1], "the catch-up waited for itself"
    assert [r.type for r in own.iter_records()] == ["Ticked", "Tocked"]
    subscriptions[0].catch_up()     # the next round reads past what the reaction recorded
    assert subscriptions[0].position == 2 and subscriptions[0].parked_events() == []
