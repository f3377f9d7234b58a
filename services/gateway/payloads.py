"""The payload of every event the gateway records (shared/chassis/payloads.py): its
identity events, one schema per type, gathered in EVENTS, which identity.USER and
identity.API_KEY name. A module of its own: schemas.py holds what callers send and
answers carry.

No secret is ever recorded (identity.py): the ledger is kept forever and shown to
auditors. So each field that points at a credential takes only the form that is no
secret (a random id, a SHA-256 digest, a token's id), and a password, a password hash,
an API key or a token sent there by mistake is refused before anything is recorded.
"""
from marshmallow import Schema, fields, validate

from shared.chassis.access import ROLES
from shared.chassis.payloads import EventCatalog
from shared.patterns import Pattern
from shared.payload_fields import Text

from .schemas import REGION, USERNAME


def Username():
    return Text(validate=Pattern(USERNAME))


def Reason():
    return Text(metadata={"description": "as the operator gave it"})


KEY_ID = Pattern(r"^[0-9a-f]{12}$", error="must be a key id: 12 lowercase hex digits")


def KeyId():
    return Text(validate=KEY_ID, metadata={
        "description": "the key's public id, also the start of the key"})


class UserCreatedPayload(Schema):
    username = Username()
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    region = fields.String(required=True, validate=REGION, metadata={
        "description": "the user's scope; '' = national"})


class PasswordChangedPayload(Schema):
    username = Username()
    password_version = fields.Integer(strict=True, required=True,
                                      validate=validate.Range(min=1), metadata={
        "description": "1 for the first password; the user's tokens are bound to it"})
    reason = fields.String(required=True, validate=validate.OneOf(["set", "changed"]),
                           metadata={"description": "set by an operator, or changed by "
                                                    "the user"})
    credential = fields.String(validate=Pattern(
        r"^[0-9a-f]{16}$", error="must be a credential id: 16 lowercase hex digits"),
        metadata={"description": "the random id under which the gateway's state store "
                                 "keeps this version's password hash; neither the "
                                 "password nor the hash is recorded. Absent in records "
                                 "before 2026-11-29 (commit 565a48b)"})


class UserDisabledPayload(Schema):
    username = Username()
    reason = Reason()


class UserEnabledPayload(Schema):
    username = Username()
    reason = Reason()


class LoggedOutPayload(Schema):
    username = Username()
    token_id = fields.String(required=True, validate=Pattern(
        r"^[0-9a-f]{32}$", error="must be a token id (jti): 32 lowercase hex digits"),
        metadata={"description": "the id (jti claim) of the token ended, which no request "
                                 "can use as a token"})
    expires_at = fields.Integer(strict=True, required=True, validate=validate.Range(min=0),
                                metadata={"description": "when the token would have "
                                                         "expired anyway (seconds since "
                                                         "the epoch)"})


class ApiKeyIssuedPayload(Schema):
    key_id = KeyId()
    name = fields.String(required=True, metadata={"description": "the system it is for"})
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    region = fields.String(required=True, validate=REGION, metadata={
        "description": "the key's scope; '' = national"})
    key_sha256 = fields.String(required=True, validate=Pattern(
        r"^[0-9a-f]{64}$", error="must be a SHA-256 digest: 64 lowercase hex digits"),
        metadata={"description": "the SHA-256 digest a presented key is compared with; "
                                 "the key is shown once at issue and never recorded"})


class ApiKeyRevokedPayload(Schema):
    key_id = KeyId()
    reason = Reason()


USER_EVENTS = EventCatalog({
    "UserCreated": UserCreatedPayload,
    "PasswordChanged": PasswordChangedPayload,
    "UserDisabled": UserDisabledPayload,
    "UserEnabled": UserEnabledPayload,
    "LoggedOut": LoggedOutPayload,
})
API_KEY_EVENTS = EventCatalog({
    "ApiKeyIssued": ApiKeyIssuedPayload,
    "ApiKeyRevoked": ApiKeyRevokedPayload,
})
EVENTS = USER_EVENTS | API_KEY_EVENTS
