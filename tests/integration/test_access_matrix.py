"""Every RPC entrypoint of every service, against every role and region scope.

The entrypoints are found by introspection (each service class of services.SERVICES,
each method with a nameko Rpc entrypoint), so one added later, in a service added
later, is held to the same rules: it needs an entry in ENTRYPOINTS below (sample
arguments that reach its authorize step, or a reason it is open), else this test fails
saying so. The rules (shared/chassis/access.py, docs/decisions/0014):
1. a call that names no actor is refused, Forbidden field `actor` (OPEN ones aside);
2. a principal scoped to another region than the one a call touches is refused, with
   nothing recorded, by every role that may make the call inside that region;
3. operator entrypoints refuse every role but ministry.
The services run in real containers (RabbitMQ, SQLite ledgers in a temporary folder),
called through nameko's entrypoint_hook with the actor in the context data, as the
gateway and `plpbk` send it.
"""
import base64
import importlib
import inspect
import json
import os
import time
from dataclasses import dataclass, field
from typing import Callable

import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.rpc import Rpc
from nameko.testing.services import entrypoint_hook

from services import SERVICES
from services.audit.sources import LedgerSources
from shared.chassis.access import ROLES
from shared.chassis.entrypoints import OperatorEntrypoints
from shared.chassis.errors import CommandRejected, Forbidden
from shared.ledger.verify import generate_key
from tests.samples import BAJUR, ELIGIBLE, MINISTRY
from tests.unit.planning import samples as planning_samples

from .conftest import wait_for

NEIGHBOUR = "52.01.08.2001"        # Bengkel, same kecamatan as Bajur
KABUPATEN = "52.01"                # Lombok Barat, Bajur's
# Each role scoped to cover Bajur: where the sample calls are allowed (by region)
INSIDE = {"ministry": "", "province": "52", "district": KABUPATEN, "facilitator": KABUPATEN,
          "bkm": BAJUR, "auditor": "", "integration": ""}
# Each role scoped elsewhere: another province, another kabupaten, a neighbouring village
ELSEWHERE = [("ministry", "52.02"), ("province", "51"), ("district", "52.02"),
             ("district", NEIGHBOUR), ("facilitator", "52.02"), ("facilitator", NEIGHBOUR),
             ("bkm", NEIGHBOUR), ("bkm", "52.02.01.2001"), ("auditor", "52.02"),
             ("auditor", NEIGHBOUR), ("integration", "52.02")]
# Parameter names that carry a region, directly or inside an object: an entrypoint with
# one of them must be SCOPED (or say why not)
REGION_PARAMETERS = {"code", "kabupaten", "region", "query", "scope", "rows", "meeting_id",
                     "event_id", "position"}


@dataclass
class Sample:
    """One call: args(facts) -> positional arguments; target: the region it touches (the
    elsewhere principals are those disjoint from it). refused(answer): for a call that
    narrows instead of refusing (a list asked for a wider region, an import's rows), what
    an answer to an elsewhere principal must look like; None: it must be Forbidden."""
    args: Callable
    target: str = BAJUR
    refused: Callable = None


@dataclass
class Entry:
    kind: str                      # "scoped", "unscoped", "operator", "open"
    samples: list = field(default_factory=list)
    reason: str = ""               # why an entrypoint is open or touches no region
    national: bool = False         # unscoped, acting on every region: national actors only


def scoped(*samples):
    return Entry("scoped", list(samples))


def unscoped(reason, args, national=False):
    return Entry("unscoped", [Sample(args)], reason, national)


def open_(reason):
    return Entry("open", [Sample(lambda f: ())], reason)


def operator(args):
    return Entry("operator", [Sample(args)])


def without(*markers):
    """An answer naming none of the markers (codes of the region it must not show)."""
    return lambda answer: not any(m in json.dumps(answer) for m in markers)


def rows_refused(answer):
    """An import refuses its out-of-scope rows one by one, recording none of them."""
    return answer["recorded"] == answer["unchanged"] == 0 and answer["errors"] and all(
        "outside your region" in e["reason"] for e in answer["errors"])


def village(code):
    return Sample(lambda f: (code,))


NOT_BAJUR = without(BAJUR)   # a list narrowed to a scope elsewhere: Bajur is not in it
OVERRIDE = {"eligible": True, "justification": "A written justification of the override"}
ACTIVITY = {"activity": "sosialisasi", "held_on": "2024-05-01", "place": "Balai Desa",
            "attendance": {"men": 10, "women": 10, "poor": 5}, "facilitator": "Faskel 7",
            "evidence": ["Daftar hadir"]}
PERSON = {"name": "H. Lalu Ahmad", "position": "Kepala Desa Bajur"}

# What every service inherits from OperatorEntrypoints (audit overrides status: below)
COMMON = {
    "parked": operator(lambda f: ()),
    "replay_parked": operator(lambda f: ([],)),
    "view_documents": operator(lambda f: ("tracking",)),
    "status": open_("health checks: ledger head and positions, no village's data"),
    "view_positions": open_("positions only, as status shows them (plpbk rebuild --check)"),
}

ENTRYPOINTS = {
    # -- registration -------------------------------------------------------------------
    "registration.register_village": scoped(Sample(lambda f: ({"code": BAJUR},))),
    "registration.record_bkm": scoped(Sample(lambda f: (BAJUR, f["bkm"]))),
    "registration.record_indicators": scoped(Sample(lambda f: (BAJUR, ELIGIBLE))),
    "registration.evaluate": scoped(village(BAJUR)),
    "registration.override_eligibility": scoped(Sample(lambda f: (BAJUR, OVERRIDE))),
    "registration.publish_rule_set": unscoped(
        "a rule set re-decides every village", lambda f: (f["rule_set"],), national=True),
    "registration.set_quota": scoped(Sample(lambda f: (
        {"kabupaten": KABUPATEN, "quota": 2, "decree_reference": "SK 1"},), KABUPATEN)),
    "registration.select_villages": scoped(Sample(lambda f: (KABUPATEN,), KABUPATEN),
                                           Sample(lambda f: (), BAJUR, NOT_BAJUR)),
    "registration.import_rows": scoped(Sample(lambda f: ([{
        "line": 2, "code": BAJUR, "source_document": "BPS 2024",
        "observed_on": "2024-06-30", "poverty_rate": "31.5"}],), BAJUR, rows_refused)),
    "registration.get_village": scoped(village(BAJUR)),
    "registration.eligibility_history": scoped(village(BAJUR)),
    "registration.list_villages": scoped(
        Sample(lambda f: ({"region": KABUPATEN},), KABUPATEN),
        Sample(lambda f: ({"region": ""},), BAJUR, NOT_BAJUR)),
    "registration.ranking": scoped(Sample(lambda f: (KABUPATEN,), KABUPATEN),
                                   Sample(lambda f: ("52",), BAJUR, NOT_BAJUR)),
    "registration.rule_set": open_("reference data: the active eligibility rule set"),
    # -- cycle --------------------------------------------------------------------------
    "cycle.record_activity": scoped(Sample(lambda f: (BAJUR, ACTIVITY))),
    "cycle.complete_stage": scoped(Sample(lambda f: (BAJUR, {"completed_on": "2024-05-02"}))),
    "cycle.waive_output": scoped(Sample(lambda f: (BAJUR, {
        "output": "minutes", "justification": OVERRIDE["justification"]}))),
    "cycle.get_cycle": scoped(village(BAJUR)),
    "cycle.evaluation": scoped(village(BAJUR)),
    "cycle.list_cycles": scoped(Sample(lambda f: ({"region": KABUPATEN},), KABUPATEN),
                                Sample(lambda f: ({},), BAJUR, NOT_BAJUR)),
    "cycle.on_time_share": scoped(Sample(lambda f: ({"region": KABUPATEN},), KABUPATEN),
                                  Sample(lambda f: ({},), BAJUR, NOT_BAJUR)),
    "cycle.template": open_("reference data: the programme template"),
    # -- planning -----------------------------------------------------------------------
    "planning.upload_attachment": scoped(Sample(lambda f: (BAJUR, f["upload"]))),
    "planning.get_attachment": scoped(Sample(lambda f: (BAJUR, f["sha256"]))),
    "planning.list_attachments": scoped(village(BAJUR)),
    "planning.verify_attachments": scoped(
        Sample(lambda f: ({"region": KABUPATEN},), KABUPATEN),
        Sample(lambda f: ({},), BAJUR, NOT_BAJUR)),
    "planning.draft_document": scoped(Sample(lambda f: (BAJUR, "aturan_bersama", {
        "content": planning_samples.aturan_bersama(), "drafted_on": "2024-08-01"}))),
    "planning.revise_document": scoped(Sample(lambda f: (BAJUR, "rplp", {
        "content": planning_samples.rplp(f["sha256"]), "drafted_on": "2024-08-02",
        "based_on": 1}))),
    "planning.approve_document": scoped(Sample(lambda f: (BAJUR, "rplp", {
        "version": 1, "meeting_id": f["meeting_id"]}))),
    "planning.sign_document": scoped(*[Sample(lambda f, step=step: (BAJUR, "rplp", {
        "version": 1, "step": step, "signer": PERSON, "signed_on": "2024-08-20"}))
        for step in ("submitted", "acknowledged", "verified", "ratified")]),
    "planning.record_bappeda_consultation": scoped(Sample(lambda f: (BAJUR, "rplp", {
        "version": 1, "consulted_on": "2024-08-21", "reference": "005/BAPPEDA",
        "official": PERSON}))),
    "planning.submit_to_musrenbang": scoped(Sample(lambda f: (BAJUR, "rplp", {
        "version": 1, "forum": "kelurahan", "reference": "MR-1",
        "submitted_on": "2024-08-22"}))),
    "planning.record_meeting": scoped(Sample(lambda f: (
        BAJUR, planning_samples.meeting(f["sha256"])))),
    "planning.list_documents": scoped(village(BAJUR)),
    "planning.get_version": scoped(Sample(lambda f: (BAJUR, "rplp", 1))),
    "planning.diff_versions": scoped(Sample(lambda f: (BAJUR, "rplp", 1, 1))),
    "planning.approval_record": scoped(Sample(lambda f: (BAJUR, "rplp", 1))),
    "planning.get_meeting": scoped(Sample(lambda f: (f["meeting_id"],))),
    "planning.pending": scoped(Sample(lambda f: ({"region": KABUPATEN},), KABUPATEN),
                               Sample(lambda f: ({},), BAJUR, NOT_BAJUR)),
    "planning.approval_rule": open_("reference data: the approval rule meetings are held to"),
    # -- audit --------------------------------------------------------------------------
    "audit.history": scoped(village(BAJUR)),
    "audit.history_html": scoped(village(BAJUR)),
    "audit.state_as_of": scoped(village(BAJUR)),
    "audit.why": scoped(Sample(lambda f: (f["event_id"],))),
    "audit.inclusion_proof": scoped(Sample(lambda f: ("registration", f["position"]))),
    "audit.event_proof": scoped(Sample(lambda f: (f["event_id"],))),
    "audit.export_bundle": scoped(Sample(lambda f: ({"village": BAJUR},)),
                                  Sample(lambda f: ({"region": KABUPATEN},), KABUPATEN)),
    "audit.ledgers": unscoped("ledger heads and tree sizes: hashes, no village's data",
                              lambda f: ()),
    "audit.tree_head": unscoped("a signed head of a whole ledger, no village's data",
                                lambda f: ("registration",)),
    "audit.consistency_proof": unscoped("hashes between two tree sizes, no village's data",
                                        lambda f: ("registration", 1)),
    "audit.status": open_("health checks: positions and tree sizes, no village's data"),
}


# -- introspection ----------------------------------------------------------------------

def service_classes():
    found = {}
    for name, (target, _port) in SERVICES.items():
        module, _, cls = target.partition(":")
        found[name] = getattr(importlib.import_module(module), cls)
    return found


def rpc_entrypoints():
    """(service, method name, function) of every @rpc method of every service."""
    for service, cls in service_classes().items():
        for name, function in inspect.getmembers(cls, inspect.isfunction):
            if any(isinstance(extension, Rpc) for extension in
                   getattr(function, ENTRYPOINT_EXTENSIONS_ATTR, ())):
                yield service, name, function


def entry_of(service, name, function):
    if getattr(OperatorEntrypoints, name, None) is function:
        return COMMON[name]
    return ENTRYPOINTS.get(f"{service}.{name}")


def test_every_entrypoint_is_in_the_matrix():
    """Pure: no service runs. Fails on an entrypoint nobody classified yet."""
    found = list(rpc_entrypoints())
    assert {s for s, _n, _f in found} == set(SERVICES)   # each inherits the operators'
    missing = [f"{s}.{n}" for s, n, f in found if entry_of(s, n, f) is None]
    assert not missing, "add sample arguments for " + ", ".join(missing) + \
        " to ENTRYPOINTS in tests/integration/test_access_matrix.py"
    stale = set(ENTRYPOINTS) - {f"{s}.{n}" for s, n, _f in found}
    assert not stale, f"ENTRYPOINTS names entrypoints that no longer exist: {sorted(stale)}"
    for service, name, function in found:
        entry = entry_of(service, name, function)
        parameters = set(inspect.signature(function).parameters)
        if entry.kind != "scoped":
            assert entry.kind == "operator" or entry.reason, f"{service}.{name}: say why"
            assert not parameters & REGION_PARAMETERS, \
                f"{service}.{name} takes {parameters & REGION_PARAMETERS}: it touches a " \
                "region, so it must be scoped (with sample arguments) in ENTRYPOINTS"
        # an operator entrypoint is one that authorizes OPERATORS, and only such one
        assert ("OPERATORS" in inspect.getsource(function)) == (entry.kind == "operator"), \
            f"{service}.{name}: operator entrypoints are those authorizing OPERATORS"


# -- running the services ---------------------------------------------------------------

@pytest.fixture
def matrix_config(platform_config, tmp_path):
    key = tmp_path / "tree-head.pem"
    key.write_bytes(generate_key())
    return {**platform_config, "GATEWAY_SECRET": "a-test-secret-that-is-long-enough-for-hs256",
            "TREE_HEAD_KEY": str(key), "ATTACHMENT_URI": f"file:///{tmp_path}/attachments"}


@pytest.fixture
def containers(container_factory, matrix_config):
    running = {}
    for name, cls in service_classes().items():
        running[name] = container_factory(cls, matrix_config)
        running[name].start()
    return running


def call(container, name, actor, *args):
    context = {} if actor is None else {"actor": actor}
    with entrypoint_hook(container, name, context_data=context) as entrypoint:
        return entrypoint(*args)


def outcome(container, name, actor, args):
    """The answer, or the error (any but a CommandRejected is a bug: a 500)."""
    try:
        return call(container, name, actor, *args)
    except Exception as refused:   # noqa: BLE001 -- reported by the test that called
        return refused


def actor(role, region):
    return {"id": f"{role}@{region or 'national'}", "role": role, "region": region}


def recorded(config):
    """What a refused call must leave as it was: every ledger's head, every stored file."""
    sources = LedgerSources(config["STORE_URI"])
    try:
        sources.discover()
        heads = {name: ledger.head().position for name, ledger in sources.all().items()}
    finally:
        sources.close()
    folder = config["ATTACHMENT_URI"].removeprefix("file://")
    files = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    return heads, files


def settle(config, quiet=0.5):
    """Wait until no ledger grows for `quiet` seconds (reactions to what was recorded)."""
    seen = [recorded(config)]

    def quiet_since_last_look():
        time.sleep(quiet)
        now, before = recorded(config), seen[0]
        seen[0] = now
        return now == before
    wait_for(quiet_since_last_look, what="the ledgers to stop growing")


@pytest.fixture
def facts(containers, matrix_config):
    """Bajur registered, eligible, selected (its cycle open), with an attachment, a draft
    and a meeting; Bengkel eligible under a quota with room: something for every call to
    find, record or leak. Returns the ids the sample arguments need."""
    registration, planning = containers["registration"], containers["planning"]
    bkm = {"name": "BKM Bajur", "formed_on": "2019-03-01", "members": [
        {"name": "Siti", "sex": "P", "role": "koordinator"},
        {"name": "Ahmad", "sex": "L", "role": "anggota"}]}
    call(registration, "register_village", MINISTRY, {"code": BAJUR, "bkm": bkm})
    call(registration, "record_indicators", MINISTRY, BAJUR, ELIGIBLE)
    call(registration, "register_village", MINISTRY, {"code": NEIGHBOUR})
    call(registration, "record_indicators", MINISTRY, NEIGHBOUR, {**ELIGIBLE, "indicators": {
        **ELIGIBLE["indicators"], "poverty_rate": "26"}})
    quota = {"kabupaten": KABUPATEN, "quota": 1, "decree_reference": "SK 1"}
    call(registration, "set_quota", MINISTRY, quota)
    assert call(registration, "select_villages", MINISTRY, KABUPATEN)["selected"] == {
        KABUPATEN: [BAJUR]}
    call(registration, "set_quota", MINISTRY, {**quota, "quota": 2})   # room for Bengkel
    wait_for(lambda: not isinstance(outcome(containers["cycle"], "get_cycle", MINISTRY,
                                            (BAJUR,)), Exception), what="Bajur's cycle")
    bkm_actor = actor("bkm", BAJUR)
    upload = {"filename": "peta.pdf", "media_type": "application/pdf", "kind": "map",
              "content_base64": base64.b64encode(b"%PDF-1.7\npeta").decode()}
    sha256 = call(planning, "upload_attachment", bkm_actor, BAJUR, upload)["sha256"]
    call(planning, "draft_document", bkm_actor, BAJUR, "rplp", {
        "content": planning_samples.rplp(sha256), "drafted_on": "2024-08-01"})
    meeting = call(planning, "record_meeting", bkm_actor, BAJUR,
                   planning_samples.meeting(sha256, [("rplp", 1)]))
    history = call(registration, "eligibility_history", MINISTRY, BAJUR)
    rule_set = {k: v for k, v in call(registration, "rule_set", MINISTRY).items()
                if k not in ("version",)}
    position = wait_for(lambda: _position_about(matrix_config, BAJUR), what="a record")
    return {"bkm": bkm, "upload": {**upload, "content_base64": base64.b64encode(
                b"%PDF-1.7\nlain").decode()},
            "sha256": sha256, "meeting_id": meeting["meeting_id"],
            "event_id": history[0]["event_id"], "position": position, "rule_set": rule_set}


def _position_about(config, code):
    sources = LedgerSources(config["STORE_URI"])
    try:
        sources.discover()
        return next(r.position for r in sources.get("registration").read(0, limit=100)
                    if code in r.stream_id)
    finally:
        sources.close()


def matrix(kind):
    """(service, name, entry) of every entrypoint of this kind."""
    return [(s, n, entry_of(s, n, f)) for s, n, f in rpc_entrypoints()
            if entry_of(s, n, f) is not None and entry_of(s, n, f).kind == kind]


def disjoint(region, target):
    return not region.startswith(target) and not target.startswith(region)


# -- the rules --------------------------------------------------------------------------

def test_a_call_that_names_no_actor_is_refused(containers, facts):
    failures = []
    for kind in ("scoped", "unscoped", "operator"):
        for service, name, entry in matrix(kind):
            for sample in entry.samples:
                got = outcome(containers[service], name, None, sample.args(facts))
                if not (isinstance(got, Forbidden) and got.field == "actor"):
                    failures.append(f"{service}.{name}: {got!r}")
    for service, name, entry in matrix("open"):   # open ones answer anybody
        got = outcome(containers[service], name, None, ())
        if isinstance(got, Exception):
            failures.append(f"{service}.{name} (open: {entry.reason}): {got!r}")
    assert not failures, "anonymous calls not refused with Forbidden field actor:\n" + \
        "\n".join(failures)


def test_no_call_reaches_a_region_outside_the_callers_scope(containers, facts,
                                                            matrix_config):
    """Every elsewhere principal first (on the state facts made), then every role inside
    the region: the sample must get past authorize for some role, or it proves nothing."""
    failures = []
    entries = matrix("scoped")
    for service, name, entry in entries:
        for sample in entry.samples:
            args = sample.args(facts)
            for role, region in ELSEWHERE:
                if not disjoint(region, sample.target):
                    continue
                before = recorded(matrix_config)
                got = outcome(containers[service], name, actor(role, region), args)
                changed = recorded(matrix_config) != before
                if changed:   # its reactions may still be recording: not the next call's
                    settle(matrix_config)
                if changed or not (isinstance(got, Forbidden) or sample.refused and not
                                   isinstance(got, Exception) and sample.refused(got)):
                    failures.append(f"{service}.{name}{args!r:.80} as {role}@{region}: "
                                    f"{'RECORDED, ' if changed else ''}{got!r:.300}")
    for service, name, entry in entries:
        for sample in entry.samples:
            answers = {role: outcome(containers[service], name, actor(role, INSIDE[role]),
                                     sample.args(facts)) for role in ROLES}
            failures += [f"{service}.{name} as {role}@{INSIDE[role]}: a bug: {got!r:.300}"
                         for role, got in answers.items() if isinstance(got, Exception)
                         and not isinstance(got, CommandRejected)]
            if all(isinstance(got, Forbidden) for got in answers.values()):
                failures.append(f"{service}.{name}: no role gets past authorize inside "
                                f"{sample.target}: fix its sample arguments")
    assert not failures, "reachable outside the caller's region:\n" + "\n".join(failures)


def test_unscoped_calls_keep_to_their_roles(containers, facts):
    """Calls that touch no region: still refused to roles they do not name, whatever
    the region (national ones: to every regional principal), and taken by at least one
    role (or the sample proves nothing)."""
    failures = []
    for service, name, entry in matrix("unscoped"):
        args = entry.samples[0].args(facts)
        answers = {role: outcome(containers[service], name, actor(role, INSIDE[role]), args)
                   for role in ROLES}
        allowed = {role for role, got in answers.items() if not isinstance(got, Forbidden)}
        if not allowed:
            failures.append(f"{service}.{name}: no role gets past authorize")
        for role, region in ELSEWHERE:
            got = outcome(containers[service], name, actor(role, region), args)
            if (role in allowed and not entry.national) != (not isinstance(got, Forbidden)):
                failures.append(f"{service}.{name} as {role}@{region}: {got!r:.200}")
    assert not failures, "\n".join(failures)


def test_operator_calls_are_the_ministrys_alone(containers, facts):
    failures = []
    for service, name, entry in matrix("operator"):
        args = entry.samples[0].args(facts)
        for role in ROLES:
            for region in {INSIDE[role], *(r for ro, r in ELSEWHERE if ro == role)}:
                got = outcome(containers[service], name, actor(role, region), args)
                if role != "ministry" and not (isinstance(got, Forbidden) and
                                               got.field == "role"):
                    failures.append(f"{service}.{name} as {role}@{region}: {got!r:.200}")
        got = outcome(containers[service], name, MINISTRY, args)
        if isinstance(got, Exception):
            failures.append(f"{service}.{name} refused the (national) ministry: {got!r}")
    assert not failures, "operator entrypoints reachable by others:\n" + "\n".join(failures)


def test_operator_calls_are_national(containers, facts):
    failures = []
    for service, name, entry in matrix("operator"):
        got = outcome(containers[service], name, actor("ministry", "52.02"),
                      entry.samples[0].args(facts))
        if not isinstance(got, Forbidden):
            failures.append(f"{service}.{name} as ministry@52.02: {got!r:.200}")
    assert not failures, "\n".join(failures)
