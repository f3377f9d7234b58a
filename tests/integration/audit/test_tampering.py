"""Tampering of every kind, on copies of ledgers the real services wrote, is detected: by
`verify` and by proofs against a tree head the auditor kept. Bundles are checked offline by
`plpbk verify-bundle` in a process that has no store and no RabbitMQ."""
import base64
import hashlib
import os
import shutil
import subprocess
import sys

import orjson
import pytest

from services.audit import merkle
from services.audit.proofs import TransparencyLog
from services.audit.sources import LedgerSources
from services.audit.treehead import load_private_key
from shared.chassis.errors import Conflict
from shared.ledger import open_ledger
from shared.ledger.canonical import canonical_bytes
from shared.ledger.verify import verify_ledger
from shared.views.memory import MemoryViewStore

from services.cycle.service import CycleService
from tests.forgery import open_as_attacker, reseal_from
from tests.integration.conftest import wait_for

from .conftest import (AUDITOR, BAJUR, NEIGHBOUR, bajur_in_planning_stage, plan_bajur,
                       proxy, run_cycle_flows, run_registration_flows)


@pytest.fixture
def recorded(registration, planning, audit, container_factory, audit_config, tmp_path):
    """Ledgers the real services wrote, and a tree head of each that the auditor keeps."""
    container_factory(CycleService, audit_config).start()
    run_registration_flows(registration)  # selects the neighbour: its cycle opens
    bajur_in_planning_stage(planning)
    plan_bajur(planning)
    with proxy(audit, "audit", AUDITOR) as auditor:
        wait_for(lambda: any(e["ledger"] == "cycle" for e in auditor.history(NEIGHBOUR)),
                 what="the neighbour's cycle")
    run_cycle_flows(audit_config)
    with proxy(audit, "audit", AUDITOR) as auditor:
        heads = {row["ledger"]: auditor.tree_head(row["ledger"]) for row in auditor.ledgers()}
    folder = audit["STORE_URI"][len("sqlite:///"):]
    return {"folder": folder, "heads": heads, "config": audit, "tmp": tmp_path}


def copy_of(recorded, name):
    target = recorded["tmp"] / f"copy-{name}-{len(os.listdir(recorded['tmp']))}"
    shutil.copytree(recorded["folder"], target)
    return target


def attack(folder, ledger="registration"):
    return open_as_attacker(folder / f"{ledger}.db")


def change_payload(db, position, rehash):
    body = db.execute("SELECT body FROM records WHERE position = ?", (position,)).fetchone()[0]
    record = orjson.loads(body)
    record["actor"]["id"] = "someone-else"
    body = canonical_bytes(record)
    db.execute("UPDATE records SET body = ? WHERE position = ?", (body, position))
    if rehash:
        db.execute("UPDATE records SET hash = ? WHERE position = ?",
                   (hashlib.sha256(body).hexdigest(), position))
        reseal_from(db, position + 1)


def delete(db, position):
    db.execute("DELETE FROM records WHERE position = ?", (position,))
    db.execute("UPDATE records SET position = position - 1 WHERE position > ?", (position,))


def swap(db, first):
    a = db.execute("SELECT body, hash FROM records WHERE position = ?", (first,)).fetchone()
    b = db.execute("SELECT body, hash FROM records WHERE position = ?", (first + 1,)).fetchone()
    db.execute("UPDATE records SET body = ?, hash = ? WHERE position = ?", (*b, first))
    db.execute("UPDATE records SET body = ?, hash = ? WHERE position = ?", (*a, first + 1))


def truncate(db, keep):
    db.execute("DELETE FROM records WHERE position > ?", (keep,))


def insert(db, position):
    """A forged record slipped in at position, later ones moved up and rehashed."""
    for at in range(db.execute("SELECT max(position) FROM records").fetchone()[0],
                    position - 1, -1):
        db.execute("UPDATE records SET position = position + 1 WHERE position = ?", (at,))
    template = orjson.loads(db.execute("SELECT body FROM records WHERE position = ?",
                                       (position - 1,)).fetchone()[0])
    template.update(position=position, event_id="00000000-0000-4000-8000-000000000001",
                    stream_id="village-52.01.08.2099", stream_version=1,
                    payload={"code": "52.01.08.2099"})
    db.execute("INSERT INTO records VALUES (?, 'village-52.01.08.2099', 1, ?, ?, x'00', '')",
               (position, template["type"], template["recorded_at"]))
    db.execute("UPDATE records SET body = ? WHERE position = ?",
               (canonical_bytes(template), position))
    reseal_from(db, position)


TAMPERINGS = {  # each ledger here has at least 6 records
    "a payload changed, hash left": lambda db: change_payload(db, 3, rehash=False),
    "a payload changed, every hash recomputed": lambda db: change_payload(db, 3, rehash=True),
    "a record deleted": lambda db: delete(db, 4),
    "two records swapped": lambda db: swap(db, 2),
    "the tail cut off": lambda db: truncate(db, 4),
    "a record inserted, every hash recomputed": lambda db: insert(db, 4),
}


def proven_against(folder, head, key_pem, name="registration"):
    """Can a server holding these (copied, tampered) ledgers prove the auditor's head?

    It builds a fresh Merkle tree from them, as the owner of a tampered store would, and
    answers with its own head, a consistency proof and an inclusion proof of every record.
    """
    sources = LedgerSources(f"sqlite:///{folder}")
    sources.discover()
    log = TransparencyLog(sources, MemoryViewStore("state"), load_private_key(key_pem))
    try:
        new = log.signed_head(name)
    except Conflict:
        return False  # the tampered ledger does not even form a chain the tree takes in
    size = head["tree_size"]
    if new["tree_size"] < size:
        return False
    consistent = merkle.verify_consistency(
        size, new["tree_size"], bytes.fromhex(head["root_hash"]),
        bytes.fromhex(new["root_hash"]),
        [bytes.fromhex(p) for p in log.consistency(name, size)["proof"]])
    included = all(
        merkle.verify_inclusion(merkle.leaf_hash(base64.b64decode(proof["body"])),
                                proof["leaf_index"], size,
                                [bytes.fromhex(p) for p in proof["proof"]],
                                bytes.fromhex(head["root_hash"]))
        for proof in (log.inclusion(name, position, size)
                      for position in range(1, size + 1)))
    sources.close()
    return consistent and included


@pytest.mark.parametrize("name", ["registration", "cycle", "planning"])
@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
def test_tampering_a_copy_is_detected_by_verify_and_by_proofs(recorded, keys, tampering, name):
    head = recorded["heads"][name]
    key_pem = open(keys["private"], "rb").read()
    assert head["tree_size"] >= 6
    assert proven_against(recorded["folder"], head, key_pem, name)  # untouched: proven

    folder = copy_of(recorded, tampering.replace(" ", "-").replace(",", ""))
    db = attack(folder, name)
    TAMPERINGS[tampering](db)
    db.close()
    ledger = open_ledger(f"sqlite:///{folder}", name)
    report = verify_ledger(ledger)
    chain_alone = report.ok
    ledger.close()
    if tampering in ("the tail cut off", "a payload changed, every hash recomputed"):
        assert chain_alone, "a thorough forger keeps the chain itself consistent"
    else:
        assert not chain_alone and report.first_bad_position is not None
    assert not proven_against(folder, head, key_pem, name), tampering


def test_the_live_tree_refuses_a_ledger_rewritten_under_it(recorded):
    db = attack(__import__("pathlib").Path(recorded["folder"]))
    change_payload(db, 4, rehash=True)
    db.close()
    with proxy(recorded["config"], "audit", AUDITOR) as auditor:
        with pytest.raises(Conflict, match="registration #4 was altered"):
            auditor.export_bundle({"village": BAJUR})
    with proxy(recorded["config"], "registration") as ministry:  # the ledger grows on
        ministry.record_bkm(BAJUR, {"name": "BKM Bajur", "formed_on": "2020-01-01", "members": [
            {"name": "Ani", "sex": "P", "role": "koordinator"}]})
    with proxy(recorded["config"], "audit", AUDITOR) as auditor:
        with pytest.raises(Conflict, match="record 12: prev_hash .* history was rewritten"):
            auditor.tree_head("registration")
        assert auditor.status()["trees"]["registration"]["broken"]["position"] == 12


def offline(*args, cwd):
    """plpbk in a process with no store and no reachable RabbitMQ."""
    env = {"PATH": os.environ["PATH"], "STORE_URI": "sqlite:////nonexistent",
           "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/", "PLPBK_NO_PROGRESS": "1",
           "COLUMNS": "250", "PYTHONPATH": os.getcwd(), "HOME": str(cwd)}
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "plpbk"), *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_a_bundle_verifies_offline_and_any_tampering_fails_clearly(recorded, keys, tmp_path):
    from click.testing import CliRunner
    from services.cli import cli
    path = tmp_path / "bajur.bundle.json"
    exported = CliRunner().invoke(cli, ["audit", "export", BAJUR, "--out", str(path),
                                        "--amqp", recorded["config"]["AMQP_URI"],
                                        "--role", "auditor"])
    assert exported.exit_code == 0, exported.output
    clean = offline("verify-bundle", str(path), "--public-key", keys["public"], cwd=tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "verified" in clean.stdout and "registration" in clean.stdout

    bundle = orjson.loads(path.read_bytes())
    number = [e["ledger"] for e in bundle["events"]].index("registration") + 1
    body = bytearray(base64.b64decode(bundle["events"][number]["body"]))
    body[len(body) // 2] ^= 0x04
    bundle["events"][number]["body"] = base64.b64encode(bytes(body)).decode()
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(canonical_bytes(bundle) + b"\n")
    failed = offline("verify-bundle", str(tampered), "--public-key", keys["public"],
                     cwd=tmp_path)
    assert failed.returncode == 1
    assert "record registration #" in failed.stdout and "inclusion proof" in failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr

    data = bytearray(path.read_bytes())
    data[200] ^= 0x01
    tampered.write_bytes(bytes(data))
    assert offline("verify-bundle", str(tampered), "--public-key", keys["public"],
                   cwd=tmp_path).returncode == 1
    missing = offline("verify-bundle", str(tmp_path / "none.json"), "--public-key",
                      keys["public"], cwd=tmp_path)
    assert missing.returncode == 2
