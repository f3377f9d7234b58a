"""The six-stage cycle of every selected village (the cycle service), validated with
its own schemas."""
from marshmallow import Schema, fields, validate

from services.cycle import schemas as cyc
from shared.schemas import AttendanceSchema, MemberSchema

from ..routing import Route, from_path, path_and_body, rpc
from ..schemas import NamedRegionSchema, day, maybe, page_of
from .common import VillagePath, scoped_listing, scoped_region

TAG = "cycle"


# -- answers ------------------------------------------------------------------------------
# What services/cycle/views.py and reports.py answer, field by field (the gateway tests
# check live answers against them)

class CycleVillageSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    kabupaten = fields.Nested(NamedRegionSchema, required=True)
    province = fields.Nested(NamedRegionSchema, required=True)


class CycleTemplateVersionSchema(Schema):
    """The template version a cycle follows (GET /api/v1/cycles/template has it whole)."""
    id = fields.String(required=True, metadata={"example": "plpbk-cycle"})
    version = fields.Integer(required=True)


class CycleSelectionSchema(Schema):
    """The selection that opened the cycle."""
    rank = fields.Integer(required=True)
    quota = fields.Integer(required=True)
    round = fields.Integer(required=True)
    event_id = fields.String(required=True, metadata={"description": "VillageSelected"})


class CycleStageOutputSchema(Schema):
    output = fields.String(required=True)
    name = fields.String(required=True)
    done = fields.Boolean(required=True)


class CycleSatisfyingEventSchema(Schema):
    """Another service's event that did an output (the template's gate mapping)."""
    ledger = fields.String(required=True)
    type = fields.String(required=True)
    event_id = fields.String(required=True)
    position = fields.Integer(required=True)
    code = fields.String(required=True)


class CycleDoneOutputSchema(Schema):
    how = fields.String(required=True, validate=validate.OneOf(
        ["activity", "satisfied", "waived"]))
    on = day()
    event_id = fields.String(required=True, metadata={"description": "the event that did it"})
    activity = fields.String(metadata={"description": "how = activity: its key"})
    by = fields.Nested(CycleSatisfyingEventSchema, metadata={"description": "how = satisfied"})
    justification = fields.String(metadata={"description": "how = waived"})


class CycleTimelineActivitySchema(Schema):
    """An activity as recorded (ActivityRecorded), in the order recorded."""
    code = fields.String(required=True)
    stage = fields.Integer(required=True)
    activity = fields.String(required=True)
    held_on = day()
    place = fields.String(required=True)
    attendance = fields.Nested(AttendanceSchema, required=True)
    facilitator = fields.String(required=True)
    evidence = fields.List(fields.String(), required=True)
    produces = fields.List(fields.String(), required=True, metadata={
        "description": "the outputs it did"})
    members = fields.List(fields.Nested(MemberSchema), metadata={
        "description": "the TIPP's members (pengukuhan_tipp only)"})
    notes = fields.String()
    event_id = fields.String(required=True)


class CycleStageRecordSchema(Schema):
    started_on = day()
    planned_days = fields.Integer(required=True)
    due_on = day()
    completed_on = maybe(fields.Date, metadata={"description": "null while it runs"})
    days_taken = maybe(fields.Integer, metadata={"description": "null while it runs"})
    on_time = maybe(fields.Boolean, metadata={"description": "null while it runs"})


class CycleSchema(Schema):
    """A village's cycle: stage, done and missing outputs, due dates, timeline."""
    code = fields.String(required=True)
    village = fields.Nested(CycleVillageSchema, required=True)
    template = fields.Nested(CycleTemplateVersionSchema, required=True)
    selection = fields.Nested(CycleSelectionSchema, required=True)
    opened_on = day()
    stage = fields.Integer(required=True, metadata={"description": "the current stage"})
    stage_name = fields.String(required=True)
    stage_started_on = day()
    due_on = maybe(fields.Date, metadata={"description": "the current stage's; null once "
                                                         "the cycle completed"})
    cycle_due_on = day()
    as_of = day(metadata={"description": "the day it is judged on"})
    overdue = fields.Boolean(required=True)
    days_overdue = fields.Integer(required=True)
    completed = fields.Boolean(required=True)
    completed_on = maybe(fields.Date)
    stage_outputs = fields.List(fields.Nested(CycleStageOutputSchema), required=True, metadata={
        "description": "the current stage's required outputs"})
    done_outputs = fields.Dict(keys=fields.String(), values=fields.Nested(CycleDoneOutputSchema),
                               required=True, metadata={"description": "by output key"})
    missing_outputs = fields.List(fields.String(), required=True)
    timeline = fields.List(fields.Nested(CycleTimelineActivitySchema), required=True)
    stages = fields.Dict(keys=fields.String(), values=fields.Nested(CycleStageRecordSchema),
                         required=True, metadata={"description": "by stage number ('1', "
                                                                 "...), those started"})


class CycleEvaluatedActivitySchema(Schema):
    activity = fields.String(required=True)
    name = fields.String(required=True)
    done = fields.Boolean(required=True)
    held_on = fields.List(fields.Date(), required=True)


class CycleEvaluatedOutputSchema(Schema):
    output = fields.String(required=True)
    name = fields.String(required=True)
    done = fields.Boolean(required=True)
    how = maybe(fields.String, validate=validate.OneOf(["activity", "satisfied", "waived"]),
                metadata={"description": "null when not done"})


class CycleEvaluatedStageSchema(Schema):
    stage = fields.Integer(required=True)
    name = fields.String(required=True)
    planned_days = fields.Integer(required=True)
    started_on = maybe(fields.Date, metadata={"description": "null before it started"})
    due_on = maybe(fields.Date)
    completed_on = maybe(fields.Date)
    days_taken = maybe(fields.Integer)
    days_so_far = maybe(fields.Integer, metadata={"description": "the running stage's"})
    on_time = maybe(fields.Boolean)
    overdue = fields.Boolean(required=True)
    activities = fields.List(fields.Nested(CycleEvaluatedActivitySchema), required=True)
    outputs = fields.List(fields.Nested(CycleEvaluatedOutputSchema), required=True)


class CycleEvaluationSchema(Schema):
    """The programme's evaluation form, per stage."""
    code = fields.String(required=True)
    template = fields.Nested(CycleTemplateVersionSchema, required=True)
    as_of = day(metadata={"description": "the day it is judged on"})
    stages = fields.List(fields.Nested(CycleEvaluatedStageSchema), required=True)


class CycleListedSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    stage = fields.Integer(required=True)
    stage_name = fields.String(required=True)
    stage_started_on = day()
    due_on = maybe(fields.Date, metadata={"description": "null once completed"})
    completed = fields.Boolean(required=True)
    overdue = fields.Boolean(required=True)
    days_overdue = fields.Integer(required=True)


CyclePageSchema = page_of(CycleListedSchema, "CyclePage", as_of=day(metadata={
    "description": "the day lateness is judged on"}))


class OnTimeShareRowSchema(Schema):
    scope = fields.String(required=True, metadata={"example": "stage 1: Persiapan"})
    stage = maybe(fields.Integer, metadata={"description": "null: the whole cycle"})
    completed = fields.Integer(required=True)
    on_time = fields.Integer(required=True)
    late = fields.Integer(required=True)
    overdue_unfinished = fields.Integer(required=True)
    known = fields.Integer(required=True)
    share_percent = maybe(fields.String, metadata={
        "description": "a decimal string rounded down; null when none is known yet"})
    target_percent = fields.Integer(required=True)
    meets_target = maybe(fields.Boolean)


class OnTimeRegionSharesSchema(Schema):
    region = fields.String(required=True)
    name = maybe(fields.String)
    cycles = fields.Integer(required=True)
    rows = fields.List(fields.Nested(OnTimeShareRowSchema), required=True)


class OnTimeSharesSchema(OnTimeRegionSharesSchema):
    """The region's shares, and each region's one level below it."""
    name = fields.String(required=True, metadata={"description": "'Indonesia' for ''"})
    as_of = day()
    target_percent = fields.Integer(required=True)
    regions = fields.List(fields.Nested(OnTimeRegionSharesSchema), required=True)


class CycleSatisfactionRuleSchema(Schema):
    ledger = fields.String(required=True)
    type = fields.String(required=True)
    where = fields.Dict(required=True, metadata={"description": "payload values it needs"})
    on = fields.String(metadata={"description": "the payload field holding its date"})


class CycleTemplateActivitySchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    produces = fields.List(fields.String(), required=True)
    needs_members = fields.Boolean()


class CycleTemplateOutputSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    satisfied_by = fields.List(fields.Nested(CycleSatisfactionRuleSchema))


class CycleTemplateStageSchema(Schema):
    stage = fields.Integer(required=True)
    key = fields.String(required=True)
    name = fields.String(required=True)
    planned_days = fields.Integer(required=True)
    activities = fields.List(fields.Nested(CycleTemplateActivitySchema), required=True)
    outputs = fields.List(fields.Nested(CycleTemplateOutputSchema), required=True)


class CycleTemplateSchema(CycleTemplateVersionSchema):
    stages = fields.List(fields.Nested(CycleTemplateStageSchema), required=True)


list_cycles = scoped_listing("cycle", "list_cycles")


def on_time_share(call):
    query = {**call.query_args, "region": scoped_region(call, call.query["region"])}
    return call.upstream.call("cycle", "on_time_share", query)


on_time_share.rpc = "cycle.on_time_share"


def cycle_step(segment, name, method, schema, summary):
    return Route("POST", f"/api/v1/villages/{{code}}/cycle/{segment}", name, summary, TAG,
                 rpc("cycle", method, path_and_body("code"), keyed=True),
                 path_params=VillagePath, body=schema, response=CycleSchema,
                 scope=from_path("code"))


ROUTES = [
    Route("GET", "/api/v1/villages/{code}/cycle", "get_cycle",
          "A village's cycle: stage, done and missing outputs, due date, timeline", TAG,
          rpc("cycle", "get_cycle",
              lambda call: (call.path["code"], call.query_args.get("as_of"))),
          path_params=VillagePath, query=cyc.AsOfSchema, response=CycleSchema,
          scope=from_path("code"),
          description="With `as_of` (ISO time with zone, or a date meaning the end of that "
                      "day): the cycle as it stood then."),
    cycle_step("activities", "record_cycle_activity", "record_activity", cyc.ActivitySchema,
               "Record an activity of the current stage"),
    cycle_step("stage-completions", "complete_cycle_stage", "complete_stage",
               cyc.CompleteStageSchema,
               "Complete the current stage (refused with the missing outputs)"),
    cycle_step("waivers", "waive_cycle_output", "waive_output", cyc.WaiverSchema,
               "Waive a required output (ministry, with a justification)"),
    Route("GET", "/api/v1/villages/{code}/cycle/evaluation", "cycle_evaluation",
          "Per stage: outputs done, days taken against the guideline", TAG,
          rpc("cycle", "evaluation",
              lambda call: (call.path["code"], call.query_args.get("as_of"))),
          path_params=VillagePath, query=cyc.DaySchema, response=CycleEvaluationSchema,
          scope=from_path("code")),
    Route("GET", "/api/v1/cycles", "list_cycles",
          "Cycles in a region by stage, overdue or completed, paged", TAG, list_cycles,
          query=cyc.CycleQuerySchema, response=CyclePageSchema),
    Route("GET", "/api/v1/cycles/on-time-share", "cycle_on_time_share",
          "Share of villages finishing each stage on time, against 90%, for a region and "
          "each region one level below it", TAG,
          on_time_share, query=cyc.OnTimeShareSchema, response=OnTimeSharesSchema),
    Route("GET", "/api/v1/cycles/template", "cycle_template",
          "The programme template the cycles follow (current, or a published version)", TAG,
          rpc("cycle", "template", lambda call: (call.query_args.get("version"),)),
          query=cyc.TemplateQuerySchema, response=CycleTemplateSchema),
]
