"""The attachment store checked against every ledger: each AttachmentStored event, in
whichever service's ledger, names a file by its SHA-256; the file stored under that
name must still hash to it."""
from contextlib import closing

from shared.chassis.errors import Conflict, StoreUnavailable
from shared.ledger import LedgerDamaged, LedgerUnavailable, ledger_names, open_ledger

from . import SHA256, STORED


def verify(ledgers, store, region=""):
    """Re-hash every stored file the ledgers' AttachmentStored events name, of codes
    under region: {region, checked, ok, problems [{code, sha256, filename, problem,
    found_sha256, event_id, ledger, position}]} where problem is `missing` or `mismatch`
    and ledger, position locate the event that recorded the file (every ledger is read).
    ledgers: read in the order given, each in position order."""
    checked, problems = 0, []
    for record in stored_records(ledgers):
        payload = record.payload
        code = payload["code"] if isinstance(payload.get("code"), str) else ""
        if not code.startswith(region):
            continue   # no code (off the contract): in the whole platform's check only
        checked += 1
        sha256 = payload.get("sha256")
        # only a hash is looked up: a name off the contract (a path) is no file here
        found = store.digest(sha256) if isinstance(sha256, str) and \
            SHA256.fullmatch(sha256) else None
        if found != sha256:
            problems.append({"code": code, "sha256": str(sha256),
                             "filename": str(payload.get("filename", "")),
                             "event_id": record.event_id, "ledger": record.ledger,
                             "position": record.position,
                             "problem": "missing" if found is None else "mismatch",
                             "found_sha256": found})
    return {"region": region, "checked": checked, "ok": checked - len(problems),
            "problems": problems}


def stored_records(ledgers):
    """Every AttachmentStored record of the ledgers, each ledger in position order."""
    for ledger in ledgers:
        yield from ledger.iter_records(types=[STORED])


def verify_every_ledger(store_uri, store, region=""):
    """verify over every ledger at STORE_URI (new services' too), each opened read-only
    for this check alone. A ledger that cannot be read refuses the check, naming it: a
    report without its files would say they are fine."""
    def ledgers():
        for name in ledger_names(store_uri):
            with closing(open_ledger(store_uri, name, read_only=True)) as ledger:
                yield ledger
    try:
        return verify(ledgers(), store, region)
    except LedgerDamaged as exc:   # the message names the ledger
        raise Conflict(f"{exc}: its attachments cannot be checked; move the file out of "
                       "the ledger folder or restore it (plpbk verify --all names it)",
                       "ledger") from None
    except LedgerUnavailable as exc:
        raise StoreUnavailable(f"{exc}: its attachments cannot be checked", "ledger") from None
