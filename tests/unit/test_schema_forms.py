"""A decimal string's JSON form (shared/schema_forms.py) states its places and sign in
its pattern, which the payload check enforces and the OpenAPI document publishes, and its
range in words: apispec wrote a Range as minimum/maximum, which no JSON Schema validator
applies to a string and a reader takes for a number's bounds."""
import fastjsonschema
import pytest
from marshmallow import Schema, validate

from services.gateway import openapi
from services.gateway.routes import ROUTES
from shared.chassis.payloads import EventCatalog, PayloadMismatch
from shared.ledger import NewEvent
from shared.payload_fields import DecimalText, Percent
from shared.schema_forms import decimal_pattern
from shared.schemas import DecimalString, Percentage

from .field_support import field_takes
from .test_payload_fields import json_form


@pytest.mark.parametrize("field, pattern", [
    (DecimalString(), r"^-?[0-9]+(\.[0-9]+)?$"),
    (DecimalString(places=2), r"^-?[0-9]+(\.[0-9]{1,2})?$"),
    (DecimalString(places=0), r"^-?[0-9]+$"),
    (DecimalText(places=3, validate=validate.Range(min=0)), r"^[0-9]+(\.[0-9]{1,3})?$"),
    (DecimalText(places=1, validate=validate.Range(min=1, min_inclusive=False)),
     r"^[0-9]+(\.[0-9]{1,1})?$"),
    (DecimalString(places=2, validate=validate.Range(min=-5, max=5)),
     r"^-?[0-9]+(\.[0-9]{1,2})?$"),
    (DecimalString(validate=validate.Range(max=5)), r"^-?[0-9]+(\.[0-9]+)?$"),
    (Percent(), r"^[0-9]+(\.[0-9]{1,2})?$"),
    (Percentage(), r"^[0-9]+(\.[0-9]{1,2})?$"),
])
def test_the_pattern_states_places_and_sign(field, pattern):
    assert json_form(field)["pattern"] == pattern


VALUES = ["0", "7", "25", "25.5", "25.50", "25.505", "-1", "-2.5", "1e1", " 25", "25 ",
          "25.", ".5", "+5", "٣١.٥", "3_1", "25,5", "25.5\n"]


@pytest.mark.parametrize("field", [
    DecimalString(), DecimalString(places=0), DecimalText(places=2), Percent(),
    DecimalText(places=3, validate=validate.Range(min=0))])
def test_the_pattern_takes_what_the_field_takes_in_its_range(field):
    """Range aside (stated in words), the pattern and the field's load agree. "-0" is
    the one text the field takes and the pattern of an unsigned one refuses: the field
    writes it "0", so no payload or answer holds it."""
    pattern = json_form(field)["pattern"]
    matches = fastjsonschema.compile({"pattern": pattern})   # as the payload check reads it
    for value in VALUES:
        taken = field_takes(field, value)
        try:
            matches(value)
            matched = True
        except fastjsonschema.JsonSchemaValueException:
            matched = False
        assert matched == taken, (value, pattern)


def test_a_range_is_said_in_words_never_as_a_number_bound():
    stated = json_form(DecimalString(places=2, metadata={"description": "% of poor"},
                                     validate=validate.Range(min=0, max=100)))
    assert "minimum" not in stated and "maximum" not in stated
    assert stated["description"] == "% of poor. A decimal string, at least 0 and at most 100."
    exclusive = json_form(DecimalString(validate=validate.Range(
        min=0, max=1, min_inclusive=False, max_inclusive=False)))
    assert exclusive["description"] == "A decimal string, above 0 and below 1."
    assert "description" not in json_form(DecimalString(places=2))


def test_a_decimal_pattern_without_places_or_sign():
    assert decimal_pattern() == r"^-?[0-9]+(\.[0-9]+)?$"
    assert decimal_pattern(0, signed=False) == r"^[0-9]+$"


class Scored(Schema):
    score = DecimalText(required=True, places=2)
    share = Percent()
    whole = DecimalText(required=True, places=0)


CATALOG = EventCatalog({"Scored": Scored})
GOOD = {"score": "-3.25", "share": "100", "whole": "12"}


def test_the_compiled_check_enforces_places_and_sign():
    CATALOG.check(NewEvent("Scored", GOOD))
    for field, value in [("score", "25.505"), ("share", "-1"), ("share", "12.345"),
                         ("whole", "12.0")]:
        with pytest.raises(PayloadMismatch, match=field):
            CATALOG.check(NewEvent("Scored", {**GOOD, field: value}))


def test_no_string_in_the_document_carries_a_number_bound():
    """The gateway's document: a decimal string's range is in its description."""
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            if node.get("type") == "string" and {"minimum", "maximum"} & set(node):
                found.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}/{index}")

    document = openapi.document(ROUTES)
    walk(document, "")
    assert found == []
    poverty = document["components"]["schemas"]["RegistrationIndicatorValues"][
        "properties"]["poverty_rate"]
    assert poverty["pattern"] == r"^[0-9]+(\.[0-9]{1,2})?$"
    assert poverty["description"].endswith("A decimal string, at least 0 and at most 100.")
