"""plpbk users / plpbk keys: grants recorded in the gateway's ledger, secrets kept apart."""
import pytest
from click.testing import CliRunner

from services.cli import cli
from shared.ledger import open_ledger
from shared.views import open_view_store

PASSWORD = "correct horse battery staple"


@pytest.fixture
def stores(tmp_path, monkeypatch):
    monkeypatch.setenv("STORE_URI", f"sqlite:///{tmp_path}/ledgers")
    monkeypatch.setenv("STATE_URI", f"sqlite:///{tmp_path}/state")
    monkeypatch.setenv("PLPBK_ACTOR", "operator:ani")
    return f"sqlite:///{tmp_path}/ledgers", f"sqlite:///{tmp_path}/state"


def plpbk(*args, stdin=None):
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def records(store):
    ledger = open_ledger(store, "gateway")
    try:
        return list(ledger.iter_records())
    finally:
        ledger.close()


def test_users_are_recorded_with_the_operator_and_without_secrets(stores):
    store, state = stores
    done = plpbk("users", "create", "siti", "--name", "Siti Aminah", "--role", "district",
                 "--region", "52.01", "--password-stdin", stdin=PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    assert [r.type for r in records(store)] == ["UserCreated", "PasswordChanged"]
    assert all(r.actor == {"id": "operator:ani", "role": "ministry", "region": ""}
               for r in records(store))
    assert PASSWORD not in str([r.payload for r in records(store)])
    kept = open_view_store(state, "gateway").collection("credentials").get("siti")
    assert kept["hash"].startswith("$argon2id$") and kept["password_version"] == 1

    listed = plpbk("users", "list")
    assert "siti" in listed.output and "district" in listed.output
    assert plpbk("users", "disable", "siti", "--reason", "moved").exit_code == 0
    assert plpbk("users", "enable", "siti", "--reason", "back").exit_code == 0
    assert plpbk("users", "passwd", "siti", "--password-stdin",
                 stdin="another long password\n").exit_code == 0
    assert [r.type for r in records(store)][2:] == ["UserDisabled", "UserEnabled",
                                                    "PasswordChanged"]


def test_bad_input_is_refused_with_exit_code_2(stores):
    assert plpbk("users", "create", "siti", "--name", "S", "--role", "king",
                 "--password-stdin", stdin=PASSWORD + "\n").exit_code == 2
    assert plpbk("users", "create", "siti", "--name", "S", "--role", "bkm", "--region",
                 "52.01.08.2006", "--password-stdin", stdin="short\n").exit_code == 2
    assert plpbk("users", "passwd", "nobody", "--password-stdin",
                 stdin=PASSWORD + "\n").exit_code == 2
    assert records(stores[0]) == []


def test_a_key_is_shown_once_and_kept_as_its_digest(stores):
    store, _ = stores
    issued = plpbk("keys", "issue", "--name", "SIPD Kemendagri", "--region", "52")
    assert issued.exit_code == 0, issued.output
    key = issued.output.strip().splitlines()[-1]
    assert key.startswith("plpbk_")
    [record] = records(store)
    assert record.type == "ApiKeyIssued" and key not in str(record.payload)
    assert record.payload["role"] == "integration" and record.payload["region"] == "52"
    key_id = record.payload["key_id"]
    assert key not in plpbk("keys", "list").output
    assert plpbk("keys", "revoke", key_id, "--reason", "leaked").exit_code == 0
    assert "REVOKED" in plpbk("keys", "list").output
    assert plpbk("keys", "revoke", key_id, "--reason", "again").exit_code == 2
