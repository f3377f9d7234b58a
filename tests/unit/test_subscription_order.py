"""A parked event holds the later events of its stream: replayed late, out of order, it
would set a view back (the status of the village would return to an older one)."""
from shared.ledger import NewEvent, open_ledger
from shared.messaging.subscription import Subscription
from shared.views import open_view_store


class StatusBoard:
    """A projection that sets the latest status; fails on the positions it is told to."""

    def __init__(self, failing):
        self.failing, self.status = failing, {}

    def handle(self, record):
        if record.position in self.failing:
            raise RuntimeError(f"cannot apply {record.position}")
        self.status[record.stream_id] = (record.payload["status"], record.position)


def setup(tmp_path, failing):
    source = open_ledger(f"sqlite:///{tmp_path}", "registration")
    for stream, version, status in [("village-1", 0, "eligible"),   # 1
                                    ("village-2", 0, "eligible"),   # 2
                                    ("village-1", 1, "selected"),   # 3
                                    ("village-1", 2, "cycle"),      # 4
                                    ("village-2", 1, "selected")]:  # 5
        source.append(stream, version, [NewEvent("StatusSet", {"status": status})])
    state = open_view_store("memory://", "svc")
    board = StatusBoard(failing)
    subscription = Subscription("board", source, {"StatusSet": board.handle},
                                state.collection("tracking"), state.collection("parked"),
                                retries=0, backoff=0)
    return source, state, board, subscription


def parked(subscription):
    return {entry["position"]: entry["error"] for entry in subscription.parked_events()}


def test_the_events_after_a_parked_one_wait_and_are_replayed_in_order(tmp_path):
    _source, _state, board, subscription = setup(tmp_path, failing={1})
    assert subscription.catch_up() == 5
    assert board.status == {"village-2": ("selected", 5)}   # the other stream went on
    assert parked(subscription) == {1: "RuntimeError: cannot apply 1",
                                    3: "held behind #1, parked earlier in the same stream",
                                    4: "held behind #1, parked earlier in the same stream"}
    assert [o["ok"] for o in subscription.replay_parked([3])] == [False]   # 1 comes first
    board.failing = set()
    assert [(o["position"], o["ok"]) for o in subscription.replay_parked()] == \
        [(1, True), (3, True), (4, True)]
    assert board.status["village-1"] == ("cycle", 4) and parked(subscription) == {}


def test_a_replay_stops_a_stream_at_its_first_failure(tmp_path):
    _source, _state, board, subscription = setup(tmp_path, failing={1})
    subscription.catch_up()
    board.failing = {3}
    outcomes = [(o["position"], o["ok"]) for o in subscription.replay_parked()]
    assert outcomes == [(1, True), (3, False), (4, False)]
    assert board.status["village-1"] == ("eligible", 1)
    assert sorted(parked(subscription)) == [3, 4]


def test_later_events_of_a_held_stream_are_held_in_later_catch_ups_too(tmp_path):
    source, _state, board, subscription = setup(tmp_path, failing={1})
    subscription.catch_up()
    source.append("village-1", 3, [NewEvent("StatusSet", {"status": "done"})])
    subscription.catch_up()
    assert sorted(parked(subscription)) == [1, 3, 4, 6]
    assert "village-1" not in board.status


def test_a_rebuild_that_applies_a_parked_event_clears_it(tmp_path):
    _source, state, board, subscription = setup(tmp_path, failing={1})
    subscription.catch_up()
    board.failing, board.status = set(), {}
    state.collection("tracking").clear()      # the views are rebuilt from the start
    subscription.catch_up()
    assert board.status == {"village-1": ("cycle", 4), "village-2": ("selected", 5)}
    assert parked(subscription) == {}
    assert subscription.replay_parked() == []   # nothing left to set a view back


def test_a_subscription_with_no_handlers_applies_nothing_and_does_not_fail(tmp_path):
    source, state, _board, _subscription = setup(tmp_path, failing=set())
    idle = Subscription("idle", source, {}, state.collection("tracking"),
                        state.collection("parked"))
    assert idle.catch_up() == 0 and list(idle.parked_events()) == []
