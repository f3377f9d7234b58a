"""What a hostile or careless client can send that a reader could take two ways: the
gateway refuses it (4xx naming the part at fault, JSON, nothing recorded) rather than
picking one reading."""
import gzip
import zlib

import orjson
import pytest

from .test_api import BAJUR, registration_records
from .test_errors import expect, raw_request

REGISTER = b'{"code": "52.01.08.2006"}'
# a second request hidden in the body: answered only if the body's end was misread
SMUGGLED = b"GET /api/v1/villages HTTP/1.1\r\nHost: gateway\r\n\r\n"


@pytest.fixture
def district(as_user):
    return as_user("district", "52.01")


def register_head(district, *lines):
    """A POST /api/v1/villages head with the district's token and these header lines."""
    return (b"POST /api/v1/villages HTTP/1.1\r\nHost: gateway\r\n"
            b"Authorization: " + district.headers["Authorization"].encode() + b"\r\n" +
            b"".join(line + b"\r\n" for line in lines) + b"\r\n")


def expect_raw(answer, status, error, field):
    code, headers, body = answer
    assert (code, headers.get("content-type")) == (status, "application/json"), body[:300]
    assert body.count(b"HTTP/1.") == 0, body   # one answer: nothing after it was read
    found = orjson.loads(body)
    assert (found["error"], found["field"]) == (error, field), found


CHUNKED = b"%x\r\n%s\r\n0\r\n\r\n" % (len(REGISTER), REGISTER)


@pytest.mark.parametrize("lines, body, field", [
    # eventlet read the first Content-Length, a proxy in front may read the last
    ([b"Content-Type: application/json", b"Content-Length: %d" % len(REGISTER),
      b"Content-Length: 0"], REGISTER, "Content-Length"),
    # eventlet took any coding but exactly 'chunked' for no body: the chunks became a
    # second request
    ([b"Content-Type: application/json", b"Transfer-Encoding: gzip, chunked"],
     CHUNKED + SMUGGLED, "Transfer-Encoding"),
    ([b"Content-Type: application/json", b"Transfer-Encoding: identity"],
     CHUNKED + SMUGGLED, "Transfer-Encoding"),
    # the header parser stopped at a line with a space before the colon and dropped the
    # Content-Length after it: the body was read as the next request
    ([b"X-Note : hello", b"Content-Type: application/json",
      b"Content-Length: %d" % len(SMUGGLED)], SMUGGLED, "headers"),
    ([b"X-Note-Without-Colon", b"Content-Length: %d" % len(SMUGGLED)], SMUGGLED,
     "headers"),
    # a folded line hid a Content-Length inside the header before it
    ([b"Content-Type: application/json", b"X-Note: a", b" Content-Length: 25"],
     SMUGGLED, "X-Note"),
])
def test_a_body_whose_end_could_be_read_two_ways_is_refused(gateway, district,
                                                            gateway_config, lines, body,
                                                            field):
    district.get("/api/v1/eligibility/rule-set")   # the seed rule set, published on first use
    recorded = registration_records(gateway_config)
    answer = raw_request(gateway, register_head(district, *lines) + body)
    expect_raw(answer, 400, "InvalidInput", field)
    assert answer[1]["connection"] == "close"
    assert registration_records(gateway_config) == recorded
    # the ordinary forms still work
    chunked = raw_request(gateway, register_head(
        district, b"Content-Type: application/json", b"Transfer-Encoding: Chunked",
        b"Connection: close") + CHUNKED)
    assert chunked[0] == 201, chunked


@pytest.mark.parametrize("name, values", [
    (b"Idempotency-Key", (b"first", b"second")),    # was joined into the key 'first,second'
    (b"Content-Type", (b"application/json", b"text/plain")),   # the first was used
    (b"X-API-Key", (b"plpbk_000000000000_a", b"plpbk_000000000000_b")),
    (b"X-Correlation-Id", (b"one", b"two")),
    (b"Host", (b"gateway", b"elsewhere")),
])
def test_a_header_read_as_one_value_given_twice_is_refused(gateway, district,
                                                           gateway_config, name, values):
    district.get("/api/v1/eligibility/rule-set")
    recorded = registration_records(gateway_config)
    lines = [b"%s: %s" % (name, value) for value in values]
    if name != b"Content-Type":
        lines.append(b"Content-Type: application/json")
    answer = raw_request(gateway, register_head(
        district, *lines, b"Content-Length: %d" % len(REGISTER)) + REGISTER)
    expect_raw(answer, 400, "InvalidInput", name.decode())
    assert "more than once" in orjson.loads(answer[2])["message"]
    assert registration_records(gateway_config) == recorded


def test_a_path_is_taken_exactly_slashes_and_all(gateway, district):
    """'//' is not merged into '/' (Werkzeug answered a redirect in HTML, the standard
    library silently dropped a leading one): like a trailing slash, it is no route."""
    for path in ("/api//v1/villages", "//api/v1/villages", "/api/v1//villages",
                 f"/api/v1/villages//{BAJUR}", "/api/v1/villages/"):
        answer = district.get(path, allow_redirects=False)
        expect(answer, 404, "path", "RouteNotFound")
    for path in ("/api//v1/villages", "//api/v1/villages"):
        expect(district.post(path, json={"code": BAJUR}, allow_redirects=False), 404, "path")
    assert district.get("/api/v1/villages").status_code == 200


def test_a_target_in_absolute_form_is_served_as_its_path(gateway, district):
    """`GET http://host/api/v1/... HTTP/1.1` (what a client configured to use the
    gateway as its proxy sends) is one a server must take (RFC 9112, 3.2.2): it was 404
    RouteNotFound, the scheme and host read as part of the path."""
    authority = gateway.removeprefix("http://").encode()
    auth = b"Authorization: " + district.headers["Authorization"].encode() + b"\r\n"
    for target, status in ((b"http://%s/api/v1/villages?page_size=1" % authority, 200),
                           (b"HTTP://%s/api/v1/auth/me" % authority, 200),
                           (b"http://%s//api/v1/villages" % authority, 404),
                           (b"http://%s" % authority, 404),
                           (b"http://%s?page=1" % authority, 404)):
        answer = raw_request(gateway, b"GET " + target + b" HTTP/1.1\r\nHost: gateway\r\n" +
                             auth + b"Connection: close\r\n\r\n")
        assert answer[0] == status, (target, answer)
        assert answer[1]["content-type"] == "application/json"


def test_a_query_string_is_utf8_with_named_parameters(gateway, district):
    """A raw 0xFF byte crashed Werkzeug's query parsing (503); a %FF was turned into
    U+FFFD; a parameter without a name was blamed on the body."""
    answer = raw_request(gateway, b"GET /api/v1/villages?region=\xff HTTP/1.1\r\n"
                         b"Host: gateway\r\nAuthorization: " +
                         district.headers["Authorization"].encode() +
                         b"\r\nConnection: close\r\n\r\n")
    expect_raw(answer, 400, "InvalidInput", "query")
    expect(district.get("/api/v1/villages?region=%FF"), 400, "query")
    expect(district.get(f"/api/v1/villages/{BAJUR}?x=%C3%28"), 400, "query")
    body = expect(district.get("/api/v1/villages?=52"), 400, "query")
    assert "no name" in body["message"]
    expect(district.get("/api/v1/eligibility/rule-set?=1"), 400, "query")
    assert district.get("/api/v1/villages?region=52.01&&").status_code == 200


@pytest.mark.parametrize("value", ["yes", "1", "True", "TRUE", "on", "y", "t", "", " true"])
def test_a_boolean_in_the_query_is_true_or_false(gateway, district, value):
    """marshmallow read 'yes', '1', 'on' or 'TRUE' as true; the document says boolean."""
    body = expect(district.get("/api/v1/cycles", params={"overdue": value}), 400, "overdue")
    assert "true or false" in body["message"]
    expect(district.get("/api/v1/cycles", params={"completed": value}), 400, "completed")


def test_true_and_false_are_read_as_booleans(gateway, district):
    for value in ("true", "false"):
        listed = district.get("/api/v1/cycles", params={"overdue": value, "completed": value})
        assert listed.status_code == 200, listed.text


def test_a_key_given_twice_in_a_json_object_is_refused(gateway, district, gateway_config):
    """orjson kept the last of two values silently: an auditor's parser could read the
    first, so the request would mean two things."""
    district.post("/api/v1/villages", json={"code": BAJUR})
    recorded = registration_records(gateway_config)
    raw = {"Content-Type": "application/json"}
    url = f"/api/v1/villages/{BAJUR}/indicators"
    body = expect(district.post(url, headers=raw, data=(
        b'{"source_document": "BPS 2024", "source_document": "made up", '
        b'"indicators": {"poverty_rate": "31.5"}, "observed_on": "2024-01-01"}')),
        400, "source_document", "InvalidInput")
    assert "more than once" in body["message"]
    expect(district.post(url, headers=raw, data=(
        b'{"source_document": "BPS", "observed_on": "2024-01-01", '
        b'"indicators": {"poverty_rate": "31.5", "poverty_rate": "10"}}')),
        400, "poverty_rate")
    expect(district.post("/api/v1/villages", headers=raw,
                         data=b'{"code": "52.01.08.2001", "code": "52.01.08.2006"}'),
           400, "code")
    assert registration_records(gateway_config) == recorded
    same_name_elsewhere = district.post(url, headers=raw, data=(
        b'{"source_document": "BPS", "observed_on": "2024-01-01", '
        b'"indicators": {"poverty_rate": "31.5", "pemda_priority": {"source_document": '
        b'"x"}}}'))
    assert same_name_elsewhere.json()["field"] != "source_document"  # one per object: fine


def test_a_body_in_another_charset_is_415(gateway, district, gateway_config):
    """JSON is UTF-8: a body declared latin-1 was read as UTF-8 all the same, so its
    text could be recorded as something the sender did not write."""
    district.get("/api/v1/eligibility/rule-set")
    recorded = registration_records(gateway_config)
    for declared in ("application/json; charset=latin-1", "application/json; charset=utf-16"):
        expect(district.post("/api/v1/villages", data=REGISTER,
                             headers={"Content-Type": declared}), 415, "Content-Type",
               "UnsupportedMediaType")
    assert registration_records(gateway_config) == recorded
    taken = district.post("/api/v1/villages", data=REGISTER,
                          headers={"Content-Type": "application/json; charset=UTF-8"})
    assert taken.status_code == 201, taken.text


def test_a_compressed_body_is_415_naming_content_encoding(gateway, district,
                                                          gateway_config):
    """A gzip body (Content-Encoding: gzip, as an integration's HTTP library may send a
    large import) was read as it came: 400 'the body is not valid JSON (str is not valid
    UTF-8 ...)', though the sender wrote valid JSON. Refused as a coding not read, with
    Accept-Encoding saying what is (RFC 9110, 15.5.16)."""
    district.get("/api/v1/eligibility/rule-set")
    recorded = registration_records(gateway_config)
    for coding, body in (("gzip", gzip.compress(REGISTER)), ("deflate", zlib.compress(REGISTER)),
                         ("br", REGISTER)):
        answer = district.post("/api/v1/villages", data=body, headers={
            "Content-Type": "application/json", "Content-Encoding": coding})
        expect(answer, 415, "Content-Encoding", "UnsupportedMediaType")
        assert answer.headers["Accept-Encoding"] == "identity"
    assert registration_records(gateway_config) == recorded
    taken = district.post("/api/v1/villages", data=REGISTER, headers={
        "Content-Type": "application/json", "Content-Encoding": "identity"})
    assert taken.status_code == 201, taken.text


@pytest.mark.parametrize("chunks", [b"zz\r\n{}\r\n0\r\n\r\n", b"5\r\n{}\r\n0\r\n\r\n",
                                    b"-1\r\n{}\r\n0\r\n\r\n"])
def test_a_malformed_chunked_body_is_400_and_the_connection_closed(gateway, district,
                                                                   gateway_config, chunks):
    """A chunk size that is no hex number, or a chunk longer than it says, was a 503
    'the gateway could not answer' (and a traceback in the log)."""
    district.get("/api/v1/eligibility/rule-set")
    recorded = registration_records(gateway_config)
    answer = raw_request(gateway, register_head(
        district, b"Content-Type: application/json", b"Transfer-Encoding: chunked") +
        chunks + SMUGGLED)
    expect_raw(answer, 400, "InvalidInput", "body")
    assert answer[1]["connection"] == "close"
    assert registration_records(gateway_config) == recorded


@pytest.mark.parametrize("path", [f"/api/v1/villages/{BAJUR}%2Fattachments",
                                  f"/api/v1/villages/{BAJUR}%2fcycle",
                                  f"/api/v1/villages%2F{BAJUR}",
                                  f"/api/v1/villages/{BAJUR}/documents%2Frplp"])
def test_an_encoded_slash_is_no_path_separator(gateway, district, path):
    """'%2F' was decoded before routing, so /villages/{code}%2Fattachments was served as
    the attachments list: a proxy or firewall in front that reads the path as sent sees
    one resource, the gateway served another. A path taken exactly has no such route."""
    assert district.post("/api/v1/villages", json={"code": BAJUR}).status_code == 201
    expect(district.get(path), 404, "path", "RouteNotFound")
    expect(district.post(path, json={"completed_on": "2024-01-01"}), 404, "path",
           "RouteNotFound")
