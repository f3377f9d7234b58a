"""Marshmallow schemas of the cycle service's inputs (the gateway and OpenAPI reuse them)."""
from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, post_load, validate

from shared import moments
from shared.schemas import (AttendanceSchema, MemberSchema, PagingSchema, RegionPrefix,
                            not_in_future)

from . import template as templates

STAGES = len(templates.CURRENT["stages"])


class ActivitySchema(Schema):
    activity = fields.String(required=True, validate=validate.Length(min=1, max=80),
                             metadata={"description": "an activity key of the current stage "
                                                      "(see the template)"})
    held_on = fields.Date(required=True, validate=not_in_future)
    place = fields.String(required=True, validate=validate.Length(min=1, max=300))
    attendance = fields.Nested(AttendanceSchema, required=True)
    facilitator = fields.String(required=True, validate=validate.Length(min=1, max=200))
    evidence = fields.List(fields.String(validate=validate.Length(min=1, max=500)),
                           required=True, validate=validate.Length(min=1, max=50),
                           metadata={"description": "references: minutes, photos, "
                                                    "attachment hashes"})
    members = fields.List(fields.Nested(MemberSchema), load_default=None,
                          validate=validate.Length(min=1, max=200),
                          metadata={"description": "the TIPP's members: required with "
                                                   "pengukuhan_tipp, refused with any other "
                                                   "activity"})
    notes = fields.String(load_default=None, validate=validate.Length(max=5000))

    @post_load
    def dates_as_text(self, data, **kwargs):
        return {**data, "held_on": data["held_on"].isoformat()}


class CompleteStageSchema(Schema):
    completed_on = fields.Date(required=True, validate=not_in_future)

    @post_load
    def dates_as_text(self, data, **kwargs):
        return {"completed_on": data["completed_on"].isoformat()}


def _written(text, at_least):
    """Spaces are not a justification: at least this many characters besides them."""
    if len(text.strip()) < at_least:
        raise ValidationError(f"write at least {at_least} characters (spaces aside)")


class WaiverSchema(Schema):
    output = fields.String(required=True, validate=validate.Length(min=1, max=80))
    justification = fields.String(required=True, validate=[
        validate.Length(max=5000), lambda text: _written(text, 20)], metadata={
            "description": "why the output is not needed (at least 20 characters)"})


class Moment(fields.String):
    """The one reading of every `as_of` of the cycle: an ISO-8601 time with zone, or a
    date meaning the end of that day (UTC), read by shared.moments as the audit reads its
    moments (the same forms, taken exactly, refused with the same words). Loaded as an
    aware UTC datetime.

    A cycle as it stood is of the past (today's date means now); ahead=True lets a report
    be judged on a later day (what is overdue then if nothing moves).
    """

    def __init__(self, ahead=False, **kwargs):
        super().__init__(**kwargs)
        self.ahead = ahead

    def _deserialize(self, value, attr, data, **kwargs):
        read = moments.read(value)
        time_form = isinstance(read, datetime)
        moment = read if time_form else moments.end_of(read)
        now = datetime.now(UTC)
        if self.ahead or moment <= now:
            return moment
        if not time_form and moment.date() == now.date():
            return now          # today: the end of the day is not yet, so now
        raise ValidationError("must not be in the future")


class AsOfSchema(Schema):
    as_of = Moment(load_default=None, metadata={
        "description": "ISO-8601 time with zone, or a date (the end of that day, UTC): "
                       "the cycle as it stood then"})


class DaySchema(Schema):
    as_of = Moment(ahead=True, load_default=None, metadata={
        "description": "ISO-8601 time with zone, or a date (the end of that day, UTC), "
                       "read as the cycle's `as_of` is: the day overdue and days so far are "
                       "judged on (default today); a past moment replays the ledger up to "
                       "it, a later day projects today's cycles onto it (what is overdue "
                       "then if nothing moves)"})


class CycleQuerySchema(DaySchema, PagingSchema):
    region = RegionPrefix()
    stage = fields.Integer(load_default=None, validate=validate.Range(min=1, max=STAGES))
    overdue = fields.Boolean(load_default=None)
    completed = fields.Boolean(load_default=None)


class RegionSchema(Schema):
    region = RegionPrefix()


class OnTimeShareSchema(RegionSchema, DaySchema):
    pass


class TemplateQuerySchema(Schema):
    version = fields.Integer(load_default=None, strict=True,
                             validate=validate.Range(min=1))
