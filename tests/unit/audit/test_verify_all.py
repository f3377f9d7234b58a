"""plpbk verify --all against the checkpoints an auditor kept: each ledger, its head, breaks."""
import json
import os
import sqlite3

import pytest
from click.testing import CliRunner

from shared.cli.main import cli
from shared.ledger import Actor, Metadata, NewEvent, open_ledger
from shared.ledger.verify import generate_key, make_checkpoint, public_key_pem

META = Metadata(Actor("dinas-1", "district", "52.01"), "corr")
LEDGERS = {"registration": 9, "cycle": 4, "planning": 6}


@pytest.fixture
def kept(tmp_path):
    """Three ledgers, a key pair, and one checkpoint per ledger kept by the auditor."""
    store = f"sqlite:///{tmp_path}/ledgers"
    key = generate_key()
    (tmp_path / "key.pub").write_bytes(public_key_pem(key))
    files = []
    for name, count in LEDGERS.items():
        ledger = open_ledger(store, name)
        for number in range(count):
            ledger.append(f"{name}-{number % 2}", ledger.stream_version(f"{name}-{number % 2}"),
                          [NewEvent("Recorded", {"n": number})], META)
        path = tmp_path / f"{name}.ckpt"
        path.write_text(json.dumps(make_checkpoint(ledger, key)))
        files.append(str(path))
        ledger.close()
    return {"store": store, "folder": tmp_path / "ledgers", "public": str(tmp_path / "key.pub"),
            "checkpoints": files}


def verify_all(kept, *extra, checkpoints=None):
    args = ["verify", "--all", "--store", kept["store"], "--public-key", kept["public"]]
    for path in kept["checkpoints"] if checkpoints is None else checkpoints:
        args += ["--checkpoint", path]
    return CliRunner().invoke(cli, args + list(extra))


def reports(result):
    return {r["ledger"]: r for r in json.loads(result.output)}


def test_every_ledger_is_named_with_its_head_and_checkpoint(kept):
    result = verify_all(kept, "--json")
    assert result.exit_code == 0, result.output
    found = reports(result)
    assert {name: r["head_position"] for name, r in found.items()} == LEDGERS
    assert all(r["ok"] and r["checkpoint"]["ok"] for r in found.values())
    table = verify_all(kept)
    assert table.exit_code == 0
    for name, count in LEDGERS.items():
        assert name in table.output and f"#{count} " in table.output


def test_a_truncated_and_a_rewritten_ledger_are_named(kept):
    db = sqlite3.connect(kept["folder"] / "cycle.db", isolation_level=None)
    db.execute("DROP TRIGGER records_no_delete")
    db.execute("DELETE FROM records WHERE position > 2")
    db.close()
    db = sqlite3.connect(kept["folder"] / "planning.db", isolation_level=None)
    db.execute("DROP TRIGGER records_no_update")
    # flip the first hex digit (a fixed 'f' would change nothing in 1 of 16 runs)
    db.execute("UPDATE records SET hash = CASE substr(hash, 1, 1) WHEN 'f' THEN '0' ELSE 'f'"
               " END || substr(hash, 2) WHERE position = 6")
    db.close()
    result = verify_all(kept, "--json")
    assert result.exit_code == 1
    found = reports(result)
    assert found["registration"]["ok"]
    assert not found["cycle"]["ok"] and "truncated" in found["cycle"]["problem"]
    assert found["cycle"]["head_position"] == 2
    assert found["planning"]["first_bad_position"] == 6


def test_a_vanished_ledger_is_a_break_not_a_usage_error(kept):
    os.remove(kept["folder"] / "cycle.db")
    result = verify_all(kept, "--json")
    assert result.exit_code == 1, result.output
    cycle = reports(result)["cycle"]
    assert not cycle["ok"] and "missing" in cycle["problem"]
    assert cycle["checkpoint"]["position"] == 4


def test_ledgers_without_a_kept_checkpoint_say_so(kept):
    result = verify_all(kept, checkpoints=kept["checkpoints"][:1])
    assert result.exit_code == 0
    assert "none kept" in result.output


def test_bad_checkpoint_files_are_usage_errors(kept, tmp_path):
    (tmp_path / "empty.ckpt").write_text("{}")
    result = verify_all(kept, checkpoints=[str(tmp_path / "empty.ckpt")])
    assert result.exit_code == 2 and "not a checkpoint" in " ".join(result.output.split())
    (tmp_path / "nameless.ckpt").write_text('{"format": "plpbk-checkpoint/1"}')
    result = verify_all(kept, checkpoints=[str(tmp_path / "nameless.ckpt")])
    assert result.exit_code == 2 and "names no ledger" in result.output
    result = verify_all(kept, checkpoints=kept["checkpoints"][:1] * 2)
    assert result.exit_code == 2 and "second checkpoint" in result.output
    forged = json.loads(open(kept["checkpoints"][1]).read())
    forged["position"] = 1
    (tmp_path / "forged.ckpt").write_text(json.dumps(forged))
    os.remove(kept["folder"] / "cycle.db")
    result = verify_all(kept, "--json", checkpoints=[str(tmp_path / "forged.ckpt")])
    assert result.exit_code == 1 and "signature" in reports(result)["cycle"]["problem"]


def test_a_checkpoint_of_a_ledger_not_named_is_bad_usage_not_ignored(kept):
    """`verify cycle --checkpoint registration.ckpt`: the registration checkpoint was
    never checked, the table said "none kept" for cycle, and the exit code was 0, as if
    the kept evidence had held."""
    result = CliRunner().invoke(cli, [
        "verify", "cycle", "--store", kept["store"], "--public-key", kept["public"],
        "--checkpoint", kept["checkpoints"][0]])
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "registration" in text and kept["checkpoints"][0] in text
    both = CliRunner().invoke(cli, [
        "verify", "cycle", "registration", "--store", kept["store"], "--public-key",
        kept["public"], "--checkpoint", kept["checkpoints"][0], "--json"])
    assert both.exit_code == 0, both.output
    assert reports(both)["registration"]["checkpoint"]["ok"]
