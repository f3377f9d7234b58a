"""Ctrl-C stops a plpbk command with one line and exit code 130, not click's "Aborted!"
and exit code 1, which scripts read as "a problem was found" (a broken ledger)."""
import logging
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from services.cli import cli

PLPBK = os.path.join(os.path.dirname(sys.executable), "plpbk")


def test_ctrl_c_is_exit_code_130_with_one_line(tmp_path):
    (tmp_path / "state").mkdir()
    # waits for a password on stdin that never comes: the operator presses Ctrl-C
    command = subprocess.Popen(
        [PLPBK, "users", "create", "ani", "--name", "Ani", "--role", "ministry",
         "--password-stdin", "--store", f"sqlite:///{tmp_path}/ledgers",
         "--state", f"sqlite:///{tmp_path}/state"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)   # started and reading (it starts in under a second)
    command.send_signal(signal.SIGINT)
    _, err = command.communicate(timeout=30)
    assert command.returncode == 130, err.decode()
    assert " ".join(err.decode().split()) == \
        "error: interrupted (Ctrl-C) before the command finished"
    assert not (tmp_path / "ledgers").exists()


def test_the_broker_library_s_chatter_is_kept_off_the_operator_s_screen(tmp_path):
    # py-amqp printed "Received method (60, 80) during closing channel 1. This method
    # will be ignored" above "the audit service is not running"
    logging.getLogger("amqp").setLevel(logging.NOTSET)
    CliRunner().invoke(cli, ["ledgers", "--store", f"sqlite:///{tmp_path}"])
    assert logging.getLogger("amqp").getEffectiveLevel() == logging.ERROR


@pytest.mark.parametrize("signal_name, code, said", [
    ("SIGINT", 130, "error: interrupted (Ctrl-C) before the command started"),
    ("SIGTERM", 143, "error: stopped (SIGTERM) before the command started")])
def test_a_signal_while_the_commands_load_is_one_line_not_a_traceback(
        tmp_path, signal_name, code, said):
    """The commands take most of a second to load (nameko, kombu, marshmallow); a Ctrl-C
    then printed a KeyboardInterrupt traceback from inside some import, and a SIGTERM
    killed the process without a word. Sent at a known moment: a sitecustomize that
    signals the process as kombu starts to load."""
    (tmp_path / "sitecustomize.py").write_text(
        "import os, signal, sys\n"
        "class Press:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'kombu':\n"
        "            sys.meta_path.remove(self)\n"
        f"            os.kill(os.getpid(), signal.{signal_name})\n"
        "        return None\n"
        "sys.meta_path.insert(0, Press())\n")
    done = subprocess.run([PLPBK, "ledgers", "--store", f"sqlite:///{tmp_path}/none"],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert done.returncode == code, done.stderr
    assert done.stderr.strip() == said
