"""The command helper: decide on the current state, append, retry a bounded number of
times on a version conflict, and bulk jobs that fail one by one, never together."""
from dataclasses import dataclass

import pytest

from shared.chassis.commands import Decider, Job, execute, execute_many
from shared.chassis.errors import CommandRejected, Conflict
from shared.ledger import SYSTEM, Metadata, NewEvent, open_ledger

META = Metadata(SYSTEM, "corr")


@dataclass(frozen=True)
class Add:
    amount: int


def decide_add(total, command):
    if command.amount <= 0:
        raise CommandRejected("must be positive", "amount")
    return [NewEvent("Added", {"amount": command.amount})]


COUNTER = Decider(initial=lambda: 0, evolve=lambda total, e: total + e.payload["amount"],
                  decide=decide_add)


@pytest.fixture
def ledger(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path}", "counters")
    yield ledger
    ledger.close()


def interfering(ledger, times):
    """A decider whose first `times` decisions race with another writer on the stream."""
    calls = []

    def decide(total, command):
        calls.append(total)
        if len(calls) <= times:
            ledger.append("counter-1", ledger.stream_version("counter-1"),
                          [NewEvent("Added", {"amount": 100})], META)
        return decide_add(total, command)

    return Decider(COUNTER.initial, COUNTER.evolve, decide), calls


def test_execute_decides_on_the_current_state_and_records(ledger):
    first = execute(ledger, COUNTER, "counter-1", Add(2), META)
    second = execute(ledger, COUNTER, "counter-1", [Add(3), Add(4)], META)
    assert (first.state, second.state) == (2, 9)
    assert [e.payload["amount"] for e in second.events] == [3, 4]
    assert second.result.stream_version == 3


def test_a_version_conflict_is_retried_on_the_new_state(ledger):
    decider, calls = interfering(ledger, times=2)
    outcome = execute(ledger, decider, "counter-1", Add(1), META, retries=3)
    assert calls == [0, 100, 200]  # decided again each time on what the other wrote
    assert outcome.state == 201 and ledger.stream_version("counter-1") == 3


def test_retries_are_bounded_and_end_in_a_conflict_error(ledger):
    decider, calls = interfering(ledger, times=10)
    with pytest.raises(Conflict, match="kept changing"):
        execute(ledger, decider, "counter-1", Add(1), META, retries=2)
    assert len(calls) == 3


def test_a_repeated_key_returns_the_first_result_without_deciding(ledger):
    first = execute(ledger, COUNTER, "counter-1", Add(5), META, idempotency_key="k")
    again = execute(ledger, COUNTER, "counter-1", Add(-1), META, idempotency_key="k")
    assert again.duplicate and again.events == [] and again.state == 5
    assert again.result.positions == first.result.positions


def test_execute_many_refuses_jobs_one_by_one_and_sees_its_own_earlier_jobs(ledger):
    outcomes = execute_many(ledger, [
        Job(COUNTER, "counter-1", [Add(1)], META, "a"),
        Job(COUNTER, "counter-2", [Add(0)], META, "b"),          # refused alone
        Job(COUNTER, "counter-1", [Add(2)], META, "c"),          # same stream, after "a"
        Job(COUNTER, "counter-1", [Add(1)], META, "a"),          # same key: recorded once
    ])
    assert isinstance(outcomes[1], CommandRejected) and outcomes[1].field == "amount"
    assert outcomes[0].state == 1 and outcomes[2].state == 3
    assert outcomes[3].duplicate
    assert ledger.stream_version("counter-1") == 2 and ledger.stream_version("counter-2") == 0
    assert [o.duplicate for o in execute_many(ledger, [
        Job(COUNTER, "counter-1", [Add(1)], META, "a")])] == [True]


def test_a_key_used_on_another_stream_is_refused_and_nothing_is_lost(ledger):
    """The ledger keeps a key for ever; sent again with a request for another stream (a
    client that reuses keys, or the gateway's 24-hour memory expired), the request was
    answered with that other stream's state as if done, and nothing was recorded."""
    execute(ledger, COUNTER, "counter-1", Add(5), META, idempotency_key="k")
    with pytest.raises(CommandRejected, match="already used for counter-1") as refused:
        execute(ledger, COUNTER, "counter-2", Add(7), META, idempotency_key="k")
    assert refused.value.field == "idempotency_key"
    outcomes = execute_many(ledger, [Job(COUNTER, "counter-2", [Add(7)], META, "k"),
                                     Job(COUNTER, "counter-3", [Add(1)], META, "k3")])
    assert isinstance(outcomes[0], CommandRejected) and outcomes[1].state == 1
    assert ledger.stream_version("counter-2") == 0
    again = execute_many(ledger, [Job(COUNTER, "counter-3", [Add(1)], META, "k3")])
    assert again[0].duplicate and ledger.stream_version("counter-3") == 1   # a true retry


def test_a_key_recorded_by_another_request_meanwhile_answers_what_the_ledger_holds(ledger):
    """Two requests with one key at the same moment: the second finds the key at its
    append. Its answer is the ledger's state (what the key did), not its own decision,
    of which nothing was recorded (a caller told its file or meeting was on record)."""
    def racing(stream_id, key):
        def decide(total, command):
            if ledger.recorded(key) is None:   # the other request records first, same key
                ledger.append(stream_id, ledger.stream_version(stream_id),
                              [NewEvent("Added", {"amount": 100})], META, key)
            return decide_add(total, command)
        return Decider(COUNTER.initial, COUNTER.evolve, decide)

    outcome = execute(ledger, racing("counter-1", "k"), "counter-1", Add(7), META,
                      idempotency_key="k")
    assert outcome.duplicate and outcome.events == []
    assert outcome.state == 100    # was 7: a decision nothing recorded
    (job,) = execute_many(ledger, [Job(racing("counter-2", "k2"), "counter-2", [Add(7)],
                                       META, "k2")])
    assert job.duplicate and job.events == [] and job.state == 100
    (refused,) = execute_many(ledger, [Job(racing("counter-9", "k3"), "counter-3", [Add(7)],
                                           META, "k3")])   # the key went to another stream
    assert isinstance(refused, CommandRejected) and refused.field == "idempotency_key"
    assert ledger.stream_version("counter-3") == 0


def test_many_commands_on_one_stream_at_once_are_all_recorded(ledger):
    """A facilitator's app sending a village's activities at once (a dozen recorded
    offline): each command that loses the version race decides again on what won. With
    3 retries some were refused 409 'kept changing' though nothing was wrong."""
    import threading
    callers, barrier, refused = 16, threading.Barrier(16), []

    def send():
        barrier.wait()
        try:
            execute(ledger, COUNTER, "counter-1", Add(1), META)
        except Conflict as exc:
            refused.append(exc)

    for _round in range(3):
        threads = [threading.Thread(target=send) for _ in range(callers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert refused == [] and ledger.stream_version("counter-1") == 3 * callers


def test_a_request_whose_batch_keeps_losing_races_is_a_409_not_a_500(ledger):
    """execute_many gives up with the ledger's ConcurrencyError (a reaction then runs
    again at the next catch-up); a request (an import, a rule set's re-decisions) got it
    as a 500. In a worker it is a Conflict, like execute's."""
    from types import SimpleNamespace

    from shared.chassis.platform import WorkerSession
    from shared.ledger import ConcurrencyError

    decider, _calls = interfering(ledger, times=10**6)
    platform = SimpleNamespace(service_name="counters", views=None, ledger=ledger,
                               appended=lambda: None, catch_up=lambda source=None: None)
    worker = WorkerSession(platform, SimpleNamespace(
        context_data={"actor": {"id": "operator:ani", "role": "ministry"}}, origin_call_id="c"))
    with pytest.raises(Conflict, match="kept changing"):
        worker.execute_many([Job(decider, "counter-1", [Add(1)], META)])
    with pytest.raises(ConcurrencyError):   # outside a request: the caller's to retry
        execute_many(ledger, [Job(decider, "counter-1", [Add(1)], META)], retries=1)
