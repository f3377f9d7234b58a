"""The event envelope: what a caller hands the ledger and what the ledger gives back.

Field names and meanings are those of ARCHITECTURE.md and docs/ledger-format.md.
Incoming metadata and events are validated by marshmallow before anything is sealed.
"""
import re
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate

from ..patterns import REGION_PREFIX_TEXT, Pattern
from .errors import InvalidEvent

ROLES = ("ministry", "province", "district", "facilitator", "bkm", "auditor", "integration",
         "system")
REGION_PATTERN = REGION_PREFIX_TEXT
EVENT_TYPE_PATTERN = r"^[A-Z][A-Za-z0-9]{1,79}$"
STREAM_ID_PATTERN = r"^[a-z][a-z0-9_-]{0,39}-[^\s]{1,200}$"
# Event ids as uuid4() writes them: one text per id, so ids compare as text everywhere
EVENT_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_uuid = re.compile(EVENT_ID_PATTERN)
MAX_KEY_LENGTH = 300   # an idempotency key, in characters
# Times as the ledger writes them, so that they compare as text (docs/ledger-format.md)
CANONICAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


def now_iso() -> str:
    """UTC time as the ledger writes it: microseconds and a Z (format_time's form,
    through isoformat, which is twice as fast as strftime on every append)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")[:-6] + "Z"


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise InvalidEvent(f"time {moment.isoformat()} has no time zone")
    try:
        utc = moment.astimezone(timezone.utc)
    except OverflowError:   # e.g. 0001-01-01T00:00+14:00 is before year 1 in UTC
        raise InvalidEvent(f"time {moment.isoformat()} is out of range in UTC") from None
    # isoformat writes four-digit years (strftime's %Y does not, below 1000)
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """Read an ISO-8601 time with a zone (Z or +hh:mm) into an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise InvalidEvent(f"time {text!r} is not ISO-8601") from None
    if moment.tzinfo is None:
        raise InvalidEvent(f"time {text!r} has no time zone")
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise InvalidEvent(f"time {text!r} is out of range in UTC") from None


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    role: str
    region: str = ""  # Kemendagri code prefix the actor may act in; "" = national

    def as_dict(self):
        return {"id": self.id, "role": self.role, "region": self.region}


SYSTEM = Actor("system", "system", "")


@dataclass(frozen=True, slots=True)
class Metadata:
    """Who asked and why: applies to every event of one append."""
    actor: Actor = SYSTEM
    correlation_id: str = ""
    causation_id: str | None = None


@dataclass(slots=True)
class NewEvent:
    type: str
    payload: dict
    schema_version: int = 1
    occurred_at: str | None = None  # defaults to the time of recording
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(slots=True)
class Record:
    """One recorded event, as stored (payload upcast on read where an upcaster exists)."""
    ledger: str
    position: int
    event_id: str
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    occurred_at: str
    recorded_at: str
    actor: dict
    correlation_id: str
    causation_id: str | None
    payload: dict
    prev_hash: str
    hash: str

    @classmethod
    def from_body(cls, body: dict, hash_: str) -> "Record":
        return cls(body["ledger"], body["position"], body["event_id"], body["stream_id"],
                   body["stream_version"], body["type"], body["schema_version"],
                   body["occurred_at"], body["recorded_at"], body["actor"],
                   body["correlation_id"], body["causation_id"], body["payload"],
                   body["prev_hash"], hash_)

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class AppendRequest:
    stream_id: str
    expected_version: int
    events: list
    metadata: Metadata = Metadata()
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class AppendResult:
    first_position: int
    last_position: int
    stream_version: int
    duplicate: bool = False  # True: the idempotency key was seen; nothing was recorded

    @property
    def positions(self):
        return range(self.first_position, self.last_position + 1)


@dataclass(frozen=True, slots=True)
class Head:
    position: int
    hash: str
    recorded_at: str | None


class ActorSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    region = fields.String(load_default="", validate=Pattern(REGION_PATTERN))


class NewEventSchema(Schema):
    type = fields.String(required=True, validate=Pattern(EVENT_TYPE_PATTERN))
    schema_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    payload = fields.Dict(required=True, keys=fields.String())
    occurred_at = fields.String(allow_none=True)
    event_id = fields.String(required=True, validate=Pattern(
        EVENT_ID_PATTERN, error="must be a lowercase UUID with hyphens"))


class AppendSchema(Schema):
    stream_id = fields.String(required=True, validate=Pattern(STREAM_ID_PATTERN))
    expected_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    correlation_id = fields.String(load_default="", validate=validate.Length(max=200))
    causation_id = fields.String(allow_none=True, validate=validate.Length(max=200))
    idempotency_key = fields.String(allow_none=True,
                                    validate=validate.Length(min=1, max=MAX_KEY_LENGTH))


class RecordSchema(Schema):
    """The whole envelope, for checking records that arrive from outside (bundles, dumps)."""
    ledger = fields.String(required=True)
    position = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    event_id = fields.String(required=True, validate=Pattern(
        EVENT_ID_PATTERN, error="must be a lowercase UUID with hyphens"))
    stream_id = fields.String(required=True, validate=Pattern(STREAM_ID_PATTERN))
    stream_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    type = fields.String(required=True, validate=Pattern(EVENT_TYPE_PATTERN))
    schema_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.String(required=True)
    recorded_at = fields.String(required=True)
    actor = fields.Nested(ActorSchema, required=True)
    correlation_id = fields.String(required=True)
    causation_id = fields.String(required=True, allow_none=True)
    payload = fields.Dict(required=True, keys=fields.String())
    prev_hash = fields.String(required=True, validate=Pattern(r"^[0-9a-f]{64}$"))
    hash = fields.String(validate=Pattern(r"^[0-9a-f]{64}$"))


_append_schema = AppendSchema()
_actor_schema = ActorSchema()
_event_type_schema = NewEventSchema(only=("type", "schema_version"))


def _raise(errors, where):
    problems = "; ".join(f"{where}{name}: {_text(msgs)}" for name, msgs in errors.items())
    raise InvalidEvent(problems)


def _text(messages):
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_text(value)}" for key, value in messages.items())
    if isinstance(messages, list):
        return " ".join(map(str, messages))
    return str(messages)


# Actors and event types repeat endlessly in a ledger: validate each distinct one once.
@lru_cache(maxsize=4096)
def _check_actor(actor: Actor) -> None:
    errors = _actor_schema.validate(actor.as_dict())
    if errors:
        _raise(errors, "actor.")


@lru_cache(maxsize=4096)
def _check_event_type(type_, schema_version, where) -> None:
    errors = _event_type_schema.validate({"type": type_, "schema_version": schema_version})
    if errors:
        _raise(errors, where)


_APPEND_TYPES = {name: (int,) if isinstance(field, fields.Integer) else (str,)
                 for name, field in _append_schema.fields.items()}


def _passes(schema, types, data):
    """True when data obviously satisfies the schema: each value of its field's type and
    accepted by the field's own validators. The hot path of every append; the schema
    stays the one definition (schema.validate runs whenever this says no)."""
    for name, declared in schema.fields.items():
        value = data[name]
        if value is None:
            if declared.required or not declared.allow_none:
                return False
            continue
        if type(value) not in types[name]:
            return False
        try:
            for check in declared.validators:
                check(value)
        except ValidationError:
            return False
    return True


def validate_append(request: AppendRequest) -> None:
    """Raise InvalidEvent naming the first fields of the append that cannot be recorded."""
    meta = request.metadata
    data = {"stream_id": request.stream_id, "expected_version": request.expected_version,
            "correlation_id": meta.correlation_id, "causation_id": meta.causation_id,
            "idempotency_key": request.idempotency_key}
    if not _passes(_append_schema, _APPEND_TYPES, data):
        errors = _append_schema.validate(data)
        if errors:
            _raise(errors, "")
    if not isinstance(meta.actor, Actor):
        raise InvalidEvent("actor: expected an Actor(id, role, region)")
    _check_actor(meta.actor)
    if not request.events:
        raise InvalidEvent("events: an append needs at least one event")
    for index, event in enumerate(request.events):
        where = f"events[{index}]."
        if not isinstance(event, NewEvent):
            raise InvalidEvent(f"{where[:-1]}: expected a NewEvent, got {type(event).__name__}")
        if type(event.type) is not str or type(event.schema_version) is not int:
            raise InvalidEvent(f"{where}type/schema_version: a string and an integer are needed")
        _check_event_type(event.type, event.schema_version, where)
        if type(event.payload) is not dict:
            raise InvalidEvent(f"{where}payload: must be an object")
        if type(event.event_id) is not str or not _uuid.fullmatch(event.event_id):
            raise InvalidEvent(f"{where}event_id: {event.event_id!r} is not a lowercase UUID")
        if event.occurred_at is not None:
            parse_time(event.occurred_at)
