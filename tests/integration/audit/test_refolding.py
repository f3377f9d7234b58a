"""Every view of every service folds the same when events it applied come again
(tests/refolding.py), over the ledgers the real services write. A new service's views
fold nothing here until its events are added to the scenario, and the test says so."""
from click.testing import CliRunner

from services.cli import cli
from services.cycle.service import CycleService
from tests.integration.conftest import wait_for
from tests.refolding import refold_differences

from .conftest import (AUDITOR, BAJUR, DISTRICT, ELIGIBLE, NEIGHBOUR, plan_bajur, proxy,
                       run_cycle_flows, select_bajur)


def test_every_view_folds_the_same_when_events_come_again(registration, planning, audit,
                                                          container_factory, audit_config,
                                                          monkeypatch):
    container_factory(CycleService, audit_config).start()
    monkeypatch.setenv("PLPBK_ACTOR", "operator:ani")   # the gateway's users, as operators
    for args in (["create", "siti", "--name", "Siti", "--role", "district", "--region",
                  "52.01", "--password-stdin"], ["disable", "siti", "--reason", "moved"],
                 ["enable", "siti", "--reason", "back"]):
        done = CliRunner().invoke(cli, ["users", *args, "--store", audit_config["STORE_URI"],
                                        "--state", audit_config["STATE_URI"]],
                                  input="correct horse battery staple\n")
        assert done.exit_code == 0, done.output
    select_bajur(registration)
    with proxy(audit, "audit", AUDITOR) as auditor:
        wait_for(lambda: "cycle" in {e["ledger"] for e in auditor.history(BAJUR)},
                 what="the cycle opened by the selection")
    today = run_cycle_flows(audit_config, BAJUR, stages=3)
    plan_bajur(planning, on=today)
    with proxy(registration, "registration", DISTRICT) as district:   # after the selection
        district.register_village({"code": NEIGHBOUR})
        district.record_indicators(NEIGHBOUR, ELIGIBLE)
        district.record_indicators(NEIGHBOUR, {**ELIGIBLE, "indicators": {
            **ELIGIBLE["indicators"], "fund_misuse_cases": 1}})        # a correction
    with proxy(registration, "registration") as ministry:
        ministry.override_eligibility(NEIGHBOUR, {
            "eligible": True, "justification": "The case was settled in court in 2024."})
    with proxy(audit, "audit", AUDITOR) as auditor:
        wait_for(lambda: any(e["type"] == "OutputSatisfied"
                             for e in auditor.history(BAJUR)),
                 what="the stage-4 output")
    assert refold_differences(audit_config["STORE_URI"]) == {}
