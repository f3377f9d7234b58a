"""The identity read model: who may authenticate, as folded from the gateway's ledger.

Authentication reads only this (one in-memory lookup per request); a principal that
is not found here is looked for once more after catching up with the ledger, so a user
or key the CLI has just created works at once.
"""
from datetime import datetime

from shared.chassis.subscribers import Projection, handles


class IdentityBoard(Projection):
    name = "identity"
    collections = ("users", "api_keys")
    shape = 2   # 2: users keep the position of their last disabling (counted once)

    def __init__(self, context):
        super().__init__(context)
        self.users = self.views.collection("users")
        self.keys = self.views.collection("api_keys")

    @handles("UserCreated")
    def created(self, record):
        p = record.payload
        self.users.put(p["username"], {
            "username": p["username"], "name": p["name"], "role": p["role"],
            "region": p["region"], "enabled": True, "password_version": 0,
            "created_at": record.recorded_at, "created_by": record.actor["id"]})

    @handles("PasswordChanged")
    def password_changed(self, record):
        p = record.payload
        self.users.update(p["username"], lambda doc: doc.update(
            password_version=p["password_version"], credential=p.get("credential"),
            password_changed_at=record.recorded_at))

    @handles("UserDisabled", "UserEnabled")
    def enabled_or_not(self, record):
        enabled = record.type == "UserEnabled"

        def change(doc):
            doc["enabled"] = enabled
            # tokens carry the count they were issued under (tokens.py); an event applied
            # again (tests/refolding.py) is counted once, by its position
            if not enabled and doc.get("disabled_position", 0) < record.position:
                doc["disabled_times"] = doc.get("disabled_times", 0) + 1
                doc["disabled_position"] = record.position
        self.users.update(record.payload["username"], change)

    @handles("LoggedOut")
    def logged_out(self, record):
        """Tokens logged out, until they would have expired: those that have are dropped
        (by the record's own time, so a rebuild folds the same)."""
        p, now = record.payload, _epoch(record.recorded_at)

        def change(doc):
            ended = {token: until for token, until in doc.get("logged_out", {}).items()
                     if until > now}
            doc["logged_out"] = {**ended, p["token_id"]: p["expires_at"]}
        self.users.update(p["username"], change)

    @handles("ApiKeyIssued")
    def issued(self, record):
        p = record.payload
        self.keys.put(p["key_id"], {
            "key_id": p["key_id"], "name": p["name"], "role": p["role"], "region": p["region"],
            "key_sha256": p["key_sha256"], "revoked": False, "issued_at": record.recorded_at,
            "issued_by": record.actor["id"]})

    @handles("ApiKeyRevoked")
    def revoked(self, record):
        self.keys.update(record.payload["key_id"], lambda doc: doc.update(
            revoked=True, revoked_at=record.recorded_at))


def user(views, username):
    return views.collection("users").get(username)


def api_key(views, key_id):
    return views.collection("api_keys").get(key_id)


def users(views):
    return views.collection("users").find()


def api_keys(views):
    return views.collection("api_keys").find()


def _epoch(recorded_at):
    return datetime.fromisoformat(recorded_at.replace("Z", "+00:00")).timestamp()
