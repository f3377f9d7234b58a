"""Event payload schemas: what each event type a service records carries.

A service declares one marshmallow schema per event type it records (ARCHITECTURE:
"schemas.py: API input/output and event payloads") and gathers them in an EventCatalog
that its Deciders name. The chassis checks every decided event against it before
anything is appended, so a payload the catalog does not describe is never recorded; the
gateway documents the audit history's payloads from the same schemas.

The check is the schema's JSON Schema (apispec, with shared/schema_forms.py), compiled
by fastjsonschema: field names (no others), required fields, types, null where allowed,
choices, lengths, integer ranges and patterns (a decimal string's places and sign are in
its pattern; its range is a Python check, not enforced). It costs a few microseconds an
event where marshmallow's own validation cost 40-180 (an import of 83,762 villages
checks ~250,000 events), and it is exactly what the OpenAPI document publishes. So a payload schema
states its rules in forms JSON Schema has: a `@validates_schema` hook (a rule relating
two fields) would not be enforced, and a catalog refuses one.

A schema describes every payload recorded at its type's schema version, past and
present: a field added later without a new version is optional (`required=False`, its
description saying since when), as records from before it lack it. Payloads are checked,
never changed: the event is recorded exactly as the domain built it.
"""
import re
from datetime import date

import fastjsonschema
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from ..schema_forms import AnyOfSchemas, add_forms


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class PayloadMismatch(Exception):
    """A decided event whose payload its catalog does not describe: a defect of the
    service's domain code or of its schema, never of a caller's input."""


class EventCatalog:
    def __init__(self, schemas: dict[str, type[Schema]], versions: dict[str, int] = None):
        """schemas: event type -> its payload schema at the type's current schema
        version; versions: the types not at 1 (decision 19: a change of shape is a new
        schema_version with an upcaster; decision 21)."""
        self.schemas = dict(schemas)
        self.versions = {type_: 1 for type_ in self.schemas} | dict(versions or {})
        unknown = set(self.versions) - set(self.schemas)
        if unknown:
            raise ValueError(f"versions of types with no schema: {', '.join(sorted(unknown))}")
        for schema in self.schemas.values():
            _refuse_python_rules(schema)
        self._checks = {}   # compiled on first use: ~0.3 s for planning's, and every
        # plpbk command imports every catalog

    def check(self, event):
        """Raise PayloadMismatch unless event (a NewEvent) is a type of this catalog
        whose payload its schema accepts as it is."""
        check = self._checks.get(event.type)
        if check is None:
            if event.type not in self.schemas:
                raise PayloadMismatch(f"event type {event.type} is not in the catalog "
                                      f"({', '.join(sorted(self.schemas))})")
            check = self._checks[event.type] = _compiled(event.type,
                                                         self.schemas[event.type])
        if event.schema_version != self.versions[event.type]:
            raise PayloadMismatch(
                f"{event.type} is at schema_version {self.versions[event.type]}, its "
                f"schema describes that one: decided at {event.schema_version}")
        try:
            check(event.payload)
        except fastjsonschema.JsonSchemaValueException as error:
            raise PayloadMismatch(f"{event.type} payload does not match its schema: "
                                  f"{error.message.replace('data', 'payload', 1)}") from None

    def __or__(self, other: "EventCatalog") -> "EventCatalog":
        """Two catalogs as one (a service whose streams record different types)."""
        twice = set(self.schemas) & set(other.schemas)
        if twice:
            raise ValueError(f"event types in both catalogs: {', '.join(sorted(twice))}")
        return EventCatalog({**self.schemas, **other.schemas},
                            {**self.versions, **other.versions})


def _compiled(type_, schema):
    """The compiled JSON Schema check of one event type's payload schema."""
    plugin = MarshmallowPlugin(schema_name_resolver=_unique_name)
    spec = APISpec("payloads", "1", "3.1.0", plugins=[plugin])
    add_forms(plugin)
    spec.components.schema(type_, schema=schema)
    return fastjsonschema.compile({"components": spec.to_dict()["components"],
                                   "$ref": f"#/components/schemas/{type_}"},
                                  formats={"date": _is_iso_day})


def _is_iso_day(text) -> bool:
    """A day of the calendar written YYYY-MM-DD in ASCII digits: fastjsonschema's own
    `date` format reads \\d, which takes any script's digits ("2024-06-1٥")."""
    if not ISO_DAY.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:   # 2024-02-30
        return False
    return True


def _unique_name(schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    return f"{cls.__module__}.{cls.__qualname__}"


def _refuse_python_rules(schema, seen=None):
    """A schema (or one nested in it) with a @validates_schema hook states a rule the
    compiled check would not enforce."""
    seen = set() if seen is None else seen
    cls = schema if isinstance(schema, type) else type(schema)
    if cls in seen:
        return
    seen.add(cls)
    hooked = [name for name in dir(cls)
              if getattr(getattr(cls, name, None), "__marshmallow_hook__", None)]
    if hooked:
        raise TypeError(f"{cls.__name__}.{hooked[0]}: a payload schema's rules must be "
                        "ones JSON Schema states (the check is its compiled JSON Schema)")
    for field in cls._declared_fields.values():
        for nested in nested_schemas(field):
            _refuse_python_rules(nested, seen)


def nested_schemas(field):
    """The schemas a field holds (nested, in a list or dict, or any of several shapes)."""
    if isinstance(field, AnyOfSchemas):
        yield from field.schemas
    if isinstance(field, fields.Nested):
        yield field.nested if not callable(field.nested) or isinstance(field.nested, type) \
            else field.nested()
    for inner in (getattr(field, "inner", None), getattr(field, "value_field", None)):
        if inner is not None:
            yield from nested_schemas(inner)
