"""The fields of recorded payloads (shared/payload_fields.py) state their rules in their
JSON form, which is what the chassis compiles and checks before recording and what the
OpenAPI document publishes; their Python checks (a marshmallow load) say the same."""
import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, ValidationError, fields

from services.gateway.event_payloads import CATALOGS
from shared.chassis.payloads import EventCatalog, PayloadMismatch
from shared.ledger import NewEvent
from shared.payload_fields import (DecimalText, Day, Flag, IsoDay, ListOf, Number, OneOf,
                                   Percent, Text)
from shared.schema_forms import add_forms


def json_form(field) -> dict:
    """The field's JSON Schema as the chassis and the OpenAPI document write it."""
    plugin = MarshmallowPlugin()
    APISpec("forms", "1", "3.1.0", plugins=[plugin])
    add_forms(plugin)
    return plugin.converter.field2property(field)


TWO_PLACES = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,2})?$"}
PERCENT = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$",
           "description": "A decimal string, at least 0 and at most 100.",
           "minimum": None, "maximum": None}
DATE = {"type": "string", "format": "date"}


class Item(Schema):
    name = Text()


@pytest.mark.parametrize("field, form", [
    (Flag(required=True), {"type": "boolean"}),
    (IsoDay(), DATE),
    (Day(), DATE),
    (DecimalText(required=True, places=2), TWO_PLACES),
    (Percent(), PERCENT),
    (Number(), {"type": "integer"}),
    (Text(), {"type": "string"}),
    (OneOf(["a", "b"]), {"type": "string", "enum": ["a", "b"]}),
    (ListOf(Item), {"type": "array"}),
])
def test_each_field_states_its_rule_in_its_json_form(field, form):
    stated = json_form(field)
    assert {key: stated.get(key) for key in form} == form


class Every(Schema):
    flag = Flag(required=True)
    day = Day()
    score = DecimalText(required=True, places=2)
    share = Percent()
    count = Number()
    name = Text()
    choice = OneOf(["a", "b"])


GOOD = {"flag": False, "day": "2024-02-29", "score": "25.50", "share": "0", "count": 3,
        "name": "x", "choice": "a"}
CATALOG = EventCatalog({"Every": Every})


def test_a_payload_of_those_forms_is_accepted_by_both_checks():
    CATALOG.check(NewEvent("Every", GOOD))
    assert Every().load(GOOD)["flag"] is False


@pytest.mark.parametrize("field, value", [
    ("flag", 1), ("flag", "true"), ("flag", None),
    ("day", "30/06/2024"), ("day", "2024-02-30"), ("day", 20240630),
    ("score", 25.5), ("score", 25), ("score", "1e1"), ("score", " 25"), ("score", "٣١.٥"),
    ("score", "25.505"),   # a third decimal in a two-place field
    ("share", "25,5"), ("share", "-1"), ("share", "-0.5"), ("share", "33.333"),
    ("count", "3"), ("count", True),
    ("name", 3), ("choice", "c"),
])
def test_a_value_outside_the_form_is_refused_by_both_checks(field, value):
    payload = {**GOOD, field: value}
    with pytest.raises(PayloadMismatch, match=field):
        CATALOG.check(NewEvent("Every", payload))
    with pytest.raises(ValidationError, match=field):
        Every().load(payload)


def every_field(schema, seen):
    cls = schema if isinstance(schema, type) else type(schema)
    if cls in seen:
        return
    seen.add(cls)
    for field in cls._declared_fields.values():
        yield field
        nested = [field.nested] if isinstance(field, fields.Nested) else \
            list(getattr(field, "schemas", ()))
        for inner in (getattr(field, "inner", None), getattr(field, "value_field", None)):
            if isinstance(inner, fields.Nested):
                nested.append(inner.nested)
        for schema in nested:
            yield from every_field(schema, seen)


def test_every_service_records_flags_days_and_decimals_with_the_shared_fields():
    """A service's own Boolean, Date or Decimal would state its own form (a Decimal's
    JSON number, a Boolean's Python check taking 1)."""
    kinds = {fields.Boolean: Flag, fields.Date: IsoDay, fields.Decimal: DecimalText}
    seen = set()
    for ledger, catalog in CATALOGS.items():
        for schema in catalog.schemas.values():
            for field in every_field(schema, seen):
                for kind, shared in kinds.items():
                    if isinstance(field, kind):
                        assert isinstance(field, shared), (ledger, schema, field)
