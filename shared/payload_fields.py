"""The fields of recorded event payloads, one definition each for every service's
catalog (shared/chassis/payloads.py): a day, a flag or a percentage is then the same
thing in registration's, cycle's and planning's ledgers and in the OpenAPI document.

A payload is checked by its schema's JSON Schema, compiled, never by marshmallow's
load: what a field enforces is its JSON form (apispec's conversion with
shared/schema_forms.py), so each field here is one whose JSON form states its rule
(tests/unit/test_payload_fields.py). The Python checks say the same to a marshmallow
load. They describe what was recorded, not the rules an input meets today (those are
each service's input schemas).
"""
from marshmallow import Schema, ValidationError, fields, validate

from .schemas import DecimalString, MemberSchema


class Flag(fields.Boolean):
    """true or false as recorded (JSON boolean): marshmallow's Boolean would also take 1,
    "yes" or "on"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is not True and value is not False:
            raise ValidationError("must be true or false")
        return value


class IsoDay(fields.Date):
    """An ISO date (YYYY-MM-DD) as recorded, a string (JSON string, format date): any
    day, unlike an input's (which may not be in the future); a Date would also take a
    date object."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("must be a date written YYYY-MM-DD")
        return super()._deserialize(value, attr, data, **kwargs)


def Day(**options):
    """A day every payload of its type carries."""
    return IsoDay(**{"required": True, **options})


class DecimalText(DecimalString):
    """A decimal as recorded: its exact string ("25.50"), never a number (JSON string
    with shared.schema_forms' decimal pattern; the ledger's decimals are strings, and
    DecimalString would also take 25.5 or 25). The compiled check enforces its places
    and, under a Range from 0 or more, no minus (the pattern of shared.schema_forms);
    the range itself is a Python check, stated in the description."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError('must be a decimal written as a string, such as "25.50"')
        return super()._deserialize(value, attr, data, **kwargs)


def Percent(**options):
    """A percentage as recorded: shared.schemas.Percentage's range and places, as a
    string."""
    return DecimalText(**{"required": True, "places": 2,
                          "validate": validate.Range(min=0, max=100), **options})


def Number(**options):
    """A version, year, count, rank or amount: a JSON integer, never text (nor a float,
    which the ledger refuses anyway)."""
    return fields.Integer(strict=True, **{"required": True, **options})


def Text(**options):
    return fields.String(**{"required": True, **options})


def OneOf(choices, **options):
    """Text that is one of the domain's choices (JSON enum)."""
    return Text(validate=validate.OneOf(choices), **options)


def ListOf(schema, **options):
    return fields.List(fields.Nested(schema), **{"required": True, **options})


class RegionPayload(Schema):
    """A region of the official Kemendagri list as recorded: its code and name."""
    code = Text()
    name = Text()


class MemberPayload(MemberSchema):
    """A member of a community body (BKM, TIPP) as recorded: MemberSchema's sex; names and
    roles of only spaces were refused from 2026-11-29 on, and may be in earlier records."""
    name = Text()
    role = Text()
