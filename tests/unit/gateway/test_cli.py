"""plpbk users / plpbk keys: grants recorded in the gateway's ledger, secrets kept apart."""
from functools import partial

import pytest
from click.testing import CliRunner

from services.cli import cli
from services.gateway import credentials
from services.gateway.accounts import Accounts
from services.gateway.cli import _accounts
from services.gateway.credentials import hash_password, password_matches
from shared.chassis import commands
from shared.ledger import Actor, Metadata, open_ledger
from shared.views import open_view_store
from shared.views.base import ViewStoreUnavailable

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


def kept_password(store, state, username="siti"):
    """The hash kept for the user's last PasswordChanged (under the credential it names)."""
    last = [r for r in records(store) if r.type == "PasswordChanged"][-1]
    return credentials.PasswordStore(open_view_store(state, "gateway")).get(
        username, last.payload["credential"])


def test_users_are_recorded_with_the_operator_and_without_secrets(stores):
    store, state = stores
    done = plpbk("users", "create", "siti", "--name", "Siti Aminah", "--role", "district",
                 "--region", "52.01", "--password-stdin", stdin=PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    assert [r.type for r in records(store)] == ["UserCreated", "PasswordChanged"]
    assert all(r.actor == {"id": "operator:ani", "role": "ministry", "region": ""}
               for r in records(store))
    assert PASSWORD not in str([r.payload for r in records(store)])
    kept = kept_password(store, state)
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


def half_created(store, state, **user):
    """A user recorded without a password: what a create that failed after recording
    leaves behind."""
    accounts = _accounts(store, state, "operator:ani")
    accounts.create_user(user)
    accounts.ledger.close()


def test_the_same_create_completes_a_user_left_without_a_password(stores):
    store, state = stores
    half_created(store, state, username="siti", name="Siti", role="district", region="52.01")
    args = ["users", "create", "siti", "--name", "Siti", "--role", "district"]
    done = plpbk(*args, "--region", "52.01", "--password-stdin", stdin=PASSWORD + "\n")
    assert done.exit_code == 0, done.output   # was 2, "user siti already exists"
    assert [r.type for r in records(store)] == ["UserCreated", "PasswordChanged"]
    kept = kept_password(store, state)
    assert password_matches(kept["hash"], PASSWORD) and kept["password_version"] == 1

    again = plpbk(*args, "--region", "52.01", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.exit_code == 2 and "user siti already exists" in again.output
    other = plpbk(*args, "--region", "52.02", "--password-stdin", stdin=PASSWORD + "\n")
    assert other.exit_code == 2 and "user siti already exists" in other.output


def test_other_details_do_not_complete_a_user_left_without_a_password(stores):
    store, state = stores
    half_created(store, state, username="budi", name="Budi", role="ministry", region="")
    done = plpbk("users", "create", "budi", "--name", "Budi", "--role", "auditor",
                 "--password-stdin", stdin=PASSWORD + "\n")
    assert done.exit_code == 2, done.output
    assert " ".join(done.output.split()) == (
        "error: username: user budi already exists, without a password yet, as 'Budi' "
        "(ministry, national): give these details to complete it, or set its password "
        "with `plpbk users passwd budi`")
    assert [r.type for r in records(store)] == ["UserCreated"]


def test_a_password_lost_after_recording_the_user_says_how_to_finish(stores):
    """The disk fills while the password is hashed (after the store was found writable
    and the user recorded): the error says how to finish, and the same create does."""
    store, state = stores
    fill = open_view_store(state, "gateway")
    kept = credentials.PasswordStore(fill)
    a_hash = hash_password(PASSWORD)
    pages = fill.execute("PRAGMA page_count")[0][0]
    fill.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(ViewStoreUnavailable):   # rows as large as siti's, till one is too many
        for n in range(1000):
            kept.save(f"f{n:03d}", a_hash, 1)   # keys as long as "siti"
    fill.execute("PRAGMA max_page_count = 1073741823")

    def hasher_as_the_disk_fills(password):
        fill.execute(f"PRAGMA max_page_count = {fill.execute('PRAGMA page_count')[0][0]}")
        return hash_password(password)

    ledger = open_ledger(store, "gateway")
    accounts = Accounts(ledger, partial(commands.execute, ledger), fill,
                        Metadata(Actor("operator:ani", "ministry", ""), "corr-full"),
                        hasher=hasher_as_the_disk_fills)
    user = {"username": "siti", "name": "Siti", "role": "ministry", "region": ""}
    with pytest.raises(ViewStoreUnavailable) as failed:
        accounts.create_user(user, PASSWORD)
    assert str(failed.value).startswith("user siti is recorded but its password was not kept: "
                                        "store 'gateway' at ")
    assert "its disk is full" in str(failed.value)
    assert str(failed.value).endswith("once the store takes writes, run the same `plpbk users "
                                      "create` again: it completes the user")
    ledger.close()
    fill.close()
    done = plpbk("users", "create", "siti", "--name", "Siti", "--role", "ministry",
                 "--password-stdin", stdin=PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    assert [r.type for r in records(store)] == ["UserCreated", "PasswordChanged"]


def test_names_are_shown_as_recorded_never_read_as_terminal_markup(stores):
    """A person's or a system's name is free text: "[/x]" stopped `users list` and `keys
    list` with 'unexpected failure: MarkupError' ("[bold]" vanished from them), and
    stopped `keys issue` after the key was recorded, before it was shown: a key lost."""
    assert plpbk("users", "create", "siti", "--name", "Siti [/x] [bold]A", "--role",
                 "ministry", "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    issued = plpbk("keys", "issue", "--name", "SIPD [/x] [bold]B")
    assert issued.exit_code == 0 and "SIPD [/x] [bold]B" in issued.output, issued.output
    for listing, name in ((("users", "list"), "[bold]A"), (("keys", "list"), "[bold]B")):
        listed = plpbk(*listing)
        assert listed.exit_code == 0 and name in listed.output, listed.output


def test_the_state_store_holding_password_hashes_is_its_owners_alone(stores, tmp_path):
    """It holds the argon2 hashes (and the gateway's generated token secret): with the
    usual umask 022 SQLite made it readable by every account on the machine."""
    store, state = stores
    done = plpbk("users", "create", "siti", "--name", "Siti Aminah", "--role", "district",
                 "--region", "52.01", "--password-stdin", stdin=PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    files = list((tmp_path / "state").glob("gateway.db*"))
    assert files
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
