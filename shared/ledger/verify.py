"""Verification of a whole ledger, and signed checkpoints of its head.

verify_records walks (position, body, hash) rows in order and names the first record
that breaks any rule of docs/ledger-format.md (shared.ledger.chain_walk). It needs
nothing but the rows, so the same walk checks a live ledger or a dump.
"""
import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)

from .canonical import canonical_bytes
from .chain_walk import RAW_BATCH, VerifyReport, judge, raw_batches, walk
from .envelope import now_iso
from .parallel_verify import WORTH_IT, verify_in_processes

CHECKPOINT_FORMAT = "plpbk-checkpoint/1"


def verify_records(ledger_name, batches, progress=None) -> VerifyReport:
    """Check a chain given as an iterable of batches of (position, body, stored_hash),
    each optionally followed by its query columns (see Ledger.verification_rows)."""
    return judge(ledger_name, [walk(ledger_name, batches, progress=progress)])


def verify_ledger(ledger, checkpoint=None, public_key=None, progress=None,
                  batch=RAW_BATCH, workers=1, store_uri=None) -> VerifyReport:
    """Verify a ledger end to end; with a checkpoint, also that its history is still there.

    workers > 1, with the store_uri the ledger was opened from: stretches of the ledger
    are walked by that many processes (for an auditor's machine, not inside a service).
    """
    if workers > 1 and store_uri is not None and ledger.head().position >= WORTH_IT:
        report = verify_in_processes(ledger, store_uri, workers, batch, progress)
    else:
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
            position = checkpoint.get("position")
            report.first_bad_position = min(max(position, 0) if type(position) is int else 0,
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


def signing_key(private_pem: bytes) -> Ed25519PrivateKey:
    """The Ed25519 private key in PEM; ValueError (TypeError: locked with a passphrase)
    for anything else."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key is not an Ed25519 private key")
    return key


def make_checkpoint(ledger, private_pem: bytes) -> dict:
    """The ledger's current head, signed: keep it outside the database."""
    key = signing_key(private_pem)
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
    if checkpoint.get("ledger") != ledger.name:
        return f"checkpoint is for ledger {checkpoint.get('ledger')!r}, not {ledger.name!r}"
    position = checkpoint.get("position")
    if type(position) is not int or position < 0 or type(checkpoint.get("hash")) is not str:
        return "checkpoint position is not a whole number, or its hash not a text"
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
