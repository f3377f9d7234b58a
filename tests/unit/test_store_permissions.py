"""Stores an operator cannot write: a read-only ledger file, a folder that cannot be
created. A plpbk command and a service's start each stop with one line naming the store
and the cause, and a non-zero exit; a service never starts on a ledger it cannot write.

Permissions bind root only without its capability to override them: as root the commands
run under setpriv with that capability dropped (the same kernel check, not a mock)."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from shared.ledger import NewEvent, open_ledger
from shared.views import open_view_store

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
UNREACHABLE = "amqp://guest:guest@127.0.0.1:1/"   # nothing is ever sent anywhere


def unprivileged(command):
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("root without setpriv: permissions cannot be made to apply")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", *command]


def run(command, store, state, timeout=60):
    done = subprocess.run(
        unprivileged(command), capture_output=True, text=True, timeout=timeout, cwd=REPO,
        input="a long passphrase\n",
        env=dict(os.environ, STORE_URI=store, STATE_URI=state, AMQP_URI=UNREACHABLE,
                 COLUMNS="500", WEB_SERVER_ADDRESS="127.0.0.1:0", PYTHONPATH=REPO,
                 PYTHONWARNINGS="ignore:::nameko.cli.commands,ignore:::nameko.containers"))
    done.lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr, done.stderr
    return done


def users_create(store, state):
    return run([os.path.join(BIN, "plpbk"), "users", "create", "ani", "--name", "Ani",
                "--role", "ministry", "--password-stdin"], store, state)


def start_consumer(store, state, service="tests.integration.ticking:Consumer"):
    return run([os.path.join(BIN, "nameko"), "run", "--config", "config.yml", service],
               store, state, timeout=30)


@pytest.fixture
def folder(tmp_path):
    return tmp_path   # ours (the owner's bits apply: setpriv keeps the user)


def read_only_ledger(folder, name):
    ledger = open_ledger(f"sqlite:///{folder}/ledgers", name)
    ledger.append("village-1", 0, [NewEvent("VillageRegistered", {"code": "1"})])
    ledger.close()
    path = folder / "ledgers" / f"{name}.db"
    path.chmod(0o444)
    return path


def test_a_command_appending_to_a_read_only_ledger_says_so_in_one_line(folder):
    path = read_only_ledger(folder, "gateway")
    before = path.read_bytes()
    done = users_create(f"sqlite:///{folder}/ledgers", f"sqlite:///{folder}/state")
    assert done.returncode == 3, done.stderr   # was 1, "a store's file is damaged"
    assert done.lines == [f"error: ledger 'gateway' at {path} cannot record now: it is "
                          "read-only (attempt to write a readonly database); nothing of this "
                          "append was recorded"]
    assert path.read_bytes() == before


@pytest.mark.parametrize("kind, missing", [("ledger", "ledgers"), ("store", "state")])
def test_a_store_folder_that_cannot_be_created_is_named_in_one_line(folder, kind, missing):
    locked = folder / "locked"
    locked.mkdir(mode=0o555)
    where = {name: locked if name == missing else folder for name in ("ledgers", "state")}
    done = users_create(f"sqlite:///{where['ledgers']}/ledgers",
                        f"sqlite:///{where['state']}/state")
    assert done.returncode == 3, done.stderr   # was "cannot reach a store, broker or file"
    assert done.lines == [f"error: cannot create the folder {locked}/{missing} of {kind} "
                          "'gateway': Permission denied"]


def test_a_service_does_not_start_on_a_ledger_it_cannot_write(folder):
    path = read_only_ledger(folder, "consumer")
    done = start_consumer(f"sqlite:///{folder}/ledgers", f"sqlite:///{folder}/state")
    assert done.returncode == 1, done.stderr   # was: started, to fail at each request
    assert done.lines[-1] == (
        f"error: the consumer service cannot start: cannot open ledger 'consumer' at {path}: "
        "it is read-only (attempt to write a readonly database)")


def test_a_service_whose_ledger_folder_cannot_be_created_does_not_start(folder):
    locked = folder / "locked"
    locked.mkdir(mode=0o555)
    done = start_consumer(f"sqlite:///{locked}/ledgers", f"sqlite:///{folder}/state")
    assert done.returncode == 1, done.stderr   # was a traceback
    assert done.lines[-1] == (f"error: the consumer service cannot start: cannot create the "
                              f"folder {locked}/ledgers of ledger 'consumer': Permission denied")


def test_a_user_is_not_recorded_when_its_password_cannot_be_kept(folder):
    """The state store keeps the password hash: read-only, the user would be recorded
    without one, unable to log in, and a second create refused as "already exists"."""
    state = open_view_store(f"sqlite:///{folder}/state", "gateway")
    state.collection("credentials")   # the table the password goes into exists already
    state.close()
    path = folder / "state" / "gateway.db"
    path.chmod(0o444)
    done = users_create(f"sqlite:///{folder}/ledgers", f"sqlite:///{folder}/state")
    assert done.returncode == 3, done.stderr
    assert " ".join(done.lines) == (f"error: store 'gateway' at {path} is unavailable: it is "
                                    "read-only (attempt to write a readonly database)")
    # was: UserCreated, and no password; then an empty gateway ledger nobody asked for
    assert not (folder / "ledgers").exists()


@pytest.mark.parametrize("setting, value", [("MAX_WORKERS", "abc"), ("MAX_WORKERS", "0"),
                                            ("CATCH_UP_INTERVAL", "abc")])
@pytest.mark.parametrize("service", ["tests.integration.ticking:Consumer",
                                     "services.audit.service:AuditService"])
def test_a_service_with_a_bad_setting_does_not_start_and_says_which(folder, service, setting,
                                                                    value):
    # nameko exited 0 after its own 'Error:' (CATCH_UP_INTERVAL), with tracebacks before
    # it, and handed MAX_WORKERS to eventlet unchecked (a traceback)
    os.environ[setting] = value
    try:
        done = start_consumer(f"sqlite:///{folder}/ledgers", f"sqlite:///{folder}/state",
                              service)
    finally:
        del os.environ[setting]
    assert done.returncode == 1
    assert done.lines[-1].startswith("error: the ")
    assert f"{setting}='{value}'" in done.lines[-1] or f"{setting}={value}" in done.lines[-1]


@pytest.mark.parametrize("setting", ["GATEWAY_CLIENT_TIMEOUT", "GATEWAY_HEALTH_MAX_AGE",
                                     "GATEWAY_RPC_TIMEOUT", "GATEWAY_TOKEN_TTL"])
def test_the_gateway_with_a_bad_setting_does_not_start_and_says_which(folder, setting):
    os.environ[setting] = "soon"
    try:
        done = start_consumer(f"sqlite:///{folder}/ledgers", f"sqlite:///{folder}/state",
                              "services.gateway.service:GatewayService")
    finally:
        del os.environ[setting]
    assert done.returncode == 1, done.stderr
    assert done.lines[-1].startswith("error: the ") and f"{setting}='soon'" in done.lines[-1]
    assert "Traceback" not in done.stderr


def test_a_user_can_be_disabled_while_the_state_store_is_read_only(folder):
    # locking someone out is a ledger record alone: it must not wait for the state disk
    store, state = f"sqlite:///{folder}/ledgers", f"sqlite:///{folder}/state"
    assert users_create(store, state).returncode == 0
    (folder / "state" / "gateway.db").chmod(0o444)
    done = run([os.path.join(BIN, "plpbk"), "users", "disable", "ani", "--reason",
                "laptop stolen"], store, state)
    assert done.returncode == 0, done.stderr


def test_a_backup_of_ledgers_it_may_not_write_says_their_copies_are_each_their_own_instant(
        folder):
    # the pause of the ledgers' writes needs their write lock; read-only, it is skipped
    read_only_ledger(folder, "cycle")
    store, state = f"sqlite:///{folder}/ledgers", f"sqlite:///{folder}/state"
    open_view_store(state, "cycle").close()
    done = run([os.path.join(BIN, "plpbk"), "backup", "--out", str(folder / "backup"),
                "--attachments", f"file:///{folder}/attachments"], store, state)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "each ledger's copy is one instant of that ledger alone" in " ".join(
        done.stdout.split())


def test_a_ledger_in_a_read_only_folder_is_verified_as_it_is(folder):
    """A backup kept on read-only media: SQLite cannot make the -shm file a WAL ledger is
    read with, so the copy is opened immutable (nothing can write it there) and verified."""
    read_only_ledger(folder, "registration")
    ledgers = folder / "ledgers"
    ledgers.chmod(0o555)
    try:
        done = run([os.path.join(BIN, "plpbk"), "verify", "registration"],
                   f"sqlite:///{ledgers}", f"sqlite:///{folder}/state")
    finally:
        ledgers.chmod(0o755)
    assert done.returncode == 0, done.stderr + done.stdout
    row = next(line for line in done.stdout.splitlines() if "registration" in line)
    assert row.split("│")[-2].strip() == "ok", done.stdout


def test_a_backup_of_ledgers_in_a_read_only_folder_copies_them(folder):
    """A snapshot mounted read-only (LVM, ZFS), or a copy on read-only media: verify and
    checkpoint read its ledgers (immutable), but backup stopped at the first one without
    a -shm file: "its file cannot be opened (unable to open database file)"."""
    read_only_ledger(folder, "registration")
    ledgers = folder / "ledgers"
    store, state = f"sqlite:///{ledgers}", f"sqlite:///{folder}/state"
    open_view_store(state, "registration").close()
    ledgers.chmod(0o555)
    try:
        done = run([os.path.join(BIN, "plpbk"), "backup", "--out", str(folder / "backup"),
                    "--attachments", f"file:///{folder}/attachments"], store, state)
    finally:
        ledgers.chmod(0o755)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((folder / "backup" / "manifest.json").read_text())
    assert manifest["ledgers"]["registration"]["head_position"] == 1
    assert manifest["ledgers"]["registration"]["verified"] is True
