"""The gateway's own marshmallow schemas: login, identity, errors, health, paging.

Bodies of the services' capabilities are validated with the services' own schemas
(routes/); these cover what only the gateway does. Output schemas document answers in
the OpenAPI document. A typed answer's schema names every field and admits no other
(a service that adds one updates its schema, or the gateway tests fail); `Open` ones
(a page's envelope, a health check) admit extra properties.
"""
from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from shared.chassis.access import ROLES
from shared.patterns import Pattern
from shared.regions import REGION_PREFIX
from shared.schemas import PagingSchema

USERNAME = r"^[a-z][a-z0-9._-]{1,63}$"
REGION = Pattern(REGION_PREFIX.pattern,
                         error="must be a region code prefix such as 52 or 52.01, or empty")


class Open(Schema):
    class Meta:
        unknown = INCLUDE


# -- input --------------------------------------------------------------------------------

class LoginSchema(Schema):
    username = fields.String(required=True, validate=Pattern(
        USERNAME, error="must be 2-64 lowercase letters, digits, '.', '_' or '-'"))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    new_password = fields.String(required=True, validate=validate.Length(min=12, max=256))


# The level a role acts at (DOMAIN.md, "Who acts"): (shortest region, what it must be).
# A wider scope would let, say, one BKM account act for every village of a kabupaten.
ROLE_LEVELS = {
    "bkm": (13, "a village code PP.KK.CC.DDDD: a BKM is the body of one kelurahan/desa"),
    "district": (5, "a kabupaten/kota code PP.KK (or a part of it): district staff work "
                    "for one kabupaten/kota"),
    "province": (2, "a province code PP (or a part of it): province staff work for one "
                    "province"),
}


class ScopedRoleSchema(Schema):
    """A principal's role and region: the region must be at the role's level or below."""
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    region = fields.String(load_default="", validate=REGION)

    @validates_schema
    def region_at_the_role_s_level(self, data, **kwargs):
        shortest, needed = ROLE_LEVELS.get(data.get("role"), (0, ""))
        if len(data.get("region", "")) < shortest:
            raise ValidationError(f"role {data['role']} needs {needed}", "region")


class NewUserSchema(ScopedRoleSchema):
    """`plpbk users create`."""
    username = fields.String(required=True, validate=Pattern(USERNAME))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class NewApiKeySchema(ScopedRoleSchema):
    """`plpbk keys issue`."""
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(load_default="integration", validate=validate.OneOf(ROLES))


PageQuerySchema = PagingSchema


# -- output -------------------------------------------------------------------------------

class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={
        "description": "what went wrong: InvalidInput, Unauthorized, Forbidden, NotFound, "
                       "Conflict, CommandRejected, ... (the error's class name)"})
    message = fields.String(required=True, metadata={"description": "for a person"})
    field = fields.String(required=True, allow_none=True, metadata={
        "description": "the field, parameter or header at fault, when there is one"})


class PrincipalSchema(Schema):
    id = fields.String(required=True, metadata={"description": "recorded as the actor"})
    kind = fields.String(required=True, validate=validate.OneOf(["user", "key"]))
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    region = fields.String(required=True, metadata={"description": "scope; '' = national"})


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})
    principal = fields.Nested(PrincipalSchema, required=True)


class LoggedOutSchema(Schema):
    logged_out = fields.String(required=True, metadata={
        "description": "whose token ended, as events name actors (user:<username>)"})


class HealthCheckSchema(Open):
    ok = fields.Boolean(required=True)
    error = fields.String()


class HealthSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ok", "unavailable"]))
    checks = fields.Dict(keys=fields.String(), values=fields.Nested(HealthCheckSchema),
                         required=True)
    principal = fields.Nested(PrincipalSchema, metadata={
        "description": "who the credentials belong to, when some were given"})


class PageSchema(Open):
    items = fields.List(fields.Dict(), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)


def page_of(item, name, **more):
    """A page whose items a client can read: PageSchema with typed items (a schema, or a
    field such as event_payloads.ByEventType) and `more` fields beside them."""
    inner = item if isinstance(item, fields.Field) else fields.Nested(item)
    return type(name + "Schema", (PageSchema,), {
        "items": fields.List(inner, required=True), **more})


class NamedRegionSchema(Schema):
    """A region of the official Kemendagri list, as answers carry it."""
    code = fields.String(required=True, metadata={"example": "52.01"})
    name = fields.String(required=True)


def day(**options):
    """An ISO date (YYYY-MM-DD) in an answer."""
    return fields.Date(required=True, **options)


def maybe(field_class, *args, **options):
    """A field every answer has, null when it does not apply (described in `description`)."""
    return field_class(*args, required=True, allow_none=True, **options)


class ActorSchema(Schema):
    """The principal an event was recorded for (the ledger's actor)."""
    id = fields.String(required=True)
    role = fields.String(required=True)
    region = fields.String(required=True, metadata={"description": "scope; '' = national"})


class RecordedSchema(Schema):
    """Who recorded an event and when (the ledger's metadata)."""
    actor = fields.Nested(ActorSchema, required=True)
    recorded_at = fields.String(required=True, metadata={"description": "ISO-8601, UTC"})
    event_id = fields.String(required=True)


def one_of_types(*types, **options):
    """A field whose value is any of these JSON types (a count or a decimal string)."""
    return fields.Raw(required=True, metadata={
        "anyOf": [{"type": kind} for kind in types], **options.pop("metadata", {})},
        **options)


class DocumentSchema(Open):
    """A service's answer: a JSON object (see the service's documentation)."""
