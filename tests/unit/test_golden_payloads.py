"""The payload schemas describe what was recorded in the past: every payload of every
ledger a former version wrote (tests/fixtures/golden/<commit>, opened as the upgrade
drill opens it: tests/integration/test_upgrade.py) validates against the catalog of the
service whose ledger holds it (a ledger is named after its service), as recorded, never
upcast. A schema stricter than what was once recorded would make the chassis's check
wrong about the past and the OpenAPI document of the audit history wrong about it."""
import os
import shutil

import pytest

from services.gateway import openapi
from services.gateway.event_payloads import CATALOGS
from services.gateway.routes import ROUTES
from shared.chassis.payloads import PayloadMismatch
from shared.ledger import SYSTEM, Metadata, NewEvent, open_ledger
from tests.integration.gateway.documented import refused

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "fixtures", "golden")


@pytest.fixture(params=sorted(os.listdir(GOLDEN)))
def ledgers(request, tmp_path):
    """A copy of the old ledgers (opening one may write beside it), by name."""
    shutil.copytree(os.path.join(GOLDEN, request.param, "data", "ledgers"), tmp_path / "ledgers")
    return sorted(name.removesuffix(".db") for name in os.listdir(tmp_path / "ledgers")
                  if name.endswith(".db")), f"sqlite:///{tmp_path}/ledgers"


def records(store_uri, name):
    ledger = open_ledger(store_uri, name)
    try:
        return list(ledger.iter_records())
    finally:
        ledger.close()


def mismatches(store_uri, name):
    """What in the ledger its service's catalog refuses, one line per record."""
    catalog = CATALOGS.get(name)
    if catalog is None:
        return [f"{name}: no service's catalog (event_payloads.CATALOGS) for this ledger"]
    wrong = []
    for record in records(store_uri, name):
        try:
            catalog.check(record)
        except PayloadMismatch as mismatch:
            wrong.append(f"{name} {record.position} (schema_version "
                         f"{record.schema_version}): {mismatch}")
    return wrong


def test_every_old_payload_validates_against_its_services_catalog(ledgers):
    names, store_uri = ledgers
    assert names   # the walk finds the ledgers
    assert [line for name in names for line in mismatches(store_uri, name)] == []


def test_every_old_payload_is_what_the_openapi_document_says_of_its_type(ledgers):
    """The audit history's entries are typed per event type from the same catalogs; the
    JSON Schema apispec renders of them (patterns, enums, nullable) must take the old
    payloads too, as a client generated from the document reads them."""
    names, store_uri = ledgers
    document = openapi.document(ROUTES)
    schemas = document["components"]["schemas"]
    entries = schemas["ExplainedEvent"]["discriminator"]["mapping"]
    wrong = []
    for name in names:
        for record in records(store_uri, name):
            entry = schemas[entries[record.type].rsplit("/", 1)[1]]
            wrong += [f"{name} {record.position} {record.type}: {error}" for error in
                      refused(document, entry["properties"]["payload"], record.payload)]
    assert wrong == []


def test_a_payload_the_catalog_refuses_is_named(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path}", "registration")
    try:
        ledger.append("village-52.01.08.2006", 0, [NewEvent(
            "VillageRegistered", {"code": "52.01.08.2006"})], Metadata(SYSTEM, "corr"))
    finally:
        ledger.close()
    [line] = mismatches(f"sqlite:///{tmp_path}", "registration")
    assert line.startswith("registration 1 (schema_version 1): VillageRegistered payload")
    assert mismatches(f"sqlite:///{tmp_path}", "elsewhere") == [
        "elsewhere: no service's catalog (event_payloads.CATALOGS) for this ledger"]
