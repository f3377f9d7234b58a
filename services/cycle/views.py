"""Cycle read models, the reactions that open cycles and satisfy outputs, and queries.

`cycles` holds each village's cycle state (the domain state itself, so the view and an
as-of replay can never disagree); `progress` the same cycle in a few fields, for
listings and on-time shares across thousands of villages.
"""
import logging
from datetime import date, datetime

from shared import moments, regions
from shared.chassis.commands import fold
from shared.chassis.errors import NotFound
from shared.chassis.subscribers import Projection, React, Reaction, handles
from shared.schemas import indonesia_today

from . import domain, reports
from . import template as templates

ISO_DAY = moments.DAY   # an approval's date as written: the one moment reader's form

log = logging.getLogger(__name__)


class CycleBoard(Projection):
    name = "cycle_board"
    collections = ("cycles", "progress")
    shape = 2   # 2: an activity applied again (after a failure) was in the timeline twice

    def __init__(self, context):
        super().__init__(context)
        self.cycles = self.views.collection("cycles")
        self.progress = self.views.collection("progress")
        self.progress.ensure_index("stage")

    @handles("CycleOpened", "ActivityRecorded", "OutputSatisfied", "OutputWaived",
             "StageCompleted", "CycleCompleted")
    def apply(self, record):
        code = record.payload["code"]
        doc = self.cycles.get(code)
        state = domain.evolve(domain.Cycle.from_dict(doc) if doc else domain.Cycle(), record)
        self.cycles.put(code, state.as_dict())
        if state.opened:
            self.progress.put(code, reports.progress(state))


# -- reactions (process managers) ---------------------------------------------------------

class OpenCycleOnSelection(Reaction):
    """registration's VillageSelected opens the village's cycle (once: the domain refuses
    a second opening and the idempotency key makes a redelivered selection a no-op)."""
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


def outputs_reaction(ledger, mapping):
    """A Reaction on one source ledger recording OutputSatisfied for every output the
    gate mapping says its event satisfies, with the event as causation."""
    rules = {event_type: found for (source, event_type), found in mapping.items()
             if source == ledger}

    def satisfy(self, record):
        code = record.payload.get("code")
        matching = [rule for rule in rules[record.type]
                    if all(record.payload.get(k) == v for k, v in rule["where"].items())]
        if not matching:
            return None
        if not regions.is_village_code(code):
            log.warning("%s #%s %s names no village code (%r); no cycle output recorded",
                        ledger, record.position, record.type, code)
            return None
        by = {"ledger": ledger, "type": record.type, "event_id": record.event_id,
              "position": record.position, "code": code}
        wanted = [{"output": rule["output"], "stage": rule["stage"]} for rule in matching]
        return React(domain.CYCLE, domain.cycle_stream(code), domain.SatisfyOutputs(
            code, wanted, by, _happened_on(record, matching[0]["on"])))

    return type(f"OutputsFrom{ledger.title()}", (Reaction,), {
        "__doc__": f"Outputs satisfied by the {ledger} ledger's events (the gate mapping).",
        "name": f"outputs_from_{ledger}", "source": ledger,
        "satisfy": handles(*sorted(rules))(satisfy)})


def _happened_on(record, field):
    """The day the source says it happened (e.g. approved_on), else the day it was
    recorded. Only a calendar day not after the day the source recorded it (in UTC+9,
    the latest date in Indonesia) is taken: a later one would stop the stage for ever,
    since no completion may precede its outputs nor lie in the future, and a done output
    cannot be waived."""
    day = record.payload.get(field) if field else None
    recorded = datetime.fromisoformat(record.recorded_at)
    if isinstance(day, str) and ISO_DAY.fullmatch(day) and _calendar_day(day) \
            and day <= indonesia_today(recorded).isoformat():
        return day
    return record.recorded_at[:10]


def _calendar_day(day):
    try:
        date.fromisoformat(day)
    except ValueError:   # 2026-02-30, month 13, year 0
        return False
    return True


GATE_MAPPING = templates.satisfactions()
MAPPED_SOURCES = {ledger: sorted(t for (source, t) in GATE_MAPPING if source == ledger)
                  for ledger, _ in GATE_MAPPING}
OUTPUT_REACTIONS = [outputs_reaction(ledger, GATE_MAPPING) for ledger in sorted(MAPPED_SOURCES)]


# -- queries ------------------------------------------------------------------------------

def present(state, as_of):
    """A cycle as people read it: stage, done and missing outputs, due date, timeline."""
    if not state.opened:
        raise NotFound(f"no cycle is open for village {state.code or ''}".strip(), "code")
    spec = templates.stage(state.spec(), state.stage)
    due = domain.due_on(state)
    return {"code": state.code, "village": state.village, "template": state.template,
            "selection": state.selection, "opened_on": state.opened_on,
            "stage": state.stage, "stage_name": spec["name"],
            "stage_started_on": state.stage_started_on, "due_on": due,
            "cycle_due_on": domain.cycle_due_on(state), "as_of": as_of,
            "overdue": domain.overdue(state, as_of),
            "days_overdue": domain.days_overdue(due, as_of),
            "completed": state.completed, "completed_on": state.completed_on,
            "stage_outputs": [{"output": o["key"], "name": o["name"],
                               "done": o["key"] in state.done} for o in spec["outputs"]],
            "done_outputs": state.done,
            "missing_outputs": [] if state.completed else domain.missing_outputs(state),
            "timeline": state.activities, "stages": state.stages}


def load_cycle(views, code):
    doc = views.collection("cycles").get(code)
    if doc is None or not doc.get("opened"):
        raise NotFound(f"no cycle is open for village {code}", "code")
    return domain.Cycle.from_dict(doc)


def cycle_of(views, code, as_of):
    return present(load_cycle(views, code), as_of)


def cycle_as_of(ledger, code, moment, day):
    """The cycle as it stood at a moment: its stream replayed up to then, judged on `day`
    (the moment's day as schemas.Moment reads it)."""
    state = fold(domain.CYCLE, ledger.read_stream(domain.cycle_stream(code), as_of=moment))
    if not state.opened:
        raise NotFound(f"the cycle of village {code} was not open at {moment.isoformat()}",
                       "as_of")
    return present(state, day)


def states_as_of(ledger, region, until):
    """Every cycle under a region as it stood at a past moment, replayed from the ledger
    (code -> state). Used for reports of a past moment; today's come from views."""
    states, prefix = {}, domain.cycle_stream(region or "")
    for record in ledger.iter_records(upto=ledger.position_at(until), batch=5000):
        if record.stream_id.startswith(prefix):
            state = states.get(record.stream_id) or domain.CYCLE.initial()
            states[record.stream_id] = domain.CYCLE.evolve(state, record)
    return {state.code: state for state in states.values() if state.opened}


def evaluation(views, code, as_of, past=None):
    """The evaluation form judged on a day; for a past moment (past: ledger, moment) from
    the cycle as it stood then (a past day: at its end)."""
    if past is None:
        state = load_cycle(views, code)
    else:
        ledger, until = past
        state = fold(domain.CYCLE, ledger.read_stream(domain.cycle_stream(code), as_of=until))
        if not state.opened:
            raise NotFound(f"the cycle of village {code} was not open at "
                           f"{until.isoformat()}", "as_of")
    return {"code": code, "template": state.template, "as_of": as_of,
            "stages": reports.evaluation(state, as_of)}


def list_cycles(views, region, stage, overdue, completed, as_of, page, page_size,
                past=None):
    """Cycles under a region prefix, by stage, completion and lateness, in code order;
    for a past moment (past: ledger, moment) as they stood then."""
    if past is not None:
        found = [p for p in (reports.progress(state) for _code, state in
                             sorted(states_as_of(past[0], region, past[1]).items()))
                 if (stage is None or p["stage"] == stage)
                 and (completed is None or p["completed"] == completed)
                 and (overdue is None or reports.is_overdue(p, as_of) == overdue)]
        start = (page - 1) * page_size
        return {"items": [reports.listed(p, as_of) for p in found[start:start + page_size]],
                "total": len(found), "page": page, "page_size": page_size, "as_of": as_of}
    query = {"_id": {"$prefix": region}} if region else {}
    if stage is not None:
        query["stage"] = stage
    if completed is not None:
        query["completed"] = completed
    if overdue:  # the due date is before as_of (completed cycles have none)
        query["due_on"] = {"$lt": as_of}
    progress, start = views.collection("progress"), (page - 1) * page_size
    if overdue is False:  # "no due date or not before as_of": the filter language has no $or
        found = [p for p in progress.find(query) if not reports.is_overdue(p, as_of)]
        total, items = len(found), found[start:start + page_size]
    else:                 # the store pages: only one page of documents is copied
        total, items = progress.count(query), progress.find(query, skip=start, limit=page_size)
    return {"items": [reports.listed(p, as_of) for p in items], "total": total,
            "page": page, "page_size": page_size, "as_of": as_of}


def on_time_share(views, region, as_of, past=None):
    """On-time shares for a region, and for each region one level below it; for a past
    moment (past: ledger, moment) from the cycles as they stood then."""
    if past is not None:
        progresses = [reports.progress(state) for state in
                      states_as_of(past[0], region, past[1]).values()]
    else:
        progresses = views.collection("progress").find({"_id": {"$prefix": region}}
                                                       if region else None)
    groups = {}
    for p in progresses:
        groups.setdefault(_child_region(region, p["code"]), []).append(p)
    return {"region": region, "name": regions.region_name(region) if region else "Indonesia",
            "as_of": as_of, "target_percent": templates.ON_TIME_TARGET,
            "cycles": len(progresses), "rows": reports.on_time_share(progresses, as_of),
            "regions": [{"region": child, "name": regions.region_name(child),
                         "cycles": len(members),
                         "rows": reports.on_time_share(members, as_of)}
                        for child, members in sorted(groups.items()) if child != region]}


def _child_region(region, code):
    """The region one level below `region` that holds a village code (province,
    kabupaten/kota, kecamatan); the region itself below kecamatan."""
    for length in (2, 5, 8):
        if len(region) < length:
            return code[:length]
    return region
