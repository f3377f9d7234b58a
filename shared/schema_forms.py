"""How the platform's own marshmallow fields are written in JSON Schema (apispec
attribute functions): one statement used by the OpenAPI document and by the payload
check, so what integrators read is what the chassis enforces."""
from marshmallow import fields, validate

from .regions import REGION_PREFIX, VILLAGE_CODE
from .schemas import VillageCode, region_prefix

def decimal_pattern(places=None, signed=True) -> str:
    """A decimal written plainly (shared.patterns.PLAIN_DECIMAL): with at most `places`
    decimals (none at 0; any count at None), a leading minus only where signed."""
    sign = "-?" if signed else ""
    if places is None:
        return f"^{sign}[0-9]+(\\.[0-9]+)?$"
    if places <= 0:
        return f"^{sign}[0-9]+$"
    return f"^{sign}[0-9]+(\\.[0-9]{{1,{places}}})?$"


def decimal_as_string(self, field, ret, **kwargs) -> dict:
    """Decimals travel as strings ("25.50"): the ledger admits no floats. The pattern
    states the field's places and, under a Range from 0 or more, no minus; the range
    itself is said in words.

    Words rather than x-minimum/x-maximum: a JSON Schema validator enforces neither on
    a string, a generated client and the document's readers see a description but no
    x- key, and words keep a Range's inclusiveness ("above 0"). apispec's field2range
    (a built-in: it runs before every added function, and results merge by update)
    wrote the range as minimum/maximum, which a validator ignores on a string and a
    reader takes for a number's: they are taken out of `ret` (merging by update can add
    keys, never remove one; a converter subclass would need every user of the forms to
    build its plugin with it)."""
    if not isinstance(field, fields.Decimal):
        return {}
    ranges = [rule for rule in field.validators if isinstance(rule, validate.Range)]
    places = None if field.places is None else -field.places.as_tuple().exponent
    signed = not any(rule.min is not None and rule.min >= 0 for rule in ranges)
    form = {"type": "string", "pattern": decimal_pattern(places, signed), "x-decimal": True}
    ret.pop("minimum", None)
    ret.pop("maximum", None)
    bounds = [words for rule in ranges for words in _bounds(rule)]
    if bounds:
        said = ret.get("description", "").strip()
        if said and not said.endswith("."):
            said += "."
        form["description"] = f"{said} A decimal string, {' and '.join(bounds)}.".strip()
    return form


def _bounds(rule) -> list[str]:
    words = []
    if rule.min is not None:
        words.append(f"{'at least' if rule.min_inclusive else 'above'} {rule.min}")
    if rule.max is not None:
        words.append(f"{'at most' if rule.max_inclusive else 'below'} {rule.max}")
    return words


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


def add_forms(plugin):
    """Have an APISpec's MarshmallowPlugin (once the APISpec is made) write the platform's
    fields in these forms: the OpenAPI document and the payload check do."""
    for form in SHARED_FORMS:
        plugin.converter.add_attribute_function(form)
