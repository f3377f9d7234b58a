"""How the platform's own marshmallow fields are written in JSON Schema (apispec
attribute functions): one statement used by the OpenAPI document and by the payload
check, so what integrators read is what the chassis enforces."""
from marshmallow import fields

from .regions import REGION_PREFIX, VILLAGE_CODE
from .schemas import VillageCode, region_prefix

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


def decimal_as_string(self, field, **kwargs) -> dict:
    """Decimals travel as strings ("25.50"): the ledger admits no floats."""
    if isinstance(field, fields.Decimal):
        return {"type": "string", "pattern": DECIMAL_PATTERN, "x-decimal": True}
    return {}


def codes_as_patterns(self, field, **kwargs) -> dict:
    """Codes checked in Python rather than by a Regexp validator (which apispec reads),
    stated as the pattern they enforce."""
    if isinstance(field, VillageCode):
        return {"pattern": VILLAGE_CODE.pattern}
    if region_prefix in field.validators:
        return {"pattern": REGION_PREFIX.pattern}
    return {}




class AnyOfSchemas(fields.Raw):
    """A value in one of several shapes, each a schema (a document's content, by its
    kind): JSON Schema's anyOf of them (not oneOf: anyOf stops at the first shape that
    fits). It states a shape for the documents and the payload check; it loads nothing."""

    def __init__(self, *schemas, **options):
        self.schemas = schemas
        super().__init__(**options)


def any_of_schemas(self, field, **kwargs) -> dict:
    if isinstance(field, AnyOfSchemas):
        return {"anyOf": [self.resolve_nested_schema(schema) for schema in field.schemas]}
    return {}


SHARED_FORMS = (decimal_as_string, codes_as_patterns, any_of_schemas)
