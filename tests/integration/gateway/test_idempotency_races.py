"""Requests with one Idempotency-Key sent at once to one gateway process: the command is
recorded once and every answer is the first one."""
import threading

from shared.ledger import open_ledger
from tests.samples import BAJUR, ELIGIBLE

from .conftest import Client, login, start_gateway


def records(config, event_type):
    ledger = open_ledger(config["STORE_URI"], "registration")
    try:
        return [r for r in ledger.iter_records() if r.type == event_type]
    finally:
        ledger.close()


def at_once(requests):
    """Send every request (a function) at the same moment; their answers."""
    answers, start = [None] * len(requests), threading.Barrier(len(requests))

    def send(index):
        start.wait()
        answers[index] = requests[index]()
    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def test_one_key_sent_at_once_records_once_and_answers_alike(gateway, operator,
                                                             gateway_config):
    operator.user("siti", "district", "52.01")
    siti = login(gateway, "siti")
    key = {"Idempotency-Key": "register-bajur"}
    answers = at_once([lambda client=client: client.post(
        "/api/v1/villages", json={"code": BAJUR}, headers=key)
        for client in [siti] * 6])
    assert {answer.status_code for answer in answers} == {201}, [a.text for a in answers]
    assert len({answer.text for answer in answers}) == 1
    assert len(records(gateway_config, "VillageRegistered")) == 1

    key = {"Idempotency-Key": "evidence-bajur"}
    answers = at_once([lambda client=client: client.post(
        f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE, headers=key)
        for client in [siti] * 4])
    assert {answer.status_code for answer in answers} == {200}, [a.text for a in answers]
    assert len({answer.text for answer in answers}) == 1
    assert sum(answer.headers.get("Idempotent-Replayed") == "true" for answer in answers) == 3
    assert len(records(gateway_config, "IndicatorsRecorded")) == 1


def test_one_key_sent_at_once_with_two_bodies_records_one_and_refuses_the_other(
        gateway, operator, gateway_config):
    operator.user("siti", "district", "52.01")
    siti = login(gateway, "siti")
    siti.post("/api/v1/villages", json={"code": BAJUR})
    key = {"Idempotency-Key": "evidence-bajur"}
    bodies = [ELIGIBLE, {**ELIGIBLE, "source_document": "another survey"}] * 2
    answers = at_once([lambda body=body: siti.post(
        f"/api/v1/villages/{BAJUR}/indicators", json=body, headers=key) for body in bodies])
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 200, 422, 422], [a.text for a in answers]
    assert {a.json()["field"] for a in answers if a.status_code == 422} == {"Idempotency-Key"}
    assert len(records(gateway_config, "IndicatorsRecorded")) == 1


def test_one_key_sent_at_once_to_two_gateway_processes_records_once_and_answers_alike(
        gateway, operator, container_factory, gateway_config):
    """Two gateway processes behind one address hold no common lock: the service decides.
    The worker that finds the key already recorded by the other must answer from views
    brought up to that record; it answered 404 "not registered" (kept as the key's
    answer) in about one run in three."""
    operator.user("siti", "district", "52.01")
    first = login(gateway, "siti")
    second = Client(start_gateway(container_factory, gateway_config), first.headers)
    key = {"Idempotency-Key": "register-bajur"}
    answers = at_once([lambda client=client: client.post(
        "/api/v1/villages", json={"code": BAJUR}, headers=key)
        for client in (first, second) * 3])
    assert {answer.status_code for answer in answers} == {201}, [a.text for a in answers]
    assert len(records(gateway_config, "VillageRegistered")) == 1
    key = {"Idempotency-Key": "evidence-bajur"}
    answers = at_once([lambda client=client: client.post(
        f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE, headers=key)
        for client in (first, second) * 2])
    assert {answer.status_code for answer in answers} == {200}, [a.text for a in answers]
    assert len(records(gateway_config, "IndicatorsRecorded")) == 1
