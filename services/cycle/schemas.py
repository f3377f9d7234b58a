"""Marshmallow schemas of the cycle service's inputs (the gateway and OpenAPI reuse them)."""
import re
from datetime import UTC, date, datetime, time

from marshmallow import Schema, ValidationError, fields, post_load, validate

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


DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                  r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?")
NOT_A_MOMENT = ("must be an ISO-8601 date (2026-03-01) or time with zone "
                "(2026-03-01T17:00:00+07:00)")


class Moment(fields.String):
    """The one reading of every `as_of` of the cycle: an ISO-8601 time with zone, or a
    date meaning the end of that day (UTC), written out in full (no week or basic forms,
    nothing around it). Loaded as an aware UTC datetime.

    A cycle as it stood is of the past (today's date means now); ahead=True lets a report
    be judged on a later day (what is overdue then if nothing moves).
    """

    def __init__(self, ahead=False, **kwargs):
        super().__init__(**kwargs)
        self.ahead = ahead

    def _deserialize(self, value, attr, data, **kwargs):
        time_form = TIME.fullmatch(value) if isinstance(value, str) else None
        if time_form and not time_form["zone"]:
            raise ValidationError("a time needs its zone, e.g. Z or +07:00")
        if not time_form and not (isinstance(value, str) and DAY.fullmatch(value)):
            raise ValidationError(NOT_A_MOMENT)
        try:
            moment = datetime.fromisoformat(value) if time_form else \
                datetime.combine(date.fromisoformat(value), time.max, UTC)
            moment = moment.astimezone(UTC)
        except ValueError:      # 2026-13-01, 25:00
            raise ValidationError(NOT_A_MOMENT) from None
        except OverflowError:   # 0001-01-01T00:00+14:00 is before year 1 in UTC
            raise ValidationError("out of range once in UTC") from None
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
