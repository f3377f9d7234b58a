"""Registration and eligibility: the pure domain (no I/O, no clock, no nameko).

Streams: village-<code> (a village and its BKM, evidence, decisions, selection),
quota-<kabupaten code> (the ministry's quota and the selection rounds under it),
ruleset-<id> (published versions of an eligibility rule set).
"""
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from shared.chassis.commands import Decider
from shared.chassis.errors import CommandRejected, Conflict, InvalidInput, NotFound
from shared.ledger import NewEvent

from . import rules
from .schemas import QUOTA_EVENTS, RULE_SET_EVENTS, VILLAGE_EVENTS

WOMEN_QUOTA = Decimal("30")  # % of BKM members (PNPM rule); flagged, not refused


def village_stream(code):
    return f"village-{code}"


def quota_stream(kabupaten):
    return f"quota-{kabupaten}"


def rule_set_stream(rule_set_id):
    return f"ruleset-{rule_set_id}"


# -- commands ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterVillage:
    official: dict          # from the official list: code, name, kind, kecamatan, ...
    bkm: dict | None = None
    if_missing: bool = False  # imports: an already registered village is fine


@dataclass(frozen=True)
class RecordBkm:
    bkm: dict               # name, formed_on, members [{name, sex L/P, role}]


@dataclass(frozen=True)
class RecordIndicators:
    readings: list          # [{indicator, value}] validated by schemas
    source_document: str
    observed_on: str
    rule_set: dict          # the active rule set, to re-evaluate with
    correction_reason: str | None = None
    # an import row recorded before: recorded again only if the village's current
    # evidence of one of these indicators is not this row's (a correction back to it)
    unless_current: frozenset | None = None


@dataclass(frozen=True)
class Evaluate:
    rule_set: dict
    trigger: str = "request"   # request | evidence | rule_set


@dataclass(frozen=True)
class Override:
    eligible: bool
    justification: str


@dataclass(frozen=True)
class Select:
    rank: int
    quota: int
    selection_round: int


# -- village state ----------------------------------------------------------------------

@dataclass
class Village:
    registered: bool = False
    official: dict = field(default_factory=dict)
    bkm: dict | None = None
    readings: dict = field(default_factory=dict)   # indicator -> {value, unit, event_id, ...}
    decision: dict | None = None                   # latest EligibilityDecided + event_id
    override: dict | None = None                   # latest override of that decision
    selected: dict | None = None

    @property
    def effective_status(self):
        if self.decision is None:
            return "registered"
        if self.override and self.override["overrides"] == self.decision["event_id"]:
            return "eligible" if self.override["eligible"] else "ineligible"
        return self.decision["status"]


def evolve_village(state: Village, record) -> Village:
    payload, kind = record.payload, record.type
    if kind == "VillageRegistered":
        state.registered = True
        state.official = {k: payload[k] for k in
                          ("code", "name", "kind", "kecamatan", "kabupaten", "province")}
    elif kind == "BkmRecorded":
        state.bkm = payload
    elif kind == "IndicatorsRecorded":
        for reading in payload["readings"]:
            state.readings[reading["indicator"]] = {
                **reading, "event_id": record.event_id,
                "source_document": payload["source_document"],
                "observed_on": payload["observed_on"]}
    elif kind == "EligibilityDecided":
        state.decision = {**payload, "event_id": record.event_id}
    elif kind == "EligibilityOverridden":
        state.override = {**payload, "event_id": record.event_id}
    elif kind == "VillageSelected":
        state.selected = payload
    return state


def decide_village(state: Village, command):
    if isinstance(command, RegisterVillage):
        if state.registered and command.if_missing:
            return []
        if state.registered:
            raise Conflict(f"village {command.official['code']} is already registered", "code")
        events = [NewEvent("VillageRegistered", dict(command.official))]
        if command.bkm:
            events.append(_bkm_event(command.official["code"], command.bkm))
        return events
    if not state.registered:
        raise NotFound("village is not registered; register it first", "code")
    code = state.official["code"]
    if isinstance(command, RecordBkm):
        recorded = _bkm_event(code, command.bkm)
        # the same BKM sent again (PUT twice): nothing new to record
        return [] if recorded.payload == state.bkm else [recorded]
    if isinstance(command, (RecordIndicators, Evaluate)) and \
            _replaced(command.rule_set, state.decision):
        return _overtaken(command, state.decision["rule_set"])
    if isinstance(command, RecordIndicators):
        return _record_indicators(state, code, command)
    if isinstance(command, Evaluate):
        return _decision(state, code, command.rule_set, state.readings, command.trigger)
    if isinstance(command, Override):
        return _override(state, code, command)
    if isinstance(command, Select):
        return _select(state, code, command)
    raise TypeError(f"unknown command {type(command).__name__}")


def _bkm_event(code, bkm):
    members = bkm.get("members") or []
    women = sum(1 for member in members if member["sex"] == "P")
    percent = (Decimal(women) * 100 / len(members)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP) if members else Decimal(0)
    return NewEvent("BkmRecorded", {
        "code": code, "name": bkm["name"], "formed_on": bkm["formed_on"], "members": members,
        "member_count": len(members), "women_count": women, "women_percent": str(percent),
        "meets_women_quota": percent >= WOMEN_QUOTA})


def _record_indicators(state, code, command):
    readings = []
    for reading in command.readings:
        previous = state.readings.get(reading["indicator"])
        readings.append({**reading, "unit": rules.INDICATOR_UNITS[reading["indicator"]],
                         "supersedes": previous["event_id"] if previous else None})
    if all(_same_reading(state.readings.get(r["indicator"]), r, command) for r in readings):
        return []  # the same evidence again: nothing new to record
    if command.unless_current is not None and not any(
            _corrected_by(state.readings.get(r["indicator"]), r, command)
            for r in readings if r["indicator"] in command.unless_current):
        return []  # recorded before; nothing of its own reading to put back
    payload = {"code": code, "source_document": command.source_document,
               "observed_on": command.observed_on, "readings": readings}
    if command.correction_reason:
        payload["correction_reason"] = command.correction_reason
    recorded = NewEvent("IndicatorsRecorded", payload)
    current = dict(state.readings)
    for reading in readings:  # evaluate against the evidence as it will be
        current[reading["indicator"]] = {**reading, "event_id": recorded.event_id}
    return [recorded] + _decision(state, code, command.rule_set, current, "evidence")


def _corrected_by(current, reading, command):
    """The current reading is of the row's own document and day with another value (a
    typo of that reading): a row recorded before puts its value back. A reading of
    another document or day is newer evidence, never taken back by an old file."""
    return current is not None and current["value"] != reading["value"] and \
        current["source_document"] == command.source_document and \
        current["observed_on"] == command.observed_on


def _same_reading(previous, reading, command):
    return previous is not None and previous["value"] == reading["value"] and \
        previous["source_document"] == command.source_document and \
        previous["observed_on"] == command.observed_on


def _replaced(rule_set, decision):
    """The village was decided by a later version of this rule set already."""
    return decision is not None and decision["rule_set"]["id"] == rule_set["id"] and \
        decision["rule_set"]["version"] > rule_set["version"]


def _overtaken(command, later):
    """A command deciding by a rule set a later version replaced while it was decided:
    its decision would undo the later version's."""
    if isinstance(command, Evaluate) and command.trigger == "rule_set":
        return []  # the earlier publication's re-decision: the later one's stands
    raise Conflict(f"version {later['version']} of rule set {later['id']} was published "
                   "while this was being decided; nothing was recorded: send it again to be "
                   "decided by it")


def _decision(state, code, rule_set, readings, trigger):
    criteria = rules.evaluate(rule_set, readings)
    status = rules.status_of(criteria)
    reference = {"id": rule_set["id"], "version": rule_set["version"]}
    score = rules.priority_score(readings)
    last = state.decision
    if last and last["criteria"] == criteria and last["rule_set"] == reference and \
            last["score"] == score:
        return []  # nothing changed: the decision (and any override of it) stands
    return [NewEvent("EligibilityDecided", {
        "code": code, "status": status, "eligible": status == "eligible",
        "rule_set": reference, "criteria": criteria, "score": score, "trigger": trigger})]


def _override(state, code, command):
    if state.decision is None:
        raise CommandRejected("there is no eligibility decision to override yet", "code")
    if state.selected:
        raise Conflict("the village is already selected; its eligibility is final", "code")
    if command.eligible == (state.effective_status == "eligible"):
        raise CommandRejected(
            f"the village is already {'eligible' if command.eligible else 'not eligible'}",
            "eligible")
    return [NewEvent("EligibilityOverridden", {
        "code": code, "eligible": command.eligible, "justification": command.justification,
        "overrides": state.decision["event_id"], "original_status": state.decision["status"]})]


def _select(state, code, command):
    if state.selected:
        raise Conflict(f"village {code} was already selected", "code")
    if state.effective_status != "eligible":
        raise CommandRejected(f"village {code} is not eligible", "code")
    official = state.official
    return [NewEvent("VillageSelected", {
        "code": code, "name": official["name"], "kabupaten": official["kabupaten"],
        "province": official["province"], "rank": command.rank, "quota": command.quota,
        "score": state.decision["score"], "selection_round": command.selection_round})]


VILLAGE = Decider(initial=Village, evolve=evolve_village, decide=decide_village,
                  payloads=VILLAGE_EVENTS)


# -- quotas and selection rounds (stream quota-<kabupaten>) -----------------------------

@dataclass(frozen=True)
class SetQuota:
    kabupaten: dict         # {code, name} from the official list
    quota: int
    decree_reference: str


@dataclass(frozen=True)
class RecordSelectionRound:
    selected: list          # [{code, rank, score}] chosen by rank under the quota


@dataclass
class Quota:
    quota: int | None = None
    kabupaten: dict | None = None
    selected: list = field(default_factory=list)   # codes selected in earlier rounds
    rounds: int = 0


def evolve_quota(state: Quota, record) -> Quota:
    if record.type == "QuotaSet":
        state.quota, state.kabupaten = record.payload["quota"], record.payload["kabupaten"]
    elif record.type == "SelectionRoundRecorded":
        state.rounds = record.payload["round"]
        state.selected = state.selected + [v["code"] for v in record.payload["selected"]]
    return state


def decide_quota(state: Quota, command):
    if isinstance(command, SetQuota):
        if command.quota < len(state.selected):
            raise CommandRejected(f"{len(state.selected)} villages are already selected; the "
                                  "quota cannot be lower", "quota")
        return [NewEvent("QuotaSet", {"kabupaten": command.kabupaten, "quota": command.quota,
                                      "decree_reference": command.decree_reference})]
    if isinstance(command, RecordSelectionRound):
        if state.quota is None:
            raise NotFound("no quota is set for this kabupaten/kota", "kabupaten")
        if len(state.selected) + len(command.selected) > state.quota:
            # about the state, not a field of the request (POST /selections has none but
            # kabupaten): another selection was recorded after this one was chosen
            raise Conflict(
                f"{state.kabupaten['code']} ({state.kabupaten['name']}) may select "
                f"{state.quota} villages in all and has selected {len(state.selected)}: "
                f"{len(command.selected)} more would exceed its quota (another selection was "
                "recorded meanwhile); nothing was recorded: select again to choose within "
                "what is left, or set a higher quota first")
        if not command.selected:
            return []
        return [NewEvent("SelectionRoundRecorded", {
            "kabupaten": state.kabupaten, "round": state.rounds + 1, "quota": state.quota,
            "selected": command.selected})]
    raise TypeError(f"unknown command {type(command).__name__}")


QUOTA = Decider(initial=Quota, evolve=evolve_quota, decide=decide_quota, payloads=QUOTA_EVENTS)


def rank(eligible):
    """Eligible villages best first: score descending, ties by code. [{code, score}]"""
    return sorted(eligible, key=lambda v: (-Decimal(v["score"]), v["code"]))


def choose(eligible, quota, already_selected, passed_over=()):
    """The best-ranked villages not yet selected that fit in the quota, each with its
    rank in the whole kabupaten ranking (selected ones included). Villages whose own
    record refused selection (`passed_over`: the ranking is a view and can lag the
    ledger) are not in the ranking at all, so the next ones move up into their places
    and their ranks."""
    room = max(0, quota - len(already_selected))
    chosen = []
    ranking = rank(v for v in eligible if v["code"] not in passed_over)
    for position, village in enumerate(ranking, start=1):
        if len(chosen) == room:
            break
        if village["code"] not in already_selected:
            chosen.append({"code": village["code"], "rank": position, "score": village["score"]})
    return chosen


def unfilled(quota: Quota, chosen, passed_over):
    """What a round leaves open under its quota, said to the ministry, or None when the
    quota is full after it. passed_over: {code: why its record refused selection}."""
    if quota.quota is None:
        return None
    selected = len(quota.selected) + len(chosen)
    places = quota.quota - selected
    if places <= 0:
        return None
    kabupaten = quota.kabupaten
    passed = (f" (passed over {len(passed_over)} that the ranking still lists: "
              "their own records refuse selection)" if passed_over else "")
    return {
        "quota": quota.quota, "selected": selected, "open": places,
        "passed_over": [{"code": code, "reason": reason}
                        for code, reason in sorted(passed_over.items())],
        "message": (
            f"{kabupaten['code']} ({kabupaten['name']}) may select "
            f"{quota.quota} {'village' if quota.quota == 1 else 'villages'} and has selected "
            f"{selected}: {places} {'place stays' if places == 1 else 'places stay'} open "
            "because the ranking "
            f"lists no other village that its own record shows eligible{passed}; select "
            "again later: villages decided eligible meanwhile are chosen then")}


# -- rule sets (stream ruleset-<id>) ----------------------------------------------------

@dataclass(frozen=True)
class PublishRuleSet:
    rule_set: dict          # id, criteria, note (version assigned here)


def evolve_rule_set(state, record):
    return record.payload if record.type == "RuleSetPublished" else state


def decide_rule_set(state, command):
    problems = rules.check_rule_set(command.rule_set)
    if problems:
        raise InvalidInput("; ".join(f"{field}: {problem}" for field, problem in problems),
                           problems[0][0])
    version = (state["version"] if state else 0) + 1
    published = {**command.rule_set, "version": version}
    if state and {k: v for k, v in state.items() if k != "version"} == \
            {k: v for k, v in published.items() if k != "version"}:
        return []  # identical to the current version
    return [NewEvent("RuleSetPublished", published)]


RULE_SET = Decider(initial=lambda: None, evolve=evolve_rule_set, decide=decide_rule_set,
                   payloads=RULE_SET_EVENTS)
