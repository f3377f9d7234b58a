"""One village's decisions through every service, replayed by the audit: registration
selects it, cycle opens its cycle (a reaction: causation id), planning drafts, approves in
a meeting and signs its RPLP with attachments. The real services run in their containers."""
import hashlib
import json

from click.testing import CliRunner

from services.audit.bundle import bundle_bytes
from services.cli import cli
from services.cycle.service import CycleService
from tests.integration.conftest import wait_for

from .conftest import (AUDITOR, BAJUR, BKM, FASKEL, bajur_in_planning_stage, plan_bajur,
                       proxy, run_cycle_flows, select_bajur)


def test_registration_and_planning_in_one_history_and_one_bundle(registration, planning,
                                                                 audit, keys, tmp_path):
    select_bajur(registration)
    bajur_in_planning_stage(planning)
    files = plan_bajur(planning)
    with proxy(audit, "audit", AUDITOR) as auditor:
        history = auditor.history(BAJUR)
        ledgers = [e["ledger"] for e in history]
        assert {"registration", "planning"} <= set(ledgers)
        assert ledgers.index("planning") > ledgers.index("registration")
        types = [e["type"] for e in history]
        for expected in ("VillageSelected", "AttachmentStored", "DocumentDrafted",
                         "MeetingRecorded", "DocumentApproved", "DocumentSigned"):
            assert expected in types, types
        approved = history[types.index("DocumentApproved")]
        assert approved["actor"] == BKM
        hashes = {a["sha256"] for e in history for a in e["attachments"]}
        assert set(files.values()) <= hashes
        signed = history[types.index("DocumentSigned")]
        page = auditor.history_html(BAJUR)
        assert "DocumentSigned" in page and "bkm-bajur" in page and files["map"] in page
        why = auditor.why(approved["event_id"])
        assert why["event"]["type"] == "DocumentApproved"
        # the meeting that decided it, with who was present, is what it rests on
        (meeting,) = [b for b in why["based_on"] if b["event"]["type"] == "MeetingRecorded"]
        assert meeting["paths"] == ["meeting_event_id"]
        state = auditor.state_as_of(BAJUR, signed["recorded_at"])
        assert "planning.planning_board" in state["views"]
        assert state["views"]["registration.village_board"]["villages"][BAJUR][
            "status"] == "selected"
        bundle = auditor.export_bundle({"village": BAJUR})
    assert {"registration", "planning"} <= set(bundle["tree_heads"])
    assert {a["sha256"] for a in bundle["attachments"]} >= set(files.values())
    path = tmp_path / "bajur.json"
    path.write_bytes(bundle_bytes(bundle))
    checked = CliRunner().invoke(cli, ["verify-bundle", str(path), "--public-key",
                                       keys["public"], "--json"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["events"] == len(bundle["events"])
    # An auditor handed the map checks it against the hash the ledger recorded.
    assert hashlib.sha256(b"%PDF-1.7\npeta kondisi").hexdigest() in {
        a["sha256"] for a in bundle["attachments"] if a["name"] == "Peta kondisi eksisting"}


def test_three_services_with_the_causation_chain(registration, planning, audit, keys,
                                                 container_factory, audit_config, tmp_path):
    """registration selects -> cycle opens (a reaction); a facilitator records an activity;
    planning approves the RPLP -> cycle marks the stage-4 output (another reaction)."""
    container_factory(CycleService, audit_config).start()
    select_bajur(registration)
    with proxy(audit, "audit", AUDITOR) as auditor:
        wait_for(lambda: "cycle" in {e["ledger"] for e in auditor.history(BAJUR)},
                 what="the cycle opened by the selection")
    today = run_cycle_flows(audit_config, BAJUR, stages=3)  # on to the planning stage
    plan_bajur(planning, on=today)
    with proxy(audit, "audit", AUDITOR) as auditor:
        history = wait_for(lambda: (h := auditor.history(BAJUR)) and any(
            e["type"] == "OutputSatisfied" for e in h) and h, what="the stage-4 output")
        assert {e["ledger"] for e in history} == {"registration", "cycle", "planning"}
        by_type = {e["type"]: e for e in history}
        selected, opened = by_type["VillageSelected"], by_type["CycleOpened"]
        approved, satisfied = by_type["DocumentApproved"], by_type["OutputSatisfied"]
        assert opened["caused_by"]["event_id"] == selected["event_id"]
        assert opened["actor"]["role"] == "system" and opened["rule_versions"]
        assert satisfied["caused_by"]["event_id"] == approved["event_id"]
        assert satisfied["caused_by"]["ledger"] == "planning"
        assert approved["event_id"] in [e["event_id"] for e in satisfied["evidence"]]
        assert by_type["ActivityRecorded"]["actor"] == FASKEL

        explained = auditor.why(selected["event_id"])
        assert [c["event"]["type"] for c in explained["caused"]] == ["CycleOpened"]
        explained = auditor.why(approved["event_id"])
        assert "OutputSatisfied" in [c["event"]["type"] for c in explained["caused"]]

        now = auditor.state_as_of(BAJUR, satisfied["recorded_at"])
        assert {"registration.village_board", "cycle.cycle_board",
                "planning.planning_board"} <= set(now["views"])
        assert now["views"]["cycle.cycle_board"]["cycles"][BAJUR]["code"] == BAJUR
        before = auditor.state_as_of(BAJUR, moment_before(opened["recorded_at"]))
        assert "cycle.cycle_board" not in before["views"]
        bundle = auditor.export_bundle({"village": BAJUR})
    assert set(bundle["tree_heads"]) == {"registration", "cycle", "planning"}
    path = tmp_path / "three.json"
    path.write_bytes(bundle_bytes(bundle))
    checked = CliRunner().invoke(cli, ["verify-bundle", str(path), "--public-key",
                                       keys["public"]])
    assert checked.exit_code == 0, checked.output


def moment_before(recorded_at):
    from datetime import timedelta
    from shared.ledger.envelope import format_time, parse_time
    return format_time(parse_time(recorded_at) - timedelta(microseconds=1))
