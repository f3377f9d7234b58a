"""Every plpbk command reports an unusable store or broker as one line and exit code 3,
never a traceback (shared.cli.common.PlatformGroup)."""
import os
import socket
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from services.cli import cli
from shared.cli.common import unreachable_is_an_error
from shared.ledger import NewEvent, open_ledger
from shared.views import open_view_store
from tests.unit.cli_support import UNREACHABLE, ledgers

PLPBK = os.path.join(os.path.dirname(sys.executable), "plpbk")


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result


def test_an_unknown_state_scheme_is_bad_usage_naming_the_option_not_an_empty_list():
    result = run("parked", "--state", "bogus://x")
    assert result.exit_code == 2   # bad usage, not "unreachable" (3)
    # the variable is named too: a bad value may come from STATE_URI, not the prompt
    assert "Invalid value for '--state' (env var: 'STATE_URI'): 'bogus://x': expected " \
        "memory://" in result.output


def test_an_unknown_store_scheme_names_the_option_and_the_schemes_it_takes():
    result = run("verify", "--store", "foo://x")
    assert result.exit_code == 2
    assert "Invalid value for '--store' (env var: 'STORE_URI'): 'foo://x': expected " \
        "sqlite:///<folder>" in \
        " ".join(result.output.split())


def test_an_unreachable_broker_stops_the_relay_with_one_line(tmp_path):
    open_ledger(f"sqlite:///{tmp_path}/ledgers", "registration").append(
        "village-1", 0, [NewEvent("VillageRegistered", {"code": "1"})])
    result = run("relay", "registration", "--once", "--store", f"sqlite:///{tmp_path}/ledgers",
                 "--state", f"sqlite:///{tmp_path}/state",
                 "--amqp", "amqp://guest:guest@127.0.0.1:1/")
    assert result.exit_code == 3
    assert "cannot publish registration to RabbitMQ at amqp://guest:**@127.0.0.1:1/" in \
        " ".join(result.output.split())
    assert "111" in result.output  # ECONNREFUSED, worded differently by platform


@pytest.mark.parametrize("address, code, words", [
    ("127.0.0.1", 3, "is taken"),                     # another process serves the port
    ("192.0.2.1", 2, "not an address of this machine")])   # TEST-NET-1: no host has it
def test_a_metrics_port_the_relay_cannot_serve_names_the_option(tmp_path, address, code,
                                                                 words):
    # "cannot reach a store, broker or file: [Errno 98] Address already in use": the
    # operator was sent to the stores and the broker, and the port was not named
    ledgers(tmp_path / "ledgers", "registration")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run("relay", "--all", "--store", f"sqlite:///{tmp_path}/ledgers",
                     "--state", f"sqlite:///{tmp_path}/state", "--amqp", UNREACHABLE,
                     "--metrics-port", port, "--metrics-address", address)
    said = " ".join(result.output.split())
    assert result.exit_code == code, said
    assert f"--metrics-port {port} at {address}:" in said and words in said
    assert "cannot reach a store" not in said


def test_an_unreachable_mongodb_state_is_one_line():
    result = run("parked", "--state", "mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=200")
    assert result.exit_code == 3
    assert "cannot reach a store or broker" in result.output


def test_a_blank_reason_and_a_region_that_is_no_prefix_are_usage_errors(tmp_path):
    blank = run("users", "disable", "ani", "--reason", "  ", "--store", f"sqlite:///{tmp_path}")
    assert blank.exit_code == 2 and "reason" in blank.output
    region = run("audit", "history", "52.01.08.2006", "--region", "zz")
    assert region.exit_code == 2 and "region code prefix" in region.output


def test_an_unreachable_broker_is_named_without_its_password():
    result = run("audit", "history", "52.01.08.2006", "--amqp",
                 "amqp://guest:secret@127.0.0.1:1/")
    assert result.exit_code == 3 and "secret" not in result.output
    assert "amqp://guest:**@127.0.0.1:1/" in " ".join(result.output.split())


def test_ledger_names_with_all_are_refused_rather_than_ignored(tmp_path):
    store = f"sqlite:///{tmp_path}"
    open_ledger(store, "registration").append(
        "village-1", 0, [NewEvent("VillageRegistered", {"code": "1"})])
    for command in (["verify"], ["relay", "--once", "--state", f"sqlite:///{tmp_path}/state"]):
        result = run(*command, "registration", "--all", "--store", store)
        assert result.exit_code == 2, command
        assert "give ledger names (registration) or --all, not both" in result.output


# -- SQLite errors no store foresaw: what keeps a file from use now is not damage ----------

def test_a_state_file_another_process_has_locked_is_exit_3_not_damaged(tmp_path):
    (tmp_path / "state").mkdir()
    holder = sqlite3.connect(tmp_path / "state" / "gateway.db", isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")   # as a tool holding the file would
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE c_credentials (key TEXT PRIMARY KEY, doc BLOB)")
    try:
        result = CliRunner().invoke(cli, [
            "users", "create", "ani", "--name", "Ani", "--role", "ministry",
            "--password-stdin", "--store", f"sqlite:///{tmp_path}/ledgers",
            "--state", f"sqlite:///{tmp_path}/state"], input="a long passphrase\n")
    finally:
        holder.close()
    assert result.exit_code == 3, result.output   # was 1, "a store's file is damaged"
    assert " ".join(result.output.split()) == (
        "error: a store cannot be used now: another process holds a lock on it "
        "(database is locked)")


def _full(path):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    db.execute("INSERT INTO t VALUES (zeroblob(100000))")


def _read_only(path):
    sqlite3.connect(path).execute("CREATE TABLE t (x)")
    sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("INSERT INTO t VALUES (1)")


def _not_a_database(path):
    path.write_bytes(b"this is no SQLite file at all" * 100)
    sqlite3.connect(path).execute("SELECT * FROM sqlite_master")


def _a_foreign_database(path):
    sqlite3.connect(path).execute("SELECT * FROM records")


@pytest.mark.parametrize("cause, code, line", [
    (_full, 3, "error: a store cannot be used now: its disk is full (database or disk is "
               "full)"),
    (_read_only, 3, "error: a store cannot be used now: it is read-only (attempt to write "
                    "a readonly database)"),
    (_not_a_database, 1, "error: a store's file is damaged or is not a PLPBK store: file is "
                         "not a database"),
    (_a_foreign_database, 1, "error: a store's file is damaged or is not a PLPBK store: no "
                             "such table: records"),
])
def test_a_raw_sqlite_error_names_its_cause(tmp_path, capsys, cause, code, line):
    with pytest.raises(SystemExit) as exited, unreachable_is_an_error():
        cause(tmp_path / "store.db")
    assert exited.value.code == code   # full and read-only were 1, "damaged"
    assert " ".join(capsys.readouterr().err.split()) == line


AN_IO_ERROR = """
import resource, sqlite3, sys
from shared.cli.common import unreachable_is_an_error
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("CREATE TABLE t (x)")
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
with unreachable_is_an_error():   # the kernel refuses to grow the file: EFBIG, not ENOSPC
    db.execute("INSERT INTO t VALUES (zeroblob(1000000))")
"""


def test_a_disk_that_fails_a_write_is_an_io_error_exit_3_not_damaged(tmp_path):
    done = subprocess.run([sys.executable, "-c", AN_IO_ERROR, str(tmp_path / "store.db")],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=os.getcwd(), COLUMNS="500"))
    assert done.returncode == 3, done.stderr   # was 1, "a store's file is damaged"
    assert done.stderr.strip() == ("error: a store cannot be used now: the disk failed to "
                                   "read or write it (disk I/O error)")


def test_a_reader_that_stops_reading_is_not_a_problem_found(tmp_path):
    # `plpbk parked | head -1`, `plpbk verify --all | grep -q BROKEN`: the reader leaves
    # early and the command exited 1, "a problem was found", to a script's pipefail
    kept = open_view_store(f"sqlite:///{tmp_path}", "cycle")
    for position in range(1, 3001):
        kept.collection("parked").put(f"opens-cycles:registration:{position}", {
            "subscriber": "opens-cycles", "source": "registration", "position": position,
            "event_id": f"e-{position}", "type": "VillageSelected",
            "stream_id": f"village-{position}", "status": "parked", "attempts": 4,
            "error": "ValueError: no cycle open", "trace": [],
            "parked_at": "2026-11-29T00:00:00.000000Z"})
    kept.close()
    command = subprocess.Popen([PLPBK, "parked", "--state", f"sqlite:///{tmp_path}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert command.stdout.readline().startswith(b"cycle opens-cycles registration #1 ")
    command.stdout.close()   # as head does
    _, err = command.communicate(timeout=60)
    assert command.returncode == 141, err.decode()   # 128 + SIGPIPE, as shells report it
    assert err == b""
    # the same when the reader is gone before the first line (click.echo, not rich)
    store = ledgers(tmp_path / "ledgers", "registration")
    CliRunner().invoke(cli, ["keygen", "--out", str(tmp_path / "k.pem")])
    command = subprocess.Popen([PLPBK, "checkpoint", "registration", "--key",
                                str(tmp_path / "k.pem"), "--store", store],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    command.stdout.close()
    _, err = command.communicate(timeout=60)
    assert command.returncode == 141, err.decode()
    assert err == b""
