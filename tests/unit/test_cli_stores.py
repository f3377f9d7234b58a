"""Store and broker URIs an operator may get wrong: a scheme or port no store takes, the
ledger folder given as --state, a views folder that is not there, a MongoDB that does not
answer. Bad usage is exit 2 naming the option; nothing is written into a ledger; an
unreachable MongoDB is reported in seconds, not after pymongo's 30."""
import sqlite3
import time

import pytest

from shared.cli.uris import ledger_store_uri
from tests.unit.cli_support import UNREACHABLE, ledgers, run

def tables(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_the_ledger_folder_given_as_state_is_refused_and_its_ledgers_untouched(tmp_path):
    store = ledgers(tmp_path / "ledgers", "registration", "cycle")
    before = {p.name: p.read_bytes() for p in (tmp_path / "ledgers").glob("*.db")}
    listed = run("parked", "--state", store)
    assert listed.exit_code == 2, listed.output   # was 0, "no parked events"
    assert "is a ledger, not operator state" in listed.text and "--state" in listed.text
    relayed = run("relay", "--all", "--once", "--store", store, "--state", store,
                  "--amqp", UNREACHABLE)
    assert relayed.exit_code == 2 and "is the --store folder" in relayed.text
    for name, data in before.items():   # no c_parked, no relay positions in a ledger file
        assert tables(tmp_path / "ledgers" / name) == {"records", "commits"}
        assert (tmp_path / "ledgers" / name).read_bytes() == data


def test_listing_parked_events_creates_nothing_in_a_state_file(tmp_path):
    (tmp_path / "state").mkdir()
    with sqlite3.connect(tmp_path / "state" / "cycle.db") as db:   # state without parking
        db.execute("CREATE TABLE c_positions (key TEXT PRIMARY KEY, doc BLOB NOT NULL)")
    before = (tmp_path / "state" / "cycle.db").read_bytes()
    result = run("parked", "--state", f"sqlite:///{tmp_path}/state")
    assert (result.exit_code, result.text) == (0, "no parked events")
    assert tables(tmp_path / "state" / "cycle.db") == {"c_positions"}
    assert (tmp_path / "state" / "cycle.db").read_bytes() == before


def test_a_views_folder_that_is_not_there_is_an_error_and_is_not_created(tmp_path):
    store = ledgers(tmp_path / "ledgers", "registration")
    missing = tmp_path / "viewz"
    for extra in (["--check"], []):
        result = run("rebuild", *extra, "--store", store, "--views", f"sqlite:///{missing}")
        assert result.exit_code == 2, result.output   # --check said "identical" (exit 0)
        assert f"--views sqlite:///{missing}: there is no folder" in result.text
        assert not missing.exists()
    (tmp_path / "afile").write_text("")
    result = run("rebuild", "--check", "--store", store, "--views", f"sqlite:///{tmp_path}/afile")
    assert result.exit_code == 2 and "is not a folder" in result.text   # was 3, "File exists"


@pytest.mark.parametrize("command, option, value", [
    (["ledgers"], "--store", "mongodb://host:abc/plpbk_ledger"),      # was 1, "unexpected"
    (["ledgers"], "--store", "mongodb://127.0.0.1/"),                 # no database
    (["rebuild", "--check"], "--views", "bogus://x"),                 # was 3
    (["parked", "--replay"], "--amqp", ""),                            # was read as localhost
    (["parked", "--replay"], "--amqp", "bogus://x"),                   # was 1, KeyError
    (["parked", "--replay"], "--amqp", "amqp://guest:guest@host:abc/"),
])
def test_a_uri_no_store_or_broker_takes_is_bad_usage_naming_the_option(
        tmp_path, command, option, value):
    result = run(*command, option, value)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.text


def test_a_password_in_a_bad_uri_is_not_shown():
    result = run("ledgers", "--store", "mongodb://admin:s3cret@host:abc/plpbk_ledger")
    assert result.exit_code == 2 and "s3cret" not in result.output


def test_an_unreachable_mongodb_is_reported_in_seconds():
    started = time.monotonic()
    result = run("ledgers", "--store", "mongodb://127.0.0.1:1/plpbk_ledger")
    assert result.exit_code == 3 and "cannot list ledgers" in result.text
    assert time.monotonic() - started < 15   # pymongo's own wait was 30 s per command


def test_a_server_wait_given_in_the_uri_is_kept():
    given = "mongodb://db.example/plpbk_ledger?replicaSet=rs0&serverSelectionTimeoutMS=60000"
    assert ledger_store_uri(None, None, given) == given
    assert ledger_store_uri(None, None, "mongodb://db.example/plpbk_ledger?replicaSet=rs0") == \
        "mongodb://db.example/plpbk_ledger?replicaSet=rs0&serverSelectionTimeoutMS=5000"
