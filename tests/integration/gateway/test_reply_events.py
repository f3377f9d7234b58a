"""A request the gateway gave up on must not stay in its process for good.

nameko's reply listener keeps one entry per call until its reply comes. A call that times
out because its request waited in the service's queue past GATEWAY_RPC_TIMEOUT (RabbitMQ
then drops it: ExpiringRpcProxy) never gets a reply, so without pruning its entry stayed:
one per timed-out request, for the life of the gateway process."""
import threading

import eventlet
import requests
from nameko.rpc import ReplyListener, rpc

from services.gateway.service import GatewayService
from services.gateway.web import JsonWebServer

from .test_errors import BAJUR

TIMEOUT = 0.5


class BusyRegistration:
    """One worker, each call longer than the gateway waits: the calls behind it wait in
    the queue until RabbitMQ drops them, unanswered."""
    name = "registration"

    @rpc
    def get_village(self, code):
        eventlet.sleep(3 * TIMEOUT)


def reply_listener(container):
    return next(extension for extension in container.shared_extensions.values()
                if isinstance(extension, ReplyListener))


def test_timed_out_calls_leave_no_reply_entry_behind(container_factory, gateway_config,
                                                     operator):
    config = {**gateway_config, "GATEWAY_RPC_TIMEOUT": TIMEOUT}
    container_factory(BusyRegistration, {**config, "max_workers": 1}).start()
    gateway = container_factory(GatewayService, config)
    gateway.start()
    url = f"http://127.0.0.1:{gateway.shared_extensions[JsonWebServer]._sock.getsockname()[1]}"
    _, key = operator.key()

    def get():
        answer = requests.get(f"{url}/api/v1/villages/{BAJUR}", headers={"X-API-Key": key})
        assert answer.status_code == 503, answer.text   # did not answer in time

    for _ in range(3):   # bursts: one call taken by the worker, the others expire queued
        callers = [threading.Thread(target=get) for _ in range(6)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
    eventlet.sleep(2 * TIMEOUT + 2)   # every call long over: answered late or never
    get()
    assert len(reply_listener(gateway)._reply_events) <= 1
