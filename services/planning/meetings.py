"""Community meetings (rembug warga / musyawarah): the pure decider of stream
meeting-<meeting_id>. A meeting is a fact: who chaired, who attended, what was decided.
Whether it may approve a document is decided later, by the document (domain._approve).
"""
from dataclasses import dataclass, field

from shared.chassis.commands import Decider
from shared.chassis.errors import CommandRejected, Conflict, InvalidInput
from shared.ledger import NewEvent

from .domain import check_scan, described
from .payloads import MEETING_EVENTS


@dataclass(frozen=True)
class RecordMeeting:
    meeting_id: str
    code: str
    details: dict            # validated by MeetingSchema
    attachments: dict = field(default_factory=dict)  # sha256 -> AttachmentStored payload
    drafted: dict = field(default_factory=dict)      # kind -> {version: drafted_on}


def evolve_meeting(state, record):
    """The MeetingRecorded payload, with its event id (an approval names the event it
    rests on, so an auditor's "why" reaches the meeting)."""
    if record.type == "MeetingRecorded":
        return {**record.payload, "event_id": record.event_id}
    return state


def decide_meeting(state, command: RecordMeeting):
    if state is not None:
        raise Conflict(f"meeting {command.meeting_id} is already recorded", "meeting_id")
    details = command.details
    for name in ("attendance_list", "minutes"):
        if details.get(name) is not None:
            check_scan(details[name], command.attachments, name)
    for index, decision in enumerate(details["decisions"]):
        if decision["approves"] is not None:
            _check_decided_version(decision["approves"], command, f"decisions.{index}.approves")
    if approves_a_plan(details) and details.get("minutes") is None:
        raise InvalidInput("a meeting that decides to approve a plan records its minutes "
                           "(berita acara), the signed record of that decision: upload "
                           "them and give their reference", "minutes")
    payload = {**details, "code": command.code, "meeting_id": command.meeting_id,
               "attendance": {**details["attendance"], "attendees": details["attendance"][
                   "men"] + details["attendance"]["women"]},
               "attendance_list": described(details["attendance_list"], command.attachments),
               "minutes": described(details["minutes"], command.attachments)
               if details.get("minutes") else None,
               "decisions": [{"number": n, **d} for n, d in enumerate(details["decisions"], 1)]}
    return [NewEvent("MeetingRecorded", payload)]


def recorded_by(state, command: RecordMeeting) -> bool:
    """Whether the meeting on record (a MeetingRecorded payload with its event id, or None)
    is the one this command records: a retry with its idempotency key lands on it (its id
    comes from the key), a key used before for another meeting does not."""
    if state is None:
        return False
    try:
        [event] = decide_meeting(None, command)
    except (CommandRejected, InvalidInput):
        return False
    return {k: v for k, v in state.items() if k != "event_id"} == event.payload


def approves_a_plan(meeting):
    return any(d["approves"] is not None for d in meeting["decisions"])


def _check_decided_version(approves, command, where):
    versions = command.drafted.get(approves["kind"], {})
    drafted_on = versions.get(approves["version"])
    if drafted_on is None:
        raise CommandRejected(f"the {approves['kind']} of {command.code} has no version "
                              f"{approves['version']}", f"{where}.version")
    if drafted_on > command.details["held_on"]:
        raise CommandRejected(f"version {approves['version']} was drafted on {drafted_on}, "
                              "after the meeting", f"{where}.version")


MEETING = Decider(initial=lambda: None, evolve=evolve_meeting, decide=decide_meeting,
                  payloads=MEETING_EVENTS)
