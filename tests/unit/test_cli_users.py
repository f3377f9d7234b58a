"""plpbk users / keys with hostile input: a refusal creates no store, a password is taken
exactly as typed or refused, and the operator is told what to do instead of "Aborted!"."""
import sqlite3

from tests.unit.cli_support import run

PASSWORD = "a long passphrase"


def folders(tmp_path):
    (tmp_path / "state").mkdir(exist_ok=True)
    return ["--store", f"sqlite:///{tmp_path}/ledgers", "--state", f"sqlite:///{tmp_path}/state"]


def usernames(tmp_path):
    with sqlite3.connect(tmp_path / "ledgers" / "gateway.db") as db:
        return [row[0] for row in db.execute("SELECT stream_id FROM records")]


def test_a_refused_user_leaves_no_store_behind(tmp_path):
    result = run("users", "create", "ani", "--name", "Ani", "--role", "district", "--region",
                 "zz", "--password-stdin", *folders(tmp_path), input=PASSWORD + "\n")
    assert result.exit_code == 2 and "region" in result.text
    short = run("users", "create", "ani", "--name", "Ani", "--role", "district", "--region",
                "52.01", "--password-stdin", *folders(tmp_path)[:2], input="short\n")
    assert short.exit_code == 2 and "12 to 256 characters" in short.text
    assert not (tmp_path / "ledgers").exists()   # was: a new, empty gateway ledger


def test_changing_a_user_at_a_store_without_a_gateway_ledger_creates_none(tmp_path):
    (tmp_path / "ledgers").mkdir()
    for args in (["users", "disable", "ani", "--reason", "left"],
                 ["keys", "revoke", "k1", "--reason", "leaked"],
                 ["users", "passwd", "ani", "--password-stdin"]):
        result = run(*args, *folders(tmp_path) if args[0] == "keys" else [], "--store",
                     f"sqlite:///{tmp_path}/ledgers", input=PASSWORD + "\n")
        assert result.exit_code == 2, result.output
        assert "there is no gateway ledger there" in result.text
    assert list((tmp_path / "ledgers").iterdir()) == []


def test_a_password_with_a_windows_line_end_is_refused_not_kept_with_its_cr(tmp_path):
    result = run("users", "create", "ani", "--name", "Ani", "--role", "ministry",
                 "--password-stdin", *folders(tmp_path), input=PASSWORD + "\r\n")
    assert result.exit_code == 2, result.output   # was 0: a password nobody can type
    assert "--password-stdin: the password contains a control character" in result.text
    assert not (tmp_path / "ledgers").exists()


def test_a_password_that_is_not_utf8_is_named_as_such(tmp_path):
    result = run("users", "create", "ani", "--name", "Ani", "--role", "ministry",
                 "--password-stdin", *folders(tmp_path), input=b"\xff\xfe long passphrase\n")
    assert result.exit_code == 2, result.output   # was 1, "a stored record could not be read"
    assert "--password-stdin: the password is not UTF-8 text" in result.text


def test_without_a_terminal_the_operator_is_told_to_use_password_stdin(tmp_path):
    result = run("users", "create", "ani", "--name", "Ani", "--role", "ministry",
                 *folders(tmp_path), input="")
    assert result.exit_code == 2, result.output   # was 1, "Aborted!"
    assert "no terminal to ask for the password on: give --password-stdin" in result.text


def test_state_kept_in_the_ledger_folder_is_refused(tmp_path):
    store = f"sqlite:///{tmp_path}/ledgers"
    result = run("users", "create", "ani", "--name", "Ani", "--role", "ministry",
                 "--password-stdin", "--store", store, "--state", store, input=PASSWORD + "\n")
    assert result.exit_code == 2 and "is the --store folder" in result.text
    ok = run("users", "create", "ani", "--name", "Ani", "--role", "ministry",
             "--password-stdin", *folders(tmp_path), input=PASSWORD + "\n")
    assert ok.exit_code == 0, ok.output
    assert usernames(tmp_path) == ["user-ani", "user-ani"]   # created, password set


def test_a_principal_s_region_is_at_the_level_of_its_role(tmp_path):
    """A BKM is the body of one village: an account of role bkm for a kabupaten would let
    one login act as the BKM of every village there (DOMAIN.md, "Who acts")."""
    refusals = [
        (["users", "create", "bkm1", "--name", "BKM", "--role", "bkm", "--region", "52.01"],
         "region: role bkm needs a village code PP.KK.CC.DDDD"),
        (["users", "create", "dinas", "--name", "Dinas", "--role", "district"],
         "region: role district needs a kabupaten/kota code PP.KK"),
        (["keys", "issue", "--name", "prov", "--role", "province"],
         "region: role province needs a province code PP"),
    ]
    for args, message in refusals:
        result = run(*args, *(["--password-stdin"] if args[0] == "users" else []),
                     *folders(tmp_path), input=PASSWORD + "\n")
        assert result.exit_code == 2, result.output
        assert message in result.text
    assert not (tmp_path / "ledgers").exists()
    made = run("users", "create", "bkm1", "--name", "BKM", "--role", "bkm", "--region",
               "52.01.08.2006", "--password-stdin", *folders(tmp_path), input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
