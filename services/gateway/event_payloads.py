"""The services' event catalogs (shared/chassis/payloads.py), by ledger, and the typing of
answers that carry recorded events: one answer schema per event type, its `payload` that
type's catalog schema, so the OpenAPI document says per `type` what a payload holds.

The catalogs are the schemas the chassis checks every payload against before recording
it: one source of truth, no copy kept here. A ledger is named after the service that
writes it (shared/chassis/platform.py); tests/unit/test_payload_catalogs.py checks that
this table names every service that records events.
"""
from marshmallow import fields, validate

from services.cycle.schemas import EVENTS as CYCLE
from services.planning.payloads import EVENTS as PLANNING
from services.registration.schemas import EVENTS as REGISTRATION

from .payloads import EVENTS as GATEWAY

CATALOGS = {"registration": REGISTRATION, "cycle": CYCLE, "planning": PLANNING,
            "gateway": GATEWAY}

RECORDED_AS_IS = (
    "the `{type}` payload exactly as recorded, never upcast. This schema describes every "
    "payload recorded at the type's current `schema_version`, the earliest records "
    "included (a field added later is optional: those lack it); an entry of an older "
    "`schema_version` holds its payload as recorded then, which this schema may not "
    "describe")


def payload_schemas(catalogs=None) -> dict:
    """Event type -> its payload schema class across the catalogs. A type recorded by two
    services must have one schema: answers are typed by `type` alone."""
    found, where = {}, {}
    for ledger, catalog in (catalogs or CATALOGS).items():
        for type_, schema in catalog.schemas.items():
            if type_ in found and found[type_] is not schema:
                raise ValueError(f"event type {type_} has two payload schemas ({where[type_]}"
                                 f", {ledger}): answers typed by `type` need one")
            found[type_], where[type_] = schema, ledger
    return dict(sorted(found.items()))


class ByEventType(fields.Raw):
    """A recorded event in an answer, typed by its `type`: documented (openapi.py) as the
    component `name`, oneOf the entry schemas with a discriminator on `type`."""

    def __init__(self, name, entries, description, **options):
        self.union_name, self.entries, self.union_description = name, entries, description
        super().__init__(**options)


def by_event_type(base, name, entry_name, types, description, catalogs=None, **options):
    """A ByEventType field of `base`'s schema per type (of `types`, or every type the
    catalogs hold), each with `type` that type and `payload` its catalog's schema.
    entry_name: the entry schema's name for a type ("Explained{type}")."""
    schemas = payload_schemas(catalogs)
    entries = {}
    for type_ in types or schemas:
        entries[type_] = type(entry_name.format(type=type_) + "Schema", (base,), {
            "__module__": __name__,   # the gateway's: its component keeps its name
            "__doc__": f"{base.__name__}, of a `{type_}` event",
            "type": fields.String(required=True, validate=validate.OneOf([type_])),
            "payload": fields.Nested(schemas[type_], required=True, metadata={
                "description": RECORDED_AS_IS.format(type=type_)})})
    return ByEventType(name, entries, description, **options)


def named_payloads(catalogs=None) -> set:
    """The payload schema classes: their OpenAPI components keep their own names
    (`VillageRegisteredPayload`), as event types are the platform's, not one service's."""
    return set(payload_schemas(catalogs).values())
