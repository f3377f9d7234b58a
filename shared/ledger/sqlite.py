"""SQLite adapter: the embedded default. One file per ledger, WAL, synchronous=FULL.

Writers serialise on SQLite's write lock (BEGIN IMMEDIATE), so the next position is
always head + 1 and position order is commit order, across processes too. Triggers
abort every UPDATE and DELETE: the file can only grow through this adapter.

Two connections: the group-commit leader alone writes on one; readers share the
other, so no reader ever sees rows of a transaction that has not committed.
"""
import contextlib
import errno
import os
import sqlite3
import stat
import threading
import urllib.parse

from .base import EMPTY_HEAD, Ledger, Sealer, new_keyed_commits
from .envelope import AppendResult, Head
from .errors import AppendOnlyViolation, LedgerDamaged, LedgerError, LedgerUnavailable

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    position       INTEGER PRIMARY KEY,
    stream_id      TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    type           TEXT NOT NULL,
    recorded_at    TEXT NOT NULL,
    body           BLOB NOT NULL,
    hash           TEXT NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE TABLE IF NOT EXISTS commits (
    idempotency_key TEXT PRIMARY KEY,
    first_position  INTEGER NOT NULL,
    last_position   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only: records cannot be updated'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only: records cannot be deleted'); END;
CREATE TRIGGER IF NOT EXISTS commits_no_update BEFORE UPDATE ON commits
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only: commits cannot be updated'); END;
CREATE TRIGGER IF NOT EXISTS commits_no_delete BEFORE DELETE ON commits
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only: commits cannot be deleted'); END;
"""

HEAD_SQL = "SELECT position, hash, recorded_at FROM records ORDER BY position DESC LIMIT 1"
VERSION_SQL = "SELECT max(stream_version) FROM records WHERE stream_id = ?"
NO_LIMIT = 2**62
BUSY_TIMEOUT = 60   # seconds a connection waits for another process's lock


class SqliteLedger(Ledger):
    offload_commits = True
    def __init__(self, path, name, upcasters=None, synchronous="FULL", read_only=False):
        super().__init__(name, upcasters)
        self.path = path
        foreign = _not_a_file(path)
        if foreign:
            raise LedgerDamaged(f"ledger {name!r} at {path} is not a readable PLPBK ledger: "
                                f"{foreign}")
        try:
            if read_only:  # verify and list: the evidence is read, never touched
                self._writer = None
                self._reader = _ledger_reader(path)
            else:
                make_folder(path, f"ledger {name!r}")
                if not os.path.exists(path):
                    _create_whole(path)
                else:   # a foreign file is named as verify names it, not given our tables
                    _ledger_reader(path).close()
                self._writer = self._connect(synchronous)
                # CREATE ... IF NOT EXISTS in one transaction: several processes may open
                self._writer.executescript(f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;")
                self._reader = self._connect(synchronous)
        except sqlite3.Error as exc:
            raise _opening_error(exc, name, path) from None
        self._read_lock = threading.Lock()

    def _connect(self, synchronous):
        # isolation_level=None: transactions are ours to begin. check_same_thread=False:
        # eventlet runs on one OS thread, the group-commit leader may be any thread.
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                             timeout=BUSY_TIMEOUT)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        # 64 MiB page cache: idempotency keys and stream heads are random B-tree probes,
        # and the default 2 MiB stops holding them at national scale.
        db.execute("PRAGMA cache_size=-65536")
        return db

    def check_writable(self):
        """A file or folder without write permission opens read-only without a word, and
        every append fails: a write that is rolled back tells at once."""
        db = self._writer
        try:
            if db is None:
                raise sqlite3.OperationalError("opened read-only")
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("CREATE TABLE writable_probe (x)")   # never committed
            finally:
                db.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            raise _opening_error(exc, self.name, self.path) from None

    def close(self):
        for db in (self._writer, self._reader):
            if db is not None:
                db.close()

    # -- writing (the group-commit leader only) --------------------------------------------
    def _commit_units(self, units):
        db = self._writer
        try:
            db.execute("BEGIN IMMEDIATE")
            outcomes = self._commit_locked(db, units)
            db.execute("COMMIT")
            return outcomes
        except BaseException as exc:
            # SQLite rolls back by itself on some errors (a full disk among them); a
            # ROLLBACK then would raise and hide the error that matters
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) or _is_damage(exc):
                raise _writing_error(exc, self.name, self.path) from None
            raise

    def _commit_locked(self, db, units):
        requests = [request for unit in units for request in unit]
        keys = {r.idempotency_key for r in requests if r.idempotency_key is not None}
        recorded = {key: found for key in keys if (found := _recorded_result(db, key))}
        versions = _stream_versions(db, {r.stream_id for r in requests})
        head_row = db.execute(HEAD_SQL).fetchone()
        sealer = Sealer(self.name, Head(*head_row) if head_row else EMPTY_HEAD, versions,
                        recorded)
        rows, keyed, outcomes = [], [], []
        for unit in units:
            try:
                unit_rows, results = sealer.seal(unit)
            except LedgerError as exc:
                outcomes.append(exc)
                continue
            rows.extend(unit_rows)
            keyed.extend(new_keyed_commits(unit, results))
            outcomes.append(results)
        try:
            db.executemany(
                "INSERT INTO records (position, stream_id, stream_version, type, recorded_at,"
                " body, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(row.position, row.stream_id, row.stream_version, row.type, row.recorded_at,
                  row.body, row.hash) for row in rows])
            if keyed:
                db.executemany(
                    "INSERT INTO commits (idempotency_key, first_position, last_position)"
                    " VALUES (?, ?, ?)", keyed)
        except sqlite3.IntegrityError as exc:
            if "append-only" in str(exc):
                raise AppendOnlyViolation(str(exc)) from None
            raise
        return outcomes

    # -- reading ---------------------------------------------------------------------------
    def _query(self, sql, params=()):
        with self._read_lock:
            try:
                return self._reader.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if _is_damage(exc):
                    raise LedgerDamaged(f"ledger {self.name!r} at {self.path}: {exc}") from None
                raise

    def recorded(self, idempotency_key):
        with self._read_lock:
            return _recorded_result(self._reader, idempotency_key)

    def head(self):
        rows = self._query(HEAD_SQL)
        return Head(*rows[0]) if rows else EMPTY_HEAD

    def stream_version(self, stream_id):
        return self._query(VERSION_SQL, (stream_id,))[0][0] or 0

    def _stream_rows(self, stream_id, to_version):
        return self._query(
            "SELECT body, hash FROM records WHERE stream_id = ? AND stream_version <= ?"
            " ORDER BY stream_version",
            (stream_id, to_version if to_version is not None else NO_LIMIT))

    def _rows(self, after, upto, limit, types):
        sql = "SELECT body, hash FROM records WHERE position > ? AND position <= ?"
        params = [after, upto if upto is not None else NO_LIMIT]
        if types:
            sql += f" AND type IN ({','.join('?' * len(types))})"
            params.extend(types)
        return self._query(sql + " ORDER BY position LIMIT ?", params + [limit])

    def raw(self, after=0, limit=10000):
        return self._query(
            "SELECT position, body, hash FROM records WHERE position > ? ORDER BY position"
            " LIMIT ?", (after, limit))

    def verification_rows(self, after=0, limit=10000):
        return self._query(
            "SELECT position, body, hash, stream_id, stream_version, type, recorded_at"
            " FROM records WHERE position > ? ORDER BY position LIMIT ?", (after, limit))

    def recorded_at(self, position):
        rows = self._query("SELECT recorded_at FROM records WHERE position = ?", (position,))
        return rows[0][0] if rows else None


def _ledger_reader(path):
    """A read-only connection to a file that holds a ledger's records table."""
    db = connect_read_only(path)
    try:
        db.execute("SELECT position, body, hash, stream_id, stream_version, type, recorded_at"
                   " FROM records LIMIT 0")
    except BaseException:
        db.close()
        raise
    return db


def connect_read_only(path):
    """A connection that cannot write. A copy in a read-only folder has no -shm file and
    cannot make one: then it is opened as immutable (nothing else can write it there).
    In a folder we may write, a failure is a lock or a busy file: raised, never read
    immutable (without locks, and blind to every later record)."""
    if not os.path.isfile(path):
        raise sqlite3.OperationalError("unable to open database file: no such file")
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}"
    db = None
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False,
                             timeout=BUSY_TIMEOUT)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        if db is not None:
            db.close()
        if os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
            raise
        return sqlite3.connect(f"{uri}?immutable=1", uri=True, check_same_thread=False)


def _not_a_file(path):
    """Why the entry at path can be no ledger file (a folder, a pipe, a link to nothing), or
    None. SQLite calls a folder "unable to open", an outage; it would wait on a pipe; and
    it would make a new empty ledger where a link points to nothing (a disk not mounted)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return f"it is a symbolic link to {os.readlink(path)}, which does not exist"
        return None   # no ledger yet
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "it is a symbolic link that leads back to itself"
        return None   # out of reach now (a folder without permission): SQLite names it
    if stat.S_ISREG(mode):
        return None
    kind = "a folder" if stat.S_ISDIR(mode) else \
        "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else \
        "a socket" if stat.S_ISSOCK(mode) else "a device"
    link = f"a symbolic link to {os.readlink(path)}, " if os.path.islink(path) else ""
    return f"it is {link}{kind}, not a file"


def _is_damage(exc):
    """A damaged or foreign file, as opposed to one that is locked or out of reach."""
    text = str(exc)
    return type(exc) is sqlite3.DatabaseError or "no such table" in text or \
        "no such column" in text or "malformed" in text


def _create_whole(path):
    """A new ledger file appears with its tables, never half made: a reader listing the
    folder (a subscription, the audit, verify --all) would take a file without them for
    a damaged ledger. Built under a name no ledger has, then linked into place; the
    link fails if another process made the ledger first, with the same schema."""
    temporary = f"{path}.{os.getpid()}-{threading.get_ident()}.new"
    db = sqlite3.connect(temporary, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")   # kept in the file's header
        db.executescript(f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;")
    finally:
        db.close()   # the last connection: its WAL is written into the file and removed
    try:
        os.link(temporary, path)
    except OSError:   # made first by another process; or no hard links here: made in place
        pass
    finally:
        for leftover in (temporary, f"{temporary}-wal", f"{temporary}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)


def make_folder(path, what, unavailable=LedgerUnavailable):
    """The folder of a store's file (what: "ledger 'x'"), or `unavailable` naming it."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise unavailable(f"cannot create the folder {folder} of {what}: "
                          f"{exc.strerror or exc}") from None


# What the environment refused, in words for the operator (SQLite's primary codes)
_TROUBLE = {"SQLITE_FULL": "its disk is full", "SQLITE_READONLY": "it is read-only",
            "SQLITE_IOERR": "the disk failed to read or write it",
            "SQLITE_CANTOPEN": "its file cannot be opened",
            "SQLITE_BUSY": "another process holds a lock on it",
            "SQLITE_NOMEM": "the process is out of memory"}


def trouble(exc):
    """The words for an environment failure of SQLite (full, read-only, ...), or None."""
    code = (getattr(exc, "sqlite_errorname", None) or "").split("_")[:2]
    return _TROUBLE.get("_".join(code))


def _opening_error(exc, name, path):
    if _is_damage(exc):
        return LedgerDamaged(f"ledger {name!r} at {path} is not a readable PLPBK ledger: {exc}")
    cause = trouble(exc)
    return LedgerUnavailable(f"cannot open ledger {name!r} at {path}: "
                             f"{f'{cause} ({exc})' if cause else exc}")


def _writing_error(exc, name, path):
    if _is_damage(exc):
        return LedgerDamaged(f"ledger {name!r} at {path} is damaged: {exc}")
    cause = trouble(exc) or "SQLite refused the write"
    return LedgerUnavailable(f"ledger {name!r} at {path} cannot record now: {cause} ({exc}); "
                             "nothing of this append was recorded")


def _stream_versions(db, streams):
    """Current version of each stream, in one query per 500 streams."""
    streams, found = list(streams), {}
    for start in range(0, len(streams), 500):
        part = streams[start:start + 500]
        found.update(db.execute(
            "SELECT stream_id, max(stream_version) FROM records WHERE stream_id IN "
            f"({','.join('?' * len(part))}) GROUP BY stream_id", part).fetchall())
    return found


def _recorded_result(db, key):
    row = db.execute(
        "SELECT c.first_position, c.last_position, r.stream_version FROM commits c"
        " JOIN records r ON r.position = c.last_position WHERE c.idempotency_key = ?",
        (key,)).fetchone()
    return AppendResult(row[0], row[1], row[2], duplicate=True) if row else None
