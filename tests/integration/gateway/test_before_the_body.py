"""What is refused before a request's body is read: the client is told at once, is not
asked for the body, and the connection is closed (its unread body could otherwise be
read as the next request, or read in full, up to gigabytes, only to be dropped)."""
import socket
import time

import pytest
import requests

from .test_api import registration_records
from .test_errors import connect
from .test_hostile_input import REGISTER, register_head
from .test_http_conformance import expect_error, read_one

BIG = 2 * 1024 * 1024   # over the 1 MiB a registration may have
ATTACHMENTS = b"/api/v1/villages/52.01.08.2006/attachments"


@pytest.fixture
def district(as_user):
    return as_user("district", "52.01")


def answered_then_closed(raw):
    """The one answer, then the end of the connection (not a wait for more body)."""
    stream = raw.makefile("rb")
    answer = read_one(stream)
    started = time.monotonic()
    try:
        rest = stream.read()
    except (ConnectionResetError, socket.timeout) as exc:   # timeout: still open
        rest = exc
    assert rest == b"", (answer[0], rest)
    assert time.monotonic() - started < 5
    return answer


def anonymous_head(path, *lines):
    return (b"POST %s HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n" % path
            + b"".join(line + b"\r\n" for line in lines) + b"\r\n")


@pytest.mark.parametrize("framing", [b"Content-Length: %d" % BIG, b"Transfer-Encoding: chunked"])
def test_a_413_closes_the_connection_without_reading_the_body(gateway, district,
                                                              gateway_config, framing):
    """eventlet read (and dropped) the whole declared body to keep the connection alive:
    a client declaring gigabytes kept a connection reading them."""
    district.get("/api/v1/eligibility/rule-set")
    recorded = registration_records(gateway_config)
    with connect(gateway) as raw:
        raw.sendall(register_head(district, b"Content-Type: application/json", framing))
        if b"chunked" in framing:   # a chunked body is known too large once past the limit
            raw.sendall(b"%x\r\n%s\r\n" % (BIG, b"x" * BIG))
        else:
            raw.sendall(b"x" * 1000)   # a little of it; the rest never comes
        status, headers, body = answered_then_closed(raw)
    expect_error((status, headers, body), 413, "PayloadTooLarge", "body")
    assert headers["connection"] == "close"
    assert registration_records(gateway_config) == recorded


@pytest.mark.parametrize("credentials", [
    None, b"Authorization: Bearer not-a-token", b"X-API-Key: plpbk_0123456789ab_forged"])
def test_expect_100_continue_without_valid_credentials_is_401_before_the_body(
        gateway, credentials):
    with connect(gateway) as raw:
        raw.sendall(anonymous_head(b"/api/v1/villages", *filter(None, [credentials]),
                                   b"Expect: 100-continue",
                                   b"Content-Length: %d" % len(REGISTER)))
        status, headers, body = answered_then_closed(raw)   # no 100 Continue first
    expect_error((status, headers, body), 401, "Unauthorized", "X-API-Key" if credentials
                 and b"X-API-Key" in credentials else "Authorization")
    assert headers["connection"] == "close"
    assert "www-authenticate" in headers


def test_an_anonymous_upload_is_refused_before_its_body_is_read(gateway):
    """Without Expect too: a client with no credentials cannot make the gateway hold
    28 MiB of attachment (or wait for it) per connection before it is told 401."""
    with connect(gateway) as raw:
        raw.sendall(anonymous_head(ATTACHMENTS, b"Content-Length: %d" % (20 * 1024 * 1024)))
        status, headers, body = answered_then_closed(raw)
    expect_error((status, headers, body), 401, "Unauthorized", "Authorization")
    assert headers["connection"] == "close"


def test_valid_credentials_still_get_100_continue_and_the_body_is_read(gateway, district):
    with connect(gateway) as raw:
        raw.sendall(register_head(district, b"Content-Type: application/json",
                                  b"Expect: 100-continue",
                                  b"Content-Length: %d" % len(REGISTER)))
        stream = raw.makefile("rb")
        assert read_one(stream)[0] == 100
        raw.sendall(REGISTER)
        assert read_one(stream)[0] == 201


def test_a_client_sending_its_whole_body_still_reads_the_early_answer(gateway, district):
    """A client library that sends the body without waiting (no Expect) gets the early
    answer, not a connection error."""
    for headers, size, status in (({}, 20, 401), (district.headers, 40, 413)):
        answer = requests.post(gateway + ATTACHMENTS.decode(), data=b"x" * (size << 20),
                               timeout=30,
                               headers={**headers, "Content-Type": "application/json"})
        assert answer.status_code == status, answer.text


def test_the_rest_of_a_refused_body_is_taken_for_a_moment_not_reset(gateway, district):
    """After an early answer the gateway shuts its side and drops what still comes for up
    to LINGER_SECONDS (a lingering close, RFC 9112 9.6). Closed at once with the body
    unread, its kernel resets the connection, and a client still sending, on a slower
    link than this one, loses the answer that was on its way."""
    with connect(gateway) as raw:
        raw.sendall(register_head(district, b"Content-Type: application/json",
                                  b"Content-Length: %d" % (64 * 1024 * 1024)))
        status, headers, _ = read_one(raw.makefile("rb"))
        assert (status, headers["connection"]) == (413, "close")
        started = time.monotonic()
        while time.monotonic() - started < 0.3:   # still sending: taken, no reset
            raw.sendall(b"x" * 65536)
        raw.shutdown(socket.SHUT_WR)
        assert raw.recv(1) == b""   # then closed in order


@pytest.mark.parametrize("method, path", [(b"POST", b"/api/v1/auth/login"),
                                          (b"GET", b"/health"), (b"GET", b"/openapi.json")])
def test_what_anyone_may_send_without_credentials_is_small(gateway, method, path):
    """The public routes take a login's few hundred bytes, or no body at all: a 1 MiB
    body to each of a thousand connections kept a gigabyte in the gateway for anyone."""
    with connect(gateway) as raw:
        raw.sendall(b"%s %s HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n" % (method, path, 64 * 1024))
        status, headers, body = answered_then_closed(raw)
    expect_error((status, headers, body), 413, "PayloadTooLarge", "body")


def test_a_login_with_the_longest_password_in_json_escapes_fits(gateway, operator):
    """256 characters, each outside the BMP and escaped as a surrogate pair (12 bytes)."""
    password = "\U0001f600" * 256
    operator.user("siti", "district", "52.01", password=password)
    body = ('{"username": "siti", "password": "%s"}' % (
        "\\ud83d\\ude00" * 256)).encode()
    answer = requests.post(f"{gateway}/api/v1/auth/login", data=body, timeout=30,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text


def authorized_head(client, path, *lines):
    """A POST head with the client's token and a JSON Content-Type."""
    return anonymous_head(path, b"Authorization: " + client.headers["Authorization"].encode(),
                          *lines)


@pytest.mark.parametrize("path, size", [(b"/api/v1/villages", 512 * 1024),
                                        (ATTACHMENTS, 20 * 1024 * 1024)])
def test_a_read_only_role_is_refused_a_write_before_its_body_is_read(
        gateway, as_user, gateway_config, path, size):
    """The role is known from the head: an auditor sending a large body to a write was
    read in full (up to 28 MiB for an attachment) before being told 403."""
    auditor = as_user("auditor")
    recorded = registration_records(gateway_config)
    with connect(gateway) as raw:
        raw.sendall(authorized_head(auditor, path, b"Content-Length: %d" % size))
        raw.sendall(b"x" * 1000)   # a little of it; the rest never comes
        status, headers, body = answered_then_closed(raw)
    assert expect_error((status, headers, body), 403, "Forbidden", "role") == (
        "role auditor is read-only")
    assert headers["connection"] == "close"
    assert registration_records(gateway_config) == recorded


def test_expect_100_continue_of_a_read_only_role_is_403_before_the_body(gateway, as_user):
    with connect(gateway) as raw:
        raw.sendall(authorized_head(as_user("auditor"), b"/api/v1/villages",
                                    b"Expect: 100-continue",
                                    b"Content-Length: %d" % len(REGISTER)))
        answer = answered_then_closed(raw)   # no 100 Continue first
    expect_error(answer, 403, "Forbidden", "role")


def test_a_region_named_in_the_path_is_judged_before_the_body(gateway, as_user):
    """A district uploading to a village of another kabupaten: the path says so."""
    elsewhere = as_user("district", "52.02")
    with connect(gateway) as raw:
        raw.sendall(authorized_head(elsewhere, ATTACHMENTS,
                                    b"Content-Length: %d" % (20 * 1024 * 1024)))
        raw.sendall(b"x" * 1000)
        status, headers, body = answered_then_closed(raw)
    assert "outside your region 52.02" in expect_error((status, headers, body), 403,
                                                       "Forbidden", "code")
    assert headers["connection"] == "close"


def test_a_path_parameter_that_is_no_code_is_400_before_the_body(gateway, district):
    with connect(gateway) as raw:
        raw.sendall(authorized_head(district, b"/api/v1/villages/52.01.08/attachments",
                                    b"Content-Length: %d" % (20 * 1024 * 1024)))
        raw.sendall(b"x" * 1000)
        status, headers, body = answered_then_closed(raw)
    expect_error((status, headers, body), 400, "InvalidInput", "code")


@pytest.mark.parametrize("role, region, path", [
    ("district", "52.01", ATTACHMENTS),                    # inside its region
    ("auditor", "", b"/api/v1/audit/bundles")])            # a read sent as POST
def test_who_may_write_is_still_asked_for_the_body(gateway, as_user, role, region, path):
    with connect(gateway) as raw:
        raw.sendall(authorized_head(as_user(role, region), path, b"Expect: 100-continue",
                                    b"Content-Length: 2"))
        stream = raw.makefile("rb")
        assert read_one(stream)[0] == 100
        raw.sendall(b"{}")
        status, _headers, body = read_one(stream)
    assert status == 400 and b'"field"' in body, body   # the body was read and judged
