"""A path or query parameter the gateway checks before a service sees it is refused with
the words the service itself uses (its field for shared.schemas.parameter, one
definition): the same message and field, whichever of the two refuses it first."""
from types import SimpleNamespace

import pytest

from services.audit import schemas as aud
from services.gateway import pipeline
from services.gateway.auth import Principal
from services.gateway.routes import ROUTES
from services.planning import schemas as plan
from services.registration import schemas as reg
from shared.chassis.errors import InvalidInput
from shared.schemas import parameter

MINISTRY = Principal("user:ministry", "user", "ministry", "ministry", "")
BAJUR = "52.01.08.2006"
EVENT = "9637c80a-ced8-4d24-8f5d-a49579ebc045"

# route, its path values with one wrong, the wrong one's name, the service's field, and
# the value as the service would get it (a path's number is a number by then)
CASES = [
    ("audit_why", {"event_id": "NOT-AN-ID"}, "event_id", aud.EVENT_ID, "NOT-AN-ID"),
    ("audit_tree_head", {"ledger": "Bad-Name"}, "ledger", aud.LEDGER, "Bad-Name"),
    ("audit_consistency_proof", {"ledger": "1x"}, "ledger", aud.LEDGER, "1x"),
    ("audit_inclusion_proof", {"ledger": "x!", "position": "3"}, "ledger", aud.LEDGER, "x!"),
    ("audit_inclusion_proof", {"ledger": "cycle", "position": "0"}, "position",
     aud.POSITION, 0),
    ("ranking", {"region": "5"}, "region", reg.RANKED_REGION, "5"),
    ("ranking", {"region": "52.01.08"}, "region", reg.RANKED_REGION, "52.01.08"),
    ("get_document_version", {"code": BAJUR, "kind": "nosuch", "version": "1"}, "kind",
     plan.KIND, "nosuch"),
    ("get_document_version", {"code": BAJUR, "kind": "rplp", "version": "0"}, "version",
     plan.VERSION, 0),
]


def judged(route_name, values):
    route = next(r for r in ROUTES if r.name == route_name)
    call = pipeline.Call(route, SimpleNamespace(headers={}), "corr")
    pipeline.judge_head(call, values, lambda headers: MINISTRY)
    return call.path


@pytest.mark.parametrize("route_name, values, name, field, as_sent", CASES)
def test_the_gateway_refuses_a_parameter_as_its_service_does(route_name, values, name,
                                                             field, as_sent):
    with pytest.raises(InvalidInput) as by_service:
        parameter(as_sent, field, name)
    with pytest.raises(InvalidInput) as by_gateway:
        judged(route_name, values)
    assert (by_gateway.value.field, str(by_gateway.value)) == (
        by_service.value.field, str(by_service.value))


def test_a_ledgers_refusal_shows_the_names_pattern():
    with pytest.raises(InvalidInput, match=r"ledger: must be a ledger name \(\^\[a-z\]"):
        judged("audit_tree_head", {"ledger": "Bad-Name"})


def test_good_parameters_pass_as_the_service_loads_them():
    assert judged("audit_inclusion_proof", {"ledger": "cycle", "position": "3"}) == {
        "ledger": "cycle", "position": 3}
    assert judged("get_document_version", {"code": BAJUR, "kind": "rplp", "version": "2"}) \
        == {"code": BAJUR, "kind": "rplp", "version": 2}
    assert judged("audit_why", {"event_id": EVENT}) == {"event_id": EVENT}
    assert judged("ranking", {"region": "52.01"}) == {"region": "52.01"}
