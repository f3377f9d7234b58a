"""Secrets of principals: password hashes (argon2id) and API keys (SHA-256).

Password hashes live in the gateway's state store, never in the ledger (see
identity.py); each carries the password_version of the PasswordChanged event it
belongs to, and a login succeeds only when both agree, so a half-done change (hash
stored, event not recorded, or the reverse) fails safe until the operator repeats it.
"""
import hashlib
import hmac
import logging
import os
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.ledger.envelope import now_iso

log = logging.getLogger(__name__)

HASHER = PasswordHasher()   # argon2id with the library's RFC 9106 defaults
KEY_PREFIX = "plpbk"


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists: an unknown user is checked
    against a dummy hash, so response times do not reveal which usernames exist."""
    try:
        return HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash():
    return HASHER.hash(secrets.token_urlsafe(16))


class PasswordStore:
    """One document per hash, under the username and the credential id its
    PasswordChanged event names (the username alone for events that name none), so two
    changes at once never overwrite each other's hash: the ledger decides which one
    stands, and the other's hash is never read."""

    def __init__(self, state):
        self.collection = state.collection("credentials")

    def save(self, username, password_hash, password_version, credential=None):
        self.collection.put(_key(username, credential), {
            "hash": password_hash, "password_version": password_version,
            "saved_at": now_iso()})

    def get(self, username, credential=None) -> dict | None:
        return self.collection.get(_key(username, credential))

    def of(self, user: dict | None) -> str | None:
        """The hash a user (as the identity view has it) logs in with, or None: enabled,
        and a hash kept for its current password version."""
        if user is None or not user["enabled"]:
            return None
        stored = self.get(user["username"], user.get("credential"))
        if stored is None or stored["password_version"] != user["password_version"]:
            return None
        return stored["hash"]

    def delete(self, username, credential=None):
        self.collection.delete(_key(username, credential))


def keep_private(state):
    """Make the gateway's state store readable by its owner alone: it holds the password
    hashes and, without GATEWAY_SECRET, the token secret (whoever reads that forges any
    token). SQLite made its file with the umask (usually world-readable); its WAL files
    take the database file's mode. A server store (MongoDB) has its own access control."""
    path = getattr(state, "path", None)
    if path is None:
        return
    for name in (path, f"{path}-wal", f"{path}-shm"):
        try:
            os.chmod(name, 0o600)
        except FileNotFoundError:
            pass
        except OSError as exc:   # not ours to change: said, the operator's to fix
            log.warning("could not make %s readable by its owner alone (%s): it holds "
                        "password hashes; chmod 600 it", name, exc)


def _key(username, credential):
    return f"{username}/{credential}" if credential else username


# -- API keys: plpbk_<key id>_<secret>; only the SHA-256 of the whole key is kept --------

def new_api_key() -> tuple:
    """(key id, the key to show once, its SHA-256 to record)."""
    key_id = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return key_id, plaintext, key_digest(plaintext)


def key_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def key_id_of(plaintext: str) -> str | None:
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1]


def key_matches(plaintext: str, recorded_digest: str) -> bool:
    return hmac.compare_digest(key_digest(plaintext), recorded_digest)
