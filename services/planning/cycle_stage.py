"""Where a village's cycle stands, as an approval needs it. Pure.

The plans are decisions of the cycle's planning stage (seed: "Perencanaan partisipatif
dan Pemasaran", stage 4 of plpbk-cycle v1), taken after the Refleksi Perkara Kritis and
the Pemetaan Swadaya they build on. So a plan is approved only for a village whose cycle
is open (it was selected) and has reached the stage whose gate the approval satisfies, at
a meeting held since that stage began. Which stage that is comes from the cycle
template's gate mapping, the one contract between the two services, in the template
version the village's cycle follows. Read from the cycle ledger's published events
(docs/events.md): CycleOpened and StageCompleted.
"""
from services.cycle import template as cycle_templates
from services.cycle.domain import cycle_stream  # noqa: F401  (the stream read: cycle-<code>)


def standing(records) -> dict:
    """A village's cycle from its stream cycle-<code>: opened, template, current stage and
    the day each reached stage began (stage number as text -> ISO date)."""
    found = {"opened": False, "template": None, "stage": 0, "started_on": {}}
    for record in records:
        p = record.payload
        if record.type == "CycleOpened":
            found.update(opened=True, template=p["template"], stage=1)
            found["started_on"]["1"] = p["opened_on"]
        elif record.type == "StageCompleted" and "next_due_on" in p:  # not the last stage
            found["stage"] = p["stage"] + 1
            found["started_on"][str(p["stage"] + 1)] = p["completed_on"]
    return found


def approval_stage(cycle, kind):
    """(number, name) of the stage whose gate an approval of this kind satisfies in the
    cycle's template, or None when that template maps no such approval."""
    template = cycle_templates.get(cycle["template"]["id"], cycle["template"]["version"])
    for rule in cycle_templates.satisfactions([template]).get(("planning",
                                                               "DocumentApproved"), []):
        if rule["where"].get("kind") == kind:
            return rule["stage"], cycle_templates.stage(template, rule["stage"])["name"]
    return None
