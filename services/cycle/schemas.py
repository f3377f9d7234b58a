"""Marshmallow schemas of the cycle service's inputs (the gateway and OpenAPI reuse them)."""

from marshmallow import Schema, fields, post_load, validate

from shared.schemas import AttendanceSchema, MemberSchema, RegionPrefix, not_in_future


class ActivitySchema(Schema):
    activity = fields.String(required=True, validate=validate.Length(min=1, max=80))
    held_on = fields.Date(required=True, validate=not_in_future)
    place = fields.String(required=True, validate=validate.Length(min=1, max=300))
    attendance = fields.Nested(AttendanceSchema, required=True)
    facilitator = fields.String(required=True, validate=validate.Length(min=1, max=200))
    evidence = fields.List(fields.String(validate=validate.Length(min=1, max=500)),
                           required=True, validate=validate.Length(min=1, max=50),
                           metadata={"description": "references: minutes, photos, "
                                                    "attachment hashes"})
    members = fields.List(fields.Nested(MemberSchema), load_default=None,
                          validate=validate.Length(min=1, max=200))
    notes = fields.String(load_default=None, validate=validate.Length(max=5000))

    @post_load
    def dates_as_text(self, data, **kwargs):
        return {**data, "held_on": data["held_on"].isoformat()}


class CompleteStageSchema(Schema):
    completed_on = fields.Date(required=True, validate=not_in_future)

    @post_load
    def dates_as_text(self, data, **kwargs):
        return {"completed_on": data["completed_on"].isoformat()}


class WaiverSchema(Schema):
    output = fields.String(required=True, validate=validate.Length(min=1, max=80))
    justification = fields.String(required=True, validate=validate.Length(min=20, max=5000))


class AsOfSchema(Schema):
    as_of = fields.AwareDateTime(load_default=None, default_timezone=None,
                                 metadata={"description": "ISO-8601 time with zone"})


class CycleQuerySchema(Schema):
    region = RegionPrefix()
    stage = fields.Integer(load_default=None, validate=validate.Range(min=1, max=6))
    overdue = fields.Boolean(load_default=None)
    completed = fields.Boolean(load_default=None)
    today = fields.Date(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class RegionSchema(Schema):
    region = RegionPrefix()
