"""What stops the audit's catch-up without being a bug (a store away, a source restored
behind it, its index left half rebuilt) is said once, not as a traceback every round."""
import json
import time

from services.audit.service import AuditService
from shared.ledger import NewEvent, open_ledger
from shared.views import open_view_store

from ..log_capture import captured
from .conftest import BAJUR


def test_a_half_rebuilt_index_is_said_once_and_nothing_is_applied_onto_it(
        container_factory, audit_config, tmp_path):
    config = {**audit_config, "VIEW_URI": f"sqlite:///{tmp_path}/views",
              "CATCH_UP_INTERVAL": "0.1"}
    ledger = open_ledger(config["STORE_URI"], "registration")
    ledger.append(f"village-{BAJUR}", 0, [NewEvent("VillageRegistered", {"code": BAJUR})])
    ledger.close()
    views = open_view_store(config["VIEW_URI"], "audit")   # what a killed rebuild left
    views.collection("tracking").put("audit.village_index:registration", {
        "position": 0, "source": "registration", "subscriber": "audit.village_index",
        "rebuilding": True})
    with captured("INFO") as lines:
        container_factory(AuditService, config).start()
        time.sleep(1.5)   # about 15 rounds
        written = [json.dumps(line) for line in lines()]
    said = [line for line in written if "half rebuilt" in line]
    assert len(said) == 1, said
    assert "plpbk rebuild audit.village_index" in said[0]
    assert not [line for line in written if "Traceback" in line or "catch-up failed" in line]
    assert views.collection("villages").get(BAJUR) is None
    views.close()


def test_a_file_in_the_ledger_folder_that_is_no_ledger_is_named_once_and_stops_no_proof(
        container_factory, audit_config):
    """A foreign or damaged file (junk.db) beside the ledgers made every audit query fail
    with an unexpected RemoteError (500 at the gateway), tree heads of healthy ledgers
    included, and the catch-up log a traceback every round. Answers over every ledger
    still refuse, naming it (without it they would leave its events out unsaid); those
    about one healthy ledger are given."""
    import os

    import pytest
    from nameko.standalone.rpc import ServiceRpcProxy

    from shared.chassis.errors import Conflict

    from .conftest import AUDITOR
    config = {**audit_config, "CATCH_UP_INTERVAL": "0.1"}
    ledger = open_ledger(config["STORE_URI"], "registration")
    ledger.append(f"village-{BAJUR}", 0, [NewEvent("VillageRegistered", {"code": BAJUR})])
    ledger.close()
    junk = os.path.join(config["STORE_URI"][len("sqlite:///"):], "junk.db")
    with open(junk, "wb") as handle:
        handle.write(b"not a database" * 100)
    with captured("INFO") as lines, ServiceRpcProxy(
            "audit", config, context_data={"actor": AUDITOR}) as auditor:
        container_factory(AuditService, config).start()
        time.sleep(1.5)   # about 15 rounds
        assert auditor.tree_head("registration")["tree_size"] == 1
        with pytest.raises(Conflict) as refused:
            auditor.history(BAJUR)
        assert refused.value.field == "ledger" and "junk" in str(refused.value)
        with pytest.raises(Conflict):
            auditor.tree_head("junk")
        written = [json.dumps(line) for line in lines()]
        os.remove(junk)
        assert auditor.history(BAJUR)[0]["type"] == "VillageRegistered"
    said = [line for line in written if "junk" in line and "stopped" in line]
    assert len(said) == 1, said
    upkeep = [line for line in written if "services.audit" in line]   # not the refusals
    assert not [line for line in upkeep if "Traceback" in line or "catch-up failed" in line]


def test_a_ledger_that_cannot_be_opened_now_is_the_operators_503_not_an_unexpected_error(
        container_factory, audit_config, monkeypatch):
    """A ledger that cannot be opened now (a disk I/O error; a lock or a folder without
    permission alike) made every query an unexpected RemoteError: `plpbk audit` said
    "unexpected failure" (exit 1, "a problem found") and the gateway 500. (The disk
    error is injected: as root, no real one can be had here; a folder named like a
    ledger is a damaged entry, 409, as a foreign file is above.)"""
    import sqlite3

    import pytest

    from shared.ledger import sqlite as sqlite_ledger
    from click.testing import CliRunner
    from nameko.standalone.rpc import ServiceRpcProxy

    from services.cli import cli
    from shared.chassis.errors import StoreUnavailable

    from .conftest import AUDITOR
    ledger = open_ledger(audit_config["STORE_URI"], "registration")
    ledger.append(f"village-{BAJUR}", 0, [NewEvent("VillageRegistered", {"code": BAJUR})])
    ledger.close()
    open_ledger(audit_config["STORE_URI"], "cycle").close()
    connect = sqlite_ledger.connect_read_only

    def failing_disk(path):
        if path.endswith("cycle.db"):
            raise sqlite3.OperationalError("disk I/O error")
        return connect(path)
    monkeypatch.setattr(sqlite_ledger, "connect_read_only", failing_disk)
    container_factory(AuditService, audit_config).start()
    with ServiceRpcProxy("audit", audit_config, context_data={"actor": AUDITOR}) as auditor:
        assert auditor.tree_head("registration")["tree_size"] == 1
        with pytest.raises(StoreUnavailable) as refused:
            auditor.history(BAJUR)
        assert "cycle" in str(refused.value)
    result = CliRunner().invoke(cli, ["audit", "history", BAJUR, "--amqp",
                                      audit_config["AMQP_URI"], "--role", "auditor"])
    assert result.exit_code == 3, result.output
    assert "cycle" in result.output and "unexpected" not in result.output
