"""Gates fed by other services over the real RabbitMQ: planning's DocumentApproved events
complete stage 4 and construction's WorksHandedOver stage 5, through the template's gate
mapping. The events are recorded in real planning and construction ledgers and reach
the cycle service as their relays publish them (doorbells)."""
import hashlib
from datetime import timedelta

import pytest

from services.cycle.service import CycleService
from shared.chassis.errors import CommandRejected
from shared.ledger import Actor, Metadata
from shared.schemas import indonesia_today

from ..conftest import publish, record, wait_for
from .conftest import (
    BAJUR,
    FASKEL,
    call,
    caught_up,
    cycle_of,
    select,
    stream,
    wait_open,
    walk_to_stage_4,
)

# today in Papua (UTC+9), the latest date anyone in Indonesia may record as today
TODAY = indonesia_today().isoformat()
A_MONTH_AGO = (indonesia_today() - timedelta(days=30)).isoformat()
BKM = Actor("bkm-bajur", "bkm", BAJUR)
STAGE_4 = {"rplp": "rplp_disetujui", "rtplp": "rtplp_disetujui",
           "aturan_bersama": "aturan_bersama_disetujui",
           "marketing_strategy": "strategi_pemasaran_disetujui"}


def approval(kind, code=BAJUR, approved_on=TODAY):
    """A DocumentApproved payload as docs/events.md and the planning service write it."""
    return {"code": code, "kind": kind, "document_id": f"{code}-{kind}", "version": 1,
            "meeting_id": f"{code}-m-{kind}", "approved_on": approved_on,
            "attendance": {"men": 24, "women": 16, "poor": 9, "attendees": 40},
            "rule": {"id": "plpbk-musyawarah", "version": 1},
            "criteria": [
                {"criterion": "minimum_attendance", "measure": "attendees", "value": 40,
                 "operator": ">=", "threshold": 30, "result": "pass"},
                {"criterion": "women_participation", "measure": "women_percent",
                 "value": "40.00", "operator": ">=", "threshold": "30", "result": "pass"}],
            "content_digest": hashlib.sha256(kind.encode()).hexdigest()}


def approve(config, kinds=tuple(STAGE_4), code=BAJUR, approved_on=TODAY):
    found = {kind: record(config, "planning", f"document-{code}-{kind}", "DocumentApproved",
                          approval(kind, code, approved_on),
                          Metadata(BKM, f"corr-{kind}"))
             for kind in kinds}
    publish(config, "planning")
    return found


def outputs_done(config, outputs):
    cycle = cycle_of(config)
    return cycle if cycle and set(outputs) <= set(cycle["done_outputs"]) else None


def test_the_doorbells_follow_the_gate_mapping():
    for ledger, types in (("registration", ["VillageSelected"]),
                          ("planning", ["DocumentApproved"]),
                          ("construction", ["WorksHandedOver"])):
        entrypoints = getattr(CycleService, f"on_{ledger}").nameko_entrypoints
        assert sorted(e.event_type for e in entrypoints) == types
        assert {e.source_service for e in entrypoints} == {ledger}


def test_planning_approvals_complete_stage_4_and_a_handover_stage_5(platform):
    select(platform)
    wait_open(platform)
    at_stage_4 = walk_to_stage_4(platform)
    assert at_stage_4["stage"] == 4
    with call(platform, actor=FASKEL) as cycle, pytest.raises(CommandRejected) as refused:
        cycle.complete_stage(BAJUR, {"completed_on": TODAY})
    assert str(refused.value).endswith(
        "missing outputs: rplp_disetujui, aturan_bersama_disetujui, rtplp_disetujui, "
        "strategi_pemasaran_disetujui")

    approvals = approve(platform)
    cycle = wait_for(lambda: outputs_done(platform, STAGE_4.values()),
                     what="the four approvals to reach the cycle")
    assert cycle["missing_outputs"] == []
    satisfied = {r.payload["output"]: r for r in stream(platform)
                 if r.type == "OutputSatisfied"}
    for kind, output in STAGE_4.items():
        source = approvals[kind]
        assert satisfied[output].causation_id == source.event_id
        assert satisfied[output].correlation_id == f"corr-{kind}"
        assert satisfied[output].payload["by"] == {
            "ledger": "planning", "type": "DocumentApproved", "event_id": source.event_id,
            "position": source.position, "code": BAJUR}
        assert satisfied[output].payload["on"] == TODAY   # the approval's approved_on
    with call(platform, actor=FASKEL) as cycle:
        assert cycle.complete_stage(BAJUR, {"completed_on": TODAY})["stage"] == 5
        with pytest.raises(CommandRejected, match="missing outputs: pekerjaan_diserahterimakan"):
            cycle.complete_stage(BAJUR, {"completed_on": TODAY})

    handover = record(platform, "construction", f"package-{BAJUR}-wp1", "WorksHandedOver",
                      {"code": BAJUR, "work_package_id": "wp1", "handed_over_on": TODAY},
                      Metadata(BKM, "corr-handover"))
    publish(platform, "construction")
    cycle = wait_for(lambda: outputs_done(platform, ["pekerjaan_diserahterimakan"]),
                     what="the handover to reach the cycle")
    assert cycle["done_outputs"]["pekerjaan_diserahterimakan"]["by"]["event_id"] == \
        handover.event_id
    with call(platform, actor=FASKEL) as cycle:
        after = cycle.complete_stage(BAJUR, {"completed_on": TODAY})
    assert (after["stage"], after["stages"]["5"]["completed_on"]) == (6, TODAY)


def test_a_completion_sent_before_the_approvals_arrive_reads_them_first(platform):
    """Approved in planning a moment ago, not yet announced (no doorbell has rung, the
    safety net waits an hour): completing the stage reads the approvals before deciding,
    so the facilitator is not told an output is missing that planning has recorded."""
    select(platform)
    wait_open(platform)
    walk_to_stage_4(platform)
    approvals = {kind: record(platform, "planning", f"document-{BAJUR}-{kind}",
                              "DocumentApproved", approval(kind),
                              Metadata(BKM, f"corr-{kind}"))
                 for kind in STAGE_4}
    with call(platform, actor=FASKEL) as cycle:
        after = cycle.complete_stage(BAJUR, {"completed_on": TODAY})
    assert after["stage"] == 5
    satisfied = {r.payload["output"]: r.causation_id for r in stream(platform)
                 if r.type == "OutputSatisfied"}
    assert satisfied == {STAGE_4[kind]: r.event_id for kind, r in approvals.items()}


def test_approvals_before_the_cycle_opens_are_kept_for_the_gate(platform):
    approvals = approve(platform, approved_on=A_MONTH_AGO)
    last = max(r.position for r in approvals.values())
    wait_for(lambda: caught_up(platform, "cycle.outputs_from_planning", last),
             what="the reaction to see the approvals")
    assert cycle_of(platform) is None                     # not open, but remembered
    assert [r.type for r in stream(platform)] == ["OutputSatisfied"] * 4

    select(platform)
    opened = wait_open(platform)
    assert set(STAGE_4.values()) <= set(opened["done_outputs"])
    assert opened["stage"] == 1                           # kept until stage 4 is reached
    assert walk_to_stage_4(platform)["missing_outputs"] == []
    with call(platform, actor=FASKEL) as cycle:
        assert cycle.complete_stage(BAJUR, {"completed_on": TODAY})["stage"] == 5


def test_redelivered_or_unmapped_events_record_nothing(platform):
    select(platform)
    wait_open(platform)
    approve(platform, kinds=["rplp"])
    wait_for(lambda: outputs_done(platform, ["rplp_disetujui"]), what="the RPLP approval")
    strays = [record(platform, "planning", f"document-{BAJUR}-other", "DocumentApproved",
                     approval("musrenbang_note"), Metadata(BKM, "corr-x"), foreign=True),
              record(platform, "planning", "document-nowhere-rplp", "DocumentApproved",
                     approval("rplp", code="not a code"), Metadata(BKM, "corr-y"),
                     foreign=True)]
    publish(platform, "planning", from_position=0)        # everything again, and the strays
    wait_for(lambda: caught_up(platform, "cycle.outputs_from_planning", strays[-1].position),
             what="the reaction to see the strays")
    assert [r.type for r in stream(platform)] == ["CycleOpened", "OutputSatisfied"]
    with call(platform) as cycle:
        assert cycle.parked() == []
