"""History, why and state as of a moment, over real registration decisions on disk."""
from datetime import timedelta

import pytest

from services.audit import history, index, report
from services.audit.asof import state_as_of
from services.audit.registry import discover
from shared.chassis.errors import NotFound
from shared.ledger.envelope import format_time, parse_time

from .world import BAJUR, NEIGHBOUR, build_world


@pytest.fixture
def world(tmp_path):
    world = build_world(tmp_path)
    yield world
    world.sources.close()


def test_a_village_history_spans_every_ledger_with_who_rules_evidence_and_causes(world):
    entries = history.village_history(world.sources, world.views, BAJUR)
    assert [(e["ledger"], e["type"]) for e in entries] == [
        ("registration", "VillageRegistered"), ("registration", "IndicatorsRecorded"),
        ("registration", "EligibilityDecided"), ("registration", "EligibilityOverridden"),
        ("registration", "VillageSelected"), ("construction", "WorksPlanned"),
        ("planning", "DocumentUploaded")]
    registered, indicators, decided, overridden, selected, opened, uploaded = entries
    assert registered["actor"] == {"id": "dinas-1", "role": "district", "region": "52.01"}
    assert overridden["actor"]["role"] == "ministry"
    assert decided["rule_versions"] == [{"field": "rule_set", "id": "plpbk-seed", "version": 1}]
    assert [e["event_id"] for e in decided["evidence"]] == [indicators["event_id"]]
    assert decided["evidence"][0]["paths"][0] == "criteria[0].evidence"
    assert overridden["evidence"][0]["event_id"] == decided["event_id"]
    assert opened["caused_by"]["event_id"] == selected["event_id"]
    assert opened["rule_versions"][0]["id"] == "plpbk-works"
    assert [c["event_id"] for c in selected["caused"]] == [opened["event_id"]]
    assert uploaded["attachments"][0]["name"] == "rplp.pdf"
    times = [e["recorded_at"] for e in entries]
    assert times == sorted(times)
    with pytest.raises(NotFound) as unknown:
        history.village_history(world.sources, world.views, "52.01.08.2999")
    assert unknown.value.field == "code"


def test_why_follows_evidence_and_effects(world):
    found = history.why(world.sources, world.views, world.decision_id)
    assert found["event"]["type"] == "EligibilityDecided"
    assert {r["criterion"]: r["result"] for r in found["rule_results"]}[
        "no_unresolved_misuse"] == "fail"
    assert [b["event"]["type"] for b in found["based_on"]] == ["IndicatorsRecorded"]

    selected = history.why(world.sources, world.views, world.selected_id)
    assert [c["event"]["type"] for c in selected["caused"]] == ["WorksPlanned"]
    assert selected["caused"][0]["event"]["ledger"] == "construction"

    opened = index.effect_locations(world.views, world.selected_id)[0]
    works = world.sources.get("construction").read(opened[1] - 1, limit=1)[0]
    caused_by = history.why(world.sources, world.views, works.event_id)["caused_by"]
    assert [c["type"] for c in caused_by] == ["VillageSelected"]

    overrides = history.village_history(world.sources, world.views, BAJUR)[3]
    chain = history.why(world.sources, world.views, overrides["event_id"])["based_on"]
    assert chain[0]["event"]["type"] == "EligibilityDecided"
    assert chain[0]["based_on"][0]["event"]["type"] == "IndicatorsRecorded"

    hidden = history.why(world.sources, world.views, overrides["event_id"],
                         visible=lambda record: False)["based_on"][0]
    assert hidden["hidden"] is True and "payload" not in str(hidden)
    with pytest.raises(NotFound) as unknown:
        history.why(world.sources, world.views, "00000000-0000-4000-8000-000000000000")
    assert unknown.value.field == "event_id"


def moment_before(recorded_at, microseconds=1):
    return format_time(parse_time(recorded_at) - timedelta(microseconds=microseconds))


def board(state, code=BAJUR):
    return state["views"]["registration.village_board"]["villages"][code]


def test_state_as_of_a_moment_includes_exactly_what_was_recorded_by_then(world):
    registry = discover()
    entries = history.village_history(world.sources, world.views, BAJUR)
    overridden = entries[3]
    at = state_as_of(world.sources, world.views, registry, BAJUR, overridden["recorded_at"])
    assert board(at)["status"] == "eligible" and board(at)["override"] is not None
    assert at["last_event"]["type"] == "EligibilityOverridden"
    before = state_as_of(world.sources, world.views, registry, BAJUR,
                         moment_before(overridden["recorded_at"]))
    assert board(before)["status"] == "ineligible" and board(before)["override"] is None
    assert before["cuts"]["registration"] < at["cuts"]["registration"]

    first = entries[0]["recorded_at"]
    nothing = state_as_of(world.sources, world.views, registry, BAJUR, moment_before(first))
    assert nothing["views"] == {} and nothing["events"] == 0
    now = state_as_of(world.sources, world.views, registry, BAJUR, "2999-01-01T00:00:00.000000Z")
    assert board(now)["status"] == "selected"
    assert list(now["views"]["registration.village_board"]["villages"]) == [BAJUR]
    assert NEIGHBOUR not in str(now)


def test_the_html_page_has_timeline_decisions_and_signers(world):
    entries = history.village_history(world.sources, world.views, BAJUR)
    page = report.history_page(BAJUR, entries, "2026-11-28T10:00:00.000000Z", "bpkp-1 (auditor)")
    assert page.startswith("<!DOCTYPE html>") and "@media print" in page
    assert "Bajur (52.01.08.2006)" in page and "Labuapi" in page
    for text in ("Decisions", "Who signed and decided", "Timeline", "EligibilityOverridden",
                 "kemen-1", "plpbk-seed v1", "rplp.pdf", "no_unresolved_misuse: fail"):
        assert text in page, text
    tricky = [dict(entries[0], type="<script>alert(1)</script>")]
    assert "<script>alert" not in report.history_page(BAJUR, tricky, "now", "me")


def test_the_html_page_says_what_was_signed_by_whom_in_person_and_on_which_day(world):
    """A sign-off recorded weeks after it was signed: the page must show the day signed,
    the step, the document and the person (name and position), not only the account that
    recorded it and when; the Lurah signs two steps of each plan, which would otherwise
    read as two identical rows."""
    entries = history.village_history(world.sources, world.views, BAJUR)
    signed = dict(entries[0], type="DocumentSigned", recorded_at="2024-09-15T02:00:00.000000Z",
                  rule_versions=[], evidence=[], payload={
                      "code": BAJUR, "kind": "rplp", "document_id": f"{BAJUR}-rplp",
                      "version": 2, "step": "acknowledged", "capacity": "lurah",
                      "signer": {"name": "Lalu Sahnan", "position": "Kepala Desa Bajur"},
                      "role": "district", "signed_on": "2024-08-20",
                      "content": {"vision": "not a fact to list",
                                  "horizon": {"start_year": 2025, "end_year": 2029}}})
    page = report.history_page(BAJUR, [signed], "now", "me")
    decisions = page[page.index("<h2>Decisions</h2>"):page.index("<h2>Who signed")]
    for fact in ("signed_on: 2024-08-20", "step: acknowledged", f"document_id: {BAJUR}-rplp",
                 "version: 2", "signer: Lalu Sahnan, Kepala Desa Bajur"):
        assert fact in decisions, fact
    assert "not a fact to list" not in page and f"code: {BAJUR}" not in decisions


def test_the_history_table_shows_recorded_text_as_it_is(world):
    """An actor id such as "ops[/x]" (any text an operator's --actor or a person's name
    may hold) stopped `plpbk audit history` with "unexpected failure: MarkupError", and
    "[bold]" vanished from the id the auditor read."""
    from rich.console import Console

    from services.audit.cli import history_table
    entries = history.village_history(world.sources, world.views, BAJUR)
    entries[0]["actor"]["id"] = "ops[/x] [bold]"
    entries[1]["rule_versions"] = [{"field": "rule_set", "id": "seed[/r]", "version": 1}]
    console = Console(record=True, width=400)
    console.print(history_table(BAJUR, entries))
    shown = console.export_text()
    assert "ops[/x] [bold] (district)" in shown and "seed[/r] v1" in shown
