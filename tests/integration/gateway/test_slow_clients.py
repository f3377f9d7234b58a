"""Clients on slow or broken links (a village's mobile network, a stuck integration)
must not hold what every other client needs: the gateway's workers, or a connection
for ever."""
import time

import orjson
import requests

from .conftest import start_gateway
from .test_errors import connect, read_answer

HALF_A_BODY = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: gateway\r\n"
               b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user")


def test_clients_slow_to_send_their_body_hold_no_worker(container_factory, gateway_config,
                                                        backends):
    """The body was read inside a nameko worker: as many stalled uploads as workers
    (MAX_WORKERS, 20 by default) froze the gateway, /health included."""
    base = start_gateway(container_factory, {**gateway_config, "max_workers": 2})
    stalled = [connect(base) for _ in range(4)]
    for connection in stalled:
        connection.sendall(HALF_A_BODY)
    time.sleep(0.3)
    started = time.monotonic()
    assert requests.get(f"{base}/health", timeout=10).status_code == 200
    assert requests.post(f"{base}/api/v1/auth/login", timeout=10,
                         json={"username": "nobody", "password": "x"}).status_code == 401
    assert time.monotonic() - started < 5
    for connection in stalled:
        connection.close()


def test_a_client_that_stalls_is_answered_408_and_let_go(container_factory, gateway_config,
                                                         backends):
    """No socket timeout: a stalled body or request head held its connection for ever."""
    base = start_gateway(container_factory, {**gateway_config,
                                             "GATEWAY_CLIENT_TIMEOUT": "0.5"})
    with connect(base) as stalled_body:
        stalled_body.sendall(HALF_A_BODY)
        started = time.monotonic()
        status, headers, body = read_answer(stalled_body)
        assert time.monotonic() - started < 5
    assert (status, headers["content-type"], headers["connection"]) == (
        408, "application/json", "close"), body
    error = orjson.loads(body)
    assert (error["error"], error["field"]) == ("RequestTimeout", "body"), error
    assert "0.5 s" in error["message"]
    with connect(base) as stalled_head:
        stalled_head.sendall(b"GET /health HTTP/1.1\r\nHost: gateway\r\n")
        started = time.monotonic()
        assert stalled_head.recv(100) == b""   # closed, nothing to answer yet
        assert time.monotonic() - started < 5
    # a client that keeps sending, however slowly, is not cut off
    with connect(base) as slow:
        slow.sendall(HALF_A_BODY[:-6])
        for byte in b'{"username": "nobody", "password": "x"}'.ljust(100):
            slow.sendall(bytes([byte]))
            time.sleep(0.01)
        assert read_answer(slow)[0] == 401
