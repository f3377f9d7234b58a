"""The audit service over RabbitMQ beside the real registration service: histories, states as
of a moment, why, errors that name their field, region scopes, ledgers that appear later."""
import json
import os
from datetime import timedelta

import pytest
from click.testing import CliRunner

from services.cli import cli
from shared.chassis.errors import Forbidden, InvalidInput, NotFound
from shared.ledger import Actor, Metadata, NewEvent, ledger_names, open_ledger
from shared.ledger.envelope import format_time, parse_time
from shared.schemas import indonesia_today

from .conftest import (AUDITOR, BAJUR, DISTRICT, NEIGHBOUR, proxy, run_registration_flows)


def plpbk(config, *args):
    return CliRunner(env={"COLUMNS": "250"}).invoke(cli, [*args, "--amqp", config["AMQP_URI"],
                                    "--role", "auditor"])


def test_history_why_and_report_of_real_decisions(registration, audit, tmp_path):
    run_registration_flows(registration)
    with proxy(audit, "audit", AUDITOR) as auditor:
        history = auditor.history(BAJUR)
        types = [e["type"] for e in history]
        assert types == ["VillageRegistered", "IndicatorsRecorded", "EligibilityDecided",
                         "EligibilityOverridden"]
        decided, overridden = history[2], history[3]
        assert decided["actor"] == DISTRICT and overridden["actor"]["role"] == "ministry"
        assert decided["rule_versions"][0] == {"field": "rule_set", "id": "plpbk-seed",
                                               "version": 1}
        assert decided["evidence"][0]["type"] == "IndicatorsRecorded"
        why = auditor.why(overridden["event_id"])
        assert why["based_on"][0]["event"]["event_id"] == decided["event_id"]
        assert why["based_on"][0]["based_on"][0]["event"]["type"] == "IndicatorsRecorded"
        selected = auditor.history(NEIGHBOUR)[-1]
        assert selected["type"] == "VillageSelected" and selected["actor"]["id"] == "kemen-1"
        page = auditor.history_html(BAJUR)
        assert "EligibilityOverridden" in page and "bpkp-1 (auditor)" in page

    html = tmp_path / "bajur.html"
    result = plpbk(audit, "audit", "history", BAJUR, "--html", str(html))
    assert result.exit_code == 0, result.output
    assert "EligibilityOverridden" in result.output and "plpbk-seed v1" in result.output
    assert html.read_text().startswith("<!DOCTYPE html>")
    result = plpbk(audit, "audit", "why", decided["event_id"])
    assert result.exit_code == 0 and json.loads(result.output)["event"]["type"] == \
        "EligibilityDecided"


def before(recorded_at, microseconds=1):
    return format_time(parse_time(recorded_at) - timedelta(microseconds=microseconds))


def test_state_as_of_exactly_at_and_just_before_an_event(registration, audit):
    run_registration_flows(registration)
    with proxy(audit, "audit", AUDITOR) as auditor:
        overridden = auditor.history(BAJUR)[-1]
        at = auditor.state_as_of(BAJUR, overridden["recorded_at"])
        village = at["views"]["registration.village_board"]["villages"][BAJUR]
        assert village["status"] == "eligible" and at["last_event"]["position"] == \
            overridden["position"]
        earlier = auditor.state_as_of(BAJUR, before(overridden["recorded_at"]))
        village = earlier["views"]["registration.village_board"]["villages"][BAJUR]
        assert village["status"] == "ineligible" and village["override"] is None
        local = parse_time(overridden["recorded_at"]) + timedelta(hours=8)
        same = auditor.state_as_of(BAJUR, local.strftime("%Y-%m-%dT%H:%M:%S.%f+08:00"))
        assert same["cuts"] == at["cuts"]
    # today in UTC+9, the latest date admitted (2999-12-31 is refused: not yet recorded)
    result = plpbk(audit, "audit", "state", BAJUR, "--as-of", indonesia_today().isoformat())
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["views"]["registration.village_board"]["villages"][
        BAJUR]["status"] == "eligible"


def test_every_bad_input_gets_an_error_naming_its_field(registration, audit):
    run_registration_flows(registration)
    unknown_id = "00000000-0000-4000-8000-000000000000"
    with proxy(audit, "audit", AUDITOR) as auditor:
        for call, error, field in (
                (lambda: auditor.history("52.01.08.2999"), NotFound, "code"),
                (lambda: auditor.history("Bajur"), InvalidInput, "code"),
                (lambda: auditor.state_as_of(BAJUR, "last tuesday"), InvalidInput, "as_of"),
                (lambda: auditor.state_as_of(BAJUR, "2026-01-01T10:00:00"), InvalidInput,
                 "as_of"),
                (lambda: auditor.state_as_of(BAJUR, "9999-12-31"), InvalidInput, "as_of"),
                (lambda: auditor.export_bundle({"village": BAJUR, "to": "9999-12-31"}),
                 InvalidInput, "to"),
                (lambda: auditor.why(unknown_id), NotFound, "event_id"),
                (lambda: auditor.why("42"), InvalidInput, "event_id"),
                (lambda: auditor.tree_head("construction"), NotFound, "ledger"),
                (lambda: auditor.tree_head("../etc"), InvalidInput, "ledger"),
                (lambda: auditor.inclusion_proof("registration", 0), InvalidInput, "position"),
                (lambda: auditor.inclusion_proof("registration", 999), NotFound, "position"),
                (lambda: auditor.inclusion_proof("registration", "1"), InvalidInput,
                 "position"),
                (lambda: auditor.consistency_proof("registration", 5, 3), InvalidInput,
                 "first"),
                (lambda: auditor.export_bundle({"village": BAJUR, "region": "52"}),
                 InvalidInput, "village")):
            with pytest.raises(error) as raised:
                call()
            assert raised.value.field == field, str(raised.value)
    # named as the operator typed them: CODE, --as-of, EVENT_ID, LEDGER
    for args, text in ((("audit", "history", "52.01.08.2999"), "CODE: no event about"),
                       (("audit", "state", BAJUR, "--as-of", "soon"), "--as-of:"),
                       (("audit", "state", BAJUR, "--as-of", "9999-12-31"), "in the future"),
                       (("audit", "why", unknown_id), "EVENT_ID:"),
                       (("audit", "tree-head", "construction"), "LEDGER:")):
        result = plpbk(audit, *args)
        assert result.exit_code == 2 and text in result.output, result.output
        assert "Traceback" not in result.output


def test_region_scopes_and_roles_are_enforced(registration, audit):
    run_registration_flows(registration)
    jakarta = {"id": "dki-1", "role": "auditor", "region": "31"}
    with proxy(audit, "audit", DISTRICT) as district:
        assert district.history(BAJUR)
        decided = district.history(BAJUR)[2]
    with proxy(audit, "audit", jakarta) as outsider:
        with pytest.raises(Forbidden):
            outsider.history(BAJUR)
        with pytest.raises(Forbidden):
            outsider.why(decided["event_id"])
        # refused naming the scope's own field (was "code", which neither has)
        for scope, field in (({"village": BAJUR}, "village"), ({"region": "52"}, "region")):
            with pytest.raises(Forbidden) as refused:
                outsider.export_bundle(scope)
            assert refused.value.field == field
    with proxy(audit, "audit", {"id": "bkm-1", "role": "bkm", "region": BAJUR}) as bkm:
        with pytest.raises(Forbidden):
            bkm.history(BAJUR)


def test_a_ledger_that_appears_later_is_indexed_and_nothing_is_written(registration, audit):
    run_registration_flows(registration)
    store = audit["STORE_URI"]
    with proxy(audit, "audit", AUDITOR) as auditor:
        assert [e["ledger"] for e in auditor.history(BAJUR)] == ["registration"] * 4
        later = open_ledger(store, "construction")  # a service deployed after the audit
        cause = auditor.history(BAJUR)[-1]
        later.append(f"works-{BAJUR}-1", 0, [NewEvent("WorksHandedOver", {
            "code": BAJUR, "work_package_id": "wp-1", "handed_over_on": "2027-01-10"})],
            Metadata(Actor("ksm-1", "bkm", BAJUR), "c", cause["event_id"]))
        later.close()
        history = auditor.history(BAJUR)
        assert history[-1]["ledger"] == "construction"
        assert history[-1]["caused_by"]["event_id"] == cause["event_id"]
        assert {row["ledger"] for row in auditor.ledgers()} == {"registration", "construction"}
    assert "audit" not in ledger_names(store)
    assert not os.path.exists(store[len("sqlite:///"):] + "/audit.db")


def test_a_district_sees_its_kabupatens_quota_records_and_no_other_region_does(
        registration, audit, keys, tmp_path):
    """quota-52.01 is about kabupaten 52.01, not a village: its district replays why
    villages were or were not selected (why, proofs, a --prefix 52.01 bundle); 52.02
    does not see it. Before, every regional reader was refused it."""
    run_registration_flows(registration)
    ledger = open_ledger(audit["STORE_URI"], "registration")
    quota = ledger.read_stream("quota-52.01")
    ledger.close()
    assert [r.type for r in quota] == ["QuotaSet", "SelectionRoundRecorded"]
    with proxy(audit, "audit", DISTRICT) as district:
        why = district.why(quota[-1].event_id)
        assert why["event"]["payload"]["kabupaten"]["code"] == "52.01"
        assert district.event_proof(quota[0].event_id)["position"] == quota[0].position
        assert district.inclusion_proof("registration", quota[-1].position)
    neighbour = {"id": "dinas-2", "role": "district", "region": "52.02"}
    with proxy(audit, "audit", neighbour) as outsider:
        for call in (lambda: outsider.why(quota[-1].event_id),
                     lambda: outsider.event_proof(quota[0].event_id),
                     lambda: outsider.inclusion_proof("registration", quota[-1].position)):
            with pytest.raises(Forbidden):
                call()
        with pytest.raises(NotFound):   # nothing is about 52.02
            outsider.export_bundle({"region": "52.02"})

    out = tmp_path / "52.01.json"
    result = CliRunner().invoke(cli, [
        "audit", "export", "--prefix", "52.01", "--out", str(out), "--amqp",
        audit["AMQP_URI"], "--role", "auditor", "--region", "52.01"])
    assert result.exit_code == 0, result.output
    bundle = json.loads(out.read_text())
    positions = {e["position"] for e in bundle["events"] if e["ledger"] == "registration"}
    assert {r.position for r in quota} <= positions
    checked = CliRunner().invoke(cli, ["verify-bundle", str(out), "--public-key",
                                       keys["public"]])
    assert checked.exit_code == 0, checked.output
