"""Operator commands read the evidence without touching it, never write over a key or a
kept checkpoint, and report a damaged or foreign file as a problem, not a traceback."""
import os
import sqlite3


from shared.ledger import NewEvent, open_ledger
from shared.views import open_view_store
from tests.unit.cli_support import UNREACHABLE, ledgers, run


def triggers(path):
    with sqlite3.connect(path) as db:
        return db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                          ).fetchone()[0]


def test_verify_reads_a_ledger_without_writing_to_it(tmp_path):
    store = ledgers(tmp_path, "registration")
    path = tmp_path / "registration.db"
    with sqlite3.connect(path) as db:   # what an intruder did; verify must not repair it
        db.execute("DROP TRIGGER records_no_update")
    before = (path.stat().st_mtime_ns, path.read_bytes())
    assert run("verify", "--store", store).exit_code == 0
    assert run("ledgers", "--store", store).exit_code == 0
    assert triggers(path) == 3 and (path.stat().st_mtime_ns, path.read_bytes()) == before


def test_a_damaged_or_foreign_file_is_a_broken_ledger_and_the_others_are_verified(tmp_path):
    store = ledgers(tmp_path, "registration", "cycle")
    with sqlite3.connect(tmp_path / "planning.db") as db:
        db.execute("CREATE TABLE records (x INTEGER)")
    (tmp_path / "audit.db").write_bytes(os.urandom(3000))
    (tmp_path / "gateway.db").write_bytes(b"")
    result = run("verify", "--all", "--json", "--store", store)
    assert result.exit_code == 1
    for name in ("planning", "audit", "gateway"):
        assert f'"{name}"' in result.output
    assert result.output.count('"ok": true') == 2   # registration and cycle
    assert (tmp_path / "gateway.db").read_bytes() == b""   # not made into a ledger
    listed = run("ledgers", "--store", store)
    assert listed.exit_code == 1 and "not a readable PLPBK ledger" in listed.text
    # the damaged ones are named and the healthy ones still listed with their heads
    rows = {line.split("│")[1].strip(): line for line in listed.output.splitlines()
            if line.count("│") >= 4}
    assert {"registration", "cycle", "planning", "audit", "gateway"} <= set(rows)
    assert "damaged" in rows["planning"] and "damaged" not in rows["cycle"]


def test_an_entry_that_is_no_file_is_named_and_the_other_ledgers_verified(tmp_path):
    """A folder, a link to one and a pipe named like a ledger were "no such file", exit 3
    (store unreachable), and `verify --all` stopped there without verifying the others."""
    store = ledgers(tmp_path, "registration", "cycle")
    (tmp_path / "planning.db").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "audit.db").symlink_to(tmp_path / "elsewhere")
    os.mkfifo(tmp_path / "gateway.db")
    result = run("verify", "--all", "--json", "--store", store)
    assert result.exit_code == 1, result.output
    for name in ("planning", "audit", "gateway"):
        assert f'"{name}"' in result.output
    assert result.output.count('"ok": true') == 2   # registration and cycle
    listed = run("ledgers", "--store", store)
    assert listed.exit_code == 1 and "'planning' at" in listed.text
    assert "it is a folder, not a file" in listed.text
    rows = {line.split("│")[1].strip(): line for line in listed.output.splitlines()
            if line.count("│") >= 4}
    assert "damaged" in rows["gateway"] and "damaged" not in rows["registration"]


def test_a_mistyped_store_folder_is_an_error_and_nothing_is_created(tmp_path):
    missing = f"sqlite:///{tmp_path}/nowhere"
    for args in (["ledgers"], ["keys", "list"], ["users", "list"]):
        result = run(*args, "--store", missing)
        assert result.exit_code == 2 and "no folder" in result.text
    parked = run("parked", "--state", missing)
    assert parked.exit_code == 2 and "no folder" in parked.text
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "afile").write_text("")
    assert run("ledgers", "--store", f"sqlite:///{tmp_path}/afile").exit_code == 2


def test_verify_with_a_mistyped_store_folder_names_it_and_calls_nothing_broken(tmp_path):
    # sqlite:/// (three slashes: relative) where sqlite://// was meant: with a kept
    # checkpoint the ledger was reported BROKEN, "missing from the store" (exit 1, a
    # tampering alarm), and without one "no ledgers at" instead of the folder's absence
    store = ledgers(tmp_path / "ledgers", "registration")
    key = tmp_path / "k.pem"
    run("keygen", "--out", str(key))
    kept = tmp_path / "kept.ckpt"
    run("checkpoint", "registration", "--key", str(key), "--store", store, "--out", str(kept))
    missing = f"sqlite:///{tmp_path}/nowhere"
    for args in (["--checkpoint", str(kept)], ["--all"], ["registration"]):
        result = run("verify", *args, "--store", missing)
        assert result.exit_code == 2, result.output
        assert "error: --store" in result.text and "there is no folder" in result.text
        assert "BROKEN" not in result.text
    assert not (tmp_path / "nowhere").exists()


def test_keygen_never_writes_over_a_key_nor_leaves_half_a_pair(tmp_path):
    key, public = tmp_path / "k.pem", tmp_path / "k.pem.pub"
    assert run("keygen", "--out", str(key)).exit_code == 0
    kept = public.read_bytes()
    same = run("keygen", "--out", str(tmp_path / "x.pem"), "--public-out",
               str(tmp_path / "x.pem"))
    assert same.exit_code == 2 and not (tmp_path / "x.pem").exists()
    over = run("keygen", "--out", str(tmp_path / "y.pem"), "--public-out", str(public))
    assert over.exit_code == 2 and public.read_bytes() == kept
    assert not (tmp_path / "y.pem").exists()
    nowhere = run("keygen", "--out", str(tmp_path / "z.pem"), "--public-out",
                  str(tmp_path / "no" / "z.pub"))
    assert nowhere.exit_code == 2 and not (tmp_path / "z.pem").exists()


def test_a_kept_checkpoint_is_never_written_over(tmp_path):
    store = ledgers(tmp_path / "ledgers", "registration")
    key = tmp_path / "k.pem"
    run("keygen", "--out", str(key))
    kept = tmp_path / "kept.ckpt"
    first = run("checkpoint", "registration", "--key", str(key), "--store", store,
                "--out", str(kept))
    assert first.exit_code == 0
    before = kept.read_text()
    again = run("checkpoint", "registration", "--key", str(key), "--store", store,
                "--out", str(kept))
    assert again.exit_code == 2 and "refusing to overwrite" in again.text
    assert kept.read_text() == before


def test_a_record_that_cannot_be_read_is_a_problem_not_a_traceback(tmp_path):
    store = f"sqlite:///{tmp_path}"
    result = run("users", "create", "ani", "--name", "Ani", "--role", "ministry",
                 "--password-stdin", "--store", store, "--state", f"{store}/state",
                 input="a long passphrase\n")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "gateway.db") as db:
        db.execute("DROP TRIGGER records_no_update")
        db.execute("UPDATE records SET body = X'DEADBEEF' WHERE position = 1")
    listed = run("users", "list", "--store", store)
    assert listed.exit_code == 1 and "could not be read" in listed.text


def test_a_replay_calls_no_service_that_has_nothing_left_to_replay(tmp_path):
    """--all lists replayed events too, and --position may match none: the service was
    called all the same (exit 3 when it or RabbitMQ was not there), to run nothing."""
    state = f"sqlite:///{tmp_path}"
    views = open_view_store(state, "consumer")
    for position, status in ((3, "replayed"), (4, "parked")):
        views.collection("parked").put(f"tick_counts:producer:{position}", {
            "subscriber": "consumer.tick_counts", "source": "producer", "position": position,
            "type": "Ticked", "stream_id": f"ticker-{position}", "status": status,
            "attempts": 4, "error": "RuntimeError: no", "parked_at": f"2026-01-0{position}"})
    views.close()
    for args in (["--position", "3"], ["--all", "--position", "3"], ["--position", "9"]):
        result = run("parked", "--replay", *args, "--state", state, "--amqp", UNREACHABLE)
        assert (result.exit_code, result.text) == (0, "no parked events to replay"), args
    # #4 is still parked: the service is called for it (here RabbitMQ is not there)
    assert run("parked", "--replay", "--all", "--state", state,
               "--amqp", UNREACHABLE).exit_code == 3


def test_listings_cut_no_text_on_an_80_column_screen(tmp_path):
    # a console, a pipe or cron mail is 80 columns: the tables cut cells with "…", and
    # verify's named problem lost the ledger's path, parked's error its words. Each is
    # now said whole on lines of its own, below the table
    folder = tmp_path / "a-district-data-centre" / "plpbk" / "ledgers"
    folder.mkdir(parents=True)
    (folder / "registration.db").write_bytes(b"not a ledger at all" * 100)
    verified = run("verify", "--all", "--store", f"sqlite:///{folder}")
    assert verified.exit_code == 1
    assert f"registration:BROKENat1:ledger'registration'at{folder}/registration.dbisnota" \
        in "".join(verified.output.split()), verified.output
    error = "ValueError: the village 52.01.08.2006 has no cycle open for this stage"
    kept = open_view_store(f"sqlite:///{tmp_path}", "cycle")
    kept.collection("parked").put("opens-cycles:registration:5", {
        "subscriber": "opens-cycles", "source": "registration", "position": 5,
        "event_id": "e-1", "type": "VillageSelected", "stream_id": "village-52.01.08.2006",
        "status": "parked", "attempts": 4, "error": error, "trace": [],
        "parked_at": "2026-11-29T00:00:00.000000Z"})
    kept.close()
    listed = run("parked", "--state", f"sqlite:///{tmp_path}")
    assert listed.exit_code == 0
    assert "".join(error.split()) in "".join(listed.output.split()), listed.output
    assert "village-52.01.08.2006" in "".join(listed.output.split())


def test_a_checkpoint_is_not_signed_over_a_broken_chain(tmp_path):
    # it was signed and written (exit 0): a kept, signed statement about a head whose
    # history was already changed, that later verifies compared with nothing
    store = ledgers(tmp_path / "ledgers", "registration")
    ledger = open_ledger(store, "registration")
    ledger.append("village-2", 0, [NewEvent("VillageRegistered", {"code": "2"})])
    ledger.close()
    path = tmp_path / "ledgers" / "registration.db"
    with sqlite3.connect(path) as db:
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                     ).fetchall():
            db.execute(f"DROP TRIGGER {trigger}")
        # another first byte (a hash starting 00 kept its own: 1 run in 256 passed it)
        db.execute("UPDATE records SET hash = (CASE WHEN hash LIKE '00%' THEN 'ff' ELSE '00' "
                   "END) || substr(hash, 3) WHERE position = 1")
    run("keygen", "--out", str(tmp_path / "k.pem"))
    kept = tmp_path / "kept.ckpt"
    result = run("checkpoint", "registration", "--key", str(tmp_path / "k.pem"),
                 "--store", store, "--out", str(kept))
    assert result.exit_code == 1, result.output
    assert "registration is BROKEN at 1" in result.text and "not signed" in result.text
    assert not kept.exists()
