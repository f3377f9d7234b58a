"""What officials read about cycles, computed purely from cycle states (no I/O, no clock).

progress(state) is a cycle in a few fields (the listing and the on-time shares read it);
evaluation(state, as_of) is the programme's evaluation form; on_time_share(progresses,
as_of) the share of villages finishing each stage and the cycle on time.
"""
from decimal import ROUND_FLOOR, Decimal

from . import domain
from . import template as templates


def progress(state):
    """A cycle in the fields a listing or a share needs (JSON values only)."""
    return {"code": state.code, "name": state.village.get("name"),
            "kabupaten": (state.village.get("kabupaten") or {}).get("code"),
            "template": state.template, "opened_on": state.opened_on, "stage": state.stage,
            "stage_name": templates.stage(state.spec(), state.stage)["name"],
            "stage_started_on": state.stage_started_on, "due_on": domain.due_on(state),
            "cycle_due_on": domain.cycle_due_on(state), "completed": state.completed,
            "completed_on": state.completed_on, "cycle_on_time": state.cycle_on_time,
            "stages": {n: {"completed_on": s["completed_on"], "on_time": s["on_time"]}
                       for n, s in state.stages.items()}}


def listed(progress_doc, as_of):
    """One line of a listing: where the cycle is and whether it is late as of a day."""
    late = domain.days_overdue(progress_doc["due_on"], as_of)
    return {k: progress_doc[k] for k in ("code", "name", "stage", "stage_name",
                                         "stage_started_on", "due_on", "completed")} | {
        "overdue": late > 0, "days_overdue": late}


def is_overdue(progress_doc, as_of):
    return domain.days_overdue(progress_doc["due_on"], as_of) > 0


def evaluation(state, as_of):
    """The evaluation form: per stage, each activity of the guideline held yes/no (and
    when) and each output done yes/no (and how), days taken against the guideline; the
    running stage shows its days so far as of a day."""
    rows = []
    for spec in state.spec()["stages"]:
        record = state.stages.get(str(spec["stage"]), {})
        running = bool(record) and record["completed_on"] is None
        rows.append({
            "stage": spec["stage"], "name": spec["name"], "planned_days": spec["planned_days"],
            "started_on": record.get("started_on"), "due_on": record.get("due_on"),
            "completed_on": record.get("completed_on"), "days_taken": record.get("days_taken"),
            # 0, not negative, on a day before it began: a stage completed on today in
            # UTC+9 starts the next one a day after the UTC date an evaluation may be of
            "days_so_far": max(0, domain.days_between(record["started_on"], as_of))
            if running else None,
            "on_time": record.get("on_time"),
            "overdue": running and domain.days_overdue(record["due_on"], as_of) > 0,
            "activities": _activities(state, spec),
            "outputs": [{"output": o["key"], "name": o["name"], "done": o["key"] in state.done,
                         "how": state.done.get(o["key"], {}).get("how")}
                        for o in spec["outputs"]]})
    return rows


def _activities(state, spec):
    """Each activity of a stage's guideline, held yes/no and on which days (timeline
    order). DOMAIN.md: the form compares the guideline per stage *and activity*; stage 4's
    and 5's activities produce no output, so their outputs alone cannot tell whether they
    took place."""
    rows = []
    for act in spec["activities"]:
        held_on = [a["held_on"] for a in state.activities
                   if a["stage"] == spec["stage"] and a["activity"] == act["key"]]
        rows.append({"activity": act["key"], "name": act["name"], "done": bool(held_on),
                     "held_on": held_on})
    return rows


def on_time_share(progresses, as_of, template=None, target=templates.ON_TIME_TARGET):
    """Per stage and for the whole cycle, of the villages whose result is known as of a
    day: how many finished on time. Known = completed (on time or late) or still
    unfinished after the due date (they can no longer finish on time); cycles still
    within their time are not counted yet. The share is rounded down, so a share just
    under the target never shows as meeting it; meets_target is decided exactly."""
    template = template or templates.CURRENT
    rows = []
    for spec in template["stages"]:
        key = str(spec["stage"])
        finished = [p["stages"][key] for p in progresses
                    if (p["stages"].get(key) or {}).get("completed_on")]
        late_running = sum(1 for p in progresses if not p["completed"] and
                           p["stage"] == spec["stage"] and is_overdue(p, as_of))
        rows.append(_share(f"stage {spec['stage']}: {spec['name']}", spec["stage"],
                           [f["on_time"] for f in finished], late_running, target))
    finished = [p["cycle_on_time"] for p in progresses if p["completed"]]
    late_running = sum(1 for p in progresses if not p["completed"] and
                       domain.days_overdue(p["cycle_due_on"], as_of) > 0)
    rows.append(_share("whole cycle", None, finished, late_running, target))
    return rows


def _share(scope, stage, on_time_flags, late_running, target):
    on_time = sum(1 for flag in on_time_flags if flag)
    known = len(on_time_flags) + late_running
    share = None
    if known:
        share = str((Decimal(on_time * 100) / Decimal(known)).quantize(
            Decimal("0.01"), rounding=ROUND_FLOOR))
    return {"scope": scope, "stage": stage, "completed": len(on_time_flags),
            "on_time": on_time, "late": len(on_time_flags) - on_time,
            "overdue_unfinished": late_running, "known": known, "share_percent": share,
            "target_percent": target,
            "meets_target": None if not known else on_time * 100 >= target * known}
