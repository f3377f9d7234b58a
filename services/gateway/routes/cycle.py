"""The six-stage cycle of every selected village (the cycle service), validated with
its own schemas."""
from services.cycle import schemas as cyc

from ..routing import Route, from_path, path_and_body, rpc
from ..schemas import Open, PageSchema
from .registration import VillagePath, _scoped_region, scoped_listing

TAG = "cycle"


list_cycles = scoped_listing("cycle", "list_cycles")


def on_time_share(call):
    query = {**call.query_args, "region": _scoped_region(call, call.query["region"])}
    return call.upstream.call("cycle", "on_time_share", query)


on_time_share.rpc = "cycle.on_time_share"


def cycle_step(segment, name, method, schema, summary):
    return Route("POST", f"/api/v1/villages/{{code}}/cycle/{segment}", name, summary, TAG,
                 rpc("cycle", method, path_and_body("code"), keyed=True),
                 path_params=VillagePath, body=schema, response=Open,
                 scope=from_path("code"))


ROUTES = [
    Route("GET", "/api/v1/villages/{code}/cycle", "get_cycle",
          "A village's cycle: stage, done and missing outputs, due date, timeline", TAG,
          rpc("cycle", "get_cycle",
              lambda call: (call.path["code"], call.query_args.get("as_of"))),
          path_params=VillagePath, query=cyc.AsOfSchema, response=Open,
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
          path_params=VillagePath, query=cyc.DaySchema, response=Open,
          scope=from_path("code")),
    Route("GET", "/api/v1/cycles", "list_cycles",
          "Cycles in a region by stage, overdue or completed, paged", TAG, list_cycles,
          query=cyc.CycleQuerySchema, response=PageSchema),
    Route("GET", "/api/v1/cycles/on-time-share", "cycle_on_time_share",
          "Share of villages finishing each stage on time, against 90%, for a region and "
          "each region one level below it", TAG,
          on_time_share, query=cyc.OnTimeShareSchema, response=Open),
    Route("GET", "/api/v1/cycles/template", "cycle_template",
          "The programme template the cycles follow (current, or a published version)", TAG,
          rpc("cycle", "template", lambda call: (call.query_args.get("version"),)),
          query=cyc.TemplateQuerySchema, response=Open),
]
