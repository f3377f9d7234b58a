"""Users (people) and API keys (systems): the pure domain, event-sourced in the
gateway's ledger so the audit sees who granted what, when and to whom.

Streams: user-<username>, apikey-<key id>. Secrets stay out of the ledger, which is
kept forever and shown to auditors: a password's argon2 hash lives in the gateway's
state store (services.gateway.credentials) and the ledger records only that it
changed (PasswordChanged carries a version number tokens are bound to); an API key's
ledger entry holds the SHA-256 of a 256-bit random key, which cannot be reversed.
"""
from dataclasses import dataclass

from shared.chassis.commands import Decider
from shared.chassis.errors import CommandRejected, Conflict, NotFound
from shared.ledger import NewEvent

from .payloads import API_KEY_EVENTS, USER_EVENTS


def user_stream(username):
    return f"user-{username}"


def key_stream(key_id):
    return f"apikey-{key_id}"


# -- commands ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CreateUser:
    username: str
    name: str
    role: str
    region: str


@dataclass(frozen=True)
class ChangePassword:
    username: str
    reason: str = "set"          # set (by an operator) | changed (by the user)
    # the version the change was made on: a change that met another is refused, so the
    # hash kept for a version is always the one its PasswordChanged stands for
    expected_version: int | None = None
    credential: str | None = None   # where the state store keeps the hash (no secret)


@dataclass(frozen=True)
class DisableUser:
    reason: str


@dataclass(frozen=True)
class EnableUser:
    reason: str


@dataclass(frozen=True)
class LogOut:
    token_id: str      # the token's jti
    expires_at: int    # when it would have expired anyway (seconds since the epoch)


@dataclass(frozen=True)
class IssueApiKey:
    key_id: str
    name: str
    role: str
    region: str
    key_sha256: str


@dataclass(frozen=True)
class RevokeApiKey:
    reason: str


# -- users ------------------------------------------------------------------------------

@dataclass
class User:
    username: str | None = None
    name: str = ""
    role: str = ""
    region: str = ""
    enabled: bool = False
    password_version: int = 0
    credential: str | None = None


def evolve_user(state: User, record) -> User:
    p = record.payload
    if record.type == "UserCreated":
        state.username, state.name, state.role, state.region = (
            p["username"], p["name"], p["role"], p["region"])
        state.enabled = True
    elif record.type == "PasswordChanged":
        state.password_version = p["password_version"]
        state.credential = p.get("credential")
    elif record.type == "UserDisabled":
        state.enabled = False
    elif record.type == "UserEnabled":
        state.enabled = True
    return state


def decide_user(state: User, command):
    if isinstance(command, CreateUser):
        if state.username is not None:
            raise Conflict(f"user {command.username} already exists", "username")
        return [NewEvent("UserCreated", {"username": command.username, "name": command.name,
                                         "role": command.role, "region": command.region})]
    if state.username is None:
        raise NotFound("no such user", "username")
    if isinstance(command, ChangePassword):
        expected = command.expected_version
        if expected is not None and expected != state.password_version:
            raise Conflict(f"the password of {state.username} was changed meanwhile; "
                           "try again", "password")
        credential = {"credential": command.credential} if command.credential else {}
        return [NewEvent("PasswordChanged", {"username": state.username,
                                             "password_version": state.password_version + 1,
                                             "reason": command.reason, **credential})]
    if isinstance(command, DisableUser):
        if not state.enabled:
            raise CommandRejected(f"user {state.username} is already disabled", "username")
        return [NewEvent("UserDisabled", {"username": state.username,
                                          "reason": command.reason})]
    if isinstance(command, LogOut):   # that token only: the user's others go on
        return [NewEvent("LoggedOut", {"username": state.username,
                                       "token_id": command.token_id,
                                       "expires_at": command.expires_at})]
    if isinstance(command, EnableUser):
        if state.enabled:
            raise CommandRejected(f"user {state.username} is already enabled", "username")
        return [NewEvent("UserEnabled", {"username": state.username,
                                         "reason": command.reason})]
    raise TypeError(f"unknown command {type(command).__name__}")


USER = Decider(initial=User, evolve=evolve_user, decide=decide_user, payloads=USER_EVENTS)


# -- API keys ---------------------------------------------------------------------------

@dataclass
class ApiKey:
    key_id: str | None = None
    revoked: bool = False


def evolve_key(state: ApiKey, record) -> ApiKey:
    if record.type == "ApiKeyIssued":
        state.key_id = record.payload["key_id"]
    elif record.type == "ApiKeyRevoked":
        state.revoked = True
    return state


def decide_key(state: ApiKey, command):
    if isinstance(command, IssueApiKey):
        if state.key_id is not None:
            raise Conflict(f"key {command.key_id} already exists", "key_id")
        return [NewEvent("ApiKeyIssued", {
            "key_id": command.key_id, "name": command.name, "role": command.role,
            "region": command.region, "key_sha256": command.key_sha256})]
    if state.key_id is None:
        raise NotFound("no such API key", "key_id")
    if isinstance(command, RevokeApiKey):
        if state.revoked:
            raise CommandRejected(f"key {state.key_id} is already revoked", "key_id")
        return [NewEvent("ApiKeyRevoked", {"key_id": state.key_id, "reason": command.reason})]
    raise TypeError(f"unknown command {type(command).__name__}")


API_KEY = Decider(initial=ApiKey, evolve=evolve_key, decide=decide_key,
                  payloads=API_KEY_EVENTS)
