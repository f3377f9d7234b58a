"""Cycle commands on one village sent at the same moment, as real concurrent RPC calls
over RabbitMQ (every call is sent before any answer is awaited; the service's workers
decide them side by side and their appends interleave): the outcome docs/cycle.md
promises, every loser refused naming its field, the ledger and the views agreeing
afterwards, and nothing parked."""
import threading

import shared.schemas
from services.cycle.service import CycleService
from services.registration.service import RegistrationService
from shared.chassis.errors import CommandRejected, Conflict, InvalidInput
from shared.ledger import Metadata

from ..conftest import publish, race, record, wait_for
from .conftest import (
    BAJUR,
    FASKEL,
    TODAY,
    activity,
    call,
    caught_up,
    select,
    stream,
    wait_open,
    walk_to_stage_4,
)
from .test_cycle_gates import BKM, STAGE_4, approval

OTHER_FASKEL = {"id": "faskel-9", "role": "facilitator", "region": "52.01"}
OTHER_MINISTRY = {"id": "kemen-2", "role": "ministry", "region": ""}
REASON = "Held jointly with the 2025 city workshop (BA 12/2025)."
# stages 1-3: the activity that produces each stage's last output, and that output
LAST_OF_STAGE = {1: ("lokakarya_kota", "lokakarya_kota"),
                 2: ("refleksi_perkara_kritis", "laporan_rpk"),
                 3: ("pemetaan_swadaya", "peta_tematik")}
FIRST_ACTIVITIES = ["lokakarya_kelurahan", "sosialisasi_massal", "pengukuhan_tipp"]


def in_turn(round_, race, calls):
    """race(*calls), sent in the given order in even rounds and reversed in odd ones
    (the first sent is decided first more often than not); the outcomes in given order."""
    if round_ % 2 == 0:
        return race(*calls)
    return race(*reversed(calls))[::-1]


def winners(outcomes):
    return [o for o in outcomes if not isinstance(o, Exception)]


def losers(outcomes):
    return [o for o in outcomes if isinstance(o, Exception)]


def types(config, code=BAJUR):
    return [r.type for r in stream(config, code)]


def settled(config, code=BAJUR):
    """Nothing parked, and the live view is the cycle replayed from its stream."""
    with call(config) as cycle:
        assert cycle.parked() == []
        now = cycle.get_cycle(code)
        replayed = cycle.get_cycle(code, shared.schemas.utc_now().isoformat())
    assert now == replayed
    return now


def activities_belong_to_open_stages(config, code=BAJUR):
    """Every ActivityRecorded names the stage the cycle was at when it was recorded."""
    current = 0
    for r in stream(config, code):
        if r.type == "CycleOpened":
            current = 1
        elif r.type == "StageCompleted":
            current = r.payload["stage"] + 1
        elif r.type == "ActivityRecorded":
            assert r.payload["stage"] == current, (r.payload, current)


def test_two_facilitators_completing_one_stage_complete_it_once(platform):
    """With the stage named (as clients should send it), the loser is told the stage is
    already complete (409 stage); without it, the next stage's gate refuses (422); with
    one idempotency key, both are answered with the stage completed once."""
    select(platform)
    wait_open(platform)
    with call(platform, actor=FASKEL) as first, call(platform, actor=OTHER_FASKEL) as second:
        for key in FIRST_ACTIVITIES + ["lokakarya_kota"]:
            first.record_activity(BAJUR, activity(key))
        outcomes = race(*[(service, "complete_stage", (BAJUR, {"completed_on": TODAY,
                                                                "stage": 1}))
                          for service in (first, second)])
        [won], [lost] = winners(outcomes), losers(outcomes)
        assert won["stage"] == 2
        assert isinstance(lost, Conflict) and lost.field == "stage", lost
        assert "stage 1 is already complete; the cycle is at stage 2" in str(lost)

        first.record_activity(BAJUR, activity("refleksi_perkara_kritis"))
        outcomes = race(*[(service, "complete_stage", (BAJUR, {"completed_on": TODAY}))
                          for service in (first, second)])
        [won], [lost] = winners(outcomes), losers(outcomes)
        assert won["stage"] == 3
        assert type(lost) is CommandRejected and lost.field == "outputs", lost
        assert str(lost).endswith("missing outputs: peta_tematik")

        # one form sent twice with its idempotency key: both are answered with the
        # stage completed once
        first.record_activity(BAJUR, activity("pemetaan_swadaya"))
        answers = race(*[(service, "complete_stage", (BAJUR, {"completed_on": TODAY},
                                                      "complete-3"))
                         for service in (first, second)])
        assert not losers(answers), answers
        assert [answer["stage"] for answer in answers] == [4, 4]
    assert types(platform).count("StageCompleted") == 3
    assert settled(platform)["stage"] == 4


def test_an_activity_sent_with_its_stages_completion_belongs_to_one_open_stage(platform):
    """Recorded first, the activity is on its stage's timeline before the completion;
    the completion first, the activity is refused (400 activity), never put on a stage
    already closed."""
    select(platform)
    wait_open(platform)
    with call(platform, actor=FASKEL) as first, call(platform, actor=OTHER_FASKEL) as second:
        for key in FIRST_ACTIVITIES:
            first.record_activity(BAJUR, activity(key))
        for stage, (key, _output) in LAST_OF_STAGE.items():
            first.record_activity(BAJUR, activity(key))
            another = activity(key, place=f"Balai Dusun {stage}")   # a second meeting
            recorded, completed = in_turn(stage, race, (
                (first, "record_activity", (BAJUR, another)),
                (second, "complete_stage", (BAJUR, {"completed_on": TODAY,
                                                    "stage": stage}))))
            assert completed["stage"] == stage + 1
            held = [a for a in stream(platform) if a.type == "ActivityRecorded"
                    and a.payload["place"] == another["place"]]
            if isinstance(recorded, Exception):
                assert isinstance(recorded, InvalidInput) and recorded.field == "activity"
                assert f"not an activity of stage {stage + 1}" in str(recorded)
                assert held == []
            else:
                [held] = held
                assert held.payload["stage"] == stage
                assert held.event_id in {a["event_id"] for a in completed["timeline"]}
    activities_belong_to_open_stages(platform)
    assert settled(platform)["stage"] == 4


def test_a_waiver_sent_with_its_stages_completion(platform):
    """The waiver is recorded either way; the completion goes through after it (the
    waiver as the output's evidence) or is refused before it (422 outputs)."""
    select(platform)
    wait_open(platform)
    with call(platform, actor=FASKEL) as faskel, call(platform) as ministry:
        for key in FIRST_ACTIVITIES:
            faskel.record_activity(BAJUR, activity(key))
        for stage, (_key, output) in LAST_OF_STAGE.items():   # the output never done
            waived, completed = in_turn(stage, race, (
                (ministry, "waive_output", (BAJUR, {"output": output,
                                                    "justification": REASON})),
                (faskel, "complete_stage", (BAJUR, {"completed_on": TODAY,
                                                    "stage": stage}))))
            assert waived["done_outputs"][output]["how"] == "waived"
            [waiver] = [r for r in stream(platform) if r.type == "OutputWaived"
                        and r.payload["output"] == output]
            if isinstance(completed, Exception):
                assert type(completed) is CommandRejected and completed.field == "outputs"
                assert str(completed).endswith(f"missing outputs: {output}")
                assert types(platform).count("StageCompleted") == stage - 1
                completed = faskel.complete_stage(BAJUR, {"completed_on": TODAY,
                                                          "stage": stage})
            [done] = [r for r in stream(platform) if r.type == "StageCompleted"
                      and r.payload["stage"] == stage]
            assert done.payload["outputs"][output] == "waived"
            assert done.payload["evidence"][output] == waiver.event_id
            assert completed["stage"] == stage + 1
    assert settled(platform)["stage"] == 4


def test_two_waivers_of_one_output_record_one(platform):
    select(platform)
    wait_open(platform)
    with call(platform) as first, call(platform, actor=OTHER_MINISTRY) as second:
        outcomes = race(*[(service, "waive_output", (BAJUR, {
            "output": output, "justification": f"{REASON} ({who})"}))
            for output in ("lokakarya_kota", "sosialisasi_massal")
            for service, who in ((first, "first"), (second, "second"))])
    assert len(winners(outcomes)) == 2
    for lost in losers(outcomes):
        assert isinstance(lost, Conflict) and lost.field == "output", lost
        assert "is already done (waived)" in str(lost)
    waivers = [r.payload["output"] for r in stream(platform) if r.type == "OutputWaived"]
    assert sorted(waivers) == ["lokakarya_kota", "sosialisasi_massal"]
    settled(platform)


def test_a_waiver_racing_the_approval_it_waives_one_of_them_does_the_output(platform):
    """Planning approves a document as the ministry waives its output: whichever is
    recorded first does the output; the other records nothing (the waiver: 409 output,
    already done by the approval)."""
    select(platform)
    wait_open(platform)
    walk_to_stage_4(platform)
    with call(platform) as ministry:
        for round_, (kind, output) in enumerate(STAGE_4.items()):
            approve = lambda kind=kind: record(  # noqa: E731
                platform, "planning", f"document-{BAJUR}-{kind}", "DocumentApproved",
                approval(kind), Metadata(BKM, f"corr-{kind}"))
            # in turn, recorded in planning just before or just after the waiver is sent
            approved = approve() if round_ % 2 else None
            waiver = ministry.waive_output.call_async(BAJUR, {"output": output,
                                                              "justification": REASON})
            approved = approved or approve()
            rang = threading.Thread(target=publish, args=(platform, "planning"))
            rang.start()
            try:
                waived = waiver.result()
            except CommandRejected as refused:
                waived = refused
            rang.join(30)
            wait_for(lambda: caught_up(platform, "cycle.outputs_from_planning",
                                       approved.position), what="the approval applied")
            did = [r for r in stream(platform) if r.type in ("OutputWaived", "OutputSatisfied")
                   and r.payload["output"] == output]
            assert len(did) == 1, [r.type for r in did]
            if isinstance(waived, Exception):
                assert isinstance(waived, Conflict) and waived.field == "output", waived
                assert "already done (satisfied)" in str(waived)
                assert did[0].causation_id == approved.event_id
            else:
                assert did[0].type == "OutputWaived"
                assert waived["done_outputs"][output]["how"] == "waived"
    cycle = settled(platform)
    assert cycle["missing_outputs"] == []


def test_the_same_activity_sent_twice_at_once_is_recorded_once(platform):
    """A double submission, with one idempotency key or several: one record, and every
    answer shows it (the one that recorded nothing too: the cycle as it is)."""
    select(platform)
    wait_open(platform)
    with call(platform, actor=FASKEL) as faskel:
        # rounds enough to catch an answer read from views a moment behind the ledger
        for round_, keys in enumerate([("k", "k", "k"), ("k", "k2", "k3"), (None,) * 3] * 20):
            keys = [key and f"{key}-{round_}" for key in keys]
            sent = activity("lokakarya_kota", place=f"Balai {round_}")
            answers = race(*[(faskel, "record_activity", (BAJUR, sent, key))
                             for key in keys])
            assert not losers(answers), answers
            held = [r for r in stream(platform) if r.type == "ActivityRecorded"
                    and r.payload["place"] == sent["place"]]
            assert len(held) == 1, (keys, len(held))
            for answer in answers:
                assert held[0].event_id in [a["event_id"] for a in answer["timeline"]], keys
    settled(platform)


def test_the_selections_reaction_racing_the_first_activities_opens_once(
        container_factory, platform_config):
    """Selected a moment ago, announced as two facilitators record the first activities:
    the cycle opens once, before them, and both are recorded."""
    container_factory(RegistrationService, {**platform_config, "RELAY": "external"}).start()
    container_factory(CycleService, platform_config).start()
    select(platform_config)
    with call(platform_config, actor=FASKEL) as first, \
            call(platform_config, actor=OTHER_FASKEL) as second:
        replies = [first.record_activity.call_async(BAJUR, activity("lokakarya_kota")),
                   second.record_activity.call_async(BAJUR, activity("lokakarya_kelurahan"))]
        publish(platform_config, "registration")   # the doorbell rings meanwhile
        answers = [reply.result() for reply in replies]
    assert {"lokakarya_kota", "lokakarya_kelurahan"} <= set(answers[1]["done_outputs"]) | \
        set(answers[0]["done_outputs"])
    assert types(platform_config) == ["CycleOpened", "ActivityRecorded", "ActivityRecorded"]
    assert settled(platform_config)["stage"] == 1
