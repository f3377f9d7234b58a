"""A new SQLite ledger appears whole: a process listing the folder (a subscription, the
audit, `plpbk verify --all`) never opens a file that has no tables yet, which it would
take for a damaged ledger (135 of 200 new ledgers were, before it was built aside)."""
import multiprocessing
import os
import sqlite3

import pytest

from shared.ledger import LedgerDamaged, NewEvent, ledger_names, open_ledger

NEW_LEDGERS = 100


def _watch(store, ready, stop, damaged, opened):
    seen = set()
    ready.set()
    while not stop.is_set():
        for name in set(ledger_names(store)) - seen:
            seen.add(name)
            try:
                open_ledger(store, name, read_only=True).close()
                opened.value += 1
            except LedgerDamaged:
                damaged.value += 1


def test_a_reader_never_finds_a_half_made_ledger(tmp_path):
    store = f"sqlite:///{tmp_path}"
    context = multiprocessing.get_context("spawn")   # no eventlet or threads inherited
    ready, stop = context.Event(), context.Event()
    damaged, opened = context.Value("i", 0), context.Value("i", 0)
    watcher = context.Process(target=_watch, args=(store, ready, stop, damaged, opened))
    watcher.start()
    try:
        assert ready.wait(timeout=60)
        for number in range(NEW_LEDGERS):
            open_ledger(store, f"ledger_{number}").close()
        while opened.value + damaged.value < NEW_LEDGERS and watcher.is_alive():
            pass
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert (damaged.value, opened.value) == (0, NEW_LEDGERS)
    assert sorted(ledger_names(store)) == sorted(f"ledger_{n}" for n in range(NEW_LEDGERS))
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".new")] == []


def _folder(entry):
    entry.mkdir()


def _link_to_a_folder(entry):
    (entry.parent / "elsewhere").mkdir()
    entry.symlink_to(entry.parent / "elsewhere")


def _link_to_nothing(entry):
    entry.symlink_to(entry.parent / "unmounted" / "x.db")
    (entry.parent / "unmounted").mkdir()   # an empty mount point, say


def _fifo(entry):
    os.mkfifo(entry)


@pytest.mark.parametrize("make, why", [
    (_folder, "it is a folder, not a file"),
    (_link_to_a_folder, "it is a symbolic link to .*/elsewhere, a folder, not a file"),
    (_link_to_nothing, "it is a symbolic link to .*/unmounted/x.db, which does not exist"),
    (_fifo, "it is a named pipe .*, not a file")])
def test_an_entry_that_is_no_file_is_a_foreign_entry_not_an_outage(tmp_path, make, why):
    """x.db that is no file was "unable to open database file: no such file", an outage
    (exit 3) that stopped `verify --all`; a writing open made a new empty ledger where a
    link to nothing pointed (its disk not mounted) and called a pipe a disk I/O error."""
    store = f"sqlite:///{tmp_path}"
    make(tmp_path / "x.db")
    assert ledger_names(store) == ["x"]   # listed, so that it is named
    for read_only in (True, False):
        with pytest.raises(LedgerDamaged, match=f"ledger 'x' at .*x.db is not a readable "
                                                f"PLPBK ledger: {why}"):
            open_ledger(store, "x", read_only=read_only)
    assert not (tmp_path / "unmounted" / "x.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["x.db"] + [p for p in ("elsewhere", "unmounted") if (tmp_path / p).exists()])


@pytest.mark.parametrize("schema", ["CREATE TABLE records (x INTEGER)",
                                    "CREATE TABLE users (name TEXT)", None])
def test_a_foreign_file_is_not_made_into_a_ledger_by_a_writing_open(tmp_path, schema):
    """A service (or `plpbk relay --all`) opening a foreign SQLite file named like its
    ledger wrote the ledger's tables and triggers into it, and made it a ledger when it
    had no `records` table; verify --all called the same file damaged."""
    path = tmp_path / "x.db"
    if schema:
        with sqlite3.connect(path) as db:
            db.execute(schema)
        db.close()
    else:
        path.write_bytes(b"")
    before = path.read_bytes()
    with pytest.raises(LedgerDamaged, match="ledger 'x' at .*x.db is not a readable PLPBK "
                                            "ledger: no such (column|table)"):
        open_ledger(f"sqlite:///{tmp_path}", "x")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.db"]


def test_a_locked_ledger_is_not_read_as_a_frozen_copy(tmp_path, monkeypatch):
    """The immutable open is for a copy in a read-only folder, where nothing writes. A
    ledger another process holds locked longer than the busy timeout is unavailable for
    now (said, and tried again), not opened immutable: such a reader never sees a record
    appended later, and reads a file being written without any locking."""
    from shared.ledger import LedgerUnavailable, sqlite as sqlite_ledger
    store = f"sqlite:///{tmp_path}"
    ledger = open_ledger(store, "registration")
    ledger.append("village-1", 0, [NewEvent("VillageRegistered", {"code": "1"})])
    ledger.close()
    holder = sqlite3.connect(tmp_path / "registration.db", isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(sqlite_ledger, "BUSY_TIMEOUT", 0.2)
    try:
        with pytest.raises(LedgerUnavailable, match="registration"):
            open_ledger(store, "registration", read_only=True)
    finally:
        holder.close()
    reader = open_ledger(store, "registration", read_only=True)   # free again: read as usual
    assert reader.head().position == 1
    reader.close()
