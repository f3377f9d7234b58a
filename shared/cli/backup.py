"""plpbk backup: a consistent copy of the embedded default while the platform runs.

Order (docs/decisions/0016-backup-order.md): snapshots of the state, then of the ledgers,
then the attachments. SQLite files are copied with the online backup API inside a read
transaction taken beforehand, so each copy is one instant of its file however much is
written meanwhile (a plain file copy of a WAL database can be torn), and the ledgers'
transactions are opened while their writes are paused: one instant of them all.
"""
import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import urllib.parse
from contextlib import contextmanager

import click
from rich.markup import escape
from rich.table import Table

from ..attachments.verify import stored_records
from ..ledger import ledger_names, open_ledger
from ..ledger.envelope import now_iso
from ..ledger.sqlite import connect_read_only, trouble
from ..views import store_names
from .common import (EXIT_PROBLEM, EXIT_UNREACHABLE, attachments_option, console, errors, fail,
                     must_exist, progress_bar, state_option, store_option,
                     unreachable_is_an_error)
from .files import in_writable_folder, write_new
from .ledger_commands import default_workers, head_of, verify_one
from .state import refuse_ledgers
from .uris import MONGO

FORMAT = "plpbk-backup/1"
LOCK_WAIT = 10            # seconds to wait for a ledger's write lock (one commit's time)
STEP_PAGES = 1024          # pages copied between progress updates (4 MiB of 4 KiB pages)
ATTACHMENT = re.compile(r"[0-9a-f]{64}")   # shared/attachments/stores.py: <2 hex>/<sha256>


@click.command()
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder to write the backup to: new, or empty.")
@store_option
@state_option
@attachments_option
def backup(out, store_uri, state_uri, attachment_uri):
    """Copy ledgers, state and attachments to OUT while the platform runs; verify the copy.

    Writes OUT/ledgers, OUT/state, OUT/attachments and OUT/manifest.json (last: a backup
    without it is incomplete). Exit code 0 when every copied ledger verifies, 1 when one
    does not, an attachment does not match its hash, or a file a ledger records is not
    in the attachment store.
    """
    for option, setting, uri in (("--store", "STORE_URI", store_uri),
                                 ("--state", "STATE_URI", state_uri),
                                 ("--attachments", "ATTACHMENT_URI", attachment_uri)):
        if uri.startswith(MONGO):
            fail(f"{option} ({setting}) is a MongoDB database: plpbk backup copies the "
                 "embedded SQLite and folder stores only; back up a MongoDB deployment with "
                 "its own tooling (mongodump, or the replica set's snapshots)")
    must_exist(store_uri, "--store")
    must_exist(state_uri, "--state")
    sources = [_folder(store_uri), _folder(state_uri), _folder(attachment_uri)]
    if sources[2] and os.path.exists(sources[2]) and not os.path.isdir(sources[2]):
        fail(f"--attachments {attachment_uri}: {sources[2]} is not a folder")
    _check_out(out, [folder for folder in sources if folder])
    with _claimed(out), unreachable_is_an_error():
        names, states = ledger_names(store_uri), store_names(state_uri)
        if not names:
            fail(f"no ledgers at {store_uri}: nothing to back up")
        refuse_ledgers(state_uri, states, store_uri)
        # every state snapshot before any ledger's, the attachments after the ledgers:
        # whatever a copy refers to is in a later one (decision 16)
        held = [("state", name, _snapshot(f"{sources[1]}/{name}.db")) for name in states]
        for name in names:   # an entry that is no ledger (a folder, a pipe) is named
            open_ledger(store_uri, name, read_only=True).close()   # here: damaged, exit 1
        paths = {name: f"{sources[0]}/{name}.db" for name in names}
        with _writes_paused(paths.values()):   # the ledgers' snapshots: one instant
            held += [("ledgers", name, _snapshot(path)) for name, path in paths.items()]
        copied = {"state": {}, "ledgers": {}}
        for part, name, snapshot in held:
            relative = f"{part}/{name}.db"
            with _written_to(out, f"the copy of {relative}"):
                _copy_snapshot(snapshot, os.path.join(out, relative), f"copying {part} {name}",
                               forget_leases=part == "state")
            copied[part][name] = {"file": relative}
        with _written_to(out, "the copies of the attachments"):
            attachments, mismatched = _copy_attachments(sources[2], out)
        ledgers = {name: _verified(out, name, entry)
                   for name, entry in copied["ledgers"].items()}
        for entry in copied["state"].values():
            entry["sha256"] = _sha256(os.path.join(out, entry["file"]))
        broken = [name for name, entry in ledgers.items() if not entry["verified"]]
        missing = _recorded_but_absent(out, [name for name in ledgers if name not in broken],
                                       attachments, mismatched)
        manifest = {"format": FORMAT, "created_at": now_iso(),
                    "ok": not broken and not mismatched and not missing,
                    "sources": {"store": store_uri, "state": state_uri,
                                "attachments": attachment_uri},
                    "ledgers": ledgers, "state": copied["state"], "attachments": attachments,
                    "mismatched_attachments": mismatched, "missing_attachments": missing}
        write_new(os.path.join(out, "manifest.json"), json.dumps(manifest, indent=2) + "\n",
                  "--out", "a backup manifest")
    _summary(out, manifest, state_uri, sources[2])
    for name in broken:
        errors.print(f"[bold red]error:[/] the copy of ledger {escape(name)} does not verify: "
                     f"{escape(ledgers[name]['problem'])} (check the live one with `plpbk "
                     f"verify {escape(name)}`)", highlight=False)
    for sha256 in mismatched:
        errors.print(f"[bold red]error:[/] attachment {sha256} does not match its hash; it "
                     "was not copied (a new upload of the file repairs it)", highlight=False)
    for sha256 in missing:
        errors.print(f"[bold red]error:[/] attachment {sha256} is recorded in a ledger but "
                     "its file is not in the attachment store (a new upload of the file "
                     "repairs it)", highlight=False)
    if not manifest["ok"]:
        raise SystemExit(EXIT_PROBLEM)


def _folder(uri):
    for scheme in ("sqlite:///", "file:///"):
        if uri.startswith(scheme):
            return uri[len(scheme):].rstrip("/") or "."
    return None   # memory://: nothing durable


def _check_out(out, sources):
    """OUT new or empty, in a folder that is there, outside every store: checked before
    a byte is written, so a refusal leaves everything as it was."""
    if out == "":
        fail("--out: give a folder name ('' names no folder)")
    if os.path.lexists(out):
        if not os.path.isdir(out):
            fail(f"--out {out}: it exists and is not a folder")
        if os.listdir(out):
            fail(f"--out {out}: the folder is not empty; refusing to write a backup over "
                 "anything (choose a new or empty folder)")
        if not os.access(out, os.W_OK | os.X_OK):   # there and empty: it is written into
            fail(f"--out {out}: the folder is not writable")
    in_writable_folder(out, "--out")
    target = os.path.realpath(out)
    for source in sources:
        real = os.path.realpath(source)
        if target == real or target.startswith(real + os.sep):
            fail(f"--out {out}: it is inside the store folder {source}; keep a backup apart "
                 "from what it copies")


@contextmanager
def _claimed(out):
    """OUT for this backup alone until its manifest is written, and nothing of it left if
    the backup stops before (Ctrl-C, a full disk, a refusal): a half backup without a
    manifest looked like a backup to keep and made the next `--out OUT` refuse a folder
    that is not empty. A second backup into OUT at once is refused (its lock)."""
    created = not os.path.lexists(out)
    if created:
        os.mkdir(out)
    folder = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fail(f"--out {out}: another plpbk backup is writing there now; wait for it or "
                 "choose another folder", EXIT_UNREACHABLE)
        if os.listdir(out):   # the backup that held it finished first
            fail(f"--out {out}: the folder is not empty; refusing to write a backup over "
                 "anything (choose a new or empty folder)")
        try:
            yield
        except BaseException:
            _remove_incomplete(out, created)
            raise
    finally:
        os.close(folder)


@contextmanager
def _written_to(out, what):
    """The copy's disk failing (full, read-only, an I/O error) named as --out's: it was
    "a store cannot be used now", which sent the operator to the stores, only read here.
    A source that is damaged is still named as damaged (exit 1)."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        cause = trouble(exc)
        if cause is None:
            raise
        fail(f"--out {out}: cannot write {what}: {cause} ({exc})", EXIT_UNREACHABLE)
    except OSError as exc:
        if not (exc.filename or "").startswith(out):   # an attachment that cannot be read
            raise
        fail(f"--out {out}: cannot write {what}: {exc.strerror or exc}", EXIT_UNREACHABLE)


def _remove_incomplete(out, created):
    written = os.listdir(out)
    if created:
        shutil.rmtree(out, ignore_errors=True)
    for name in [] if created else written:   # OUT was empty when claimed: all ours
        path = os.path.join(out, name)
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.unlink(path)
    if written:
        errors.print(f"note: the incomplete backup in {escape(out)} was removed",
                     highlight=False)


@contextmanager
def _writes_paused(paths):
    """Every ledger's write lock, taken in one order and held while their snapshots are
    opened: the copies are then one instant of all the ledgers, so nothing in one copy
    follows from a record past another's copied head (decision 16). Writers wait those
    milliseconds (their busy timeout is a minute). Without write access to a ledger (a
    read-only mount) the copies are each one instant of their own ledger, as said."""
    locks = []
    try:
        for path in sorted(paths):
            db = sqlite3.connect(f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=rw",
                                 uri=True, isolation_level=None, timeout=LOCK_WAIT)
            locks.append(db)
            db.execute("BEGIN IMMEDIATE")
            # a write-protected file opens read-only without a word: a write tells
            db.execute("CREATE TABLE backup_pause_probe (x)")   # rolled back below
    except sqlite3.OperationalError as exc:
        console.print(f"note: the ledgers' writes could not be paused ({escape(str(exc))}): "
                      "each ledger's copy is one instant of that ledger alone", highlight=False)
    except sqlite3.DatabaseError:
        pass   # not a SQLite file: its snapshot, next, names it
    try:
        yield
    finally:
        for db in locks:
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.close()


def _snapshot(path):
    """A read-only connection holding a read transaction: one instant of the file that
    later writes (WAL) do not change, and that the backup API copies without restarting."""
    try:
        # as verify reads a ledger: in a read-only folder (a snapshot mount, read-only
        # media) a WAL file without its -shm is opened immutable, nothing writing it there
        db = connect_read_only(path)
        db.isolation_level = None
        db.execute("BEGIN")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()   # the transaction starts
        return db
    except sqlite3.DatabaseError as exc:   # before the first copy: nothing is written yet
        cause = trouble(exc)
        fail(f"{path}: {cause} ({exc}); nothing was copied" if cause else
             f"{path} is not a readable SQLite file ({exc}); nothing was copied",
             EXIT_UNREACHABLE if cause else EXIT_PROBLEM)


def _copy_snapshot(snapshot, target, description, forget_leases=False):
    """forget_leases: who holds a lease (decision 24) is the running platform's, not
    state to restore: a restored one would refuse the restored audit service."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    copy = sqlite3.connect(target)
    try:
        pages = snapshot.execute("PRAGMA page_count").fetchone()[0]
        with progress_bar(description, pages) as show:
            snapshot.backup(copy, pages=STEP_PAGES,
                            progress=lambda _status, left, total: show(total - left))
        if forget_leases and copy.execute("SELECT 1 FROM sqlite_master WHERE name = "
                                          "'c_leases'").fetchone():
            copy.execute('DELETE FROM "c_leases"')
            copy.commit()
        # one self-contained file: no -wal or -shm beside it (the platform sets WAL again)
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        snapshot.execute("COMMIT")
        snapshot.close()


def _copy_attachments(root, out):
    """Copy every <2 hex>/<sha256> file and check the copy hashes to its name. Returns
    ({sha256: {file, size}}, [sha256 of files that do not match, not copied])."""
    if root is None or not os.path.isdir(root):
        return {}, []   # the folder appears with the first upload
    found = sorted((folder, name) for folder in os.listdir(root)
                   if re.fullmatch(r"[0-9a-f]{2}", folder)
                   and os.path.isdir(os.path.join(root, folder))
                   for name in os.listdir(os.path.join(root, folder))
                   if ATTACHMENT.fullmatch(name) and name[:2] == folder)
    copied, mismatched = {}, []
    with progress_bar("copying attachments", len(found)) as show:
        for done, (folder, name) in enumerate(found, 1):
            relative = f"attachments/{folder}/{name}"
            target = os.path.join(out, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(os.path.join(root, folder, name), target)
            if _sha256(target) == name:
                copied[name] = {"file": relative, "size": os.path.getsize(target)}
            else:
                os.unlink(target)
                mismatched.append(name)
            show(done)
    return copied, mismatched


def _recorded_but_absent(out, names, copied, mismatched):
    """Files the copied ledgers' AttachmentStored events name (any service's, decision
    20) that were neither copied nor named as mismatched: lost from the live store,
    since a file is stored before its event (decision 16). The copied ones were hashed
    as they were copied; they are not read again."""
    store = f"sqlite:///{os.path.abspath(os.path.join(out, 'ledgers'))}"
    copies = [open_ledger(store, name, read_only=True) for name in names]
    try:
        recorded = {str(record.payload.get("sha256")) for record in stored_records(copies)}
    finally:
        for copy in copies:
            copy.close()
    return sorted(recorded - set(copied) - set(mismatched))


def _verified(out, name, entry):
    """The copy's head and file hash, and whether it verifies (as `plpbk verify`)."""
    store = f"sqlite:///{os.path.abspath(os.path.join(out, 'ledgers'))}"
    report = verify_one(store, name, None, None, default_workers())
    if report.ok:
        head = head_of(store, name)
        position, head_hash = head.position, head.hash
    else:
        position, head_hash = report.head_position, report.head_hash
    return {**entry, "head_position": position, "head_hash": head_hash,
            "sha256": _sha256(os.path.join(out, entry["file"])), "verified": report.ok,
            "problem": report.problem}


def _sha256(path):
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _summary(out, manifest, state_uri, attachments_root):
    table = Table("part", "name", "copied head", "sha256", "result")
    for name, entry in manifest["ledgers"].items():
        result = "[green]verified[/]" if entry["verified"] else \
            f"[red]BROKEN: {escape(entry['problem'])}[/]"
        table.add_row("ledger", name, f"#{entry['head_position']} {entry['head_hash'][:16]}…",
                      entry["sha256"][:16] + "…", result)
    for name, entry in manifest["state"].items():
        table.add_row("state", name, "", entry["sha256"][:16] + "…", "[green]copied[/]")
    files, bad = manifest["attachments"], manifest["mismatched_attachments"]
    missing = manifest["missing_attachments"]
    size = sum(entry["size"] for entry in files.values())
    table.add_row("attachments", f"{len(files)} files, {size} bytes", "", "by name",
                  "; ".join(([f"[red]{len(bad)} did not match their hash[/]"] if bad else [])
                            + ([f"[red]{len(missing)} recorded, not stored[/]"] if missing
                               else []))
                  or "[green]each matches its hash[/]")
    console.print(table)
    if not manifest["state"]:
        console.print(f"note: no operator state at {escape(state_uri)}"
                      + (" (memory://: nothing durable)" if state_uri.startswith("memory://")
                         else ""), highlight=False)
    if not files and not bad:
        console.print(f"note: no attachments under {escape(str(attachments_root))}",
                      highlight=False)
    console.print(f"backup written to {escape(out)}; its manifest: "
                  f"{escape(os.path.join(out, 'manifest.json'))}", highlight=False)
