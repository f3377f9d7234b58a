"""A service that ran and stopped (crashed, redeployed): its RPC queue stays in RabbitMQ
with no one taking from it. The gateway says so, and a request it gave up on is not run
later behind the caller's back."""
import threading
import time

import eventlet
import requests
from nameko.rpc import rpc

from services.registration.service import RegistrationService

from .conftest import backend_classes, login, start_gateway

BAJUR = "52.01.08.2006"


def test_health_names_a_service_that_is_not_running(container_factory, gateway_config,
                                                    operator):
    """/health said "ok" while every registration route answered 503."""
    running = {cls: container_factory(cls, gateway_config) for cls in backend_classes()}
    for container in running.values():
        container.start()
    registration = running[RegistrationService]
    base = start_gateway(container_factory, gateway_config)
    fine = requests.get(f"{base}/health", timeout=30)
    assert fine.status_code == 200, fine.text
    assert fine.json()["checks"]["services"]["ok"]
    registration.stop()
    time.sleep(1.1)   # past the one-second cache
    down = requests.get(f"{base}/health", timeout=30)
    assert down.status_code == 503, down.text
    services = down.json()["checks"]["services"]
    assert not services["ok"] and "registration" in services["error"], services
    assert services["processes"]["registration"] == 0


def test_a_call_to_a_service_no_process_serves_is_refused_at_once(container_factory,
                                                                   gateway_config, operator):
    """Sent, it waited GATEWAY_RPC_TIMEOUT holding a gateway worker: enough of them and
    every request, /health too, waited behind a stopped service."""
    registration = container_factory(RegistrationService, gateway_config)
    registration.start()
    registration.stop()           # it ran once: its queue is there, no one takes from it
    base = start_gateway(container_factory, gateway_config)   # the RPC timeout: 60 s
    operator.user("siti", "district", "52.01")
    system = login(base, "siti")
    answer = system.post("/api/v1/villages", json={"code": BAJUR})
    assert answer.status_code == 503, answer.text
    assert "registration service is not running" in answer.json()["message"]
    assert "nothing was sent" in answer.json()["message"]


def test_a_request_given_up_on_is_not_run_when_the_service_returns(container_factory,
                                                                   gateway_config,
                                                                   operator):
    """The request waited in the service's durable queue: the caller got 503 "try
    again", and the village was registered when the service came back all the same.
    (The service stops right after the gateway saw it serving; the gateway keeps that
    view for the whole test, so the request is sent and waits in the queue.)"""
    config = {**gateway_config, "GATEWAY_RPC_TIMEOUT": 1, "GATEWAY_HEALTH_MAX_AGE": 3600}
    registration = container_factory(RegistrationService, config)
    registration.start()
    base = start_gateway(container_factory, config)
    operator.user("siti", "district", "52.01")
    system = login(base, "siti")
    assert system.get(f"/api/v1/villages/{BAJUR}").status_code == 404   # seen serving
    registration.stop()
    answer = system.post("/api/v1/villages", json={"code": BAJUR})
    assert answer.status_code == 503, answer.text
    assert "did not answer within 1 s" in answer.json()["message"]   # it was sent
    time.sleep(1.5)
    container_factory(RegistrationService, config).start()
    time.sleep(1.0)
    assert system.get(f"/api/v1/villages/{BAJUR}").status_code == 404


class HungRegistration:
    """Takes its calls and never answers (a deadlock, a disk that stopped)."""
    name = "registration"

    @rpc
    def get_village(self, code):
        eventlet.sleep(60)


def test_a_service_that_never_answers_cannot_take_every_worker(container_factory,
                                                               gateway_config, operator):
    """Four requests to it held the gateway's four workers until GATEWAY_RPC_TIMEOUT:
    meanwhile /health and every other service's requests waited for a worker."""
    config = {**gateway_config, "max_workers": 4, "GATEWAY_RPC_TIMEOUT": 8}
    container_factory(HungRegistration, config).start()
    base = start_gateway(container_factory, config)
    operator.user("siti", "district", "52.01")
    system = login(base, "siti")
    answers = []

    def ask():
        answers.append(system.get(f"/api/v1/villages/{BAJUR}"))
    askers = [threading.Thread(target=ask) for _ in range(4)]
    for asker in askers:
        asker.start()
    time.sleep(1.0)   # two wait on the service; the other two were refused at once
    refused = [a for a in answers if a.status_code == 503]
    assert len(refused) == 2, [a.text for a in answers]
    assert "has 2 requests of this gateway waiting for it" in refused[0].json()["message"]
    health = requests.get(f"{base}/health", timeout=4)   # a worker is free for it
    assert health.status_code in (200, 503) and "checks" in health.json()
    for asker in askers:
        asker.join(timeout=30)
    assert sorted(a.status_code for a in answers) == [503] * 4   # the two timed out
