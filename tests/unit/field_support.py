"""What the tests of documented field forms share: whether a marshmallow field takes a
value, to hold a published pattern to what the field itself accepts."""
from marshmallow import Schema, ValidationError


def field_takes(field, value) -> bool:
    """True when a schema holding only this field loads {"value": value}."""
    one = Schema.from_dict({"value": field})
    try:
        one().load({"value": value})
    except ValidationError:
        return False
    return True
