"""Event payload schemas: what each event type a service records carries.

A service's schemas.py declares one marshmallow schema per event type it records
(ARCHITECTURE: "schemas.py: API input/output and event payloads") and gathers them in
an EventCatalog that its Deciders name. The chassis checks every decided event against
it before anything is appended, so a payload the catalog does not describe is never
recorded; the gateway documents the audit history's payloads from the same schemas.

A schema describes every payload recorded at its type's schema version, past and
present: a field added later without a new version is optional (`required=False`, its
description saying since when), as records from before it lack it. Payloads are checked,
never changed: the event is recorded exactly as the domain built it.
"""
from marshmallow import Schema


class PayloadMismatch(Exception):
    """A decided event whose payload its catalog does not describe: a defect of the
    service's domain code or of its schema, never of a caller's input."""


class EventCatalog:
    def __init__(self, schemas: dict[str, type[Schema]]):
        self.schemas = dict(schemas)
        self._instances = {name: schema() for name, schema in self.schemas.items()}

    def check(self, event):
        """Raise PayloadMismatch unless event (a NewEvent) is a type of this catalog
        whose payload its schema accepts as it is."""
        schema = self._instances.get(event.type)
        if schema is None:
            raise PayloadMismatch(f"event type {event.type} is not in the catalog "
                                  f"({', '.join(sorted(self.schemas))})")
        errors = schema.validate(event.payload)
        if errors:
            raise PayloadMismatch(f"{event.type} payload does not match its schema: {errors}")

    def __or__(self, other: "EventCatalog") -> "EventCatalog":
        """Two catalogs as one (a service whose streams record different types)."""
        twice = set(self.schemas) & set(other.schemas)
        if twice:
            raise ValueError(f"event types in both catalogs: {', '.join(sorted(twice))}")
        return EventCatalog({**self.schemas, **other.schemas})
