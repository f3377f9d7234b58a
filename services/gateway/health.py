"""GET /health: can the platform work? RabbitMQ answers, a process of every service takes
its calls, and every ledger can be read.

Checked at most once a second per gateway process (a busy monitor costs nothing), each
check bounded in time; 200 when all are fine, 503 naming what is not.
"""
import time

import eventlet
import kombu
from eventlet.semaphore import Semaphore

from shared.ledger import ledger_names
from shared.messaging.presence import rpc_consumers

CHECK_TIMEOUT = 3.0


def rabbitmq(amqp_uri) -> dict:
    started = time.perf_counter()
    try:
        with eventlet.Timeout(CHECK_TIMEOUT):
            with kombu.Connection(amqp_uri, connect_timeout=CHECK_TIMEOUT) as connection:
                connection.ensure_connection(max_retries=1)
    except BaseException as exc:  # eventlet.Timeout is a BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return {"ok": False, "error": f"RabbitMQ unreachable: {exc or type(exc).__name__}"}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def services(amqp_uri, names) -> dict:
    """How many processes take each service's RPC calls (consumers of its queue). A
    service that stopped keeps its queue: only the count says no one is there."""
    try:
        with eventlet.Timeout(CHECK_TIMEOUT):
            with kombu.Connection(amqp_uri, connect_timeout=CHECK_TIMEOUT) as connection:
                # a queue that does not exist: the service never ran here
                processes = {name: rpc_consumers(connection, name) or 0 for name in names}
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return {"ok": False, "error": f"RabbitMQ unreachable: {exc or type(exc).__name__}"}
    missing = [name for name, count in processes.items() if count == 0]
    if missing:
        return {"ok": False, "processes": processes,
                "error": f"not running (no process takes its calls): {', '.join(missing)}"}
    return {"ok": True, "processes": processes}


def ledgers(store_uri, open_source) -> dict:
    """Heads of every ledger at the store; open_source(name) gives a (cached) Ledger."""
    try:
        with eventlet.Timeout(CHECK_TIMEOUT):
            heads = {name: open_source(name).head().position
                     for name in ledger_names(store_uri)}
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return {"ok": False, "error": f"ledgers unreadable: {exc or type(exc).__name__}"}
    return {"ok": True, "heads": heads}


class HealthCache:
    def __init__(self, checks, max_age=1.0, clock=time.monotonic):
        """checks: name -> function() -> {"ok": bool, ...}."""
        self.checks, self.max_age, self.clock = checks, max_age, clock
        self._result, self._at = None, None
        self._refreshing = Semaphore(1)   # one refresh at a time; the others wait for it

    def current(self, wait=True) -> dict:
        """The checks' result, refreshed when older than max_age. wait=False: while
        another caller refreshes, the previous result (if any) at once."""
        if self._stale():
            if not wait and self._result is not None and self._refreshing.locked():
                return self._result
            with self._refreshing:
                if self._stale():
                    results = {name: check() for name, check in self.checks.items()}
                    ok = all(result["ok"] for result in results.values())
                    self._result = {"status": "ok" if ok else "unavailable",
                                    "checks": results}
                    self._at = self.clock()
        return self._result

    def _stale(self):
        return self._result is None or self.clock() - self._at > self.max_age


class Presence:
    """Which services have a process taking their calls, checked at most every max_age
    seconds and shared by /health and every request: a call to a service no process
    serves is a 503 at once, instead of a wait of GATEWAY_RPC_TIMEOUT that holds one of
    the gateway's workers (enough such waits and /health itself would hang)."""

    def __init__(self, amqp_uri, names, max_age=1.0, clock=time.monotonic):
        self._cache = HealthCache({"services": lambda: services(amqp_uri, names)}, max_age,
                                  clock)

    def check(self) -> dict:
        # every request asks: none waits for another's refresh (a connection to RabbitMQ)
        return self._cache.current(wait=False)["checks"]["services"]

    def serving(self, name) -> bool:
        """False only when RabbitMQ said no process consumes the service's queue; when
        the check itself failed, the call goes ahead and meets the trouble itself."""
        return self.check().get("processes", {}).get(name) != 0
