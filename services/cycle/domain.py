"""Cycle tracking: the pure domain (no I/O, no clock, no nameko). Stream cycle-<code>.

Dates are ISO dates (YYYY-MM-DD) given in commands. A stage starts when the previous
one completes (the first when the cycle opens); it is due planned_days later.
"""
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from shared.chassis.commands import Decider
from shared.chassis.errors import CommandRejected, Conflict, InvalidInput, NotFound
from shared.ledger import NewEvent

from . import template as templates

TEMPLATES = {(templates.TEMPLATE["id"], templates.TEMPLATE["version"]): templates.TEMPLATE}
STAGES = len(templates.TEMPLATE["stages"])


def cycle_stream(code):
    return f"cycle-{code}"


# -- commands -----------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenCycle:
    village: dict            # code, name, kabupaten, province (from VillageSelected)
    selection: dict          # rank, quota, round, event_id of the selection
    opened_on: str
    template: dict = field(default_factory=lambda: templates.TEMPLATE)


@dataclass(frozen=True)
class RecordActivity:
    activity: str
    held_on: str
    place: str
    attendance: dict         # men, women, poor (poor residents among them)
    facilitator: str
    evidence: list           # references: documents, photos, attachment hashes
    members: list | None = None   # the TIPP's members when the activity confirms it
    notes: str | None = None


@dataclass(frozen=True)
class SatisfyOutput:
    output: str
    stage: int
    by: dict                 # ledger, type, event_id, position of the satisfying event
    on: str


@dataclass(frozen=True)
class WaiveOutput:
    output: str
    justification: str
    on: str


@dataclass(frozen=True)
class CompleteStage:
    completed_on: str


# -- state --------------------------------------------------------------------------------

@dataclass
class Cycle:
    opened: bool = False
    code: str = ""
    village: dict = field(default_factory=dict)
    selection: dict = field(default_factory=dict)
    template: dict = field(default_factory=dict)     # {id, version}
    opened_on: str | None = None
    stage: int = 0                                   # current stage; 0 before opening
    stage_started_on: str | None = None
    completed: bool = False
    completed_on: str | None = None
    done: dict = field(default_factory=dict)         # output -> how it was done
    stages: dict = field(default_factory=dict)       # "n" -> started/completed/days/on time
    activities: list = field(default_factory=list)

    def spec(self):
        return TEMPLATES[(self.template["id"], self.template["version"])]

    def as_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, doc):
        return cls(**{k: v for k, v in doc.items() if k in cls.__dataclass_fields__})


def evolve(state: Cycle, event) -> Cycle:
    p, kind = event.payload, event.type
    if kind == "CycleOpened":
        state.opened, state.code, state.village = True, p["code"], p["village"]
        state.selection, state.template = p["selection"], p["template"]
        state.opened_on = state.stage_started_on = p["opened_on"]
        state.stage = 1
        state.stages["1"] = {"started_on": p["opened_on"], "completed_on": None}
    elif kind == "ActivityRecorded":
        state.activities.append({**p, "event_id": event.event_id})
        for output in p["produces"]:
            state.done.setdefault(output, {"how": "activity", "event_id": event.event_id,
                                           "on": p["held_on"]})
    elif kind == "OutputSatisfied":
        state.code = state.code or p["code"]
        state.done.setdefault(p["output"], {"how": "satisfied", "event_id": event.event_id,
                                            "on": p["on"], "by": p["by"]})
    elif kind == "OutputWaived":
        state.done[p["output"]] = {"how": "waived", "event_id": event.event_id, "on": p["on"],
                                   "justification": p["justification"]}
    elif kind == "StageCompleted":
        state.stages[str(p["stage"])] = {k: p[k] for k in (
            "started_on", "completed_on", "days_taken", "planned_days", "on_time")}
        if p["stage"] < STAGES:
            state.stage, state.stage_started_on = p["stage"] + 1, p["completed_on"]
            state.stages[str(state.stage)] = {"started_on": p["completed_on"],
                                              "completed_on": None}
    elif kind == "CycleCompleted":
        state.completed, state.completed_on = True, p["completed_on"]
    return state


def decide(state: Cycle, command):
    if isinstance(command, SatisfyOutput):
        return _satisfy(state, command)
    if isinstance(command, OpenCycle):
        if state.opened:
            raise Conflict(f"the cycle of {command.village['code']} is already open", "code")
        spec = command.template
        return [NewEvent("CycleOpened", {
            "code": command.village["code"], "village": command.village,
            "selection": command.selection, "opened_on": command.opened_on,
            "template": {"id": spec["id"], "version": spec["version"]},
            "stage": 1, "due_on": _plus(command.opened_on, spec["stages"][0]["planned_days"])})]
    if not state.opened:
        raise NotFound("no cycle is open for this village (it is opened on selection)", "code")
    if state.completed:
        raise Conflict("the cycle is already completed", "code")
    if isinstance(command, RecordActivity):
        return _record_activity(state, command)
    if isinstance(command, WaiveOutput):
        return _waive(state, command)
    if isinstance(command, CompleteStage):
        return _complete(state, command)
    raise TypeError(f"unknown command {type(command).__name__}")


def _record_activity(state, command):
    spec = templates.stage(state.spec(), state.stage)
    activity = templates.activity(state.spec(), state.stage, command.activity)
    if activity is None:
        known = ", ".join(a["key"] for a in spec["activities"])
        raise InvalidInput(f"{command.activity!r} is not an activity of stage {state.stage} "
                           f"({spec['name']}); expected one of: {known}", "activity")
    if command.held_on < state.opened_on:
        raise InvalidInput(f"held before the cycle opened ({state.opened_on})", "held_on")
    if activity.get("needs_members") and not command.members:
        raise InvalidInput("confirming the TIPP needs its members", "members")
    payload = {"code": state.code, "stage": state.stage, "activity": command.activity,
               "held_on": command.held_on, "place": command.place,
               "attendance": command.attendance, "facilitator": command.facilitator,
               "evidence": command.evidence, "produces": activity["produces"]}
    if command.members:
        payload["members"] = command.members
    if command.notes:
        payload["notes"] = command.notes
    return [NewEvent("ActivityRecorded", payload)]


def _satisfy(state, command):
    if command.output in state.done:
        return []  # already done (or the same event again): nothing new
    return [NewEvent("OutputSatisfied", {"code": command.by["code"], "output": command.output,
                                         "stage": command.stage, "by": command.by,
                                         "on": command.on})]


def _waive(state, command):
    stage = _stage_of(state.spec(), command.output)
    if stage is None:
        raise NotFound(f"{command.output!r} is not an output of the template", "output")
    if stage > state.stage:
        raise CommandRejected(f"{command.output} belongs to stage {stage}; the cycle is at "
                              f"stage {state.stage}", "output")
    if command.output in state.done:
        raise Conflict(f"{command.output} is already done", "output")
    return [NewEvent("OutputWaived", {"code": state.code, "output": command.output,
                                      "stage": stage, "justification": command.justification,
                                      "on": command.on})]


def missing_outputs(state):
    spec = templates.stage(state.spec(), state.stage)
    return [o["key"] for o in spec["outputs"] if o["key"] not in state.done]


def _complete(state, command):
    missing = missing_outputs(state)
    if missing:
        raise CommandRejected(f"stage {state.stage} cannot complete; missing outputs: "
                              f"{', '.join(missing)}", "outputs")
    if command.completed_on < state.stage_started_on:
        raise InvalidInput(f"before the stage started ({state.stage_started_on})",
                           "completed_on")
    spec = templates.stage(state.spec(), state.stage)
    days = days_between(state.stage_started_on, command.completed_on)
    events = [NewEvent("StageCompleted", {
        "code": state.code, "stage": state.stage, "started_on": state.stage_started_on,
        "completed_on": command.completed_on, "days_taken": days,
        "planned_days": spec["planned_days"], "on_time": days <= spec["planned_days"],
        "outputs": {o["key"]: state.done[o["key"]]["how"] for o in spec["outputs"]}})]
    if state.stage == STAGES:
        planned = templates.total_planned_days(state.spec())
        total = days_between(state.opened_on, command.completed_on)
        events.append(NewEvent("CycleCompleted", {
            "code": state.code, "completed_on": command.completed_on, "days_taken": total,
            "planned_days": planned, "on_time": total <= planned}))
    else:
        nxt = templates.stage(state.spec(), state.stage + 1)
        events[0].payload["next_due_on"] = _plus(command.completed_on, nxt["planned_days"])
    return events


def _stage_of(template, output):
    return next((s["stage"] for s in template["stages"]
                 for o in s["outputs"] if o["key"] == output), None)


CYCLE = Decider(initial=Cycle, evolve=evolve, decide=decide)


# -- time ---------------------------------------------------------------------------------

def days_between(start, end):
    """Whole days from one ISO date to another."""
    return (date.fromisoformat(end) - date.fromisoformat(start)).days


def _plus(day, days):
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def due_on(state):
    if not state.opened or state.completed:
        return None
    return _plus(state.stage_started_on,
                 templates.stage(state.spec(), state.stage)["planned_days"])


def overdue(state, today):
    """Late on the current stage: today is after its due date (the due date itself is not)."""
    due = due_on(state)
    return due is not None and today > due


def evaluation(state):
    """Per stage: each output done yes/no (and how), days taken against the guideline."""
    rows = []
    for spec in state.spec()["stages"]:
        record = state.stages.get(str(spec["stage"]), {})
        rows.append({
            "stage": spec["stage"], "name": spec["name"], "planned_days": spec["planned_days"],
            "started_on": record.get("started_on"), "completed_on": record.get("completed_on"),
            "days_taken": record.get("days_taken"), "on_time": record.get("on_time"),
            "outputs": [{"output": o["key"], "name": o["name"], "done": o["key"] in state.done,
                         "how": state.done.get(o["key"], {}).get("how")}
                        for o in spec["outputs"]]})
    return rows
