"""HTTP/1.1 as RFC 9110 and RFC 9112 define it, spoken over raw sockets where a client
library would hide the problem: what another government system's HTTP stack (or a proxy
in front of the gateway) may send, and what it must get back. Every refusal is the
gateway's JSON error naming the part at fault, and the next request is served."""
import orjson
import pytest

from .test_api import registration_records
from .test_errors import connect, raw_request
from .test_hostile_input import REGISTER, SMUGGLED, register_head


@pytest.fixture
def district(as_user):
    return as_user("district", "52.01")


def read_one(stream, head=False):
    """(status, headers, body) of the next answer on a kept-alive connection: its body
    is Content-Length bytes (none for HEAD or a 1xx)."""
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(status_line.split()[1])
    length = 0 if head or status < 200 else int(headers.get("content-length", 0))
    return status, headers, stream.read(length)


def still_serving(gateway):
    """A plain request after a refusal: the server is not disturbed by it."""
    answer = raw_request(gateway, b"GET /health HTTP/1.1\r\nHost: gateway\r\n"
                                  b"Connection: close\r\n\r\n")
    assert answer[0] == 200, answer


def expect_error(answer, status, error, field):
    """One JSON error (orjson refuses anything after it: no second answer was read), dated
    like every 4xx of a server with a clock (RFC 9110, 6.6.1)."""
    code, headers, body = answer
    assert (code, headers.get("content-type")) == (status, "application/json"), body[:300]
    assert headers.get("date", "").endswith(" GMT"), headers
    found = orjson.loads(body)
    assert (found["error"], found["field"]) == (error, field), found
    assert "Traceback" not in found["message"], found
    return found["message"]


@pytest.mark.parametrize("host_lines", [
    [],                                       # none at all (RFC 9112, 3.2: MUST be 400)
    [b"Host: gateway gateway"],               # not uri-host [":" port]
    [b"Host: gateway:80a"],                   # a port that is no number
    [b"Host: gateway/api"],
    [b"Host: user@gateway"],                  # userinfo is not part of Host
    [b"Host: [::1"],
])
def test_an_http11_request_without_one_valid_host_is_400_naming_host(
        gateway, district, gateway_config, host_lines):
    district.get("/api/v1/eligibility/rule-set")   # the seed rule set, published on first use
    recorded = registration_records(gateway_config)
    head = (b"POST /api/v1/villages HTTP/1.1\r\n" + b"".join(l + b"\r\n" for l in host_lines) +
            b"Authorization: " + district.headers["Authorization"].encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(REGISTER))
    answer = raw_request(gateway, head + REGISTER)
    message = expect_error(answer, 400, "InvalidInput", "Host")
    assert "Host" in message
    assert answer[1]["connection"] == "close"
    assert registration_records(gateway_config) == recorded
    still_serving(gateway)


@pytest.mark.parametrize("head", [
    b"GET /health HTTP/1.0\r\n\r\n",                              # HTTP/1.0 needs no Host
    b"GET /health HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n",   # empty: allowed
    b"GET /health HTTP/1.1\r\nHost: gateway.example.go.id:8000\r\nConnection: close\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: 10.0.0.7\r\nConnection: close\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: [::1]:8000\r\nConnection: close\r\n\r\n",
    b"GET /health HTTP/1.1\r\nhost: GATEWAY\r\nConnection: close\r\n\r\n",
])
def test_every_valid_host_is_served(gateway, head):
    assert raw_request(gateway, head)[0] == 200


@pytest.mark.parametrize("line, field", [
    (b"X(Note): hello", "headers"),     # '(' is no token character (RFC 9110, 5.1)
    (b"X-Note\x01: hello", "headers"),
    (b"X/Note: hello", "headers"),
    (b"X-Note: a\x00b", "X-Note"),      # NUL, CR and LF MUST be refused or replaced (5.5)
    (b"X-Note: a\x1bb", "X-Note"),      # other control characters are not field text
    (b"X-Note: a\x7fb", "X-Note"),
])
def test_a_header_name_or_value_outside_http_grammar_is_400(gateway, district,
                                                            gateway_config, line, field):
    district.get("/api/v1/eligibility/rule-set")
    recorded = registration_records(gateway_config)
    answer = raw_request(gateway, register_head(
        district, line, b"Content-Type: application/json", b"Connection: close",
        b"Content-Length: %d" % len(REGISTER)) + REGISTER)
    expect_error(answer, 400, "InvalidInput", field)
    assert answer[1]["connection"] == "close"
    assert registration_records(gateway_config) == recorded
    still_serving(gateway)


def test_a_header_value_with_tabs_and_latin1_text_is_taken(gateway):
    answer = raw_request(gateway, b"GET /health HTTP/1.1\r\nHost: gateway\r\n"
                                  b"X-Note: a\tb \xe9\r\nConnection: close\r\n\r\n")
    assert answer[0] == 200, answer


def test_transfer_encoding_in_an_http10_request_is_400(gateway, district, gateway_config):
    """HTTP/1.0 has no chunked coding: the framing is faulty (RFC 9112, 6.1). eventlet
    read the chunks as the body; kept alive, a proxy in front could take them for the
    next request."""
    district.get("/api/v1/eligibility/rule-set")
    recorded = registration_records(gateway_config)
    head = register_head(district, b"Content-Type: application/json",
                         b"Transfer-Encoding: chunked", b"Connection: keep-alive")
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(REGISTER), REGISTER)
    answer = raw_request(gateway, head.replace(b"HTTP/1.1", b"HTTP/1.0", 1) + chunked +
                         SMUGGLED)
    expect_error(answer, 400, "InvalidInput", "Transfer-Encoding")
    assert answer[1]["connection"] == "close"
    assert registration_records(gateway_config) == recorded


@pytest.mark.parametrize("line", [b"GET /health HTTP/01.1", b"GET /health HTTP/1.10",
                                  b"GET /health"])
def test_an_http_version_outside_its_grammar_is_400(gateway, line):
    """HTTP-version is 'HTTP/' DIGIT '.' DIGIT (RFC 9112, 2.3); the standard library took
    '01.1' and '1.10' for 1.1, and a line with no version for HTTP/0.9."""
    answer = raw_request(gateway, line + b"\r\nHost: gateway\r\nConnection: close\r\n\r\n")
    expect_error(answer, 400, "InvalidInput", "version")
    still_serving(gateway)


def test_a_method_the_path_does_not_take_is_405_with_allow(gateway, district):
    """405 with Allow listing the path's methods (RFC 9110, 15.5.6), for a method HTTP
    defines and one it does not (answered 405 rather than 501: no 5xx for a client's
    mistake). Methods are case-sensitive (9.1): 'get' was served as GET. All on one
    kept-alive connection, with the next request served after."""
    auth = b"Authorization: " + district.headers["Authorization"].encode() + b"\r\n"
    asks = [(b"BREW /health", 405, "GET, HEAD"), (b"get /health", 405, "GET, HEAD"),
            (b"QUERY /health", 405, "GET, HEAD"),
            (b"Delete /api/v1/villages", 405, "GET, HEAD, POST"),
            (b"DELETE /api/v1/villages", 405, "GET, HEAD, POST"),
            (b"PUT /health", 405, "GET, HEAD"), (b"TRACE /health", 405, "GET, HEAD"),
            (b"HEAD /api/v1/auth/login", 405, "POST"),
            (b"BREW /nowhere", 404, None), (b"get /nowhere", 404, None),
            (b"GET /api/v1/villages?page_size=1", 200, None)]
    with connect(gateway) as raw:
        raw.sendall(b"".join(ask + b" HTTP/1.1\r\nHost: gateway\r\n" + auth +
                             b"Content-Length: 0\r\n\r\n" for ask, _, _ in asks))
        stream = raw.makefile("rb")
        for ask, status, allow in asks:
            head = ask.startswith(b"HEAD")
            found, headers, body = read_one(stream, head=head)
            assert found == status, (ask, found, body)
            assert headers.get("allow") == allow, (ask, headers)
            if status == 405 and not head:
                error = orjson.loads(body)
                assert (error["error"], error["field"]) == ("MethodNotAllowed", "method")
                assert ask.split()[0].decode() in error["message"], error


def test_head_answers_the_get_headers_with_no_body(gateway, district):
    """On one kept-alive connection: a body after HEAD's headers would be read as the
    start of the next answer."""
    auth = b"Authorization: " + district.headers["Authorization"].encode() + b"\r\n"
    with connect(gateway) as raw:
        for path in (b"/api/v1/villages?page_size=1", b"/openapi.json", b"/nowhere"):
            raw.sendall(b"HEAD %s HTTP/1.1\r\nHost: gateway\r\n%s\r\n"
                        b"GET %s HTTP/1.1\r\nHost: gateway\r\n%s\r\n" % (path, auth, path,
                                                                         auth))
            stream = raw.makefile("rb")
            head_status, head_headers, _ = read_one(stream, head=True)
            get_status, get_headers, body = read_one(stream)
            assert head_status == get_status, path
            for name in ("content-type", "content-length"):
                assert head_headers[name] == get_headers[name], (path, name)
            assert len(body) == int(get_headers["content-length"]) > 0


def test_expect_100_continue_is_answered_before_the_body(gateway, district, gateway_config):
    district.get("/api/v1/eligibility/rule-set")
    head = register_head(district, b"Content-Type: application/json", b"Expect: 100-continue",
                         b"Content-Length: %d" % len(REGISTER))
    with connect(gateway) as raw:
        raw.sendall(head)
        stream = raw.makefile("rb")
        assert read_one(stream)[0] == 100
        raw.sendall(REGISTER)
        status, headers, body = read_one(stream)
        assert status == 201, body
        assert "connection" not in headers   # kept alive: the next request is served
        raw.sendall(b"GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n")
        assert read_one(stream)[0] == 200
    # a body too large is refused without 100 Continue: the client need not send it
    recorded = registration_records(gateway_config)
    answer = raw_request(gateway, register_head(
        district, b"Content-Type: application/json", b"Expect: 100-continue",
        b"Content-Length: %d" % (2 * 1024 * 1024)))
    expect_error(answer, 413, "PayloadTooLarge", "body")
    assert answer[1]["connection"] == "close"
    assert registration_records(gateway_config) == recorded


def test_an_http10_client_gets_no_100_continue(gateway, district):
    """A 1xx is never sent to an HTTP/1.0 client, and its Expect is ignored (RFC 9110,
    10.1.1 and 15.2): eventlet sent 'HTTP/1.1 100 Continue' before the answer."""
    head = register_head(district, b"Content-Type: application/json", b"Expect: 100-continue",
                         b"Content-Length: %d" % len(REGISTER))
    answer = raw_request(gateway, head.replace(b"HTTP/1.1", b"HTTP/1.0", 1) + REGISTER)
    assert answer[0] == 201, answer
    assert b"100 Continue" not in answer[2]


def test_pipelined_requests_are_answered_in_order_errors_and_all(gateway, district):
    """Requests sent back to back on one connection get their answers in order; an error
    answered by a route (a body on a GET, an unknown path, a method) leaves the connection
    and the next request as they were."""
    auth = b"Authorization: " + district.headers["Authorization"].encode() + b"\r\n"
    asks = [(b"GET /health", b"", 200, None),
            (b"GET /api/v1/villages", b"{}", 400, "body"),   # a GET takes no body
            (b"GET /nowhere", b"", 404, "path"),
            (b"DELETE /health", b"", 405, "method"),
            (b"POST /api/v1/villages", b"{not json", 400, "body"),
            (b"GET /api/v1/villages?page_size=1", b"", 200, None)]
    with connect(gateway) as raw:
        raw.sendall(b"".join(
            ask + b" HTTP/1.1\r\nHost: gateway\r\n" + auth +
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
            for ask, body, _, _ in asks))
        stream = raw.makefile("rb")
        for ask, _, status, field in asks:
            found, headers, body = read_one(stream)
            assert found == status, (ask, body)
            assert headers["content-type"] == "application/json"
            assert "connection" not in headers, (ask, headers)
            if field:
                assert orjson.loads(body)["field"] == field, (ask, body)



def test_a_content_length_with_whitespace_around_it_is_read(gateway, district):
    """Whitespace around a field value is not part of it (RFC 9110, 5.5): 'Content-Length:
    2 ' was refused as no whole number."""
    for line in (b"Content-Length: 2 ", b"Content-Length:\t2\t", b"Content-Length:2"):
        answer = raw_request(gateway, register_head(
            district, b"Content-Type: application/json", line, b"Connection: close") + b"{}")
        expect_error(answer, 400, "InvalidInput", "code")   # the body was read: {} lacks it


@pytest.mark.parametrize("option", [b"close", b"Close", b"TE, close", b"close, TE",
                                    b"keep-alive, close"])
def test_connection_close_among_other_options_closes(gateway, option):
    """Connection is a list of options (RFC 9110, 7.6.1): 'TE, close' (what Perl's LWP
    sends) was not taken for close, and the connection stayed open after the answer, a
    client reading to its end waiting for the gateway's timeout."""
    answer = raw_request(gateway, b"GET /health HTTP/1.1\r\nHost: gateway\r\n"
                                  b"Connection: " + option + b"\r\n\r\n")
    assert (answer[0], answer[1].get("connection")) == (200, "close"), answer



def test_an_empty_line_before_a_request_line_is_ignored(gateway, district):
    """RFC 9112, 2.2: a server SHOULD ignore an empty line before the request line (older
    clients send a CRLF after a POST's body). The standard library read it as an empty
    request and closed the connection without an answer: the next request was lost."""
    assert raw_request(gateway, b"\r\nGET /health HTTP/1.1\r\nHost: gateway\r\n"
                                b"Connection: close\r\n\r\n")[0] == 200
    with connect(gateway) as raw:
        raw.sendall(register_head(district, b"Content-Type: application/json",
                                  b"Content-Length: 2") + b"{}\r\n" +
                    b"GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n")
        stream = raw.makefile("rb")
        assert read_one(stream)[0] == 400   # {} lacks the code
        assert read_one(stream)[0] == 200
