"""Calling the services over nameko RPC as the authenticated principal.

nameko's RpcProxy sends the worker's context data with every call; the services read
the actor and correlation id from it (shared.chassis.platform.WorkerSession), so every
event they record names who asked. Errors the services declare (shared.chassis.errors)
arrive as real instances and keep their status; anything else becomes 502 (a bug in a
service) or 503 (a service or RabbitMQ not there, or no answer in time), and is logged.
"""
import logging
import time
from collections import Counter, deque
from contextlib import contextmanager

import eventlet
from kombu.exceptions import OperationalError
from nameko.exceptions import BadRequest, ConfigurationError, RemoteError, UnknownService
from nameko.rpc import ReplyListener, RpcProxy

from shared.chassis.errors import CommandRejected, InvalidInput
from shared.chassis.starting import starting
from shared.config import number_setting

from .errors import BadGateway, ServiceUnavailable
from .metrics import UPSTREAM_FAILURES, UPSTREAM_SECONDS

log = logging.getLogger(__name__)


def rpc_timeout(config) -> float:
    """GATEWAY_RPC_TIMEOUT: seconds the gateway waits for a service (60); 0 would make
    every request a 503, so it is refused at start."""
    seconds = number_setting(config, "GATEWAY_RPC_TIMEOUT", 60.0, whole=False)
    if seconds <= 0:
        raise ConfigurationError(f"GATEWAY_RPC_TIMEOUT={seconds:g}: must be more than 0")
    return seconds


class ExpiringReplyListener(ReplyListener):
    """nameko's reply listener keeps an entry per call until its reply comes; a call that
    gets none (its request dropped from a busy service's queue at the timeout, an unknown
    service, RabbitMQ gone) stayed for the life of the process. Entries older than twice
    the timeout are forgotten as new calls come: nobody waits for them any more (Upstream
    stops at the timeout), and a reply that still comes is logged as of an unknown call."""

    def setup(self):
        super().setup()
        with starting(self.container.service_name):
            self.forget_after = 2 * rpc_timeout(self.container.config) + 1
        self._made = deque()   # (monotonic time, correlation id), oldest first

    def get_reply_event(self, correlation_id):
        now = time.monotonic()   # one OS thread (eventlet): no lock needed
        while self._made and now - self._made[0][0] > self.forget_after:
            self._reply_events.pop(self._made.popleft()[1], None)
        self._made.append((now, correlation_id))
        return super().get_reply_event(correlation_id)


class ExpiringRpcProxy(RpcProxy):
    """nameko's RpcProxy whose requests RabbitMQ drops when no service process took them
    within GATEWAY_RPC_TIMEOUT. A service that ran once keeps its durable queue when it
    stops: a request waited there, the caller got 503 "try again", and the service ran
    it when it came back (a write done behind the caller's back, then again on retry)."""

    rpc_reply_listener = ExpiringReplyListener()

    def setup(self):
        super().setup()
        with starting(self.container.service_name):   # a bad setting: one line, exit 1
            self.options["expiration"] = rpc_timeout(self.container.config)


class Bulkhead:
    """How many of a gateway process's requests wait on each service at once, at most
    `limit` (MAX_WORKERS less RESERVED_WORKERS). A service that takes calls and never
    answers held one worker per request until GATEWAY_RPC_TIMEOUT: enough of them and
    every other service's requests, /health too, waited for a worker."""

    def __init__(self, limit: int):
        self.limit, self.waiting = limit, Counter()

    def full(self, service) -> bool:
        return self.waiting[service] >= self.limit

    @contextmanager
    def holding(self, service):
        self.waiting[service] += 1   # one OS thread (eventlet): no lock needed
        try:
            yield
        finally:
            self.waiting[service] -= 1


RESERVED_WORKERS = 2   # workers one slow service can never take from the others


class Upstream:
    def __init__(self, proxies, timeout: float, serving, bulkhead: Bulkhead):
        """proxies: service name -> the worker's nameko ServiceProxy; serving(service):
        False when no process takes the service's calls (health.Presence); bulkhead:
        the gateway process's Bulkhead."""
        self.proxies, self.timeout = proxies, timeout
        self.serving, self.bulkhead = serving, bulkhead
        self.sent = 0   # calls sent: a refusal with none is the gateway's own (pipeline)

    def call(self, service, method, *args, **kwargs):
        if not self.serving(service):   # nothing sent: it would only wait out the timeout
            raise self._failed(service, "not_running", ServiceUnavailable(
                f"the {service} service is not running (no process takes its calls); "
                "nothing was sent, try again later", None))
        if self.bulkhead.full(service):
            raise self._failed(service, "busy", ServiceUnavailable(
                f"the {service} service has {self.bulkhead.limit} requests of this gateway "
                "waiting for it already; nothing was sent, try again later", None))
        with self.bulkhead.holding(service):
            self.sent += 1
            return self._call(service, method, *args, **kwargs)

    def _call(self, service, method, *args, **kwargs):
        started = time.perf_counter()
        try:
            with eventlet.Timeout(self.timeout):
                return getattr(self.proxies[service], method)(*args, **kwargs)
        except CommandRejected:
            raise
        except eventlet.Timeout:
            raise self._failed(service, "timeout", ServiceUnavailable(
                f"the {service} service did not answer within {self.timeout:g} s; "
                "try again", None))
        except UnknownService:
            raise self._failed(service, "not_running", ServiceUnavailable(
                f"the {service} service is not running; try again later", None))
        except RemoteError as exc:
            if exc.exc_type == "InvalidEvent":   # the ledger refused a value of the request
                raise InvalidInput(f"a value cannot be recorded: {exc.value}", "body") from None
            raise self._bug(service, method, exc)
        except BadRequest as exc:  # the route called the service wrongly: our bug
            raise self._bug(service, method, exc)
        except (OSError, OperationalError) as exc:
            raise self._failed(service, "rabbitmq", ServiceUnavailable(
                f"RabbitMQ cannot be reached ({exc}); try again later", None))
        finally:
            UPSTREAM_SECONDS.labels(service, method).observe(time.perf_counter() - started)

    def _bug(self, service, method, exc):
        kind = getattr(exc, "exc_type", type(exc).__name__)
        log.error("%s.%s failed: %s %s", service, method, kind, exc)
        return self._failed(service, "remote_error", BadGateway(
            f"the {service} service failed on this request ({kind}); it was logged", None))

    @staticmethod
    def _failed(service, kind, error):
        UPSTREAM_FAILURES.labels(service, kind).inc()
        log.warning("upstream %s: %s", service, error.message)
        return error
