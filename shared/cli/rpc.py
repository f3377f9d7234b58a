"""Calling services from the command line, as an identified operator."""
import getpass
import signal
import uuid
from contextlib import contextmanager

import click
from kombu.utils.url import sanitize_url

from ..chassis.access import ROLES
from ..regions import is_region_prefix
from .common import EXIT_UNREACHABLE, fail


def actor_options(function):
    for option in reversed([
        click.option("--actor", envvar="PLPBK_ACTOR", default=lambda: f"operator:{getpass.getuser()}",
                     show_default="operator:<user>", show_envvar=True,
                     help="Who is acting: named to the service, and in every event the "
                          "command records."),
        # a choice: a typo is named before anything is sent, and no operator's command
        # acts as the platform's own role "system"
        click.option("--role", envvar="PLPBK_ROLE", default="ministry", show_default=True,
                     show_envvar=True, type=click.Choice(ROLES), help="The actor's role."),
        click.option("--region", envvar="PLPBK_REGION", default="", show_default="national",
                     show_envvar=True, callback=_a_region,
                     help="The actor's region scope (code prefix)."),
    ]):
        function = option(function)
    return function


def _a_region(_context, _parameter, value):
    if not is_region_prefix(value):
        raise click.BadParameter(f"{value!r} is not a region code prefix such as 52 or 52.01")
    return value


@contextmanager
def service_proxy(amqp_uri, actor, role, region, timeout=600):
    """A nameko cluster proxy whose calls carry the actor and a fresh correlation id."""
    from nameko.exceptions import RpcTimeout
    from nameko.standalone.rpc import ClusterRpcProxy
    correlation_id = f"cli-{uuid.uuid4()}"
    context = {"actor": {"id": actor, "role": role, "region": region},
               "correlation_id": correlation_id}
    try:
        proxy = ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout,
                                context_data=context)
        services = RunningServices(proxy.start(), amqp_uri)
        try:
            yield services
        finally:
            if not services.cut:   # a connection cut mid-frame takes no goodbye: it hangs
                proxy.stop()
    except (OSError, ConnectionError) as exc:
        fail(f"cannot reach RabbitMQ at {sanitize_url(amqp_uri)}: {exc}", EXIT_UNREACHABLE)
    except RpcTimeout:
        # the request is still queued or running: it may yet be recorded
        fail(f"no answer within {timeout:g} s (request {correlation_id}): the service may "
             "be busy or stopped; what it records meanwhile stays recorded, so look before "
             "sending it again", EXIT_UNREACHABLE)


class RunningServices:
    """The cluster proxy, refusing a service that no process serves: its durable queue
    would keep the request until the service next starts, and the command would wait
    out its whole timeout in silence."""

    def __init__(self, cluster, amqp_uri):
        self._cluster, self._amqp_uri, self._checked = cluster, amqp_uri, set()
        self.cut = False   # a Ctrl-C stopped a call: the connection may be mid-frame

    def __getattr__(self, service):
        if service not in self._checked:
            if _consumers(self._amqp_uri, service) == 0:
                fail(f"the {service} service is not running (no process takes its calls): "
                     "start it (make run) and try again; nothing was sent", EXIT_UNREACHABLE)
            self._checked.add(service)
        return _Calls(self, getattr(self._cluster, service))


class _Interrupted(BaseException):
    """Ctrl-C during a call. Not a KeyboardInterrupt: nameko's reply wait answers that by
    resetting its consumer over the connection the signal may have cut mid-frame, and
    waits for an answer that never comes (1 Ctrl-C in ~35 hung the command for good)."""


class _Calls:
    """A service's RPC methods; Ctrl-C during a call stops it as a KeyboardInterrupt
    raised here, outside nameko."""

    def __init__(self, services, proxy):
        self._services, self._proxy = services, proxy

    def __getattr__(self, method):
        call = getattr(self._proxy, method)

        def interruptible(*args, **kwargs):
            def interrupt(*_):
                raise _Interrupted
            previous = signal.signal(signal.SIGINT, interrupt)
            try:
                return call(*args, **kwargs)
            except _Interrupted:
                self._services.cut = True
                raise KeyboardInterrupt from None
            finally:
                signal.signal(signal.SIGINT, previous)
        return interruptible


def _consumers(amqp_uri, service):
    """How many processes consume the service's RPC queue; None when it has none (a
    service that never ran: nameko itself answers UnknownService then)."""
    import kombu

    from ..messaging.presence import rpc_consumers

    with kombu.Connection(amqp_uri) as connection:
        return rpc_consumers(connection, service)