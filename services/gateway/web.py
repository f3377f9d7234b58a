"""nameko's web server, answering in JSON where nameko and Werkzeug answer in HTML.

nameko's WsgiApp turns an unknown path or method into Werkzeug's HTML page and any
entrypoint error into a text body. The gateway's entrypoints (`api`) run on
JsonWebServer instead, which refuses oversized bodies before reading them and answers
every routing problem with the error body of services.gateway.errors. Entrypoint
methods themselves never raise: they return a Response (services.gateway.pipeline).
What the HTTP server refuses itself, before any route (too many or too long headers, a
bad request line), JsonProtocol answers in the same JSON error body.
"""
import http.client
import io
import logging
import re
import socket
import time
import uuid

import eventlet.wsgi
import orjson
import structlog
from marshmallow import ValidationError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import ClientDisconnected, HTTPException
from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from shared.chassis.errors import CommandRejected, InvalidInput
from shared.chassis.starting import starting
from shared.config import number_setting
from shared.patterns import whole_number

from . import metrics
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .errors import (HeaderTooLarge, HttpVersionNotSupported, MethodNotAllowed,
                     PayloadTooLarge, RequestTimeout, RouteNotFound, ServiceUnavailable,
                     UriTooLong, error_body, error_headers)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024   # 1 MiB: any one record fits, a flood does not (a route
                                # may set its own: Route.body_limit)
MAX_URL = 8192                  # characters of path and query string
# eventlet answers a longer request line itself, with an empty 414; it reads up to this
# much so that the app can answer in JSON (past it, eventlet's bare 414 remains)
REQUEST_LINE_READ = 64 * 1024
MAX_HEADER = 8192               # characters of one header line, the same for the same reason
HEADER_LINE_READ = 64 * 1024
MAX_HEADERS_TOTAL = 64 * 1024   # bytes of all header lines (eventlet's limit, stated here)
MAX_HEADER_LINES = http.client._MAXHEADERS   # the header parser's own count (100)
# seconds a client may send nothing while the gateway waits for its request (or the
# next one on a kept-alive connection); a slow but steady upload is never cut off
CLIENT_TIMEOUT = 60.0
CLOSE_CONNECTION = "plpbk.close_connection"   # environ: a call that ends the connection
# after answering with a body left unread, how long what the client still sends of it is
# read and dropped before the connection is closed (JsonProtocol._linger)
LINGER_SECONDS = 2.0
LINGER_READ = 64 * 1024
CORRELATION_HEADER = "X-Correlation-Id"
ABSOLUTE_FORM = re.compile(r"https?://[^/?#]*", re.IGNORECASE)   # scheme and authority
CORRELATION_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Headers read as one value: eventlet would join a second Authorization or Idempotency-Key
# into "a,b" and keep only the first Content-Length or Content-Type, so a request whose
# framing or meaning depends on which copy is read is refused instead
SINGLE_HEADERS = ("Host", "Content-Length", "Transfer-Encoding", "Content-Type",
                  "Authorization", "X-API-Key", IDEMPOTENCY_HEADER, CORRELATION_HEADER)
# The grammar of RFC 9110 and 9112 that the standard library's parser does not check
HTTP_VERSION = re.compile(r"HTTP/[0-9]\.[0-9]")                   # RFC 9112, 2.3
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")               # a header name (9110, 5.1)
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")               # not field text but tab (5.5)
# Host = uri-host [":" port] (RFC 9110, 7.2; RFC 3986): an IP literal in brackets, or
# letters, digits and the few marks a host name or IPv4 address can hold (empty allowed)
HOST = re.compile(r"(\[[0-9A-Za-z:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(:[0-9]*)?")
# Every answer, for browsers (web pages for the ministry and auditors): no guessing a
# type other than the one given, nothing a principal was shown kept by a cache or
# browser (a token, a village's data), no framing, no referrer; a JSON answer opened as a
# page runs and loads nothing, and the HTML audit report may style itself, nothing more
BROWSER_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store"),
                   ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"))
CONTENT_POLICY = ("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
                  "form-action 'none'")
HTML_CONTENT_POLICY = CONTENT_POLICY + "; style-src 'unsafe-inline'"
# The methods HTTP defines (RFC 9110, 9; PATCH: RFC 5789), case-sensitive (Werkzeug
# upper-cases them: 'get' was served as GET). Any other is answered 405 like a method the
# path lacks, not 501: a client's mistake is no server error
KNOWN_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE",
                 "PATCH")


class ApiRequest(Request):
    max_content_length = MAX_BODY_BYTES


def json_response(status, body, headers=None) -> Response:
    return Response(orjson.dumps(body), status=status, headers=headers,
                    mimetype="application/json")


def error_response(error, headers=None) -> Response:
    return json_response(error.status, error_body(error),
                         {**error_headers(error), **(headers or {})})


class JsonWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        request = ApiRequest(environ, shallow=True)
        try:
            response = self._dispatch(request, environ)
            if environ["eventlet.input"].should_send_hundred_continue:
                # refused before the body was asked for (Expect: 100-continue): eventlet
                # then closes the connection, and the answer must say so (RFC 9112, 9.6)
                environ[CLOSE_CONNECTION]()
        except Exception:  # a bug in the gateway: logged with its traceback, never shown
            log.exception("unhandled error answering %s %s", request.method, request.path)
            response = error_response(ServiceUnavailable(
                "the gateway could not answer this request; it was logged", None))
        if CORRELATION_HEADER not in response.headers:   # answered before any route
            given = request.headers.get(CORRELATION_HEADER, "")
            response.headers[CORRELATION_HEADER] = (
                given if CORRELATION_PATTERN.fullmatch(given) else uuid.uuid4().hex)
        _for_browsers(response.headers, response.mimetype == "text/html")
        # the server's access line for this request, written after it in this connection's
        # greenthread (its own context), carries the id too
        structlog.contextvars.bind_contextvars(
            correlation_id=response.headers[CORRELATION_HEADER])
        return response(environ, start_response)

    def _dispatch(self, request, environ):
        length = len(environ.get("RAW_PATH_INFO", environ.get("PATH_INFO", ""))) + len(
            environ.get("QUERY_STRING", ""))
        if length > MAX_URL:
            metrics.UNROUTED.labels("414").inc()
            return error_response(UriTooLong(
                f"the URL is {length} characters; at most {MAX_URL} are read (page or "
                "filter in several requests)", "url"))
        for name, value in request.headers.items():
            if len(name) + len(value) + 2 > MAX_HEADER:
                metrics.UNROUTED.labels("431").inc()
                return error_response(HeaderTooLarge(
                    f"the header {name} is {len(value)} characters long; a header line may "
                    f"have at most {MAX_HEADER}", name))
        if "%2f" in environ.get("RAW_PATH_INFO", "").lower():
            # the server decodes it into PATH_INFO, where it would route as a separator;
            # taken exactly it is part of a segment, and no route has such a segment
            metrics.UNROUTED.labels("404").inc()
            return error_response(RouteNotFound(
                "no such resource: an encoded slash (%2F) is no path separator; see "
                "/openapi.json"))
        adapter = self.url_map.bind_to_environ(environ)
        method = environ["REQUEST_METHOD"]   # as sent (request.method is upper-cased)
        try:
            provider, values = adapter.match()
            if method not in KNOWN_METHODS:   # matched upper-cased: 'get' is no GET
                raise WerkzeugMethodNotAllowed(adapter.allowed_methods())
        except WerkzeugMethodNotAllowed as exc:
            metrics.UNROUTED.labels("405").inc()
            return error_response(MethodNotAllowed(exc.valid_methods, method))
        except HTTPException:   # 404; the map redirects nothing (make_url_map)
            metrics.UNROUTED.labels("404").inc()
            return error_response(RouteNotFound())
        limit = getattr(provider, "max_body", MAX_BODY_BYTES)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        too_large = PayloadTooLarge(f"the body may be at most {limit} bytes", "body")
        if (request.content_length or 0) > limit:
            return self._unread(environ, too_large)
        if chunked or request.content_length:
            # refused before the body is read (and before 100 Continue asks for it): no
            # client the head already refuses (credentials, role, path, region in the
            # path) makes the gateway take up to `limit` bytes
            refusal = provider.refusal_before_body(request, values)
            if refusal is not None:
                return self._unread(environ, refusal)
        try:
            if chunked:
                if _buffer_chunked_body(environ, limit) > limit:
                    return self._unread(environ, too_large)
            request.max_content_length = limit
            _read_body(request)
        except (socket.timeout, ClientDisconnected):
            return self._unread(environ, RequestTimeout(
                f"the body stopped arriving (nothing for {self.server.client_timeout:g} s, "
                "or the connection broke); send the request again", "body"))
        except eventlet.wsgi.ChunkReadError as exc:
            return self._unread(environ, InvalidInput(
                f"the chunked body is malformed ({exc})", "body"))
        request.path_values = values
        return provider.handle_request(request)

    @staticmethod
    def _unread(environ, error):
        """Answered without reading the rest of the body, then the connection is closed:
        what follows could otherwise be read as the next request (where the body ends is
        unknown), or be read in full only to be dropped (eventlet reads a kept-alive
        connection's unread body, however large it says it is)."""
        environ[CLOSE_CONNECTION]()
        metrics.UNROUTED.labels(str(error.status)).inc()
        return error_response(error)


def _for_browsers(headers, html=False):
    for name, value in BROWSER_HEADERS:
        headers[name] = value
    headers["Content-Security-Policy"] = HTML_CONTENT_POLICY if html else CONTENT_POLICY


def _read_body(request):
    """The whole body, read here, in this connection's own green thread: read in the
    nameko worker, a client slow to send it held one of the MAX_WORKERS workers, and
    that many stalled uploads froze the gateway for every other client."""
    request.shallow = False
    request.get_data(cache=True)


def _buffer_chunked_body(environ, limit):
    """A body without Content-Length (chunked): read at most one byte past the limit,
    then present it with its length, so the limit holds and Werkzeug reads it. Its
    length (limit + 1: too large)."""
    body = environ["wsgi.input"].read(limit + 1)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return len(body)


class JsonProtocol(HttpOnlyProtocol):
    """nameko's HTTP protocol, answering in JSON what it refuses before any route runs.

    The standard library's parser answers more than MAX_HEADER_LINES header lines, and a
    bad request line or HTTP version, with an HTML page (send_error); eventlet answers
    more than MAX_HEADERS_TOTAL bytes of headers, or a line of HEADER_LINE_READ, with an
    empty 400, and a request line of REQUEST_LINE_READ with an empty 414, a Content-Length
    that is no whole number, or one with Transfer-Encoding, with an empty or text 400.
    Here all of them get the gateway's error body, and close the connection (the rest of
    the request is not read).
    """

    def get_environ(self):
        if self.request_version == "HTTP/1.0":
            # no 1xx to an HTTP/1.0 client: its Expect is ignored (RFC 9110, 10.1.1);
            # eventlet sent it 'HTTP/1.1 100 Continue'
            del self.headers["Expect"]
        environ = super().get_environ()
        environ[CLOSE_CONNECTION] = self._close_after_answer
        return environ

    def _close_after_answer(self):
        """Answer with Connection: close, and read nothing more from this connection."""
        self.close_connection = 1
        self.linger = True

    def finish(self):
        if getattr(self, "linger", False):
            self._linger()
        super().finish()

    def _linger(self):
        """A lingering close (RFC 9112, 9.6): the answer sent, our side of the connection
        is shut, and what the client still sends of its body is read and dropped for at
        most LINGER_SECONDS. Closed at once, the client's kernel would be answered with a
        reset while it is still sending, and the client would lose our answer with it."""
        deadline = time.monotonic() + LINGER_SECONDS
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            while (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(LINGER_READ):
                    break   # the client has closed its side too
        except OSError:   # a timeout, or the client is gone
            pass

    def _read_request_line(self):
        """eventlet answers a request line of url_length_limit or more with an empty 414, and
        the standard library takes an empty line for an empty request."""
        line = super()._read_request_line()
        if line in (b"\r\n", b"\n"):   # one empty line before it is ignored (RFC 9112, 2.2):
            line = super()._read_request_line()   # taken for a request, it closed the connection
        if len(line) >= self.server.url_length_limit:
            self.request_version, self.command = "HTTP/1.0", None  # nothing parsed yet
            self.refuse(UriTooLong(f"the request line is {REQUEST_LINE_READ} characters or "
                                   f"more; a URL may have at most {MAX_URL}", "url"))
            return b""  # eventlet then closes the connection
        return line

    def parse_request(self):
        try:
            return (super().parse_request() and self._version_is_clear() and
                    self._target_is_a_path() and self._headers_are_clear() and
                    self._host_is_clear() and self._framing_is_clear() and
                    self._read_connection_options())
        except eventlet.wsgi.HeadersTooLarge:
            self.refuse(HeaderTooLarge(
                f"the headers are more than {MAX_HEADERS_TOTAL} bytes in all; at most "
                f"{MAX_HEADERS_TOTAL} are read", "headers"))
        except eventlet.wsgi.HeaderLineTooLong:
            self.refuse(HeaderTooLarge(
                f"a header line is {HEADER_LINE_READ} characters or more; a header line "
                f"may have at most {MAX_HEADER}", "headers"))
        return False

    def _version_is_clear(self):
        """'HTTP/' digit '.' digit: the standard library also took 'HTTP/01.1' and
        'HTTP/1.10' for 1.1, and served a line with no version at all (HTTP/0.9)."""
        words = self.requestline.split()
        if len(words) == 3 and HTTP_VERSION.fullmatch(words[2]):
            return True
        self.refuse(InvalidInput("the request line must end in the version 'HTTP/1.1'",
                                 "version"))
        return False

    def _target_is_a_path(self):
        """The standard library turns a leading '//' into '/' (parse_request); taken
        exactly, '//api/v1/villages' is no route, like '/api//v1/villages'. A target in
        absolute form ('http://host/api/...', from a client that takes the gateway for
        its proxy) is served as its path, as a server must (RFC 9112, 3.2.2)."""
        target = self.requestline.split()[1]
        absolute = ABSOLUTE_FORM.match(target)
        if absolute:
            rest = target[absolute.end():]
            target = self.path = rest if rest.startswith("/") else "/" + rest
        if target.startswith("//"):
            self.refuse(RouteNotFound())
            return False
        return True

    def _headers_are_clear(self):
        """Each header read once, from well-formed lines. The header parser stops at a line
        that is not 'Name: value' and drops every header after it (a Content-Length among
        them: the body would then be read as the next request), and keeps a folded line
        (one starting with a space) as part of the header before it."""
        if self.headers.defects or self.headers.get_payload():
            self.refuse(InvalidInput("a header line is not 'Name: value' (no space before "
                                     "the colon)", "headers"))
            return False
        for name, value in self.headers.items():
            if "\n" in value or "\r" in value:
                self.refuse(InvalidInput("a header continues on the next line (obsolete "
                                         "folding): send it on one line", name))
                return False
        for name, value in self.headers.items():
            if not TOKEN.fullmatch(name):
                self.refuse(InvalidInput(f"the header name {name[:100]!r} holds a character a "
                                         "header name may not (RFC 9110, 5.1)", "headers"))
                return False
            if CONTROL.search(value):
                self.refuse(InvalidInput("the value holds a control character (only tab "
                                         "is allowed)", name))
                return False
        for name in SINGLE_HEADERS:
            if len(self.headers.get_all(name, ())) > 1:
                self.refuse(InvalidInput("given more than once", name))
                return False
        return True

    def _host_is_clear(self):
        """An HTTP/1.1 request names its host, once, validly: else 400 (RFC 9112, 3.2).
        Given twice, _headers_are_clear has refused it already."""
        host = self.headers.get("Host")
        if host is None and self.request_version == "HTTP/1.0":
            return True
        if host is None:
            self.refuse(InvalidInput("an HTTP/1.1 request must name its host: send "
                                     "'Host: <host>[:<port>]'", "Host"))
            return False
        if not HOST.fullmatch(host.strip(" \t")):
            self.refuse(InvalidInput(f"Host {host[:100]!r} is not <host>[:<port>]", "Host"))
            return False
        return True

    def _framing_is_clear(self):
        """What eventlet refuses next with an empty or text 400: a Content-Length that is
        no plain whole number, or one sent with Transfer-Encoding (request smuggling).
        And what it would misread: a Transfer-Encoding other than chunked ('gzip, chunked',
        'identity') it takes for no body at all, so the body would be the next request."""
        coding = self.headers.get("Transfer-Encoding")
        if coding is not None and self.request_version == "HTTP/1.0":
            # HTTP/1.0 has no transfer codings: its framing is faulty (RFC 9112, 6.1)
            self.refuse(InvalidInput("Transfer-Encoding is not HTTP/1.0: send the body "
                                     "with Content-Length, or use HTTP/1.1",
                                     "Transfer-Encoding"))
            return False
        if coding is not None and coding.strip().lower() != "chunked":
            self.refuse(InvalidInput("only 'Transfer-Encoding: chunked' is accepted",
                                     "Transfer-Encoding"))
            return False
        length = self.headers.get("Content-Length")
        if length is None:
            return True
        try:
            whole_number(length.strip(" \t"))   # whitespace around a value is not part of it
        except ValidationError as exc:
            self.refuse(InvalidInput(f"Content-Length {' '.join(exc.messages)}",
                                     "Content-Length"))
            return False
        if self.headers.get("Transfer-Encoding") is not None:
            self.refuse(InvalidInput("Content-Length and Transfer-Encoding are not allowed "
                                     "together: send one", "Transfer-Encoding"))
            return False
        return True

    def _read_connection_options(self):
        """Connection is a list (RFC 9110, 7.6.1): the standard library and eventlet took
        only a value of exactly 'close' for close, so 'TE, close' kept the connection open."""
        options = ",".join(self.headers.get_all("Connection", ())).lower().split(",")
        if "close" in (option.strip(" \t") for option in options):
            self.close_connection = True
        return True

    def send_error(self, code, message=None, explain=None):
        """The standard library's refusals (from parse_request), as JSON."""
        if code == 431:
            error = HeaderTooLarge(f"the request has more than {MAX_HEADER_LINES} header "
                                   f"lines; at most {MAX_HEADER_LINES} are read", "headers")
        elif code == 505:
            error = HttpVersionNotSupported(f"{message}; use HTTP/1.1", "version")
        elif code == 400:
            error = InvalidInput(message or "the request line is not HTTP", None)
        else:
            error = CommandRejected(message or explain or "refused", None)
            error.status = code
        self.refuse(error)

    def refuse(self, error):
        metrics.UNROUTED.labels(str(error.status)).inc()
        log.info("refused before any route: %s %s", error.status, error.message)
        body = orjson.dumps(error_body(error))
        self.close_connection = True
        if self.request_version == "HTTP/0.9":   # a request line with no readable version:
            self.request_version = "HTTP/1.0"    # answered with a status line all the same
        self.send_response_only(error.status)
        headers = {"Connection": "close", "Content-Type": "application/json",
                   "Content-Length": str(len(body)), CORRELATION_HEADER: uuid.uuid4().hex,
                   "Date": self.date_time_string()}   # RFC 9110, 6.6.1
        _for_browsers(headers)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def make_url_map(self):
        """Paths taken exactly: Werkzeug would merge '/api//v1' into '/api/v1' with a
        redirect (an HTML page); here it is no route (404), like '/api/v1/villages/'."""
        url_map = Map(merge_slashes=False, redirect_defaults=False)
        for provider in self._providers:
            rule = provider.get_url_rule()
            rule.endpoint = provider
            url_map.add(rule)
        return url_map

    def setup(self):
        super().setup()
        # read while the service sets up: a bad value is one line and exit 1 (once the
        # server starts, nameko prints it and exits 0)
        with starting(self.container.service_name):
            self.client_timeout = number_setting(self.container.config,
                                                 "GATEWAY_CLIENT_TIMEOUT", CLIENT_TIMEOUT,
                                                 whole=False)

    def get_wsgi_server(self, sock, wsgi_app, protocol=JsonProtocol, debug=False):
        server = super().get_wsgi_server(sock, wsgi_app, protocol, debug)
        # without one, a client that stops sending holds its connection for ever
        server.socket_timeout = self.client_timeout
        server.url_length_limit = REQUEST_LINE_READ
        # eventlet reads these at each request, not at import
        eventlet.wsgi.MAX_HEADER_LINE = HEADER_LINE_READ
        eventlet.wsgi.MAX_TOTAL_HEADER_SIZE = MAX_HEADERS_TOTAL
        return server


class ApiEntrypoint(HttpRequestHandler):
    """nameko's @http, served by the JSON web server; max_body bounds the request body."""
    server = JsonWebServer()

    def __init__(self, method, url, max_body=MAX_BODY_BYTES, **kwargs):
        self.max_body = max_body
        super().__init__(method, url, **kwargs)

    def setup(self):
        super().setup()
        # the service's dependency that judges a request from its head alone, if any
        self.gatekeeper = next((dependency for dependency in self.container.dependencies
                                if hasattr(dependency, "refusal_before_body")), None)

    def refusal_before_body(self, request, path_values):
        """The error to answer before the body is read (what the head alone refuses), or
        None."""
        if self.gatekeeper is None:
            return None
        return self.gatekeeper.refusal_before_body(self.method_name, request, path_values)

    def response_from_exception(self, exc):
        """Only a bug gets here (entrypoints return their errors as responses)."""
        log.error("entrypoint %s failed: %r", self.method_name, exc)
        return error_response(ServiceUnavailable(
            "the gateway could not answer this request; it was logged", None))


api = ApiEntrypoint.decorator
