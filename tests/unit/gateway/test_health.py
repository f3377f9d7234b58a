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


def test_requests_asking_which_services_run_never_wait_for_a_refresh():
    """Every request asks; the refresh (a connection to RabbitMQ) is one request's to
    wait for, the others take the previous answer meanwhile."""
    import eventlet
    from eventlet.event import Event

    now, released, answers = [0.0], Event(), iter([{"registration": 1}, {"registration": 0}])

    def counted():
        processes = next(answers)
        if processes["registration"] == 0:
            released.wait()   # the refresh takes its time
        return {"ok": True, "processes": processes}

    presence = health.Presence("amqp://unused", ("registration",), clock=lambda: now[0])
    presence._cache.checks["services"] = counted
    assert presence.serving("registration")
    now[0] = 2.0
    refreshing = eventlet.spawn(presence.serving, "registration")
    eventlet.sleep(0)              # it holds the refresh
    with eventlet.Timeout(2):   # waiting would be for ever: the refresh waits for us
        assert presence.serving("registration")   # the previous answer, at once
    released.send()
    assert refreshing.wait() is False
    assert not presence.serving("registration")
