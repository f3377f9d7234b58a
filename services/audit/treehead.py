"""Signed tree heads: a ledger's Merkle root at one size, signed with Ed25519.

    {"format": "plpbk-tree-head/1", "ledger": "registration", "tree_size": 1200,
     "root_hash": "<hex>", "head_hash": "<hash of record 1200>",
     "head_recorded_at": "...", "signed_at": "...", "public_key": "<base64, 32 bytes>",
     "signature": "<base64, 64 bytes>"}

The signature covers the JCS bytes of the object without `signature`, exactly as the
checkpoints of docs/ledger-format.md section 5; `head_hash` makes a tree head a
checkpoint of the hash chain as well. Verification needs the head and a public key
only, so it is what an offline verifier imports.
"""
import base64
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)

from shared.ledger.canonical import canonical_bytes

TREE_HEAD_FORMAT = "plpbk-tree-head/1"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
FIELDS = ("format", "ledger", "tree_size", "root_hash", "head_hash", "head_recorded_at",
          "signed_at", "public_key", "signature")


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key is not an Ed25519 private key")
    return key


def raw_public(key) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign_statement(statement: dict, key: Ed25519PrivateKey) -> dict:
    """The statement with its signer's public key and the signature over its JCS bytes."""
    signed = {**statement, "public_key": base64.b64encode(raw_public(key)).decode()}
    signature = key.sign(canonical_bytes(signed))
    return {**signed, "signature": base64.b64encode(signature).decode()}


def signature_problem(signed: dict, public_key: Ed25519PublicKey, what: str) -> str | None:
    """None if `signed` is signed by public_key (the pinned, trusted key)."""
    try:
        statement = {k: v for k, v in signed.items() if k != "signature"}
        signer = base64.b64decode(statement["public_key"], validate=True)
        signature = base64.b64decode(signed["signature"], validate=True)
        if signer != raw_public(public_key):
            return f"{what} is signed by a different key than the trusted public key"
        public_key.verify(signature, canonical_bytes(statement))
    except (KeyError, ValueError, TypeError, InvalidSignature):
        return f"{what} signature is not valid: it was altered or forged"
    return None


def make_tree_head(ledger_name, tree_size, root: bytes, head_hash, head_recorded_at,
                   signed_at, key) -> dict:
    """Sign the root of a ledger's tree and the chain hash of its last record."""
    return sign_statement({
        "format": TREE_HEAD_FORMAT, "ledger": ledger_name, "tree_size": tree_size,
        "root_hash": root.hex(), "head_hash": head_hash,
        "head_recorded_at": head_recorded_at, "signed_at": signed_at}, key)


def tree_head_problem(head: dict, public_key: Ed25519PublicKey) -> str | None:
    """None if head is a well-formed tree head signed by the trusted key."""
    if not isinstance(head, dict):
        return "tree head is not an object"
    if set(head) != set(FIELDS):
        return f"tree head fields are {sorted(head)}, expected {sorted(FIELDS)}"
    if head["format"] != TREE_HEAD_FORMAT:
        return f"tree head format is not {TREE_HEAD_FORMAT}"
    if not isinstance(head["ledger"], str):
        return "tree head ledger is not a name"
    size = head["tree_size"]
    if type(size) is not int or size < 0:
        return "tree head tree_size is not a non-negative integer"
    if not isinstance(head["root_hash"], str) or not HEX64.fullmatch(head["root_hash"]):
        return "tree head root_hash is not 64 lowercase hex digits"
    return signature_problem(head, public_key, "tree head")
