"""Cycle tracking: the pure domain (no I/O, no clock, no nameko). Stream cycle-<code>.

Dates are ISO dates (YYYY-MM-DD) and always come in commands. A stage starts when the
previous one completes (the first when the cycle opens) and is due planned_days later;
it is overdue from the day after its due date.

Events: CycleOpened, ActivityRecorded, OutputSatisfied (another service's event did it),
OutputWaived (a ministry decision), StageCompleted, CycleCompleted.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from shared.chassis.commands import Decider
from shared.chassis.errors import CommandRejected, Conflict, InvalidInput, NotFound
from shared.ledger import NewEvent

from . import template as templates
from .schemas import EVENTS


def cycle_stream(code):
    return f"cycle-{code}"


# -- commands -----------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenCycle:
    village: dict            # code, name, kabupaten, province (from VillageSelected)
    selection: dict          # rank, quota, round, event_id of the selection
    opened_on: str
    template: dict = field(default_factory=lambda: templates.CURRENT)


@dataclass(frozen=True)
class RecordActivity:
    activity: str
    held_on: str
    place: str
    attendance: dict         # men, women, poor (poor residents among them)
    facilitator: str
    evidence: list           # references: minutes, photos, attachment hashes
    members: list | None = None   # the TIPP's members when the activity confirms it
    notes: str | None = None


@dataclass(frozen=True)
class SatisfyOutputs:
    """Another service's event did what outputs require (the gate mapping found them)."""
    code: str
    outputs: list            # [{"output", "stage"}] as the mapping names them
    by: dict                 # ledger, type, event_id, position of the satisfying event
    on: str                  # the day it happened


@dataclass(frozen=True)
class WaiveOutput:
    output: str
    justification: str
    on: str


@dataclass(frozen=True)
class CompleteStage:
    completed_on: str
    stage: int | None = None   # given: only that stage may complete


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
    cycle_days_taken: int | None = None
    cycle_on_time: bool | None = None
    done: dict = field(default_factory=dict)         # output -> how, when, by which event
    stages: dict = field(default_factory=dict)       # "n" -> started/due/completed/days
    activities: list = field(default_factory=list)   # the timeline

    def spec(self):
        return templates.get(self.template["id"], self.template["version"])

    def as_dict(self):
        """The fields as a shallow dict (a view store copies what it keeps)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, doc):
        return cls(**{k: v for k, v in doc.items() if k in cls.__dataclass_fields__})


def evolve(state: Cycle, event) -> Cycle:
    p, kind = event.payload, event.type
    if kind == "CycleOpened":
        state.opened, state.code, state.village = True, p["code"], p["village"]
        state.selection, state.template = p["selection"], p["template"]
        state.opened_on = p["opened_on"]
        _start_stage(state, 1, p["opened_on"])
    elif kind == "ActivityRecorded":
        if any(a["event_id"] == event.event_id for a in state.activities):
            return state   # applied again (a view catching up after a failure): once only
        state.activities.append({**p, "event_id": event.event_id})
        for output in p["produces"]:
            state.done.setdefault(output, {"how": "activity", "on": p["held_on"],
                                           "activity": p["activity"],
                                           "event_id": event.event_id})
    elif kind == "OutputSatisfied":
        state.code = state.code or p["code"]
        state.done.setdefault(p["output"], {"how": "satisfied", "on": p["on"], "by": p["by"],
                                            "event_id": event.event_id})
    elif kind == "OutputWaived":
        state.done[p["output"]] = {"how": "waived", "on": p["on"],
                                   "justification": p["justification"],
                                   "event_id": event.event_id}
    elif kind == "StageCompleted":
        state.stages[str(p["stage"])].update({k: p[k] for k in (
            "completed_on", "days_taken", "on_time")})
        if p["stage"] < len(state.spec()["stages"]):
            _start_stage(state, p["stage"] + 1, p["completed_on"])
    elif kind == "CycleCompleted":
        state.completed, state.completed_on = True, p["completed_on"]
        state.cycle_days_taken, state.cycle_on_time = p["days_taken"], p["on_time"]
    return state


def _start_stage(state, number, on):
    planned = templates.stage(state.spec(), number)["planned_days"]
    state.stage, state.stage_started_on = number, on
    state.stages[str(number)] = {"started_on": on, "planned_days": planned,
                                 "due_on": plus_days(on, planned), "completed_on": None,
                                 "days_taken": None, "on_time": None}


def decide(state: Cycle, command):
    if isinstance(command, SatisfyOutputs):
        return _satisfy(state, command)
    if isinstance(command, OpenCycle):
        return _open(state, command)
    if not state.opened:
        raise NotFound("no cycle is open for this village (it opens when the village is "
                       "selected)", "code")
    if state.completed:
        raise Conflict(f"the cycle completed on {state.completed_on}; nothing more can be "
                       "recorded", "code")
    if isinstance(command, RecordActivity):
        return _record_activity(state, command)
    if isinstance(command, WaiveOutput):
        return _waive(state, command)
    if isinstance(command, CompleteStage):
        return _complete(state, command)
    raise TypeError(f"unknown command {type(command).__name__}")


def _open(state, command):
    code = command.village["code"]
    if state.opened:
        raise Conflict(f"the cycle of {code} is already open (since {state.opened_on})",
                       "code")
    spec = command.template
    return [NewEvent("CycleOpened", {
        "code": code, "village": command.village, "selection": command.selection,
        "opened_on": command.opened_on,
        "template": {"id": spec["id"], "version": spec["version"]}, "stage": 1,
        "due_on": plus_days(command.opened_on, spec["stages"][0]["planned_days"])})]


def _record_activity(state, command):
    spec = templates.stage(state.spec(), state.stage)
    activity = templates.activity(state.spec(), state.stage, command.activity)
    if activity is None:
        known = ", ".join(a["key"] for a in spec["activities"])
        raise InvalidInput(f"{command.activity!r} is not an activity of stage {state.stage} "
                           f"({spec['name']}); expected one of: {known}", "activity")
    if command.held_on < state.stage_started_on:
        raise InvalidInput(f"held before stage {state.stage} started "
                           f"({state.stage_started_on})", "held_on")
    if command.attendance["men"] + command.attendance["women"] < 1:
        # a workshop or socialisation nobody attended did not take place
        raise InvalidInput(f"nobody attended: {activity['name']} is recorded with its "
                           "attendees (men + women at least 1)", "attendance")
    if activity.get("needs_members") and not command.members:
        raise InvalidInput(f"{activity['name']} needs the members (name, sex, role)",
                           "members")
    if not activity.get("needs_members") and command.members is not None:
        takers = ", ".join(a["key"] for s in state.spec()["stages"]
                           for a in s["activities"] if a.get("needs_members"))
        only = f"; only {takers} records the TIPP's members" if takers else ""
        raise InvalidInput(f"{command.activity} takes no members{only}", "members")
    payload = {"code": state.code, "stage": state.stage, "activity": command.activity,
               "held_on": command.held_on, "place": command.place,
               "attendance": command.attendance, "facilitator": command.facilitator,
               "evidence": command.evidence, "produces": activity["produces"]}
    if command.members:
        payload["members"] = command.members
    if command.notes:
        payload["notes"] = command.notes
    if any({k: v for k, v in done.items() if k != "event_id"} == payload
           for done in state.activities):
        return []  # the same activity sent again: one meeting, recorded once
    return [NewEvent("ActivityRecorded", payload)]


def _satisfy(state, command):
    """Record each output not yet done. Kept whatever the cycle's stage, even before it
    opens: the output counts whenever its stage gate is checked."""
    events = []
    for wanted in command.outputs:
        output = wanted["output"]
        stage = templates.stage_of_output(state.spec(), output) if state.opened \
            else wanted["stage"]
        if output in state.done or stage is None:  # done already, or not in its template
            continue
        events.append(NewEvent("OutputSatisfied", {
            "code": command.code, "output": output, "stage": stage, "by": command.by,
            "on": command.on}))
    return events


def _waive(state, command):
    stage = templates.stage_of_output(state.spec(), command.output)
    if stage is None:
        raise NotFound(f"{command.output!r} is not an output of template "
                       f"{state.template['id']} v{state.template['version']}", "output")
    if stage > state.stage:
        raise CommandRejected(f"{command.output} belongs to stage {stage}; the cycle is at "
                              f"stage {state.stage}, waive it when the cycle gets there",
                              "output")
    if command.output in state.done:
        raise Conflict(f"{command.output} is already done "
                       f"({state.done[command.output]['how']})", "output")
    return [NewEvent("OutputWaived", {"code": state.code, "output": command.output,
                                      "stage": stage, "justification": command.justification,
                                      "on": command.on})]


def missing_outputs(state):
    """Outputs the current stage still needs, in template order."""
    spec = templates.stage(state.spec(), state.stage)
    return [o["key"] for o in spec["outputs"] if o["key"] not in state.done]


def _complete(state, command):
    if command.stage is not None and command.stage != state.stage:
        done = f"stage {command.stage} is already complete; " if command.stage < state.stage \
            else ""
        raise Conflict(f"{done}the cycle is at stage {state.stage}", "stage")
    spec = templates.stage(state.spec(), state.stage)
    missing = missing_outputs(state)
    if missing:
        raise CommandRejected(f"stage {state.stage} ({spec['name']}) cannot complete; "
                              f"missing outputs: {', '.join(missing)}", "outputs")
    if command.completed_on < state.stage_started_on:
        raise InvalidInput(f"before stage {state.stage} started ({state.stage_started_on})",
                           "completed_on")
    late = [(o["key"], state.done[o["key"]]["on"]) for o in spec["outputs"]
            if state.done[o["key"]]["on"] > command.completed_on]
    if late:
        raise InvalidInput("before its outputs were done: " + ", ".join(
            f"{key} on {on}" for key, on in late), "completed_on")
    # a stage is over only when its last activity is: none may come after its completion
    held_later = [a for a in state.activities
                  if a["stage"] == state.stage and a["held_on"] > command.completed_on]
    if held_later:
        raise InvalidInput("before its activities were held: " + ", ".join(
            f"{a['activity']} held on {a['held_on']}" for a in held_later), "completed_on")
    days = days_between(state.stage_started_on, command.completed_on)
    events = [NewEvent("StageCompleted", {
        "code": state.code, "stage": state.stage, "started_on": state.stage_started_on,
        "completed_on": command.completed_on, "days_taken": days,
        "planned_days": spec["planned_days"], "on_time": days <= spec["planned_days"],
        "outputs": {o["key"]: state.done[o["key"]]["how"] for o in spec["outputs"]},
        # the event that did each output, so an auditor's `why` reaches the evidence
        "evidence": {o["key"]: state.done[o["key"]]["event_id"] for o in spec["outputs"]}})]
    stages = state.spec()["stages"]
    if state.stage == len(stages):
        planned = templates.total_planned_days(state.spec())
        total = days_between(state.opened_on, command.completed_on)
        events.append(NewEvent("CycleCompleted", {
            "code": state.code, "completed_on": command.completed_on, "days_taken": total,
            "planned_days": planned, "on_time": total <= planned}))
    else:
        events[0].payload["next_due_on"] = plus_days(
            command.completed_on, stages[state.stage]["planned_days"])
    return events


CYCLE = Decider(initial=Cycle, evolve=evolve, decide=decide, payloads=EVENTS)


# -- time ---------------------------------------------------------------------------------

def days_between(start, end):
    """Whole days from one ISO date to another."""
    return (date.fromisoformat(end) - date.fromisoformat(start)).days


def plus_days(day, days):
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def due_on(state):
    """Due date of the current stage (None before opening and after completion)."""
    if not state.opened or state.completed:
        return None
    return state.stages[str(state.stage)]["due_on"]


def cycle_due_on(state):
    """When the whole cycle is due: opening plus every stage's planned days."""
    return plus_days(state.opened_on, templates.total_planned_days(state.spec())) \
        if state.opened else None


def days_overdue(due, as_of):
    """Days past a due date as of a day: 0 on the due date itself and before it."""
    return max(0, days_between(due, as_of)) if due else 0


def overdue(state, as_of):
    """Late on the current stage: as_of is after its due date (the due date is not late)."""
    return days_overdue(due_on(state), as_of) > 0
