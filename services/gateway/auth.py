"""Who is asking: an API key (systems) or a bearer token (people), checked against the
identity view on every request.

Credentials come in one of two headers: `Authorization: Bearer <token>` (from
POST /api/v1/auth/login) or `X-API-Key: plpbk_<id>_<secret>` (from `plpbk keys issue`).
"""
import time
from dataclasses import dataclass

from . import credentials, tokens, views
from .errors import Unauthorized
from .metrics import AUTH_FAILURES


@dataclass(frozen=True)
class Principal:
    id: str        # the actor id recorded in every event: user:<username> or key:<key id>
    kind: str      # user | key
    name: str
    role: str
    region: str    # Kemendagri code prefix; "" = national
    token: dict | None = None   # a person's token: {"id": jti, "expires_at": exp}

    def actor(self) -> dict:
        return {"id": self.id, "role": self.role, "region": self.region}

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "name": self.name, "role": self.role,
                "region": self.region}


def user_principal(user: dict, token: dict | None = None) -> Principal:
    return Principal(f"user:{user['username']}", "user", user["name"], user["role"],
                     user["region"], token)


class Directory:
    """Lookups in the identity view. The view follows the ledger within FRESHNESS
    seconds (so a revocation by `plpbk keys revoke` bites at once), and catches up
    once more on a miss (so a user created a moment ago can log in)."""
    FRESHNESS = 0.1

    def __init__(self, session, last_checked):
        self.session = session
        self.last_checked = last_checked   # [monotonic time], shared by the process

    def _freshen(self):
        now = time.monotonic()
        if now - self.last_checked[0] > self.FRESHNESS:
            self.last_checked[0] = now
            self.catch_up()

    def user(self, username, fresh=lambda doc: doc is not None):
        return self._find(views.user, username, fresh)

    def api_key(self, key_id):
        return self._find(views.api_key, key_id, lambda doc: doc is not None)

    def _find(self, lookup, key, fresh):
        self._freshen()
        doc = lookup(self.session.views, key)
        if not fresh(doc):
            self.catch_up(wait=True)   # where another gateway folds: once it has
            doc = lookup(self.session.views, key)
        return doc

    def catch_up(self, wait=False):
        for subscription in self.session.subscriptions:
            if subscription.source.name == self.session.name:
                subscription.catch_up(wait=wait)


class Authenticator:
    def __init__(self, directory: Directory, secret: str):
        self.directory, self.secret = directory, secret

    def authenticate(self, headers) -> Principal | None:
        """The principal, None when no credentials were given, or Unauthorized."""
        bearer = headers.get("Authorization")
        api_key = headers.get("X-API-Key")
        if bearer is None and api_key is None:
            return None
        if bearer is not None and api_key is not None:
            return _refuse("conflicting", "give either a bearer token or an API key, not both",
                           "Authorization")
        if api_key is not None:
            return self._by_key(api_key.strip())
        scheme, _, token = bearer.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _refuse("malformed", "expected 'Authorization: Bearer <token>'",
                           "Authorization")
        return self._by_token(token.strip())

    def _by_key(self, plaintext):
        key_id = credentials.key_id_of(plaintext)
        doc = self.directory.api_key(key_id) if key_id else None
        if doc is None or not credentials.key_matches(plaintext, doc["key_sha256"]):
            return _refuse("bad_key", "unknown API key", "X-API-Key")
        if doc["revoked"]:
            return _refuse("revoked_key", "this API key was revoked", "X-API-Key")
        return Principal(f"key:{key_id}", "key", doc["name"], doc["role"], doc["region"])

    def _by_token(self, token):
        try:
            claims = tokens.read(self.secret, token)
        except Unauthorized as exc:
            AUTH_FAILURES.labels("bad_token").inc()
            raise exc
        version, disabled = claims["ver"], claims["dis"]
        user = self.directory.user(claims["sub"], fresh=lambda doc: doc is not None and (
            doc["password_version"] >= version and doc.get("disabled_times", 0) >= disabled))
        if user is None or not user["enabled"]:
            return _refuse("disabled_user", "this user is disabled or unknown", "Authorization")
        if user.get("disabled_times", 0) != disabled:
            return _refuse("disabled_user", "this user was disabled since this token was "
                           "issued; log in again", "Authorization")
        if user["password_version"] != version:
            return _refuse("stale_token", "the password changed since this token was issued; "
                           "log in again", "Authorization")
        if claims.get("jti") in user.get("logged_out", {}):
            return _refuse("logged_out", "this token was logged out; log in again",
                           "Authorization")
        return user_principal(user, {"id": claims.get("jti"), "expires_at": claims["exp"]})


def _refuse(reason, message, field):
    AUTH_FAILURES.labels(reason).inc()
    raise Unauthorized(message, field)
