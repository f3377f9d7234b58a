"""Managing users and API keys: the one place `plpbk users` / `plpbk keys` and the
gateway's own endpoints (password change) go through.

Each operation validates its input, records its event in the gateway's ledger with the
acting operator as actor, and keeps any secret in the state store (credentials.py).
"""
import secrets

from shared.chassis.commands import fold
from shared.chassis.errors import Conflict, InvalidInput, NotFound, load
from shared.ledger import LedgerUnavailable
from shared.views.base import ViewStoreUnavailable

from . import credentials, identity
from .schemas import NewApiKeySchema, NewUserSchema

MIN_PASSWORD = 12


class Accounts:
    def __init__(self, ledger, execute, state, metadata, hasher=credentials.hash_password):
        """execute(decider, stream_id, command, metadata) records like
        shared.chassis.commands.execute; hasher lets the gateway hash off its event loop."""
        self.ledger, self.execute, self.state, self.metadata = ledger, execute, state, metadata
        self.passwords = credentials.PasswordStore(state)
        self.hasher = hasher

    def create_user(self, data, password=None) -> dict:
        """Record the user, then keep its password. Nothing is half done where it can be
        foreseen: the state store must take writes before the user is recorded (a user
        without a password cannot log in). What fails after recording (the disk fills
        meanwhile) leaves a user without a password, which the same create completes."""
        user = load(NewUserSchema(), data)
        if password is not None:
            check_password(password)
            self.state.check_writable()
        if not self._to_complete(user, password):
            self.execute(identity.USER, identity.user_stream(user["username"]),
                         identity.CreateUser(**user), self.metadata)
        if password is not None:
            try:
                self.set_password(user["username"], password)
            except (ViewStoreUnavailable, LedgerUnavailable) as exc:
                raise type(exc)(
                    f"user {user['username']} is recorded but its password was not kept: "
                    f"{exc}; once the store takes writes, run the same `plpbk users create` "
                    "again: it completes the user") from None
        return user

    def _to_complete(self, user, password):
        """True for a user recorded earlier with these details and no password yet (a
        create that stopped halfway): giving the password completes it."""
        recorded = fold(identity.USER, self.ledger.read_stream(
            identity.user_stream(user["username"])))
        if password is None or recorded.username is None or recorded.password_version:
            return False   # new, or a finished user: CreateUser decides (already exists)
        details = {"name": recorded.name, "role": recorded.role, "region": recorded.region}
        if details != {key: user[key] for key in details}:
            scope = f"region {recorded.region}" if recorded.region else "national"
            raise Conflict(
                f"user {user['username']} already exists, without a password yet, as "
                f"{recorded.name!r} ({recorded.role}, {scope}): "
                "give these details to complete it, or set its password with "
                f"`plpbk users passwd {user['username']}`", "username")
        return True

    def set_password(self, username, password, reason="set"):
        """Store the new hash under a new credential id, then record PasswordChanged
        naming it. A change that meets another (made on the same version) is refused
        (Conflict) and its hash dropped: a hash kept for a version is the recorded one's."""
        check_password(password)
        current = self._user(username)
        credential = secrets.token_hex(8)
        self.passwords.save(username, self.hasher(password), current.password_version + 1,
                            credential)
        try:
            self.execute(identity.USER, identity.user_stream(username),
                         identity.ChangePassword(username, reason, current.password_version,
                                                 credential), self.metadata)
        except Conflict:
            self.passwords.delete(username, credential)
            raise
        if current.password_version:   # the hash it replaces: no use keeping it
            self.passwords.delete(username, current.credential)

    def disable_user(self, username, reason):
        self._user(username)
        self.execute(identity.USER, identity.user_stream(username),
                     identity.DisableUser(reason), self.metadata)

    def enable_user(self, username, reason):
        self._user(username)
        self.execute(identity.USER, identity.user_stream(username),
                     identity.EnableUser(reason), self.metadata)

    def log_out(self, username, token):
        """End one token of the user before it expires (token: {"id", "expires_at"})."""
        self.execute(identity.USER, identity.user_stream(username),
                     identity.LogOut(token["id"], token["expires_at"]), self.metadata)

    def issue_key(self, data) -> tuple:
        """(the key's record, the key itself: shown once, never stored)."""
        key = load(NewApiKeySchema(), data)
        key_id, plaintext, digest = credentials.new_api_key()
        self.execute(identity.API_KEY, identity.key_stream(key_id),
                     identity.IssueApiKey(key_id, key["name"], key["role"], key["region"],
                                          digest), self.metadata)
        return {"key_id": key_id, **key}, plaintext

    def revoke_key(self, key_id, reason):
        self.execute(identity.API_KEY, identity.key_stream(key_id),
                     identity.RevokeApiKey(reason), self.metadata)

    def _user(self, username):
        user = fold(identity.USER, self.ledger.read_stream(identity.user_stream(username)))
        if user.username is None:
            raise NotFound(f"no user {username}", "username")
        return user


def check_password(password):
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= 256:
        raise InvalidInput(f"a password needs {MIN_PASSWORD} to 256 characters", "password")
