"""The identity view folds the same when events it applied come again (tests/refolding.py):
a user disabled once counts once, or tokens issued since would be refused."""
from click.testing import CliRunner

from services.cli import cli
from shared.ledger import open_ledger
from tests.refolding import refold_differences

PASSWORD = "correct horse battery staple"


def test_users_and_keys_fold_the_same_when_events_come_again(tmp_path, monkeypatch):
    store = f"sqlite:///{tmp_path}/ledgers"
    monkeypatch.setenv("STORE_URI", store)
    monkeypatch.setenv("STATE_URI", f"sqlite:///{tmp_path}/state")
    monkeypatch.setenv("PLPBK_ACTOR", "operator:ani")

    def plpbk(*args, stdin=None):
        done = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
        assert done.exit_code == 0, done.output
        return done

    plpbk("users", "create", "siti", "--name", "Siti Aminah", "--role", "district",
          "--region", "52.01", "--password-stdin", stdin=PASSWORD + "\n")
    for change in ("disable", "enable", "disable", "enable"):
        plpbk("users", change, "siti", "--reason", "a test of counting")
    plpbk("users", "passwd", "siti", "--password-stdin", stdin="another long password\n")
    plpbk("keys", "issue", "--name", "SIPD Kemendagri", "--region", "52")
    ledger = open_ledger(store, "gateway")
    (issued,) = [r for r in ledger.iter_records() if r.type == "ApiKeyIssued"]
    ledger.close()
    plpbk("keys", "revoke", issued.payload["key_id"], "--reason", "leaked")
    assert refold_differences(store, services={"gateway"}) == {}
