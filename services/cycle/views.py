"""Cycle read models, the reactions that open cycles and satisfy outputs, and queries.

The `cycles` collection holds each village's cycle state (the domain state itself, so
a view and an as-of replay can never disagree) plus when it was applied.
"""
from shared.chassis.errors import NotFound
from shared.chassis.subscribers import Projection, React, Reaction, handles

from . import domain
from . import template as templates


class CycleBoard(Projection):
    name = "cycle_board"
    collections = ("cycles",)

    def __init__(self, context):
        super().__init__(context)
        self.cycles = self.views.collection("cycles")
        self.cycles.ensure_index("stage")

    @handles("CycleOpened", "ActivityRecorded", "OutputSatisfied", "OutputWaived",
             "StageCompleted", "CycleCompleted")
    def apply(self, record):
        code = record.payload["code"]
        doc = self.cycles.get(code)
        state = domain.Cycle.from_dict(doc) if doc else domain.Cycle()
        self.cycles.put(code, domain.evolve(state, record).as_dict())


class OpenCycleOnSelection(Reaction):
    """registration's VillageSelected opens the village's cycle (once)."""
    name = "open_cycle_on_selection"
    source = "registration"

    @handles("VillageSelected")
    def selected(self, record):
        p = record.payload
        village = {"code": p["code"], "name": p["name"], "kabupaten": p["kabupaten"],
                   "province": p["province"]}
        selection = {"rank": p["rank"], "quota": p["quota"], "round": p["selection_round"],
                     "event_id": record.event_id}
        return React(domain.CYCLE, domain.cycle_stream(p["code"]),
                     domain.OpenCycle(village, selection, record.recorded_at[:10]))


def _outputs_reaction(ledger, rules):
    """A Reaction on one source ledger recording the template outputs its events satisfy
    (one output per event in this template; the first matching rule wins)."""
    types = sorted({event_type for (source, event_type) in rules if source == ledger})

    def satisfy(self, record):
        for stage, output, where in rules.get((ledger, record.type), []):
            if all(record.payload.get(k) == v for k, v in where.items()):
                by = {"ledger": ledger, "type": record.type, "event_id": record.event_id,
                      "position": record.position, "code": record.payload["code"]}
                return React(domain.CYCLE, domain.cycle_stream(record.payload["code"]),
                             domain.SatisfyOutput(output, stage, by, record.recorded_at[:10]))
        return None

    return type(f"OutputsFrom{ledger.title()}", (Reaction,), {
        "name": f"outputs_from_{ledger}", "source": ledger,
        "satisfy": handles(*types)(satisfy)})


SATISFACTIONS = templates.satisfactions(templates.TEMPLATE)
OUTPUT_REACTIONS = [_outputs_reaction(ledger, SATISFACTIONS)
                    for ledger in sorted({source for source, _ in SATISFACTIONS})]


# -- queries ------------------------------------------------------------------------------

def present(state, today):
    """A cycle as people read it: stage, done and missing outputs, due date, timeline."""
    if not state.opened:
        raise NotFound("no cycle is open for this village", "code")
    spec = templates.stage(state.spec(), state.stage)
    return {"code": state.code, "village": state.village, "template": state.template,
            "opened_on": state.opened_on, "stage": state.stage, "stage_name": spec["name"],
            "stage_started_on": state.stage_started_on, "due_on": domain.due_on(state),
            "overdue": domain.overdue(state, today), "completed": state.completed,
            "completed_on": state.completed_on,
            "done_outputs": state.done, "missing_outputs":
                [] if state.completed else domain.missing_outputs(state),
            "timeline": state.activities, "stages": state.stages,
            "selection": state.selection}


def cycle_of(views, code, today):
    doc = views.collection("cycles").get(code)
    if doc is None or not doc.get("opened"):
        raise NotFound(f"no cycle is open for village {code}", "code")
    return present(domain.Cycle.from_dict(doc), today)


def cycle_as_of(ledger, code, moment, today):
    records = ledger.read_stream(domain.cycle_stream(code), as_of=moment)
    state = domain.Cycle()
    for record in records:
        state = domain.evolve(state, record)
    return present(state, today)


def list_cycles(views, region, stage, overdue, completed, today, page, page_size):
    query = {"_id": {"$prefix": region}} if region else {}
    query["opened"] = True
    if stage is not None:
        query["stage"] = stage
    if completed is not None:
        query["completed"] = completed
    docs = views.collection("cycles").find(query)
    states = [domain.Cycle.from_dict(doc) for doc in docs]
    if overdue is not None:
        states = [s for s in states if domain.overdue(s, today) == overdue]
    start = (page - 1) * page_size
    return {"items": [{"code": s.code, "name": s.village.get("name"), "stage": s.stage,
                       "due_on": domain.due_on(s), "overdue": domain.overdue(s, today),
                       "completed": s.completed} for s in states[start:start + page_size]],
            "total": len(states), "page": page, "page_size": page_size}


def on_time_share(views, region):
    """Per stage and for the whole cycle: how many completed, how many on time, the share
    (percent, two decimals) against the programme's 90% target."""
    docs = views.collection("cycles").find({"_id": {"$prefix": region}} if region else None)
    rows = []
    for spec in templates.TEMPLATE["stages"]:
        finished = [d["stages"][str(spec["stage"])] for d in docs
                    if d.get("stages", {}).get(str(spec["stage"]), {}).get("completed_on")]
        rows.append(_share(f"stage {spec['stage']}: {spec['name']}", finished))
    cycles = [{"on_time": _cycle_on_time(d)} for d in docs if d.get("completed")]
    rows.append(_share("whole cycle", cycles))
    return {"region": region, "target_percent": templates.ON_TIME_TARGET,
            "open_cycles": len(docs), "rows": rows}


def _cycle_on_time(doc):
    state = domain.Cycle.from_dict(doc)
    return domain.days_between(state.opened_on, state.completed_on) <= \
        templates.total_planned_days(state.spec())


def _share(label, finished):
    on_time = sum(1 for f in finished if f["on_time"])
    share = f"{on_time * 100 / len(finished):.2f}" if finished else None
    return {"scope": label, "completed": len(finished), "on_time": on_time,
            "share_percent": share, "meets_target":
                None if share is None else on_time * 100 >= templates.ON_TIME_TARGET *
                len(finished)}
