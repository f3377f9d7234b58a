"""The upgrade drill without the running platform (tests/e2e/test_upgrade.py has it).

Each tests/fixtures/golden/<commit>/data was written by the code of that commit (its
README says how). On a copy of it this version verifies every ledger against the
checkpoints that version signed, reads every record of every ledger (upcast where an
event's payload changed since), and finds the gateway's kept Idempotency-Key answers,
users' password hashes and token secret where that version left them in the state store.
"""
import json
import os
import shutil
from datetime import datetime

import pytest

from nameko.standalone.rpc import ServiceRpcProxy

from services.gateway.idempotency import StoredResponses, fingerprint, slot_of
from services.registration.service import RegistrationService
from services.registration.views import VillageBoard
from shared.ledger import open_ledger
from shared.views import open_view_store
from tests.samples import BAJUR, MINISTRY
from tests.unit.cli_support import run

from .conftest import wait_for

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "fixtures", "golden")
LEDGERS = ("cycle", "gateway", "planning", "registration")


@pytest.fixture(params=sorted(os.listdir(GOLDEN)))
def old(request, tmp_path):
    """A copy of the old data (this version may write to what it opens), its drill.json."""
    shutil.copytree(os.path.join(GOLDEN, request.param, "data"), tmp_path / "data")
    folder = tmp_path / "data"
    with open(folder / "drill.json") as handle:
        return folder, json.load(handle)


def test_every_old_ledger_verifies_against_the_checkpoint_that_version_signed(old):
    folder, _ = old
    checkpoints = [arg for name in LEDGERS
                   for arg in ("--checkpoint", str(folder / "checkpoints" / f"{name}.json"))]
    result = run("verify", "--all", *checkpoints, "--public-key",
                 str(folder / "tree-head.pem.pub"), "--store", f"sqlite:///{folder}/ledgers",
                 "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert sorted(item["ledger"] for item in report) == list(LEDGERS)
    assert all(item["ok"] and item["checkpoint"]["ok"] for item in report), report


def test_a_bundle_that_version_exported_verifies_offline(old):
    """Auditors keep bundles for ever: this version's verify-bundle must accept an old one."""
    folder, _ = old
    result = run("verify-bundle", str(folder / "bajur.bundle"), "--public-key",
                 str(folder / "tree-head.pem.pub"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"]


def test_every_old_record_reads_with_this_version(old):
    folder, _ = old
    for name in LEDGERS:
        ledger = open_ledger(f"sqlite:///{folder}/ledgers", name)
        try:
            records = list(ledger.iter_records())
        finally:
            ledger.close()
        assert records and [r.position for r in records] == list(
            range(1, len(records) + 1)), name


def test_the_gateways_kept_answers_are_found_as_that_version_kept_them(old):
    """Within its day, a key sent again is answered from the state store, not the ledger:
    the slot, the fingerprint and the kept answer's layout must still be the same."""
    folder, drill = old
    state = open_view_store(f"sqlite:///{folder}/state", "gateway")
    made = max(_head_time(folder, name) for name in LEDGERS)
    kept = StoredResponses(state, clock=lambda: made + 60)
    for write in drill["idempotent"]:
        path, _, query = write["path"].partition("?")
        answer = kept.first_answer(
            slot_of(f"user:{write['user']}", write["key"]),
            fingerprint(write["method"], path, query.encode(),
                        json.dumps(write["body"]).encode()))
        assert answer is not None, write["key"]
        assert (answer["status"], answer["body"]) == (write["status"], write["answer"])
    assert state.collection("secrets").get("token_signing")["secret"]


def test_durable_views_folded_by_that_version_are_folded_again_where_their_shape_changed(
        old, platform_config, container_factory):
    """A deployment keeps its read models (VIEW_URI sqlite:/// or mongodb://) across an
    upgrade. The village board gained name_key (the name search) after 5cd9284: on the
    views that version folded, the upgraded service found no village by name, silently,
    until an operator thought of `plpbk rebuild`."""
    folder, _ = old
    config = {**platform_config, "STORE_URI": f"sqlite:///{folder}/ledgers",
              "STATE_URI": f"sqlite:///{folder}/state",
              "VIEW_URI": f"sqlite:///{folder}/views"}
    container = container_factory(RegistrationService, config)
    container.start()
    with ServiceRpcProxy("registration", config, context_data={"actor": MINISTRY}) as rpc:
        found = rpc.list_villages({"name": "baj"})
    assert [village["code"] for village in found["items"]] == [BAJUR], found
    container.stop()
    check = run("rebuild", "registration", "--check", "--views", f"sqlite:///{folder}/views",
                "--store", f"sqlite:///{folder}/ledgers")
    assert check.exit_code == 0, check.output


def _head_time(folder, name):
    ledger = open_ledger(f"sqlite:///{folder}/ledgers", name)
    try:
        recorded_at = ledger.head().recorded_at
    finally:
        ledger.close()
    return datetime.fromisoformat(recorded_at.replace("Z", "+00:00")).timestamp()


def test_plpbk_rebuild_marks_the_shape_it_folded_to(old):
    """Rebuilt by hand (the README's restore and upgrade steps), durable views are of the
    projection's shape: the service starting on them must not clear and fold them again."""
    folder, _ = old
    views = f"sqlite:///{folder}/views"
    assert run("rebuild", "--views", views, "--store",
               f"sqlite:///{folder}/ledgers").exit_code == 0
    store = open_view_store(views, "registration")
    try:
        assert store.collection("shapes").get("registration.village_board")["shape"] == \
            VillageBoard.shape
    finally:
        store.close()


def test_the_audit_index_folded_to_another_shape_is_folded_again_at_start(
        old, platform_config, container_factory, monkeypatch):
    """The audit keeps its own subscriptions (one per ledger), so the index's shape was
    not read: a change of its documents left the old ones in a durable VIEW_URI."""
    from services.audit.index import VillageIndex
    from services.audit.service import AuditService
    folder, _ = old
    views = f"sqlite:///{folder}/views"
    stale = open_view_store(views, "audit")
    stale.collection("events").put("folded-by-another-shape", {"ledger": "x", "position": 0})
    stale.close()
    monkeypatch.setattr(VillageIndex, "shape", 2)
    config = {**platform_config, "STORE_URI": f"sqlite:///{folder}/ledgers",
              "STATE_URI": f"sqlite:///{folder}/state", "VIEW_URI": views,
              "TREE_HEAD_KEY": str(folder / "tree-head.pem")}
    os.chmod(folder / "tree-head.pem", 0o600)
    container = container_factory(AuditService, config)
    container.start()
    with ServiceRpcProxy("audit", config, context_data={"actor": MINISTRY}) as rpc:
        wait_for(lambda: rpc.history(BAJUR), what="the index folded again")
    container.stop()
    store = open_view_store(views, "audit")
    try:
        assert store.collection("events").get("folded-by-another-shape") is None
        assert store.collection("shapes").get("audit.village_index")["shape"] == 2
    finally:
        store.close()
