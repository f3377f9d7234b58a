"""What an operator gets wrong at the prompt: a device given for a file, text that is not
UTF-8, a mistyped role, a file that is not what the option takes, a mistyped store
folder. Each is one line naming what was wrong and bad usage (exit 2), never a hang, a
store "unreachable" (exit 3) or a ledger called broken (exit 1); nothing is recorded."""
import os
import subprocess
import sys

import pytest

from shared.ledger import open_ledger
from tests.unit.cli_support import UNREACHABLE, run

PLPBK = os.path.join(os.path.dirname(sys.executable), "plpbk")
NOT_UTF8 = "op\udcff"   # how Python hands over the argument bytes b"op\xff"


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
