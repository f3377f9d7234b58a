"""Every route x every role x inside / outside its region, walked from the route table.

The gateway keeps each principal inside its region: a declared `scope` (a village code
in the path or body, a kabupaten), or an action that narrows a listing and filters its
items, or checks every row of an import. This walks ROUTES itself, so a new route that
touches a region and forgets its check fails here, as does one nobody classified.
"""
import re

import pytest

from services.gateway import pipeline
from services.gateway.auth import Principal
from services.gateway.routes import ROUTES
from shared.chassis.errors import Forbidden

BAJUR, NEIGHBOUR = "52.01.08.2006", "52.01.08.2007"        # same kecamatan
OTHER_KABUPATEN, OTHER_PROVINCE = "52.02.01.2001", "31.71.01.1002"

PRINCIPALS = [Principal(f"user:{role}", "user", role, role, region) for role, region in [
    ("ministry", ""), ("province", "52"), ("district", "52.01"), ("facilitator", "52.01"),
    ("bkm", BAJUR), ("auditor", ""), ("auditor", "52.01"), ("integration", "52")]]

# Fields naming a region a request touches (path, query or body).
REGION_FIELDS = {"code", "region", "kabupaten", "village", "meeting_id", "rows"}

# Routes whose action keeps the principal inside its region (tested below by running it).
SCOPED_BY_ACTION = {"list_villages", "ranking", "import_villages", "list_cycles",
                    "cycle_on_time_share", "pending_documents", "verify_attachments"}

# Routes that touch no region at the gateway, and why that is right.
REGIONLESS = {
    "health": "public", "openapi": "public", "login": "public",
    "whoami": "one's own account", "change_password": "one's own account",
    "log_out": "one's own account",
    "active_rule_set": "national reference data", "cycle_template": "national reference data",
    "approval_rule": "national reference data",
    "publish_rule_set": "national: the service takes it from a national ministry only",
    "audit_ledgers": "ledger heads, no content",
    "audit_tree_head": "a signed head, no content",
    "audit_consistency_proof": "hashes, no content",
    "audit_why": "the audit service judges the event's villages (403 outside)",
    "audit_event_proof": "the audit service judges the event's villages (403 outside)",
    "audit_inclusion_proof": "the audit service judges the record's villages (403 outside)",
}

# Writes that read-only roles may call (their own account; a read sent as POST).
ANY_ROLE_WRITES = {"change_password", "log_out", "audit_export_bundle"}

PATH_VALUES = {"kind": "rplp", "version": 1, "sha256": "0" * 64, "ledger": "registration",
               "position": 1, "event_id": "00000000-0000-4000-8000-000000000000"}


def route_fields(route):
    names = set(re.findall(r"{(\w+)}", route.path))
    for schema in (route.query, route.body):
        if schema is not None:
            names |= set(schema().fields)
    return names


def touches(route):
    return route_fields(route) & REGION_FIELDS


def region_value(name, village):
    """What a request touching `village` sends in the field `name`."""
    return {"kabupaten": village[:5], "meeting_id": f"{village}-0123456789ab"}.get(
        name, village)


def call_for(route, principal, village):
    path = {name: PATH_VALUES.get(name) or region_value(name, village)
            for name in re.findall(r"{(\w+)}", route.path)}
    body = {name: region_value(name, village) for name in route_fields(route)
            & {"code", "kabupaten", "village"}} if route.body else None
    return pipeline.Call(route, None, "corr", principal, path=path, body=body)


def targets(principal):
    """(village, inside the principal's region?) for every kind of neighbour."""
    return [(code, code.startswith(principal.region))
            for code in (BAJUR, NEIGHBOUR, OTHER_KABUPATEN, OTHER_PROVINCE)]


def test_every_route_is_classified():
    for route in ROUTES:
        kinds = [route.scope is not None, route.name in SCOPED_BY_ACTION,
                 route.name in REGIONLESS]
        assert kinds.count(True) == 1, (
            f"{route.name}: declare its scope=, or say how it keeps principals in their "
            f"region ({kinds})")
        if route.name in REGIONLESS:
            assert not touches(route), f"{route.name} names {touches(route)}: give it a scope"
    names = {route.name for route in ROUTES}
    assert SCOPED_BY_ACTION | set(REGIONLESS) <= names   # no stale entries


def test_only_the_listed_writes_are_open_to_read_only_roles():
    assert {r.name for r in ROUTES if r.writes and r.any_role} == ANY_ROLE_WRITES


@pytest.mark.parametrize("route", [r for r in ROUTES if r.scope is not None],
                         ids=lambda r: r.name)
def test_a_declared_scope_lets_in_what_is_inside_and_nothing_else(route):
    for principal in PRINCIPALS:
        for village, inside in targets(principal):
            call = call_for(route, principal, village)
            field, touched = route.scope(call)
            assert isinstance(touched, str), f"{route.name}: its scope found no region"
            if principal.role == "auditor" and route.writes and not route.any_role:
                with pytest.raises(Forbidden) as refused:
                    pipeline._authorize(call)
                assert refused.value.field == "role"
            elif inside and touched.startswith(principal.region):
                pipeline._authorize(call)
            else:
                with pytest.raises(Forbidden, match="outside your region") as refused:
                    pipeline._authorize(call)
                assert refused.value.field == field, (route.name, principal, village)


def test_an_auditor_may_call_no_other_write_at_all():
    auditor = PRINCIPALS[5]
    for route in ROUTES:
        if route.writes and route.name not in ANY_ROLE_WRITES:
            with pytest.raises(Forbidden) as refused:
                pipeline._authorize(call_for(route, auditor, BAJUR))
            assert refused.value.field == "role", route.name


class Upstream:
    """Records the one call and answers with items of every region."""

    def __init__(self):
        self.calls = []

    def call(self, service, method, *args, **kwargs):
        self.calls.append((method, args))
        items = [{"code": code} for code in (BAJUR, NEIGHBOUR, OTHER_KABUPATEN,
                                             OTHER_PROVINCE)]
        return {"items": items, "total": 4} if method in ("list_villages", "list_cycles",
                                                          "pending") else items


def run(route, principal, requested=None, rows=None):
    call = pipeline.Call(route, None, "corr", principal, upstream=Upstream(),
                         query={"page": 1, "page_size": 50}, query_args={}, path={})
    if "region" in route_fields(route):
        call.query["region"] = call.path["region"] = requested
    if rows is not None:
        call.loaded = {"rows": rows, "source": "http"}
    return call.route.action(call), call.upstream.calls


def region_asked(calls):
    [(_method, args)] = calls
    return args[0]["region"] if isinstance(args[0], dict) else args[0]


@pytest.mark.parametrize("name", sorted(SCOPED_BY_ACTION - {"import_villages"}))
def test_a_listing_is_narrowed_to_the_region_and_shows_nothing_outside(name):
    route = next(r for r in ROUTES if r.name == name)
    for principal in PRINCIPALS:
        national = "52" if name == "ranking" else ""   # a ranking is of a PP or PP.KK
        if principal.region and not principal.region.startswith(national):
            continue
        answer, calls = run(route, principal, national)
        # a ranking goes as asked (a village scope is no PP or PP.KK): the service
        # narrows it; the items below are checked either way
        sent = national if name == "ranking" else (principal.region or national)
        assert region_asked(calls) == sent, (name, principal)
        if isinstance(answer, dict) and "items" in answer:
            assert {item["code"] for item in answer["items"]} == {
                code for code, inside in targets(principal) if inside}, (name, principal)
        for outside in ("31", "52.02"):
            if not outside.startswith(principal.region):
                with pytest.raises(Forbidden, match="outside your region"):
                    run(route, principal, outside)


def test_an_import_is_refused_whole_for_one_row_outside_the_region():
    route = next(r for r in ROUTES if r.name == "import_villages")
    for principal in PRINCIPALS:
        for village, inside in targets(principal):
            rows = [{"line": 2, "code": BAJUR}, {"line": 3, "code": village}]
            if inside:
                assert run(route, principal, rows=rows)[1][0][0] == "import_rows"
            else:
                with pytest.raises(Forbidden) as refused:
                    run(route, principal, rows=rows)
                assert refused.value.field == "rows.1.code"


@pytest.mark.parametrize("route", [r for r in ROUTES if getattr(r.scope, "in_path", False)],
                         ids=lambda r: r.name)
def test_a_scope_judged_before_the_body_reads_the_path_alone(route):
    """pipeline.judge_head judges these before the body is read (web.py): a scope marked
    so that read the body or the query would find nothing there, and let anyone in."""
    district = PRINCIPALS[2]
    call = call_for(route, district, OTHER_KABUPATEN)
    call.body = call.query = call.loaded = None
    with pytest.raises(Forbidden, match="outside your region"):
        pipeline._authorize(call)
