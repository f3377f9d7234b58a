"""An RPC parameter outside the body (an item id, a partner id in the gateway's path) is
checked by the same marshmallow field a body would use, and refused as a body field is:
InvalidInput naming the parameter. Each service wrote its own isinstance and length
checks (a construction drill did again), each with its own message."""
import pytest
from marshmallow import fields, validate

from shared.chassis.errors import InvalidInput
from shared.schemas import Written, parameter

ITEM_ID = fields.String(required=True, validate=Written(120))


def test_a_good_parameter_is_returned_as_the_field_loads_it():
    assert parameter("52.01.08.2006-rtplp-item-3", ITEM_ID, "item_id") == \
        "52.01.08.2006-rtplp-item-3"
    assert parameter(None, fields.Integer(load_default=None), "version") is None
    assert parameter(2, fields.Integer(strict=True), "version") == 2


@pytest.mark.parametrize("value, message", [
    (5, "item_id: Not a valid string."),
    ("   ", "item_id: must not be only spaces"),
    ("x" * 121, "item_id: Length must be between 1 and 120."),
    (None, "item_id: Field may not be null."),
    ("a\ud800", "holds a lone surrogate"),
])
def test_a_bad_parameter_is_invalid_input_naming_it(value, message):
    with pytest.raises(InvalidInput) as refused:
        parameter(value, ITEM_ID, "item_id")
    assert refused.value.field == "item_id" and message in str(refused.value)


def test_a_field_is_not_changed_by_checking_with_it():
    version = fields.Integer(strict=True, validate=validate.Range(min=1))
    parameter(3, version, "version")
    parameter(4, version, "other")   # the same field object under another name
    with pytest.raises(InvalidInput) as refused:
        parameter(0, version, "version")
    assert refused.value.field == "version"
