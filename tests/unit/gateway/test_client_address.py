"""The client address the login throttle counts by: the peer, or what a trusted proxy
forwards (GATEWAY_TRUSTED_PROXIES), never what a client says of itself."""
import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway.login import client_address, proxy_networks

TRUSTED = proxy_networks("10.9.0.0/16, 127.0.0.1, fd00::/8")


def request(peer, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return Request(EnvironBuilder(headers=headers,
                                  environ_base={"REMOTE_ADDR": peer}).get_environ())


@pytest.mark.parametrize("peer, forwarded, client", [
    ("203.0.113.7", None, "203.0.113.7"),
    ("203.0.113.7", "198.51.100.9", "203.0.113.7"),       # not a proxy: its own word
    ("127.0.0.1", "198.51.100.9", "198.51.100.9"),
    ("127.0.0.1", "1.2.3.4, 198.51.100.9", "198.51.100.9"),   # the client wrote 1.2.3.4
    ("10.9.0.2", "198.51.100.9, 10.9.3.4", "198.51.100.9"),    # through two proxies
    ("127.0.0.1", None, "127.0.0.1"),                        # a proxy that forwards none
    ("127.0.0.1", "", "127.0.0.1"),
    ("::ffff:127.0.0.1", "198.51.100.9", "198.51.100.9"),    # IPv4 on an IPv6 socket
    ("fd00::1", "2001:db8::5", "2001:db8::5"),
])
def test_the_client_is_the_peer_or_what_trusted_proxies_forward(peer, forwarded, client):
    assert client_address(request(peer, forwarded), TRUSTED) == client


def test_no_proxy_is_trusted_unless_named():
    assert client_address(request("127.0.0.1", "198.51.100.9"), ()) == "127.0.0.1"
