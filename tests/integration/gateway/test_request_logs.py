"""Every line a request causes is JSON with its correlation id: lines of the platform's
modules and of nameko written inside a worker, the gateway's lines, and the lines of a
reaction in another service that the request's events set off. And no secret of a
request (password, token, API key, the token secret) is ever written to the log."""
import pytest
import requests
from nameko.standalone.rpc import ServiceRpcProxy

from services.cycle.service import CycleService
from services.registration.service import RegistrationService
from shared.ledger import Actor, Metadata, NewEvent, open_ledger

from ..conftest import wait_for
from .conftest import PASSWORD, SECRET, Operator, login, start_gateway

MINISTRY = {"id": "kemen-1", "role": "ministry", "region": ""}


def lines_about(json_logs, text):
    return [line for line in json_logs() if text in line["event"]]


def test_a_line_nameko_writes_inside_a_worker_has_the_request_id(
        container_factory, platform_config, json_logs):
    container_factory(RegistrationService, platform_config).start()
    context = {"actor": MINISTRY, "correlation_id": "corr-refused-1"}
    with ServiceRpcProxy("registration", platform_config, context_data=context) as service:
        with pytest.raises(Exception, match="collection name"):
            service.view_documents("")
    (refused,) = lines_about(json_logs, "error handling worker")
    assert refused["correlation_id"] == "corr-refused-1"
    assert (refused["service"], refused["entrypoint"]) == ("registration", "view_documents")


def test_the_gateways_lines_have_the_id_the_client_sent(container_factory, gateway_config,
                                                        json_logs):
    container_factory(RegistrationService, gateway_config).start()   # planning is down
    base = start_gateway(container_factory, gateway_config)
    Operator(gateway_config).user("district", "district", "52.01")
    district = login(base, "district")
    answer = district.get("/api/v1/villages/52.01.08.2006/documents",
                          headers={"X-Correlation-Id": "corr-upstream-1"})
    assert answer.status_code == 503
    (upstream,) = lines_about(json_logs, "the planning service is not running")
    assert upstream["correlation_id"] == "corr-upstream-1"
    assert upstream["service"] == "gateway"


def forge_selection(config, correlation_id):
    """A selection the cycle's reaction cannot read (no village name): it fails, is
    retried, then parked, and says so in the log."""
    ledger = open_ledger(config["STORE_URI"], "registration")
    try:
        ledger.append(f"forged-{correlation_id}", 0,
                      [NewEvent("VillageSelected", {"code": "52.01.08.2001"})],
                      Metadata(Actor("importer", "system"), correlation_id))
    finally:
        ledger.close()


def test_a_worker_no_one_called_has_a_correlation_id_all_the_same(
        container_factory, gateway_config, debug_json_logs):
    base = start_gateway(container_factory, gateway_config)
    assert requests.get(base + "/api/v1/villages", timeout=10).status_code == 401
    lines = [line for line in debug_json_logs() if line.get("service") == "gateway"]
    assert lines and all(line["correlation_id"] for line in lines)


def test_a_reaction_in_another_service_logs_with_the_id_of_its_cause(
        container_factory, platform_config, json_logs):
    container_factory(RegistrationService, platform_config).start()   # relays its ledger
    container_factory(CycleService, platform_config).start()
    with ServiceRpcProxy("cycle", platform_config, context_data={"actor": MINISTRY}) as cycle:
        cycle.status()   # its start-up catch-up is done: the doorbell brings the event
        forge_selection(platform_config, "corr-cause-1")
        wait_for(cycle.parked, what="the selection parked")
    (parked,) = lines_about(json_logs, "parked VillageSelected")
    assert parked["correlation_id"] == "corr-cause-1" and parked["level"] == "error"
    assert parked["service"] == "cycle"


def test_a_reaction_run_by_the_start_up_catch_up_logs_with_the_id_of_its_cause(
        container_factory, platform_config, json_logs):
    forge_selection(platform_config, "corr-cause-2")   # recorded while cycle is down
    container_factory(CycleService, platform_config).start()
    with ServiceRpcProxy("cycle", platform_config, context_data={"actor": MINISTRY}) as cycle:
        wait_for(cycle.parked, what="the selection parked")
    (parked,) = lines_about(json_logs, "parked VillageSelected")
    assert parked.get("correlation_id") == "corr-cause-2"


def test_no_secret_of_a_request_is_logged_even_at_debug_level(
        container_factory, gateway_config, debug_json_logs):
    container_factory(RegistrationService, gateway_config).start()
    base = start_gateway(container_factory, gateway_config)
    operator = Operator(gateway_config)
    operator.user("district", "district", "52.01")
    _doc, key = operator.key()
    token = login(base, "district").headers["Authorization"].split()[1]
    wrong = "wrong horse battery staple"
    for password in (wrong, wrong, wrong, wrong, PASSWORD):   # failed, throttled
        requests.post(base + "/api/v1/auth/login", timeout=10,
                      json={"username": "district", "password": password})
    for headers in ({"Authorization": f"Bearer {token}"}, {"X-API-Key": key},
                    {"Authorization": f"Bearer {token}x"}, {"X-API-Key": key + "x"},
                    {"Authorization": f"Basic {token}"}):
        requests.get(base + "/api/v1/villages", headers=headers, timeout=10)
        # judged before the body is read, outside any worker (web.py)
        requests.post(base + "/api/v1/villages", headers=headers, timeout=10,
                      json={"code": "52.01.08.2006"})
    requests.post(base + "/api/v1/auth/login", timeout=10, data=f'{{"password": "{wrong}"')
    requests.post(base + "/api/v1/auth/password", timeout=10,   # the current one wrong
                  headers={"Authorization": f"Bearer {token}"},
                  json={"current_password": wrong, "new_password": wrong + "!"})
    written = "\n".join(str(line) for line in debug_json_logs())
    assert "POST /api/v1/auth/login" in written   # the requests were logged
    for secret in (PASSWORD, wrong, token, key, SECRET, token[-20:], key[-12:]):
        assert secret not in written


def test_the_servers_access_line_has_the_id_of_its_request(
        container_factory, gateway_config, json_logs):
    base = start_gateway(container_factory, gateway_config)
    with requests.Session() as client:   # one connection: each line keeps its own id
        for given in ("corr-access-1", "corr-access-2"):
            assert client.get(base + "/api/v1/villages", timeout=10,
                              headers={"X-Correlation-Id": given}).status_code == 401
    access = [line for line in json_logs() if line.get("logger") == "nameko.web.server"
              and "GET /api/v1/villages" in line["event"]]
    assert [line.get("correlation_id") for line in access] == ["corr-access-1",
                                                               "corr-access-2"]
