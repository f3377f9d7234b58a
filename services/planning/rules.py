"""Planning rules as data: the meeting approval rule and the sign-off chain. Pure.

The approval rule has an id and a version; every DocumentApproved names the version it
applied and carries each criterion's result with the numbers, so an auditor can re-check
an approval without knowing what the rule said at the time.
"""
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

KINDS = ("rplp", "rtplp", "aturan_bersama", "marketing_strategy")

# A musyawarah / rembug warga may approve a plan only if enough residents attended and
# women took part: PNPM asked for at least 30% women in BKM bodies and decisions.
APPROVAL_RULE = {
    "id": "plpbk-musyawarah", "version": 1,
    "note": "A community meeting approves a planning document only with at least 30 "
            "attendees, of whom at least 30% are women.",
    "criteria": [
        {"criterion": "minimum_attendance", "measure": "attendees", "operator": ">=",
         "threshold": 30, "label": "at least 30 residents attend"},
        {"criterion": "women_participation", "measure": "women_percent", "operator": ">=",
         "threshold": "30", "label": "women are at least 30% of the attendees"},
    ],
}
OPERATORS = (">=", "<=")


def measures(attendance):
    """Exact measures of one meeting's attendance: counts and shares (as Fractions)."""
    men, women, poor = attendance["men"], attendance["women"], attendance["poor"]
    attendees = men + women
    share = (lambda part: Fraction(part * 100, attendees)) if attendees else (lambda _: Fraction(0))
    return {"attendees": Fraction(attendees), "men": Fraction(men), "women": Fraction(women),
            "poor": Fraction(poor), "women_percent": share(women), "poor_percent": share(poor)}


def evaluate(rule, attendance):
    """Each criterion's result (pass / fail) with the value, operator and threshold used."""
    values = measures(attendance)
    results = []
    for criterion in rule["criteria"]:
        value, threshold = values[criterion["measure"]], Fraction(Decimal(str(criterion[
            "threshold"])))
        holds = value >= threshold if criterion["operator"] == ">=" else value <= threshold
        results.append({"criterion": criterion["criterion"], "measure": criterion["measure"],
                        "value": shown(value), "operator": criterion["operator"],
                        "threshold": criterion["threshold"],
                        "result": "pass" if holds else "fail"})
    return results


def shown(value: Fraction):
    """An exact count as an int; a share as a decimal string rounded DOWN to 0.01, so a
    share just under a threshold is never displayed as reaching it."""
    if value.denominator == 1:
        return value.numerator
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal("0.01"), rounding=ROUND_FLOOR))


def failures(rule, results, attendance):
    """Readable reasons of every failed criterion ("" when none failed)."""
    attendees = attendance["men"] + attendance["women"]
    reasons = []
    for result in results:
        if result["result"] == "pass":
            continue
        if result["measure"].endswith("_percent"):
            part = attendance[result["measure"][:-len("_percent")]]
            reasons.append(f"{result['criterion']}: {part} of {attendees} attendees is "
                           f"{result['value']}%, rule needs {result['operator']} "
                           f"{result['threshold']}%")
        else:
            reasons.append(f"{result['criterion']}: {result['measure']} is {result['value']}, "
                           f"rule needs {result['operator']} {result['threshold']}")
    if not reasons:
        return ""
    return f"approval rule {rule['id']} v{rule['version']} not met: " + "; ".join(reasons)


# -- sign-off chain ----------------------------------------------------------------------
# Who signs each step, in order; "ratified" needs both the Lurah and the BKM (RPLP only,
# after a recorded Bappeda consultation). A capacity is what the signer signs as.
STEP_SIGNERS = {"submitted": ("bkm",), "acknowledged": ("lurah",),
                "verified": ("facilitator",), "ratified": ("lurah", "bkm")}
# The platform role that signs in each capacity. The Lurah (or Kepala Desa) is a
# government official, so signs through a `district` account scoped to the village.
CAPACITY_ROLES = {"bkm": "bkm", "lurah": "district", "facilitator": "facilitator"}
# Capacities held only by an account scoped to the village itself: the Lurah / Kepala Desa
# is the village's official, and the BKM the village's own elected body; a kabupaten
# district account (Bappeda) must not sign as the Lurah, nor a bkm account of another
# village, or one scoped to a whole kabupaten, as this village's BKM.
VILLAGE_SCOPED_CAPACITIES = ("lurah", "bkm")
BAPPEDA_ROLES = ("district", "facilitator")
MUSRENBANG_FORUMS = ("kelurahan", "kecamatan", "kabupaten_kota")


def chain(kind):
    """The sign-off steps of an approved version of this kind, in order."""
    return ["submitted", "acknowledged", "verified"] + (["ratified"] if kind == "rplp" else [])


def roles_for_step(step):
    return tuple(dict.fromkeys(CAPACITY_ROLES[c] for c in STEP_SIGNERS[step]))


def capacity_of(step, role):
    """The capacity in which an actor of this role signs step (None: cannot sign it)."""
    for capacity in STEP_SIGNERS[step]:
        if CAPACITY_ROLES[capacity] == role:
            return capacity
    return None


def missing_signers(step, version):
    signed = version["sign_offs"].get(step, {})
    return [capacity for capacity in STEP_SIGNERS[step] if capacity not in signed]


def next_step(kind, version):
    """What a version waits for: approval, a sign-off step, bappeda_consultation,
    musrenbang, or None once it has been submitted to Musrenbang."""
    if version["status"] == "draft":
        return "approval"
    for step in chain(kind):
        if step == "ratified" and version["bappeda_consultation"] is None:
            return "bappeda_consultation"
        if missing_signers(step, version):
            return step
    return None if version["status"] == "submitted" else "musrenbang"


WAITING_FOR = ("approval", "submitted", "acknowledged", "verified", "bappeda_consultation",
               "ratified", "musrenbang")
