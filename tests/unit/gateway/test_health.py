"""Health checks: each bounded, the result cached for a second."""
from services.gateway import health


def test_an_unreachable_rabbitmq_is_reported_not_raised():
    result = health.rabbitmq("amqp://guest:guest@127.0.0.1:1/")
    assert result["ok"] is False and "RabbitMQ unreachable" in result["error"]
    result = health.services("amqp://guest:guest@127.0.0.1:1/", ("registration",))
    assert result["ok"] is False and "RabbitMQ unreachable" in result["error"]


def test_ledgers_report_their_heads_or_the_error(tmp_path):
    from shared.ledger import open_ledger
    store = f"sqlite:///{tmp_path}"
    open_ledger(store, "registration").close()
    assert health.ledgers(store, lambda name: open_ledger(store, name)) == {
        "ok": True, "heads": {"registration": 0}}
    broken = health.ledgers("nosuch://x", lambda name: None)
    assert broken["ok"] is False and "ledgers unreadable" in broken["error"]


def test_the_result_is_cached_and_any_failure_makes_it_unavailable():
    calls, now = [], [0.0]
    cache = health.HealthCache({"a": lambda: calls.append(1) or {"ok": True},
                                "b": lambda: {"ok": False, "error": "down"}},
                               max_age=1.0, clock=lambda: now[0])
    assert cache.current()["status"] == "unavailable"
    cache.current()
    assert len(calls) == 1
    now[0] = 2.0
    assert cache.current()["checks"]["b"] == {"ok": False, "error": "down"}
    assert len(calls) == 2
