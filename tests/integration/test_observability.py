"""Every service logs JSON lines carrying the request's correlation id, and serves its
Prometheus metrics (entrypoints and platform) on its own /metrics page."""
import urllib.request

import pytest
import requests
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.web.server import WebServer

from services.registration.service import RegistrationService


ROWS = [{"line": 2, "code": "52.01.08.2001", "source_document": "BPS",
         "observed_on": "2024-01-01", "poverty_rate": "30"}]


@pytest.fixture
def registration(container_factory, platform_config):
    container = container_factory(RegistrationService, platform_config)
    container.start()
    return container


def test_log_lines_are_json_with_the_correlation_id(registration, platform_config, json_logs):
    context = {"actor": {"id": "kemen-1", "role": "ministry", "region": ""},
               "correlation_id": "corr-observed-1"}
    with ServiceRpcProxy("registration", platform_config, context_data=context) as service:
        service.import_rows(ROWS, "villages.csv")
    (imported,) = [line for line in json_logs() if line.get("event") == "villages imported"]
    assert imported["correlation_id"] == "corr-observed-1"
    assert imported["service"] == "registration" and imported["entrypoint"] == "import_rows"
    assert (imported["recorded"], imported["level"]) == (1, "info")


def test_each_service_serves_entrypoint_and_platform_metrics(registration, platform_config):
    context = {"actor": {"id": "kemen-1", "role": "ministry", "region": ""}}
    with ServiceRpcProxy("registration", platform_config, context_data=context) as service:
        service.import_rows(ROWS, "villages.csv")
    port = registration.shared_extensions[WebServer]._sock.getsockname()[1]
    page = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert 'registration_rpc_requests_total{method_name="import_rows"} 1.0' in page
    assert 'plpbk_ledger_appended_events_total{ledger="registration"}' in page
    assert "plpbk_subscriber_applied_total" in page


def test_the_metrics_page_answers_a_client_that_sends_no_accept_header(registration):
    # urllib sends no Accept header; nameko-prometheus read it unguarded (a 500)
    port = registration.shared_extensions[WebServer]._sock.getsockname()[1]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        assert b"plpbk_subscriber_applied_total" in answer.read()
