"""Marshmallow schemas of the cycle service's inputs (the gateway and OpenAPI reuse them)."""
from datetime import datetime
from typing import NamedTuple

from marshmallow import Schema, ValidationError, fields, post_load, validate

from shared import moments
from shared.chassis.payloads import EventCatalog
from shared.payload_fields import Day, Flag, IsoDay, MemberPayload, Number, RegionPayload, Text
from shared import schemas as common
from shared.schemas import (AttendanceCounts, AttendanceSchema, MemberSchema, PagingSchema,
                            RegionPrefix, Written, not_in_future)

from . import template as templates

STAGES = len(templates.CURRENT["stages"])


class ActivitySchema(Schema):
    activity = fields.String(required=True, validate=validate.Length(min=1, max=80),
                             metadata={"description": "an activity key of the current stage "
                                                      "(see the template)"})
    held_on = fields.Date(required=True, validate=not_in_future)
    place = fields.String(required=True, validate=Written(300))
    attendance = fields.Nested(AttendanceSchema, required=True)
    facilitator = fields.String(required=True, validate=Written(200))
    evidence = fields.List(fields.String(validate=Written(500)),
                           required=True, validate=validate.Length(min=1, max=50),
                           metadata={"description": "references: minutes, photos, "
                                                    "attachment hashes"})
    members = fields.List(fields.Nested(MemberSchema), load_default=None,
                          validate=validate.Length(min=1, max=200),
                          metadata={"description": "the TIPP's members: required with "
                                                   "pengukuhan_tipp, refused with any other "
                                                   "activity"})
    notes = fields.String(load_default=None, validate=Written(5000))

    @post_load
    def dates_as_text(self, data, **kwargs):
        return {**data, "held_on": data["held_on"].isoformat()}


class CompleteStageSchema(Schema):
    completed_on = fields.Date(required=True, validate=not_in_future)
    # the stage the form completes: sent twice, the second is refused, not the next stage
    # (the cycle's own template bounds it; 99 only keeps absurd numbers out)
    stage = fields.Integer(load_default=None, strict=True,
                           validate=validate.Range(min=1, max=99))

    @post_load
    def dates_as_text(self, data, **kwargs):
        return {"completed_on": data["completed_on"].isoformat(), "stage": data["stage"]}


class WaiverSchema(Schema):
    output = fields.String(required=True, validate=validate.Length(min=1, max=80))
    justification = fields.String(
        required=True, validate=Written(5000, at_least=20),
        metadata={"description": "why the output is not needed (at least 20 characters)"})


class AsOf(NamedTuple):
    """An `as_of` as the cycle judges it."""
    moment: datetime   # the instant meant, in UTC: a time as given, a date's end (UTC)
    day: str           # the day it is judged on (overdue, days so far), ISO


class Moment(fields.String):
    """The one reading of every `as_of` of the cycle: an ISO-8601 time with zone, or a
    date meaning the end of that day (UTC), read by shared.moments as the audit reads its
    moments (the same forms, taken exactly, refused with the same words). Loaded as an
    AsOf: the instant, and the day it is judged on.

    The day: a date is judged on itself; a time on its date in UTC+9 (WIT), the latest
    anywhere in Indonesia (indonesia_today of that instant), as a report of now is judged
    on indonesia_today(): at 20:00 UTC on 29 November it is 30 November everywhere in
    Indonesia, and a stage due on the 29th is overdue then.

    A cycle as it stood is of the past (ahead=False): a time not after now, a date not
    after today in UTC+9, both on the platform's clock (shared.schemas.utc_now). Not the
    server's date: a future check allows the latest date in Indonesia, so at 05:00 WIT on
    30 November (still the 29th in UTC) the cycle as of the 30th is the cycle now. A date
    whose end (UTC) has not come yet means the cycle now. ahead=True lets a report be
    judged on a later day (what is overdue then if nothing moves).
    """

    def __init__(self, ahead=False, **kwargs):
        super().__init__(**kwargs)
        self.ahead = ahead

    def _deserialize(self, value, attr, data, **kwargs):
        read = moments.read(value) if self.ahead else common.past_moment(value)
        if isinstance(read, datetime):
            try:
                return AsOf(read, common.indonesia_today(read).isoformat())
            except OverflowError:  # from 15:00 UTC on 31 December 9999, UTC+9 is year 10000
                raise ValidationError(f"{value!r} is past the last day of the calendar once "
                                      "in UTC+9") from None
        return AsOf(moments.end_of(read), read.isoformat())


class AsOfSchema(Schema):
    as_of = Moment(load_default=None, metadata={
        "description": "ISO-8601 time with zone, or a date (the end of that day, UTC), not "
                       "in the future (a date up to today in UTC+9, the latest in "
                       "Indonesia): the cycle as it stood then, judged on that date (a "
                       "time: on its date in UTC+9)"})


class DaySchema(Schema):
    as_of = Moment(ahead=True, load_default=None, metadata={
        "description": "ISO-8601 time with zone, or a date (the end of that day, UTC), "
                       "read as the cycle's `as_of` is: the day overdue and days so far are "
                       "judged on (default today in UTC+9, the latest date in Indonesia; "
                       "a time: its date in UTC+9); a past moment replays the ledger up to "
                       "it, a later day projects today's cycles onto it (what is overdue "
                       "then if nothing moves)"})


class CycleQuerySchema(DaySchema, PagingSchema):
    region = RegionPrefix()
    # a number, not text read as one ('٢', '+2', ' 2' would be 2): the gateway turns a
    # query's digits 0-9 into a number (shared.patterns.whole_number) before this
    stage = fields.Integer(load_default=None, strict=True,
                           validate=validate.Range(min=1, max=STAGES))
    overdue = fields.Boolean(load_default=None)
    completed = fields.Boolean(load_default=None)


class RegionSchema(Schema):
    region = RegionPrefix()


class OnTimeShareSchema(RegionSchema, DaySchema):
    pass


class TemplateQuerySchema(Schema):
    version = fields.Integer(load_default=None, strict=True,
                             validate=validate.Range(min=1))


# -- event payloads -----------------------------------------------------------------------
# What each event type of the cycle ledger carries, exactly as domain.py builds it
# (shared/chassis/payloads.py: checked before recording, never transformed). They describe
# every record ever made at schema_version 1, so they check types and the values the
# domain chooses from, not the rules an input meets today (a place or a member's name of
# only spaces was taken before 2026-11-29 and stays recorded).
# Their flags, days, decimals, regions and members are shared/payload_fields.py's.

class VillagePayload(Schema):
    """The village as registration's VillageSelected named it."""
    code = common.VillageCode(required=True)
    name = Text()
    kabupaten = fields.Nested(RegionPayload, required=True)
    province = fields.Nested(RegionPayload, required=True)


class SelectionPayload(Schema):
    rank = Number()
    quota = Number()
    round = Number(metadata={"description": "the selection round"})
    event_id = Text(metadata={
        "description": "registration's VillageSelected that opened the cycle"})


class TemplateReference(Schema):
    id = Text()
    version = Number()


class CycleOpenedPayload(Schema):
    code = common.VillageCode(required=True)
    village = fields.Nested(VillagePayload, required=True)
    selection = fields.Nested(SelectionPayload, required=True)
    opened_on = Day()
    template = fields.Nested(TemplateReference, required=True, metadata={
        "description": "the programme template version the cycle follows to its end"})
    stage = Number(metadata={"description": "1: the first stage starts on opening"})
    due_on = Day(metadata={"description": "when the first stage is due"})


class ActivityRecordedPayload(Schema):
    code = common.VillageCode(required=True)
    stage = Number()
    activity = Text(metadata={
        "description": "an activity key of the stage in the cycle's template"})
    held_on = Day()
    place = Text()
    attendance = fields.Nested(AttendanceCounts, required=True)
    facilitator = Text()
    evidence = fields.List(fields.String(), required=True, metadata={
        "description": "references: minutes, photos, attachment hashes"})
    produces = fields.List(fields.String(), required=True, metadata={
        "description": "the outputs the template says the activity produces"})
    members = fields.List(fields.Nested(MemberPayload), metadata={
        "description": "the TIPP's members; only with the activity that confirms it"})
    notes = fields.String(metadata={"description": "absent when none were given"})


class SatisfiedByPayload(Schema):
    """Another service's event that did an output (the template's gate mapping)."""
    ledger = Text()
    type = Text()
    event_id = Text()
    position = Number(metadata={"description": "its position in its ledger"})
    code = common.VillageCode(required=True)


class OutputSatisfiedPayload(Schema):
    code = common.VillageCode(required=True)
    output = Text()
    stage = Number()
    by = fields.Nested(SatisfiedByPayload, required=True)
    on = Day(metadata={"description": "the day the source says it happened (else the day "
                                      "it was recorded)"})


class OutputWaivedPayload(Schema):
    code = common.VillageCode(required=True)
    output = Text()
    stage = Number()
    justification = Text()
    on = Day(metadata={"description": "the day it was waived (UTC+9)"})


HOW = ["activity", "satisfied", "waived"]


class StageCompletedPayload(Schema):
    code = common.VillageCode(required=True)
    stage = Number()
    started_on = Day()
    completed_on = Day()
    days_taken = Number()
    planned_days = Number()
    on_time = Flag(required=True, metadata={"description": "days_taken <= planned_days"})
    outputs = fields.Dict(keys=fields.String(), values=fields.String(
        validate=validate.OneOf(HOW)), required=True, metadata={
        "description": "output key -> how it was done"})
    evidence = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "output key -> event id of the event that did it; absent in records "
                       "before 2026-11-29 (commit 1d7a8a1)"})
    next_due_on = IsoDay(metadata={
        "description": "the next stage's due date; absent when the last stage completes"})


class CycleCompletedPayload(Schema):
    code = common.VillageCode(required=True)
    completed_on = Day()
    days_taken = Number()
    planned_days = Number()
    on_time = Flag(required=True)


EVENTS = EventCatalog({
    "CycleOpened": CycleOpenedPayload, "ActivityRecorded": ActivityRecordedPayload,
    "OutputSatisfied": OutputSatisfiedPayload, "OutputWaived": OutputWaivedPayload,
    "StageCompleted": StageCompletedPayload, "CycleCompleted": CycleCompletedPayload})
