"""Planning documents and attachments: the pure domain (meetings: meetings.py).

No I/O, no clock (dates come in commands), no nameko. Streams of ledger `planning`:
  document-<code>-<kind>   the versions of one document, their approval by a meeting,
                           sign-offs, Bappeda consultation and Musrenbang submissions
  meeting-<meeting_id>     one community meeting (rembug warga / musyawarah)
  attachments-<code>       the files stored for a village, by SHA-256
"""
import hashlib
from dataclasses import dataclass, field

import orjson

from shared.attachments import STORED, stored_event
from shared.chassis.commands import Decider
from shared.chassis.errors import CommandRejected, Conflict, Forbidden, NotFound
from shared.ledger import NewEvent

from . import budget, cycle_stage, rules
from .payloads import ATTACHMENT_EVENTS, DOCUMENT_EVENTS


def document_id(code, kind):
    return f"{code}-{kind}"


def document_stream(code, kind):
    return f"document-{document_id(code, kind)}"


def meeting_stream(meeting_id):
    return f"meeting-{meeting_id}"


def attachments_stream(code):
    return f"attachments-{code}"


# -- attachments (stream attachments-<code>) --------------------------------------------

@dataclass(frozen=True)
class StoreAttachment:
    code: str
    sha256: str
    size: int
    media_type: str
    filename: str
    kind: str                # map, ded_drawing, minutes, attendance_list, photo, other
    description: str = ""


def evolve_attachments(state: dict, record) -> dict:
    if record.type == STORED:
        state[record.payload["sha256"]] = record.payload
    return state


def decide_attachments(state: dict, command: StoreAttachment):
    if command.sha256 in state:
        return []  # content-addressed: the same bytes are the same attachment
    return [stored_event(command.code, command.sha256, command.size, command.filename,
                         media_type=command.media_type, kind=command.kind,
                         description=command.description)]


ATTACHMENTS = Decider(initial=dict, evolve=evolve_attachments, decide=decide_attachments,
                      payloads=ATTACHMENT_EVENTS)


def references(value, path=""):
    """(path, sha256) of every attachment reference (a field named sha256) in value."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key == "sha256" and isinstance(item, str):
                yield where, item
            else:
                yield from references(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from references(item, f"{path}.{index}")


def check_references(value, known, where):
    """Refuse a reference to a file never uploaded for this village."""
    for path, sha256 in references(value, where):
        if sha256 not in known:
            raise CommandRejected(f"attachment {sha256} was never uploaded for this village; "
                                  "upload it first", path)


# What a scan of a signed paper (attendance list, berita acara, Bappeda's minutes) is
# uploaded as: a GeoJSON map or a CAD drawing picked by mistake is none.
SCAN_MEDIA_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/tiff")


def check_scan(reference, known, where):
    """Refuse a reference to a file never uploaded, or to one that is no scanned paper."""
    check_references(reference, known, where)
    stored = known[reference["sha256"]]
    if stored["media_type"] not in SCAN_MEDIA_TYPES:
        raise CommandRejected(
            f"attachment {reference['sha256']} ({stored['filename']}, "
            f"{stored['media_type']}) is not a scan of a signed paper: give the scanned "
            f"document ({', '.join(SCAN_MEDIA_TYPES[:-1])} or {SCAN_MEDIA_TYPES[-1]})",
            f"{where}.sha256")


def described(reference, known):
    """An attachment reference with what the upload recorded about the file."""
    stored = known[reference["sha256"]]
    return {**reference, **{k: stored[k] for k in ("filename", "media_type", "size")}}


# -- documents (stream document-<code>-<kind>) ------------------------------------------

@dataclass(frozen=True)
class DraftDocument:
    code: str
    kind: str
    village_name: str
    content: dict            # validated by the kind's schema
    drafted_on: str
    note: str = ""
    attachments: dict = field(default_factory=dict)   # sha256 -> AttachmentStored payload


@dataclass(frozen=True)
class ReviseDocument:
    based_on: int            # the version the author revised: must still be the latest
    content: dict
    drafted_on: str
    note: str = ""
    attachments: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ApproveVersion:
    version: int
    meeting: dict            # the MeetingRecorded payload of the deciding meeting
    cycle: dict | None = None  # the village's cycle (cycle_stage.standing); None: unknown
    rule: dict = field(default_factory=lambda: rules.APPROVAL_RULE)


@dataclass(frozen=True)
class SignVersion:
    version: int
    step: str
    capacity: str | None     # what the actor signs as (rules.capacity_of its role)
    signer: dict             # {name, position}
    signed_on: str
    role: str
    region: str              # the signing account's region scope ("" national)


@dataclass(frozen=True)
class RecordBappedaConsultation:
    version: int
    consulted_on: str
    reference: str
    official: dict           # {name, position} of the Bappeda official
    notes: str = ""
    minutes: dict | None = None  # attachment reference {sha256, title}
    attachments: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SubmitToMusrenbang:
    version: int
    forum: str               # kelurahan, kecamatan or kabupaten_kota
    reference: str
    submitted_on: str


@dataclass
class Document:
    code: str | None = None
    kind: str | None = None
    village_name: str = ""
    versions: dict = field(default_factory=dict)   # number -> version (see new_version)
    item_ids: set = field(default_factory=set)     # every RTPLP item id handed out

    @property
    def latest(self) -> int:
        return max(self.versions, default=0)

    @property
    def approved(self) -> int:
        """The highest approved version (0: none)."""
        return max((n for n, v in self.versions.items() if v["status"] != "draft"), default=0)


def new_version(payload) -> dict:
    """A version as the state and the read model hold it (JSON values only)."""
    return {"version": payload["version"], "based_on": payload["based_on"],
            "drafted_on": payload["drafted_on"], "note": payload["note"],
            "content": payload["content"], "totals": payload.get("totals"),
            "status": "draft", "approval": None, "sign_offs": {},
            "bappeda_consultation": None, "signed_off_on": None, "musrenbang": []}


def evolve_version(version: dict, record) -> dict:
    """One version's life after drafting; shared by the decider and the read model."""
    p = record.payload
    if record.type == "DocumentApproved":
        version["status"] = "approved"
        version["approval"] = {k: p[k] for k in ("meeting_id", "approved_on", "rule",
                                                 "criteria", "content_digest")}
    elif record.type == "DocumentSigned":
        version["sign_offs"].setdefault(p["step"], {})[p["capacity"]] = {
            k: p[k] for k in ("signer", "role", "signed_on")}
    elif record.type == "BappedaConsulted":
        version["bappeda_consultation"] = {k: p[k] for k in (
            "consulted_on", "reference", "official", "notes", "minutes")}
    elif record.type == "DocumentSignedOff":
        version["status"], version["signed_off_on"] = "signed_off", p["signed_off_on"]
    elif record.type == "DocumentSubmittedToMusrenbang":
        version["status"] = "submitted"
        version["musrenbang"].append({k: p[k] for k in ("forum", "reference", "submitted_on")})
    return version


def evolve_document(state: Document, record) -> Document:
    p = record.payload
    if record.type in ("DocumentDrafted", "DocumentRevised"):
        if record.type == "DocumentDrafted":
            state.code, state.kind, state.village_name = p["code"], p["kind"], p["village_name"]
        state.versions[p["version"]] = new_version(p)
        state.item_ids |= {item["item_id"] for item in p["content"].get("investment_items", ())}
    elif p.get("version") in state.versions:
        evolve_version(state.versions[p["version"]], record)
    return state


def decide_document(state: Document, command):
    if isinstance(command, DraftDocument):
        return _draft(state, command)
    if not state.versions:
        raise NotFound("this document has not been drafted yet", "kind")
    if isinstance(command, ReviseDocument):
        return _revise(state, command)
    version = _version(state, command.version)
    if isinstance(command, ApproveVersion):
        return _approve(state, version, command)
    _in_force(state, version)
    if isinstance(command, SignVersion):
        return _sign(state, version, command)
    if isinstance(command, RecordBappedaConsultation):
        return _consult_bappeda(state, version, command)
    if isinstance(command, SubmitToMusrenbang):
        return _submit_to_musrenbang(state, version, command)
    raise TypeError(f"unknown command {type(command).__name__}")


def _version(state, number):
    if number not in state.versions:
        raise NotFound(f"the {state.kind} of {state.code} has no version {number} (latest: "
                       f"{state.latest})", "version")
    return state.versions[number]


def replaced_by(state, number):
    """The newer version whose approval replaced version `number` (None: still the plan in
    force, or never approved). A newer draft replaces nothing until a meeting approves it."""
    return next((n for n in sorted(state.versions) if n > number
                 and state.versions[n]["status"] != "draft"), None)


def _in_force(state, version):
    """Sign-offs, the Bappeda consultation and Musrenbang entries are for the plan in force:
    once a newer version is approved, the older one is not taken further."""
    newer = replaced_by(state, version["version"])
    if newer is not None:
        raise Conflict(f"version {version['version']} is replaced: version {newer} was "
                       f"approved on {state.versions[newer]['approval']['approved_on']}; "
                       f"take version {newer} through its steps instead", "version")


def _draft(state, command):
    if state.versions:
        raise Conflict(f"the {command.kind} of {command.code} is already drafted (version "
                       f"{state.latest}); revise it instead", "kind")
    payload = _version_payload(command.code, command.kind, 1, None, command, state.item_ids)
    return [NewEvent("DocumentDrafted", {**payload, "village_name": command.village_name})]


def _revise(state, command):
    latest = state.versions[state.latest]
    if command.based_on != state.latest:
        raise Conflict(f"version {state.latest} is the latest; revise from it (based_on "
                       f"{state.latest})", "based_on")
    if command.drafted_on < latest["drafted_on"]:
        raise CommandRejected(f"{command.drafted_on} is before version {state.latest} was "
                              f"drafted ({latest['drafted_on']})", "drafted_on")
    if latest["approval"] and command.drafted_on < latest["approval"]["approved_on"]:
        # the approving meeting approved the current version: none newer existed that day
        raise CommandRejected(f"{command.drafted_on} is before version {state.latest} was "
                              f"approved ({latest['approval']['approved_on']}, meeting "
                              f"{latest['approval']['meeting_id']}); a revision of it is "
                              "drafted on or after that day", "drafted_on")
    payload = _version_payload(state.code, state.kind, state.latest + 1, state.latest, command,
                               state.item_ids)
    if payload["content"] == latest["content"]:
        raise CommandRejected(f"the content is identical to version {state.latest}", "content")
    return [NewEvent("DocumentRevised", payload)]


def _version_payload(code, kind, number, based_on, command, item_ids):
    check_references(command.content, command.attachments, "content")
    content, totals = command.content, None
    if kind == "rtplp":
        items = budget.assign_ids(document_id(code, kind), content["investment_items"],
                                  item_ids, "content.investment_items")
        content, totals = {**content, "investment_items": items}, budget.totals(items)
    payload = {"code": code, "kind": kind, "document_id": document_id(code, kind),
               "version": number, "based_on": based_on, "drafted_on": command.drafted_on,
               "note": command.note, "content": content}
    if totals is not None:
        payload["totals"] = totals
    return payload


def content_digest(content) -> str:
    """SHA-256 of the canonical JSON of a version's content: what exactly was approved."""
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _approve(state, version, command):
    number, meeting = version["version"], command.meeting
    if version["status"] != "draft":
        raise Conflict(f"version {number} is already approved (meeting "
                       f"{version['approval']['meeting_id']})", "version")
    if number != state.latest:
        current = state.versions[state.latest]
        raise Conflict(f"version {number} is superseded: version {state.latest} is the "
                       f"current version (drafted {current['drafted_on']}, "
                       f"{current['status'].replace('_', ' ')}); only the current version "
                       "is approved", "version")
    if meeting["code"] != state.code:
        raise CommandRejected(f"meeting {meeting['meeting_id']} was held in {meeting['code']}, "
                              f"not {state.code}", "meeting_id")
    wanted = {"kind": state.kind, "version": number}
    if not any(d["approves"] == wanted for d in meeting["decisions"]):
        raise CommandRejected(f"meeting {meeting['meeting_id']} did not decide to approve the "
                              f"{state.kind} version {number}", "meeting_id")
    if meeting["held_on"] < version["drafted_on"]:
        raise CommandRejected(f"meeting {meeting['meeting_id']} ({meeting['held_on']}) was held "
                              f"before version {number} was drafted", "meeting_id")
    if meeting.get("minutes") is None:  # recorded before approving meetings needed them
        raise CommandRejected(f"meeting {meeting['meeting_id']} has no minutes (berita acara) "
                              "on record; an approval rests on the signed record of the "
                              "decision, so a meeting recorded with them must approve",
                              "meeting_id")
    _in_planning_stage(state, meeting, command.cycle)
    results = rules.evaluate(command.rule, meeting["attendance"])
    refusal = rules.failures(command.rule, results, meeting["attendance"])
    if refusal:
        raise CommandRejected(f"meeting {meeting['meeting_id']} cannot approve: {refusal}",
                              "meeting_id")
    ids = {"code": state.code, "kind": state.kind, "document_id": document_id(state.code,
                                                                              state.kind)}
    events = [NewEvent("DocumentApproved", {
        **ids, "version": number, "meeting_id": meeting["meeting_id"],
        "meeting_event_id": meeting.get("event_id"), "approved_on": meeting["held_on"], "attendance": meeting["attendance"],
        "rule": {"id": command.rule["id"], "version": command.rule["version"]},
        "criteria": results, "content_digest": content_digest(version["content"])})]
    if state.kind == "rtplp":
        items = version["content"]["investment_items"]
        events.append(NewEvent("InvestmentItemsPublished", {
            "code": state.code, "document_id": ids["document_id"], "version": number,
            "items": budget.published(items), "totals": version["totals"]}))
    return events


def _in_planning_stage(state, meeting, cycle):
    """A plan is the decision of the cycle's planning stage: approved only for a selected
    village whose cycle has reached that stage, at a meeting held since it began."""
    if cycle is None or not cycle["opened"]:
        raise CommandRejected(f"{state.code} has no open cycle: a plan is approved only for "
                              "a village selected for PLPBK, in its planning stage", "code")
    wanted = cycle_stage.approval_stage(cycle, state.kind)
    if wanted is None:
        return  # the cycle's template does not gate on this kind of plan
    number, name = wanted
    if cycle["stage"] < number:
        raise CommandRejected(f"the cycle of {state.code} is at stage {cycle['stage']}; the "
                              f"{state.kind} is approved in stage {number} ({name}), after "
                              "the stages it builds on", "code")
    began = cycle["started_on"][str(number)]
    if meeting["held_on"] < began:
        raise CommandRejected(f"meeting {meeting['meeting_id']} ({meeting['held_on']}) was "
                              f"held before stage {number} ({name}) began on {began}",
                              "meeting_id")


def _sign(state, version, command):
    number, step, steps = version["version"], command.step, rules.chain(state.kind)
    if version["status"] == "draft":
        raise CommandRejected(f"version {number} is not approved yet; only an approved version "
                              "is signed off", "version")
    if step not in steps:
        raise CommandRejected(f"the {state.kind} has no {step} step; its steps are "
                              f"{', '.join(steps)}", "step")
    if command.capacity not in rules.STEP_SIGNERS[step]:
        raise CommandRejected(f"a {command.role} account cannot sign the {step} step", "role")
    if command.capacity in rules.VILLAGE_SCOPED_CAPACITIES and command.region != state.code:
        raise Forbidden(f"the {command.capacity} signs through an account scoped to the "
                        f"village itself (region {state.code}); this account's region is "
                        f"{command.region or 'national'}", "step")
    done = version["sign_offs"].get(step, {}).get(command.capacity)
    if done:
        raise Conflict(f"the {step} step was already signed as {command.capacity} by "
                       f"{done['signer']['name']} on {done['signed_on']}", "step")
    for earlier in steps[:steps.index(step)]:
        missing = rules.missing_signers(earlier, version)
        if missing:
            raise CommandRejected(f"{step} comes after {earlier}, which still needs the "
                                  f"signature of {' and '.join(missing)}", "step")
    if step == "ratified" and version["bappeda_consultation"] is None:
        raise CommandRejected("the RPLP is ratified only after a recorded Bappeda "
                              "consultation", "step")
    _not_before(command.signed_on, _last_date(version), "signed_on")
    ids = {"code": state.code, "kind": state.kind,
           "document_id": document_id(state.code, state.kind), "version": number}
    events = [NewEvent("DocumentSigned", {
        **ids, "step": step, "capacity": command.capacity, "signer": command.signer,
        "role": command.role, "signed_on": command.signed_on})]
    remaining = [s for s in steps if rules.missing_signers(s, version)]
    if remaining == [step] and rules.missing_signers(step, version) == [command.capacity]:
        events.append(NewEvent("DocumentSignedOff", {
            **ids, "signed_off_on": command.signed_on, "steps": steps}))
    return events


def _last_date(version):
    """(date, what) of the latest dated step of an approved version."""
    dated = [(version["approval"]["approved_on"], "the approving meeting")]
    for step, signatures in version["sign_offs"].items():
        dated += [(s["signed_on"], f"the {step} signature") for s in signatures.values()]
    if version["bappeda_consultation"]:
        dated.append((version["bappeda_consultation"]["consulted_on"],
                      "the Bappeda consultation"))
    if version["signed_off_on"]:
        dated.append((version["signed_off_on"], "the sign-off"))
    return max(dated)


def _not_before(day, last, field_name):
    if day < last[0]:
        raise CommandRejected(f"{day} is before {last[1]} ({last[0]})", field_name)


def _consult_bappeda(state, version, command):
    number = version["version"]
    if state.kind != "rplp":
        raise CommandRejected("only the RPLP is ratified after a Bappeda consultation", "kind")
    if version["status"] == "draft":
        raise CommandRejected(f"version {number} is not approved yet", "version")
    if version["bappeda_consultation"] is not None:
        raise Conflict(f"the Bappeda consultation of version {number} is already recorded "
                       f"({version['bappeda_consultation']['reference']})", "version")
    _not_before(command.consulted_on, (version["approval"]["approved_on"],
                                       "the approving meeting"), "consulted_on")
    minutes = None
    if command.minutes is not None:
        check_scan(command.minutes, command.attachments, "minutes")
        minutes = described(command.minutes, command.attachments)
    return [NewEvent("BappedaConsulted", {
        "code": state.code, "kind": state.kind,
        "document_id": document_id(state.code, state.kind), "version": number,
        "consulted_on": command.consulted_on, "reference": command.reference,
        "official": command.official, "notes": command.notes, "minutes": minutes})]


def _submit_to_musrenbang(state, version, command):
    number = version["version"]
    if version["status"] not in ("signed_off", "submitted"):
        raise CommandRejected(f"version {number} is not signed off yet; it waits for "
                              f"{rules.next_step(state.kind, version)}", "version")
    if any(s["forum"] == command.forum for s in version["musrenbang"]):
        raise Conflict(f"version {number} was already submitted to the Musrenbang "
                       f"{command.forum}", "forum")
    _not_before(command.submitted_on, (version["signed_off_on"], "the sign-off"),
                "submitted_on")
    return [NewEvent("DocumentSubmittedToMusrenbang", {
        "code": state.code, "kind": state.kind,
        "document_id": document_id(state.code, state.kind), "version": number,
        "forum": command.forum, "reference": command.reference,
        "submitted_on": command.submitted_on})]


DOCUMENT = Decider(initial=Document, evolve=evolve_document, decide=decide_document,
                   payloads=DOCUMENT_EVENTS)
