"""What whoever controls a SQLite ledger file can do, bypassing the ledger: shared by the
tampering tests of the ledger, verify and the audit service."""
import hashlib
import sqlite3

import orjson

from shared.ledger.canonical import canonical_bytes


def open_as_attacker(path):
    """A raw connection to a ledger file with the append-only triggers dropped."""
    db = sqlite3.connect(path, isolation_level=None)
    for trigger in ("records_no_update", "records_no_delete"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    return db


def reseal_from(db, position, change=None):
    """Change the record at `position` (if a change is given) and re-seal it and every
    later record, so the hash chain alone verifies again. The query columns stay: their
    unique index would refuse a duplicate stream version."""
    previous = db.execute("SELECT hash FROM records WHERE position = ?",
                          (position - 1,)).fetchone()[0]
    for at, body in db.execute("SELECT position, body FROM records WHERE position >= ? "
                               "ORDER BY position", (position,)).fetchall():
        record = orjson.loads(body)
        if change is not None and at == position:
            change(record)
        record["prev_hash"] = previous
        body = canonical_bytes(record)
        previous = hashlib.sha256(body).hexdigest()
        db.execute("UPDATE records SET body = ?, hash = ? WHERE position = ?", (body, previous, at))
