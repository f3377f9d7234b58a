"""Headers every answer carries for browsers (web pages for the ministry and auditors
come next): no content sniffing, no caching of what a principal was shown (a token,
a village's data), nothing framed, no script run, no referrer leaked."""
import pytest

from .test_errors import raw_request

SECURE = {"x-content-type-options": "nosniff", "cache-control": "no-store",
          "x-frame-options": "DENY", "referrer-policy": "no-referrer"}
JSON_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def assert_secure(headers, html=False):
    headers = {name.lower(): value for name, value in headers.items()}
    for name, value in SECURE.items():
        assert headers.get(name) == value, (name, headers)
    policy = headers.get("content-security-policy", "")
    if html:   # the report's own <style>, and nothing else: no script, no fetch, no frame
        assert policy == JSON_POLICY + "; style-src 'unsafe-inline'", policy
    else:
        assert policy == JSON_POLICY, policy


@pytest.fixture
def district(as_user):
    return as_user("district", "52.01")


def test_answers_of_routes_carry_the_browser_headers(gateway, district):
    from .conftest import Client
    anonymous = Client(gateway)
    answers = [anonymous.get("/health"), anonymous.get("/openapi.json"),
               anonymous.post("/api/v1/auth/login",
                              json={"username": "nobody", "password": "x" * 12}),
               anonymous.get("/api/v1/villages"),                 # 401
               district.get("/api/v1/villages"),                  # 200, a principal's data
               district.get("/api/v1/villages/31.71.01.1002"),    # 403
               district.get("/api/v1/no/such/thing"),             # 404 before any route
               district.request("HEAD", "/api/v1/villages")]
    for answer in answers:
        assert_secure(answer.headers)


def test_a_login_token_is_never_cached(gateway, operator):
    from .conftest import Client, PASSWORD
    operator.user("siti", "district", "52.01")
    answer = Client(gateway).post("/api/v1/auth/login",
                                  json={"username": "siti", "password": PASSWORD})
    assert answer.status_code == 200
    assert_secure(answer.headers)


def test_the_html_report_may_style_itself_and_nothing_more(gateway, district):
    district.post("/api/v1/villages", json={"code": "52.01.08.2006"})
    answer = district.get("/api/v1/audit/villages/52.01.08.2006/report")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    assert_secure(answer.headers, html=True)


def test_refusals_of_the_http_server_carry_them_too(gateway):
    status, headers, _ = raw_request(gateway, b"GET /health HTTP/01.1\r\nHost: g\r\n\r\n")
    assert status == 400
    assert_secure(headers)
