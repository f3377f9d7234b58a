"""The planning nameko service: thin entrypoints over the domain, the views and the
attachment store. Who may do what is decided here, with shared.chassis.access."""
import base64
import hashlib
import uuid

from nameko.rpc import rpc

from shared import regions
from shared.attachments.dependency import AttachmentStorage
from shared.chassis.access import authorize, scoped_prefix
from shared.chassis.commands import checked_key, fold
from shared.chassis.entrypoints import OperatorEntrypoints
from shared.chassis.errors import (EXPECTED, CommandRejected, Conflict, InvalidInput,
                                   NotFound, load)
from shared.chassis.platform import Platform
from shared.schemas import PagingSchema, official_village, parameter, village_code

from . import cycle_stage, domain, meetings, rules, schemas, views

AUTHORS = ("bkm", "facilitator")                     # the community's planning team (TIPP)
UPLOADERS = ("bkm", "facilitator", "district")
MUSRENBANG = ("bkm", "facilitator", "district")
VERIFIERS = ("ministry", "province", "district", "facilitator", "auditor")
READERS = ("ministry", "province", "district", "facilitator", "bkm", "auditor", "integration")


class PlanningService(OperatorEntrypoints):
    name = "planning"
    platform = Platform(subscribers=[views.PlanningBoard])
    files = AttachmentStorage()   # the platform's one store (shared/attachments)

    # -- attachments ------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def upload_attachment(self, code, data, idempotency_key=None):
        """Store a file (base64) by its SHA-256; AttachmentStored records hash, size, type."""
        authorize(self.platform.actor, UPLOADERS, village_code(code), "upload attachments")
        upload = load(schemas.UploadSchema(), data)
        official_village(code)
        checked_key(idempotency_key)   # a refused request stores no file
        content = upload.pop("content")
        sha256 = self.files.put(content)
        outcome = self.platform.execute(
            domain.ATTACHMENTS, domain.attachments_stream(code),
            domain.StoreAttachment(code=code, sha256=sha256, size=len(content), **upload),
            self.platform.metadata, idempotency_key)
        recorded = outcome.state   # what the ledger holds (the key's first use, if sent again)
        if sha256 not in recorded:
            # the ledger keeps a key for ever: this one recorded another file (or another
            # village's), and this file was not recorded
            raise CommandRejected(f"this idempotency key was already used for another "
                                  f"upload; attachment {sha256} was not recorded: send it "
                                  "with a new key", "idempotency_key")
        self.log.info("attachment stored", code=code, sha256=sha256, size=len(content),
                      new=bool(outcome.events))
        return recorded[sha256]

    @rpc(expected_exceptions=EXPECTED)
    def get_attachment(self, code, sha256):
        """A stored file as base64, after checking it still has the hash it was stored by."""
        authorize(self.platform.actor, READERS, village_code(code), "read attachments")
        if type(sha256) is not str:
            raise InvalidInput("must be the SHA-256 of an uploaded attachment, as text",
                               "sha256")
        stored = self._attachments(code).get(sha256)
        if stored is None:
            raise NotFound(f"no attachment {sha256} was uploaded for {code}", "sha256")
        content = self.files.read(sha256)
        if content is None:
            raise NotFound(f"attachment {sha256} is recorded but its file is missing", "sha256")
        if hashlib.sha256(content).hexdigest() != sha256:
            raise Conflict(f"the stored file of attachment {sha256} no longer matches its "
                           "hash; it was changed after upload", "sha256")
        return {**stored, "content_base64": base64.b64encode(content).decode()}

    @rpc(expected_exceptions=EXPECTED)
    def list_attachments(self, code, query=None):
        """A village's uploaded files, oldest first, paged ({page, page_size})."""
        query = load(PagingSchema(), query or {})
        authorize(self.platform.actor, READERS, village_code(code), "read attachments")
        return views.attachments_of(self.platform.views, code, query["page"],
                                    query["page_size"])

    @rpc(expected_exceptions=EXPECTED)
    def verify_attachments(self, query=None):
        """Re-hash the stored files of a region against the hashes in the ledgers (every
        service's AttachmentStored events, not planning's alone)."""
        query = load(schemas.VerifyQuerySchema(), query or {})
        authorize(self.platform.actor, VERIFIERS, None, "verify attachments")
        region = scoped_prefix(self.platform.actor, query["region"])
        report = self.files.verify(region)
        if report["problems"]:  # operators must hear of a tampered or lost file
            self.log.warning("attachments failed verification", region=region,
                             checked=report["checked"], problems=len(report["problems"]))
        return report

    # -- documents --------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def draft_document(self, code, kind, data, idempotency_key=None):
        """Version 1 of a village's document of this kind."""
        authorize(self.platform.actor, AUTHORS, village_code(code), "draft planning documents")
        draft = load(schemas.version_schema(_kind(kind)), data)
        official = official_village(code)
        command = domain.DraftDocument(code=code, kind=kind, village_name=official["name"],
                                       attachments=self._attachments(code), **draft)
        outcome = self._execute(code, kind, command, idempotency_key)
        return views.version(self.platform.views, code, kind,
                             self._version_made(code, kind, outcome))

    @rpc(expected_exceptions=EXPECTED)
    def revise_document(self, code, kind, data, idempotency_key=None):
        """A new version; every earlier version stays readable."""
        authorize(self.platform.actor, AUTHORS, village_code(code), "revise planning documents")
        revision = load(schemas.version_schema(_kind(kind), revision=True), data)
        command = domain.ReviseDocument(attachments=self._attachments(code), **revision)
        outcome = self._execute(code, kind, command, idempotency_key)
        return views.version(self.platform.views, code, kind,
                             self._version_made(code, kind, outcome))

    @rpc(expected_exceptions=EXPECTED)
    def approve_document(self, code, kind, data, idempotency_key=None):
        """Record that a meeting approved a version; refused if the meeting did not decide
        it or fails the approval rule (the reason names the rule and the numbers)."""
        authorize(self.platform.actor, AUTHORS, village_code(code), "record approvals")
        approval = load(schemas.ApproveSchema(), data)
        meeting = fold(meetings.MEETING, self.platform.ledger.read_stream(
            domain.meeting_stream(approval["meeting_id"])))
        if meeting is None:
            raise NotFound(f"meeting {approval['meeting_id']} is not recorded", "meeting_id")
        command = domain.ApproveVersion(approval["version"], meeting, self._cycle(code))
        self._execute(code, _kind(kind), command, idempotency_key)
        self.log.info("document approved", code=code, kind=kind, version=approval["version"],
                      meeting_id=approval["meeting_id"])
        return views.approval_record(self.platform.views, code, kind, approval["version"])

    @rpc(expected_exceptions=EXPECTED)
    def sign_document(self, code, kind, data, idempotency_key=None):
        """One sign-off step of an approved version, by the signer the step needs."""
        signing = load(schemas.SignSchema(), data)
        step, actor = signing["step"], self.platform.actor
        authorize(actor, rules.roles_for_step(step), village_code(code), f"sign the {step} step")
        command = domain.SignVersion(
            version=signing["version"], step=step, capacity=rules.capacity_of(step, actor.role),
            signer=signing["signer"], signed_on=signing["signed_on"], role=actor.role,
            region=actor.region)
        self._execute(code, _kind(kind), command, idempotency_key)
        return views.version(self.platform.views, code, kind, signing["version"])

    @rpc(expected_exceptions=EXPECTED)
    def record_bappeda_consultation(self, code, kind, data, idempotency_key=None):
        """The RPLP's consultation with Bappeda, which its ratification needs."""
        authorize(self.platform.actor, rules.BAPPEDA_ROLES, village_code(code),
                  "record Bappeda consultations")
        consultation = load(schemas.BappedaSchema(), data)
        command = domain.RecordBappedaConsultation(attachments=self._attachments(code),
                                                   **consultation)
        self._execute(code, _kind(kind), command, idempotency_key)
        return views.version(self.platform.views, code, kind, consultation["version"])

    @rpc(expected_exceptions=EXPECTED)
    def submit_to_musrenbang(self, code, kind, data, idempotency_key=None):
        """A signed-off version entered into a Musrenbang forum, with its reference."""
        authorize(self.platform.actor, MUSRENBANG, village_code(code), "record Musrenbang entries")
        submission = load(schemas.MusrenbangSchema(), data)
        self._execute(code, _kind(kind), domain.SubmitToMusrenbang(**submission),
                      idempotency_key)
        return views.version(self.platform.views, code, kind, submission["version"])

    # -- meetings ---------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def record_meeting(self, code, data, idempotency_key=None):
        """A rembug warga / musyawarah: attendance, attendance list, decisions taken."""
        authorize(self.platform.actor, AUTHORS, village_code(code), "record meetings")
        details = load(schemas.MeetingSchema(), data)
        official_village(code)
        # a retried command (same key) lands on the same meeting stream
        checked_key(idempotency_key)
        meeting_id = f"{code}-" + (hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
                                   if idempotency_key else uuid.uuid4().hex[:12])
        command = meetings.RecordMeeting(meeting_id, code, details, self._attachments(code),
                                       self._drafted_versions(code))
        outcome = self.platform.execute(meetings.MEETING, domain.meeting_stream(meeting_id),
                                        command, self.platform.metadata, idempotency_key)
        recorded = outcome.state   # what the ledger holds (the key's first use, if sent again)
        if outcome.duplicate and not meetings.recorded_by(recorded, command):
            # the ledger keeps a key for ever: this one recorded another meeting
            raise CommandRejected("this idempotency key was already used for another "
                                  "meeting; this one was not recorded: send it with a new "
                                  "key", "idempotency_key")
        return views.meeting(self.platform.views, meeting_id)

    # -- queries ----------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def list_documents(self, code):
        """A village's documents: latest version, status, next step, every version."""
        authorize(self.platform.actor, READERS, village_code(code), "read planning documents")
        return views.documents_of(self.platform.views, code)

    @rpc(expected_exceptions=EXPECTED)
    def get_version(self, code, kind, version):
        authorize(self.platform.actor, READERS, village_code(code), "read planning documents")
        return views.version(self.platform.views, code, _kind(kind), _number(version))

    @rpc(expected_exceptions=EXPECTED)
    def diff_versions(self, code, kind, from_version, to_version):
        """Field-level changes (added / removed / changed, with paths) between versions."""
        authorize(self.platform.actor, READERS, village_code(code), "read planning documents")
        return views.version_diff(self.platform.views, code, _kind(kind),
                                  _number(from_version, "from_version"),
                                  _number(to_version, "to_version"))

    @rpc(expected_exceptions=EXPECTED)
    def approval_record(self, code, kind, version):
        """The approval of a version and the meeting behind it."""
        authorize(self.platform.actor, READERS, village_code(code), "read planning documents")
        return views.approval_record(self.platform.views, code, _kind(kind), _number(version))

    @rpc(expected_exceptions=EXPECTED)
    def get_meeting(self, meeting_id):
        meeting_id = str(meeting_id)
        code = meeting_id[:len("PP.KK.CC.DDDD")]   # ids start with the village code
        if not regions.is_village_code(code):
            raise NotFound(f"meeting {meeting_id} is not recorded", "meeting_id")
        authorize(self.platform.actor, READERS, code, "read meetings")
        return views.meeting(self.platform.views, meeting_id)

    @rpc(expected_exceptions=EXPECTED)
    def pending(self, query=None):
        """Versions in a region waiting for a step (default: approval), paged."""
        query = load(schemas.PendingQuerySchema(), query or {})
        authorize(self.platform.actor, READERS, None, "read planning documents")
        region = scoped_prefix(self.platform.actor, query["region"])
        return views.pending(self.platform.views, region, query["waiting_for"], query["kind"],
                             query["page"], query["page_size"])

    @rpc(expected_exceptions=EXPECTED)
    def approval_rule(self):
        """The approval rule meetings are held to (data, with its version)."""
        return rules.APPROVAL_RULE

    # -- internals --------------------------------------------------------------------
    def _execute(self, code, kind, command, idempotency_key=None):
        return self.platform.execute(domain.DOCUMENT, domain.document_stream(code, kind),
                                     command, self.platform.metadata, idempotency_key)

    def _version_made(self, code, kind, outcome):
        """The version a draft or revision recorded. A key sent again (the ledger keeps
        keys for good) answers the version it made then, not the latest since."""
        if not outcome.duplicate:
            return outcome.state.latest
        return fold(domain.DOCUMENT, self.platform.ledger.read_stream(
            domain.document_stream(code, kind),
            to_version=outcome.result.stream_version)).latest

    def _attachments(self, code):
        """The village's uploaded attachments, from the ledger (the truth, not a view)."""
        return fold(domain.ATTACHMENTS,
                    self.platform.ledger.read_stream(domain.attachments_stream(code)))

    def _cycle(self, code):
        """Where the village's cycle stands, from the cycle ledger (the truth, read at the
        moment of the decision, not a view that may lag behind it)."""
        return cycle_stage.standing(self.platform.source("cycle").read_stream(
            cycle_stage.cycle_stream(code)))

    def _drafted_versions(self, code):
        drafted = {}
        for kind in rules.KINDS:
            state = fold(domain.DOCUMENT, self.platform.ledger.read_stream(
                domain.document_stream(code, kind)))
            drafted[kind] = {n: v["drafted_on"] for n, v in state.versions.items()}
        return drafted


def _kind(kind):
    return parameter(kind, schemas.KIND, "kind")


def _number(value, field_name="version"):
    return parameter(value, schemas.VERSION, field_name)
