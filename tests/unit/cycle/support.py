"""A cycle stream in memory for the pure tests: decide commands, keep the events."""
from services.cycle import domain
from services.cycle import template as templates

from ..streams import Stream

CODE = "52.01.08.2006"
VILLAGE = {"code": CODE, "name": "Bajur",
           "kabupaten": {"code": "52.01", "name": "Kabupaten Lombok Barat"},
           "province": {"code": "52", "name": "Nusa Tenggara Barat"}}
SELECTION = {"rank": 1, "quota": 5, "round": 1, "event_id": "e-1"}
ATTENDANCE = {"men": 20, "women": 15, "poor": 10}
MEMBERS = [{"name": "Siti", "sex": "P", "role": "ketua"}]
PERSIAPAN = ("lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal", "pengukuhan_tipp")


def cycle():
    """An empty cycle stream."""
    return Stream(domain.CYCLE)


def activity(key, held_on="2026-01-10", **extra):
    if key == "pengukuhan_tipp":
        extra.setdefault("members", MEMBERS)
    return domain.RecordActivity(key, held_on, "Balai desa", ATTENDANCE, "Faskel Ani",
                                 ["BA-001"], **extra)


def opened(on="2026-01-05", village=VILLAGE):
    stream = cycle()
    stream.do(domain.OpenCycle(village, SELECTION, on))
    return stream


def persiapan_done(stream, but=None, held_on="2026-01-10"):
    for key in PERSIAPAN:
        if key != but:
            stream.do(activity(key, held_on))


def satisfied(*outputs, on="2026-04-01", code=CODE):
    wanted = [{"output": o, "stage": templates.stage_of_output(templates.CURRENT, o)}
              for o in outputs]
    return domain.SatisfyOutputs(code, wanted, {"ledger": "planning", "type": "DocumentApproved",
                                                "event_id": "ev-1", "position": 1, "code": code},
                                 on)


def walk_to_stage(stream, target, start="2026-01-05"):
    """Complete stages through their activities or mapped outputs until `target` is current;
    each stage completes 10 days after it started."""
    while stream.state.stage < target:
        state = stream.state
        day = domain.plus_days(state.stage_started_on, 10)
        spec = templates.stage(state.spec(), state.stage)
        if state.stage == 1:
            persiapan_done(stream, held_on=day)
        for act in spec["activities"]:
            if act["produces"] and state.stage != 1:
                stream.do(activity(act["key"], day))
        mapped = [o["key"] for o in spec["outputs"] if o.get("satisfied_by")]
        if mapped:
            stream.do(satisfied(*mapped, on=day))
        stream.do(domain.CompleteStage(day))
    return stream
