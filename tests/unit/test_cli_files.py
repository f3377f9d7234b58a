"""Files an operator hands to plpbk: output paths that exist, are empty or cannot be
written, keys others may read or that are locked, kept evidence that is not what it
should be. Each is bad usage (exit 2) naming the option, found before any work is done,
and nothing is left half-written (shared/cli/files.py)."""
import json
import sqlite3
import subprocess
import sys
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.unit.cli_support import UNREACHABLE, ledgers, run

def store(folder):
    return ledgers(folder / "ledgers", "registration")


def keys(folder):
    assert run("keygen", "--out", str(folder / "k.pem")).exit_code == 0
    return str(folder / "k.pem")


def test_a_checkpoint_out_in_a_folder_that_is_not_there_is_bad_usage_naming_out(tmp_path):
    result = run("checkpoint", "registration", "--key", keys(tmp_path), "--store",
                 store(tmp_path), "--out", str(tmp_path / "nowhere" / "reg.ckpt"))
    assert result.exit_code == 2, result.output   # was 3, "cannot reach a store, broker or file"
    assert "--out" in result.text and "there is no folder" in result.text


def test_an_empty_out_is_refused_not_read_as_stdout(tmp_path):
    checkpoint = run("checkpoint", "registration", "--key", keys(tmp_path), "--store",
                     store(tmp_path), "--out", "")
    assert checkpoint.exit_code == 2 and "--out: give a file name" in checkpoint.text
    assert '"signature"' not in checkpoint.output   # nothing printed instead
    keygen = run("keygen", "--out", "")
    assert keygen.exit_code == 2 and "--out: give a file name" in keygen.text


def test_keygen_leaves_no_half_pair_when_one_half_cannot_be_written(tmp_path):
    public = tmp_path / "half.pub"
    result = run("keygen", "--out", "/proc/plpbk-test.pem", "--public-out", str(public))
    assert result.exit_code == 2, result.output
    assert "--out /proc/plpbk-test.pem" in result.text
    assert not public.exists()   # the old code wrote the public half first and kept it
    private = tmp_path / "lone.pem"
    result = run("keygen", "--out", str(private), "--public-out", "/proc/plpbk-test.pub")
    assert result.exit_code == 2 and "--public-out" in result.text
    assert not private.exists()


def test_a_private_key_others_may_read_signs_nothing(tmp_path):
    key = keys(tmp_path)
    os.chmod(key, 0o644)
    out = tmp_path / "reg.ckpt"
    result = run("checkpoint", "registration", "--key", key, "--store", store(tmp_path),
                 "--out", str(out))
    assert result.exit_code == 2, result.output
    assert f"--key {key}" in result.text and "mode 644" in result.text
    assert "chmod 600" in result.text and not out.exists()


def test_a_public_key_given_as_the_private_one_is_named_not_sent_to_chmod(tmp_path):
    """The .pub file (mode 644) was refused with "chmod 600 k.pem.pub", which sent the
    operator to lock up a public key, only to be refused again after doing it."""
    public = keys(tmp_path) + ".pub"
    result = run("checkpoint", "registration", "--key", public, "--store", store(tmp_path))
    assert result.exit_code == 2, result.output
    assert f"--key {public}: this is a public key" in result.text
    assert "chmod" not in result.text


def test_a_key_locked_with_a_passphrase_is_named_not_an_unexpected_failure(tmp_path):
    locked = tmp_path / "locked.pem"
    locked.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase")))
    os.chmod(locked, 0o600)
    result = run("checkpoint", "registration", "--key", str(locked), "--store", store(tmp_path))
    assert result.exit_code == 2, result.output   # was 1, "unexpected failure: TypeError"
    assert f"--key {locked}: not an Ed25519 private key" in result.text
    assert "without a passphrase" in result.text


def test_a_key_that_cannot_sign_is_named_before_the_chain_is_walked(tmp_path):
    """The key was loaded only after verifying the whole ledger: on a national ledger a
    wrong key failed minutes later, and on a broken one the operator was told BROKEN
    (exit 1) for a command that could never have signed anything."""
    uri, locked = store(tmp_path), tmp_path / "locked.pem"
    with sqlite3.connect(tmp_path / "ledgers" / "registration.db") as db:
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute("UPDATE records SET hash = ?", ("0" * 64,))
    locked.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase")))
    os.chmod(locked, 0o600)
    result = run("checkpoint", "registration", "--key", str(locked), "--store", uri)
    assert result.exit_code == 2, result.output
    assert f"--key {locked}: not an Ed25519 private key" in result.text


def test_a_public_key_that_is_no_pem_is_named_without_the_library_s_url(tmp_path):
    (tmp_path / "junk.pub").write_bytes(b"\x00\xff not a key")
    result = run("verify", "--store", store(tmp_path), "--public-key", str(tmp_path / "junk.pub"))
    assert result.exit_code == 2
    assert f"--public-key {tmp_path / 'junk.pub'}: not an Ed25519 public key" in result.text
    assert "cryptography.io" not in result.text


def test_a_kept_checkpoint_not_in_utf8_is_refused_naming_the_option(tmp_path):
    checkpoint = tmp_path / "utf16.ckpt"
    checkpoint.write_bytes(json.dumps({"ledger": "registration"}).encode("utf-16"))
    result = run("verify", "--store", store(tmp_path), "--checkpoint", str(checkpoint))
    assert result.exit_code == 2, result.output   # json.load read UTF-16 as if it were sent
    assert f"--checkpoint {checkpoint}: not a checkpoint" in result.text


def test_a_history_report_is_never_written_over_an_existing_file(tmp_path):
    kept = tmp_path / "kept.pub"
    kept.write_text("an auditor's public key\n")
    result = run("audit", "history", "52.01.08.2006", "--html", str(kept), "--amqp", UNREACHABLE)
    assert result.exit_code == 2, result.output   # refused before RabbitMQ is asked (was 3)
    assert f"--html {kept}: it exists; refusing to overwrite" in result.text
    assert kept.read_text() == "an auditor's public key\n"


def test_an_export_checks_where_it_writes_before_asking_for_the_bundle(tmp_path):
    out = tmp_path / "nowhere" / "b.bundle"
    result = run("audit", "export", "52.01.08.2006", "--out", str(out), "--amqp", UNREACHABLE)
    assert result.exit_code == 2, result.output   # was 3: the export ran first
    assert f"--out {out}: there is no folder" in result.text


def test_a_kept_tree_head_that_is_no_object_is_bad_input_naming_the_option(tmp_path):
    head = tmp_path / "head.json"
    head.write_text("[1, 2]")
    keys(tmp_path)
    result = run("audit", "consistency", "--tree-head", str(head), "--public-key",
                 str(tmp_path / "k.pem.pub"), "--amqp", UNREACHABLE)
    assert result.exit_code == 2, result.output   # was 1, as if a proof had failed
    assert f"--tree-head {head}: not a tree head: expected a JSON object" in result.text


def test_ctrl_c_while_a_file_is_written_leaves_no_half_of_it(tmp_path):
    """Writing a region's bundle (gigabytes) takes seconds; Ctrl-C then left half a
    bundle (or an empty file) that fails every check and that no later --out may replace.
    The signal arrives here just before the bytes are written, as a press would."""
    import signal

    import pytest

    from shared.cli.files import write_new

    class PressedWhileWriting(str):
        def encode(self, *args):
            os.kill(os.getpid(), signal.SIGINT)
            return str(self).encode(*args) * 1000

    path = tmp_path / "bundle.json"
    with pytest.raises(KeyboardInterrupt):
        write_new(str(path), PressedWhileWriting("{}\n"), "--out", "a bundle")
    assert not path.exists()


def test_ctrl_c_between_the_two_halves_of_a_key_pair_leaves_neither(tmp_path, monkeypatch):
    """Only a failed write of the public half removed the private one: Ctrl-C there left
    a private key whose public half is nowhere."""
    import signal

    from shared.cli import ledger_commands
    making = ledger_commands.public_key_pem

    def pressed_meanwhile(private):
        os.kill(os.getpid(), signal.SIGINT)   # the operator presses Ctrl-C here
        return making(private)
    monkeypatch.setattr(ledger_commands, "public_key_pem", pressed_meanwhile)
    result = run("keygen", "--out", str(tmp_path / "k.pem"))
    assert result.exit_code == 130, result.output
    assert os.listdir(tmp_path) == []


A_DISK_THAT_FILLS = """
import resource, sys
from shared.cli.files import write_new
resource.setrlimit(resource.RLIMIT_FSIZE, (1024, resource.RLIM_INFINITY))
write_new(sys.argv[1], b"x" * 100000, "--out", "a bundle")
"""


def test_an_out_file_the_disk_cannot_take_is_exit_3_and_leaves_nothing(tmp_path):
    """The disk refuses the bytes (full, or a size limit: EFBIG here): the machine's
    state, exit 3 as for a store whose disk is full (README), not bad usage (2)."""
    out = tmp_path / "bundle.json"
    done = subprocess.run([sys.executable, "-c", A_DISK_THAT_FILLS, str(out)],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=os.getcwd(), COLUMNS="500"))
    assert done.returncode == 3, done.stderr
    assert "cannot write a bundle: File too large" in done.stderr and not out.exists()


def test_file_names_are_said_as_given_never_read_as_terminal_markup(tmp_path):
    """A file at ".../a[/b]/..." was written, then the command failed saying so ('unexpected
    failure: MarkupError', exit 1): the operator was told it failed when it had not."""
    folder = tmp_path / "a[" / "b]"      # the path reads ".../a[/b]/...": a closing tag
    folder.mkdir(parents=True)
    out = folder / "reg[bold].ckpt"
    done = run("checkpoint", "registration", "--key", keys(tmp_path), "--store",
               store(tmp_path), "--out", str(out))
    assert done.exit_code == 0 and str(out) in "".join(done.output.split()), done.output
    made = run("keygen", "--out", str(folder / "k[bold].pem"))
    assert made.exit_code == 0 and "a[/b]/k[bold].pem.pub" in "".join(made.output.split())
