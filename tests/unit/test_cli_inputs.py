"""What an operator gets wrong at the prompt: a device given for a file, text that is not
UTF-8, a mistyped role, a file that is not what the option takes, a mistyped store
folder. Each is one line naming what was wrong and bad usage (exit 2), never a hang, a
store "unreachable" (exit 3) or a ledger called broken (exit 1); nothing is recorded."""
import json
import os
import subprocess
import sys

import pytest

from shared.ledger import open_ledger
from tests.unit.cli_support import UNREACHABLE, ledgers, run

PLPBK = os.path.join(os.path.dirname(sys.executable), "plpbk")
NOT_UTF8 = "op\udcff"   # how Python hands over the argument bytes b"op\xff"


def key_pair(folder):
    assert run("keygen", "--out", str(folder / "k.pem")).exit_code == 0
    return str(folder / "k.pem")


@pytest.mark.parametrize("command", [
    ["verify-bundle", "/dev/zero", "--public-key", "{pub}"],
    ["import", "villages", "/dev/zero", "--amqp", UNREACHABLE],
])
def test_a_device_given_for_a_file_is_refused_at_once(tmp_path, command):
    # /dev/zero never ends: verify-bundle read it until the kernel killed it, import
    # hung reading one endless line
    public = key_pair(tmp_path) + ".pub"
    result = run(*(part.format(pub=public) for part in command))
    assert result.exit_code == 2, result.output
    assert "/dev/zero" in result.text and "not a file" in result.text


def gateway_store(folder):
    store, state = folder / "ledgers", folder / "state"
    state.mkdir()
    created = run("users", "create", "ani", "--name", "Ani", "--role", "ministry",
                  "--password-stdin", "--store", f"sqlite:///{store}",
                  "--state", f"sqlite:///{state}", input="a long passphrase\n")
    assert created.exit_code == 0, created.output
    return ["--store", f"sqlite:///{store}", "--state", f"sqlite:///{state}"]


def head(stores):
    ledger = open_ledger(stores[1], "gateway", read_only=True)
    try:
        return ledger.head().position
    finally:
        ledger.close()


@pytest.mark.parametrize("command, option", [
    (["users", "create", "budi", "--name", NOT_UTF8, "--role", "ministry",
      "--password-stdin"], "--name"),
    (["keys", "issue", "--name", "SIPD", "--actor", NOT_UTF8], "--actor"),
    (["users", "disable", "ani", "--reason", NOT_UTF8], "--reason"),
])
def test_text_that_is_not_utf8_is_bad_usage_naming_the_option(tmp_path, command, option):
    # was exit 3 "not encodable: str is not valid UTF-8", as if a store were unreachable
    stores = gateway_store(tmp_path)
    before = head(stores)
    result = run(*command, *stores, input="a long passphrase\n")
    assert result.exit_code == 2, result.output
    assert option in result.text and "UTF-8" in result.text
    assert head(stores) == before


def test_an_argument_that_is_not_utf8_is_bad_usage_naming_it(tmp_path):
    result = run("audit", "history", NOT_UTF8, "--amqp", UNREACHABLE)
    assert result.exit_code == 2, result.output   # was 3: sent towards the service first
    assert "CODE" in result.text and "UTF-8" in result.text


def test_a_file_name_that_is_not_utf8_is_still_a_file_name(tmp_path):
    """Paths are bytes on Linux: a file named in Latin-1 is the operator's to use (run as
    a process: CliRunner's output stream cannot print such a name back)."""
    out = os.path.join(os.fsencode(tmp_path), b"kunci\xe9.pem")
    done = subprocess.run([PLPBK, "keygen", "--out", out], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert os.path.isfile(out) and os.path.isfile(out + b".pub")


@pytest.mark.parametrize("role", ["minstry", "system", "Ministry"])
def test_an_actor_role_that_is_no_role_is_bad_usage_before_anything_is_sent(tmp_path, role):
    # "system" is the platform's own role: an operator's command must not act as it
    result = run("audit", "history", "52.01.08.2006", "--role", role, "--amqp", UNREACHABLE)
    assert result.exit_code == 2, result.output
    assert "--role" in result.text and role in result.text


def test_a_kept_file_that_is_not_a_checkpoint_is_bad_usage_not_a_broken_ledger(tmp_path):
    store = ledgers(tmp_path / "ledgers", "cycle")
    tree_head = tmp_path / "cycle.head"   # `audit tree-head --out`, given by mistake
    tree_head.write_text(json.dumps({"format": "plpbk-tree-head/1", "ledger": "cycle",
                                     "tree_size": 1, "root_hash": "00" * 32}))
    result = run("verify", "--checkpoint", str(tree_head), "--store", store)
    assert result.exit_code == 2, result.output   # was 1, "cycle BROKEN at 0"
    assert "--checkpoint" in result.text and "not a checkpoint" in result.text
    assert "BROKEN" not in result.text


def test_an_altered_checkpoint_is_still_a_problem_found(tmp_path):
    store = ledgers(tmp_path / "ledgers", "cycle")
    kept = tmp_path / "cycle.ckpt"
    assert run("checkpoint", "cycle", "--key", key_pair(tmp_path), "--store", store,
               "--out", str(kept)).exit_code == 0
    checkpoint = json.loads(kept.read_text())
    kept.write_text(json.dumps({**checkpoint, "position": 0}))
    result = run("verify", "--checkpoint", str(kept), "--store", store, "--json")
    assert result.exit_code == 1, result.output
    assert "altered or forged" in result.text


def test_a_checkpoint_of_a_store_folder_that_is_not_there_names_the_folder(tmp_path):
    result = run("checkpoint", "cycle", "--key", key_pair(tmp_path),
                 "--store", f"sqlite:///{tmp_path}/legders")
    assert result.exit_code == 2, result.output
    assert "there is no folder" in result.text   # not "no ledger named cycle"


def test_relay_once_of_a_store_folder_that_is_not_there_is_an_error_not_silence(tmp_path):
    (tmp_path / "state").mkdir()
    result = run("relay", "--all", "--once", "--store", f"sqlite:///{tmp_path}/legders",
                 "--state", f"sqlite:///{tmp_path}/state", "--amqp", UNREACHABLE)
    assert result.exit_code == 2, result.output   # was exit 0 and not a word
    assert "there is no folder" in result.text
    assert not os.listdir(tmp_path / "state")


def test_a_kept_file_that_is_not_a_tree_head_is_bad_usage_not_a_failed_proof(tmp_path):
    """A checkpoint (or a bundle) given for --tree-head: prove, consistency and
    verify-bundle said exit 1, which reads as "the proof failed", and export went on to
    ask the service; verify --checkpoint already calls the converse bad usage."""
    store = ledgers(tmp_path / "ledgers", "cycle")
    kept = tmp_path / "cycle.ckpt"
    assert run("checkpoint", "cycle", "--key", key_pair(tmp_path), "--store", store,
               "--out", str(kept)).exit_code == 0
    public = str(tmp_path / "k.pem.pub")
    bundle = tmp_path / "bundle.json"
    bundle.write_text("{}")
    for command in (
            ["audit", "prove", "0" * 8 + "-0000-0000-0000-" + "0" * 12, "--tree-head", str(kept),
             "--public-key", public, "--amqp", UNREACHABLE],
            ["audit", "consistency", "--tree-head", str(kept), "--public-key", public,
             "--amqp", UNREACHABLE],
            ["audit", "export", "52.01.08.2006", "--since", str(kept), "--out",
             str(tmp_path / "out.json"), "--amqp", UNREACHABLE],
            ["verify-bundle", str(bundle), "--tree-head", str(kept), "--public-key", public]):
        result = run(*command)
        assert result.exit_code == 2, (command, result.output)
        assert "not a tree head" in result.text and "plpbk-checkpoint/1" in result.text
        assert str(kept) in result.text


def test_a_kept_file_given_as_the_bundle_is_bad_usage_not_an_altered_bundle(tmp_path):
    """A checkpoint, a tree head or a backup manifest given for BUNDLE: verify-bundle
    listed "not in canonical JSON form: the file was altered after export" and fields it
    expected (exit 1), a tampering alarm about a file that was never a bundle."""
    store = ledgers(tmp_path / "ledgers", "cycle")
    kept = tmp_path / "cycle.ckpt"
    assert run("checkpoint", "cycle", "--key", key_pair(tmp_path), "--store", store,
               "--out", str(kept)).exit_code == 0
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"format": "plpbk-backup/1", "ledgers": {}}))
    head = tmp_path / "head.json"
    head.write_text(json.dumps({"format": "plpbk-tree-head/1", "ledger": "cycle"}))
    for path, kind in ((kept, "plpbk-checkpoint/1"), (manifest, "plpbk-backup/1"),
                       (head, "plpbk-tree-head/1")):
        result = run("verify-bundle", str(path), "--public-key", str(tmp_path / "k.pem.pub"))
        assert result.exit_code == 2, result.output
        assert "not an audit bundle" in result.text and kind in result.text
        assert "altered" not in result.text


@pytest.mark.parametrize("arguments, said", [
    (["--prefix", "3"], "error: --prefix: must be a region code prefix"),
    (["--prefix", "52.01", "--from", "2026-13-01"], "error: --from: '2026-13-01' is not a "
                                                    "calendar date"),
    (["--prefix", "52.01", "--to", "soon"], "error: --to: 'soon' is not")])
def test_a_bad_export_scope_names_the_option_the_operator_typed(tmp_path, arguments, said):
    # it named the service's fields: "region: must be ...", "from: ...", for --prefix
    # and --from
    result = run("audit", "export", *arguments, "--out", str(tmp_path / "b.bundle"),
                 "--amqp", UNREACHABLE)
    assert result.exit_code == 2, result.output
    assert said in result.text and not (tmp_path / "b.bundle").exists()
