"""plpbk rebuild --check against in-memory views: the running services are asked over RPC
(view_positions / view_documents, which every service has) and compared with a fold of the ledgers."""
import json

import pytest
from click.testing import CliRunner

from services.cli import cli
from services.registration.service import RegistrationService
from shared.chassis.platform import Platform

from .conftest import BAJUR, proxy, run_registration_flows


@pytest.fixture
def services(container_factory, audit_config, audit):
    container = container_factory(RegistrationService, audit_config)
    container.start()
    platform = next(e for e in container.extensions if isinstance(e, Platform))
    return {"config": audit_config, "views": platform.views}


def check(config, *views):
    result = CliRunner().invoke(cli, ["rebuild", *views, "--check", "--json", "--store",
                                      config["STORE_URI"], "--views", "memory://",
                                      "--amqp", config["AMQP_URI"]])
    return result.exit_code, json.loads(result.output) if result.output.startswith("{") else \
        result.output


def test_live_in_memory_views_are_compared_with_the_ledgers(services):
    config = services["config"]
    run_registration_flows(config)
    code, report = check(config, "registration")
    assert code == 0, report
    assert report["checked"][0]["view"] == "registration.village_board"
    assert report["checked"][0]["differences"] == []
    with proxy(config, "audit") as audit:
        audit.history(BAJUR)  # the audit index is caught up when asked
    code, report = check(config, "audit")
    assert code == 0, report

    villages = services["views"].collection("villages")
    village = villages.get(BAJUR)
    village["status"] = "selected"
    villages.put(BAJUR, village)
    services["views"].collection("quotas").delete("52.01")
    code, report = check(config)
    assert code == 1
    found = {(d["collection"], d["key"]): d["difference"]
             for r in report["checked"] for d in r["differences"]}
    assert found == {("villages", BAJUR): "fields differ: status",
                     ("quotas", "52.01"): "missing from the live view"}
    checked = {r["view"] for r in report["checked"]}
    assert {"registration.village_board", "audit.village_index"} <= checked
    # Views of services this test does not start are named as not checked, never compared.
    assert all(r["reason"].endswith("is not running") for r in report["not_checked"])


def test_a_service_that_is_not_running_is_reported_not_checked(audit_config, audit):
    from shared.ledger import NewEvent, open_ledger
    ledger = open_ledger(audit_config["STORE_URI"], "registration")  # written, then stopped
    ledger.append(f"village-{BAJUR}", 0, [NewEvent("VillageRegistered", {"code": BAJUR})])
    ledger.close()
    code, report = check(audit_config, "registration")
    assert code == 3
    assert report["not_checked"][0]["reason"] == "the registration service is not running"
