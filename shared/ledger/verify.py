"""Verification of a whole ledger, and signed checkpoints of its head.

verify_records walks (position, body, hash) rows in order and names the first record
that breaks any rule of docs/ledger-format.md. It needs nothing but the rows, so the
same walk checks a live ledger, a dump, or an audit bundle.
"""
import base64
import hashlib
from dataclasses import dataclass, field

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)

from ..collector import quiet_collector
from .canonical import GENESIS_HASH, canonical_bytes
from .envelope import now_iso

CHECKPOINT_FORMAT = "plpbk-checkpoint/1"


@dataclass
class VerifyReport:
    """count and head: the records that verified (all of them, or those before the break)."""
    ledger: str
    count: int = 0
    head_position: int = 0
    head_hash: str = GENESIS_HASH
    first_bad_position: int | None = None
    problem: str | None = None
    checkpoint: dict | None = field(default=None)

    @property
    def ok(self):
        return self.problem is None

    def as_dict(self):
        return {"ledger": self.ledger, "ok": self.ok, "count": self.count,
                "head_position": self.head_position, "head_hash": self.head_hash,
                "first_bad_position": self.first_bad_position, "problem": self.problem,
                "checkpoint": self.checkpoint}


class _Broken(Exception):
    def __init__(self, position, problem):
        self.position, self.problem = position, problem


def verify_records(ledger_name, batches, progress=None) -> VerifyReport:
    """Check a chain given as an iterable of batches of (position, body, stored_hash),
    each optionally followed by its query columns (see Ledger.verification_rows)."""
    report = VerifyReport(ledger_name)
    expected, previous_hash, previous_time, versions = 1, GENESIS_HASH, "", {}
    sha256, loads, encode = hashlib.sha256, orjson.loads, canonical_bytes
    try:
        with quiet_collector():  # the walk makes a dict per record and no cycles
            for batch in batches:
                for row in batch:
                    position, body, stored_hash = row[0], row[1], row[2]
                    if type(body) is not bytes:
                        raise _Broken(position, "body is not stored as bytes (changed "
                                                "outside the ledger)")
                    if position != expected:
                        raise _Broken(expected, f"record {expected} is missing (next stored "
                                                f"position is {position}): deleted or inserted")
                    if sha256(body).hexdigest() != stored_hash:
                        raise _Broken(position, "content does not match its stored hash "
                                                "(changed after recording)")
                    record = _parsed(loads, body, position)
                    if record.get("prev_hash") != previous_hash:
                        raise _Broken(position, "prev_hash does not match the hash of record "
                                                f"{position - 1}: removed, inserted or reordered")
                    if record.get("position") != position:
                        raise _Broken(position, f"body says position {record.get('position')}:"
                                                " moved")
                    if record.get("ledger") != ledger_name:
                        raise _Broken(position,
                                      f"body belongs to ledger {record.get('ledger')!r}")
                    recorded_at = record.get("recorded_at")
                    if type(recorded_at) is not str or recorded_at < previous_time:
                        raise _Broken(position, "recorded_at goes back in time")
                    stream, version = record.get("stream_id"), record.get("stream_version")
                    if version != versions.get(stream, 0) + 1:
                        raise _Broken(position, f"stream {stream!r} jumps to version {version}")
                    versions[stream] = version
                    if encode(record) != body:
                        raise _Broken(position, "bytes are not in canonical form")
                    if len(row) > 3 and row[3:] != (stream, version, record.get("type"),
                                                    recorded_at):
                        raise _Broken(position, "query columns (stream, version, type or "
                                                "time) differ from the body")
                    previous_hash, previous_time = stored_hash, recorded_at
                    expected += 1
                report.count, report.head_position, report.head_hash = (
                    expected - 1, expected - 1, previous_hash)
                if progress:
                    progress(report.count)
    except _Broken as broken:
        # count and head then describe the prefix that did verify, up to the break
        report.count, report.head_position, report.head_hash = (
            expected - 1, expected - 1, previous_hash)
        report.first_bad_position, report.problem = broken.position, broken.problem
    return report


def _parsed(loads, body, position):
    """The record a body holds; a body whose hash matches but that is no JSON object (its
    stored hash rewritten too) is a break, not a crash."""
    try:
        record = loads(body)
    except orjson.JSONDecodeError:
        raise _Broken(position, "body is not JSON (changed after recording)") from None
    if type(record) is not dict:
        raise _Broken(position, "body is not a JSON object (changed after recording)")
    return record


RAW_BATCH = 20_000  # stored records fetched per query while verifying


def raw_batches(ledger, batch=RAW_BATCH, fetch=None):
    """The ledger's stored records in position order, a batch of rows at a time, as
    ledger.raw gives them (or fetch, a function of the same shape)."""
    fetch, after = fetch or ledger.raw, 0
    while True:
        rows = fetch(after, batch)
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def verify_ledger(ledger, checkpoint=None, public_key=None, progress=None,
                  batch=RAW_BATCH) -> VerifyReport:
    """Verify a ledger end to end; with a checkpoint, also that its history is still there."""
    report = verify_records(ledger.name,
                            raw_batches(ledger, batch, ledger.verification_rows), progress)
    if report.ok:
        for mismatch in ledger.index_mismatches():
            report.first_bad_position, report.problem = mismatch
            break
    if report.ok and checkpoint is not None:
        problem = check_checkpoint(ledger, checkpoint, public_key)
        report.checkpoint = {"position": checkpoint.get("position"),
                             "hash": checkpoint.get("hash"), "ok": problem is None}
        if problem:
            report.first_bad_position = min(int(checkpoint.get("position") or 0),
                                            report.head_position + 1)
            report.problem = problem
    return report


# -- checkpoints ------------------------------------------------------------------------

def generate_key() -> bytes:
    """A new Ed25519 private key, PEM (PKCS#8, unencrypted: protect the file)."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def public_key_pem(private_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return key


def make_checkpoint(ledger, private_pem: bytes) -> dict:
    """The ledger's current head, signed: keep it outside the database."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key is not an Ed25519 private key")
    head = ledger.head()
    raw_public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
    statement = {"format": CHECKPOINT_FORMAT, "ledger": ledger.name,
                 "position": head.position, "hash": head.hash,
                 "recorded_at": head.recorded_at, "signed_at": now_iso(),
                 "public_key": base64.b64encode(raw_public).decode()}
    signature = key.sign(canonical_bytes(statement))
    return {**statement, "signature": base64.b64encode(signature).decode()}


def checkpoint_signature_problem(checkpoint: dict, public_key=None) -> str | None:
    """None if the checkpoint is signed by its key (and by public_key, when pinned)."""
    try:
        statement = {k: v for k, v in checkpoint.items() if k != "signature"}
        if statement.get("format") != CHECKPOINT_FORMAT:
            return f"checkpoint format is not {CHECKPOINT_FORMAT}"
        raw_public = base64.b64decode(statement["public_key"], validate=True)
        signer = Ed25519PublicKey.from_public_bytes(raw_public)
        signer.verify(base64.b64decode(checkpoint["signature"], validate=True),
                      canonical_bytes(statement))
    except (KeyError, ValueError, TypeError, InvalidSignature):
        return "checkpoint signature is not valid: the checkpoint was altered or forged"
    if public_key is not None:
        pinned = public_key.public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)
        if pinned != raw_public:
            return "checkpoint is signed by a different key than the trusted public key"
    return None


def check_checkpoint(ledger, checkpoint: dict, public_key=None) -> str | None:
    """None if the ledger still holds the checkpointed history; else what is wrong."""
    problem = checkpoint_signature_problem(checkpoint, public_key)
    if problem:
        return problem
    if checkpoint["ledger"] != ledger.name:
        return f"checkpoint is for ledger {checkpoint['ledger']!r}, not {ledger.name!r}"
    position = checkpoint["position"]
    if position == 0:
        return None
    rows = ledger.raw(position - 1, 1)
    if not rows or rows[0][0] != position:
        return (f"ledger is truncated: the checkpoint covers position {position} but the "
                f"ledger ends at {ledger.head().position}")
    if rows[0][2] != checkpoint["hash"]:
        return (f"history was rewritten: record {position} no longer has the checkpointed "
                "hash")
    return None
