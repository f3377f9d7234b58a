"""Planning documents, their versions, approvals, sign-offs and meetings, and the
attachments they cite (the planning service), validated with its own schemas."""
from marshmallow import Schema, fields, validate

from services.planning import rules as plan_rules
from services.planning import schemas as plan
from services.planning.content import AttachmentRefSchema
from services.planning.schemas import PersonSchema
from shared.schemas import AttendanceSchema
from shared.patterns import Pattern

from ..routing import Reply, Route, from_path, path, path_and_body, rpc
from ..schemas import ActorSchema, PageQuerySchema, RecordedSchema, day, maybe, one_of_types, page_of
from .common import VillagePath, required_parameter, scoped_listing, scoped_region

TAG = "planning"
ATTACHMENT_BODY = 28 * 1024 * 1024   # a 20 MiB file in base64, with its description


class DocumentPath(VillagePath):
    kind = required_parameter(plan.KIND)


class VersionPath(DocumentPath):
    version = required_parameter(plan.VERSION)


class AttachmentPath(VillagePath):
    sha256 = fields.String(required=True, validate=Pattern(
        r"^[0-9a-f]{64}$", error="must be a SHA-256 (64 lowercase hex digits)"))


class MeetingPath(Schema):
    meeting_id = fields.String(required=True, validate=Pattern(
        r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}-[0-9a-f]{12}$",
        error="must be a meeting id: <village code>-<12 hex digits>"))


# -- answers ------------------------------------------------------------------------------
# What services/planning/views.py answers, field by field (the gateway tests check live
# answers against them). A version's `content` is the document kind's own (the request
# schemas of drafts describe it): the answer types it as an object.

STATUSES = ["draft", "approved", "signed_off", "submitted"]
NEXT_STEP = {"description": "what it waits for (approval, a sign-off step, "
                            "bappeda_consultation, musrenbang); null when done"}


class AttendanceCountSchema(AttendanceSchema):
    attendees = fields.Integer(required=True, metadata={"description": "men + women"})


class DescribedAttachmentSchema(AttachmentRefSchema):
    """An attachment reference with what its upload recorded."""
    filename = fields.String(required=True)
    media_type = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "bytes"})


class VersionListedSchema(Schema):
    version = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    drafted_on = day()
    next_step = maybe(fields.String, metadata=NEXT_STEP)


class DocumentSummarySchema(Schema):
    """One of a village's documents (GET .../documents answers a list of them)."""
    document_id = fields.String(required=True)
    code = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(plan_rules.KINDS))
    village_name = fields.String(required=True)
    latest_version = fields.Integer(required=True)
    approved_version = maybe(fields.Integer, metadata={"description": "the latest approved"})
    status = fields.String(required=True, validate=validate.OneOf(STATUSES),
                           metadata={"description": "the latest version's"})
    next_step = maybe(fields.String, metadata=NEXT_STEP)
    versions = fields.List(fields.Nested(VersionListedSchema), required=True)


class CriterionResultSchema(Schema):
    criterion = fields.String(required=True)
    measure = fields.String(required=True)
    value = one_of_types("integer", "string", metadata={
        "description": "a count, or a share as a decimal string rounded down"})
    operator = fields.String(required=True, validate=validate.OneOf(plan_rules.OPERATORS))
    threshold = one_of_types("integer", "string")
    result = fields.String(required=True, validate=validate.OneOf(["pass", "fail"]))


class RuleVersionSchema(Schema):
    id = fields.String(required=True)
    version = fields.Integer(required=True)


class ApprovalSchema(Schema):
    meeting_id = fields.String(required=True)
    approved_on = day()
    rule = fields.Nested(RuleVersionSchema, required=True)
    criteria = fields.List(fields.Nested(CriterionResultSchema), required=True)
    content_digest = fields.String(required=True, metadata={
        "description": "SHA-256 of the canonical JSON of the content approved"})
    attendance = fields.Nested(AttendanceCountSchema, required=True)


class SignatureSchema(Schema):
    signer = fields.Nested(PersonSchema, required=True)
    role = fields.String(required=True)
    signed_on = day()
    actor = fields.Nested(ActorSchema, required=True)


class BappedaConsultationSchema(Schema):
    consulted_on = day()
    reference = fields.String(required=True)
    official = fields.Nested(PersonSchema, required=True)
    notes = fields.String(required=True)
    minutes = maybe(fields.Nested, DescribedAttachmentSchema)


class MusrenbangEntrySchema(Schema):
    forum = fields.String(required=True, validate=validate.OneOf(plan_rules.MUSRENBANG_FORUMS))
    reference = fields.String(required=True)
    submitted_on = day()


class VersionEventSchema(RecordedSchema):
    type = fields.String(required=True, metadata={"example": "DocumentApproved"})


class DocumentVersionSchema(Schema):
    """One version of a document: content, totals, approval, sign-offs, next step."""
    document_id = fields.String(required=True)
    code = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(plan_rules.KINDS))
    village_name = fields.String(required=True)
    version = fields.Integer(required=True)
    based_on = maybe(fields.Integer, metadata={"description": "null for version 1"})
    drafted_on = day()
    note = fields.String(required=True)
    content = fields.Dict(required=True, metadata={
        "description": "the document as drafted: its kind's sections (the draft's request "
                       "schema describes them), free-form here by design"})
    totals = maybe(fields.Dict, metadata={
        "description": "an RTPLP's costs in whole Rupiah: total, by_year, "
                       "by_funding_source, by_sector; null for other kinds"})
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    approval = maybe(fields.Nested, ApprovalSchema)
    sign_offs = fields.Dict(
        keys=fields.String(), required=True,
        values=fields.Dict(keys=fields.String(), values=fields.Nested(SignatureSchema)),
        metadata={"description": "by step, then by capacity"})
    bappeda_consultation = maybe(fields.Nested, BappedaConsultationSchema)
    signed_off_on = maybe(fields.Date)
    musrenbang = fields.List(fields.Nested(MusrenbangEntrySchema), required=True)
    superseded_by = maybe(fields.Integer, metadata={
        "description": "the newer version drafted from this draft"})
    replaced_by = fields.Integer(allow_none=True, metadata={
        "description": "the newer version whose approval replaced this one"})
    next_step = maybe(fields.String, metadata=NEXT_STEP)
    drafted = fields.Nested(RecordedSchema, required=True)
    history = fields.List(fields.Nested(VersionEventSchema), required=True, metadata={
        "description": "the steps after drafting"})


class DecidedVersionSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(plan_rules.KINDS))
    version = fields.Integer(required=True)


class MeetingDecisionSchema(Schema):
    number = fields.Integer(required=True)
    text = fields.String(required=True)
    approves = maybe(fields.Nested, DecidedVersionSchema)


class GivenApprovalSchema(RecordedSchema):
    kind = fields.String(required=True, validate=validate.OneOf(plan_rules.KINDS))
    version = fields.Integer(required=True)
    document_id = fields.String(required=True)


class MeetingRecordSchema(Schema):
    """A meeting as recorded, and the approvals recorded on it since."""
    meeting_id = fields.String(required=True)
    code = fields.String(required=True)
    meeting_type = fields.String(required=True)
    held_on = day()
    place = fields.String(required=True)
    agenda = fields.List(fields.String(), required=True)
    chair = fields.Nested(PersonSchema, required=True)
    minute_taker = fields.Nested(PersonSchema, required=True)
    attendance = fields.Nested(AttendanceCountSchema, required=True)
    attendance_list = fields.Nested(DescribedAttachmentSchema, required=True)
    minutes = maybe(fields.Nested, DescribedAttachmentSchema)
    decisions = fields.List(fields.Nested(MeetingDecisionSchema), required=True)
    recorded = fields.Nested(RecordedSchema, required=True)
    approvals = fields.List(fields.Nested(GivenApprovalSchema), required=True)


class ApprovalRecordSchema(Schema):
    document_id = fields.String(required=True)
    version = fields.Integer(required=True)
    approval = fields.Nested(ApprovalSchema, required=True)
    meeting = fields.Nested(MeetingRecordSchema, required=True)


class ChangeSchema(Schema):
    path = fields.String(required=True, metadata={"example": "sections[key=x].text"})
    change = fields.String(required=True, validate=validate.OneOf(
        ["added", "removed", "changed"]))
    # `from` is a Python keyword: declared with data_key
    from_ = fields.Raw(required=True, data_key="from", metadata={
        "description": "the value before (any JSON value; null when added)"})
    to = fields.Raw(required=True, metadata={
        "description": "the value after (any JSON value; null when removed)"})


class VersionDiffSchema(Schema):
    document_id = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    changes = fields.List(fields.Nested(ChangeSchema), required=True)
    totals = fields.List(fields.Nested(ChangeSchema), metadata={
        "description": "an RTPLP's changes of totals"})


class AttachmentSchema(Schema):
    """An uploaded file as recorded (AttachmentStored)."""
    code = fields.String(required=True)
    sha256 = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    media_type = fields.String(required=True)
    filename = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(plan.ATTACHMENT_KINDS))
    description = fields.String(required=True)


class ListedAttachmentSchema(AttachmentSchema):
    uploaded = fields.Nested(RecordedSchema, required=True)


class AttachmentFileSchema(AttachmentSchema):
    content_base64 = fields.String(required=True)


class AttachmentProblemSchema(Schema):
    code = fields.String(required=True)
    sha256 = fields.String(required=True)
    filename = fields.String(required=True)
    event_id = fields.String(required=True, metadata={"description": "AttachmentStored"})
    ledger = fields.String(required=True, metadata={
        "description": "the ledger whose AttachmentStored event recorded the file (every "
                       "service's ledger is checked)", "example": "planning"})
    position = fields.Integer(required=True, metadata={
        "description": "that event's position in its ledger"})
    problem = fields.String(required=True, validate=validate.OneOf(["missing", "mismatch"]))
    found_sha256 = maybe(fields.String, metadata={"description": "null when missing"})


class AttachmentCheckSchema(Schema):
    region = fields.String(required=True)
    checked = fields.Integer(required=True)
    ok = fields.Integer(required=True)
    problems = fields.List(fields.Nested(AttachmentProblemSchema), required=True)


class PendingVersionSchema(Schema):
    document_id = fields.String(required=True)
    code = fields.String(required=True)
    village_name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(plan_rules.KINDS))
    version = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    drafted_on = day()
    next_step = maybe(fields.String, metadata=NEXT_STEP)


PendingPageSchema = page_of(PendingVersionSchema, "PendingPage", waiting_for=fields.String(
    required=True, validate=validate.OneOf(plan_rules.WAITING_FOR)))


class RuleCriterionSchema(Schema):
    criterion = fields.String(required=True)
    measure = fields.String(required=True)
    operator = fields.String(required=True, validate=validate.OneOf(plan_rules.OPERATORS))
    threshold = one_of_types("integer", "string", metadata={
        "description": "a count, or a share as a decimal string"})
    label = fields.String(required=True)


class ApprovalRuleSchema(RuleVersionSchema):
    note = fields.String(required=True)
    criteria = fields.List(fields.Nested(RuleCriterionSchema), required=True)


class DiffQuery(Schema):
    from_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    to_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


# -- actions --------------------------------------------------------------------------------

def meeting_recorded(call, meeting):
    return Reply(201, meeting, {"Location": f"/api/v1/meetings/{meeting['meeting_id']}"})


def version_created(call, version):
    code, kind = call.path["code"], version.get("kind", "")
    return Reply(201, version, {"Location": f"/api/v1/villages/{code}/documents/{kind}/"
                                            f"versions/{version.get('version')}"})


def attachment_stored(call, attachment):
    return Reply(201, attachment, {"Location": f"/api/v1/villages/{call.path['code']}/"
                                               f"attachments/{attachment.get('sha256')}"})


pending = scoped_listing("planning", "pending")


def verify_attachments(call):
    region = scoped_region(call, call.query["region"])
    return call.upstream.call("planning", "verify_attachments", {"region": region})


verify_attachments.rpc = "planning.verify_attachments"


def meeting_scope(call):
    return "meeting_id", call.path["meeting_id"][:len("PP.KK.CC.DDDD")]


def document_routes(kind):
    """Drafting and revising take a different body for each kind of document."""
    return [
        Route("POST", f"/api/v1/villages/{{code}}/documents/{kind}", f"draft_{kind}",
              f"Draft version 1 of the village's {kind}", TAG,
              rpc("planning", "draft_document",
                  lambda call, kind=kind: (call.path["code"], kind, call.body), keyed=True,
                  present=version_created),
              path_params=VillagePath, body=lambda kind=kind: plan.version_schema(kind),
              response=DocumentVersionSchema, status=201, location=True,
              scope=from_path("code")),
        Route("POST", f"/api/v1/villages/{{code}}/documents/{kind}/versions", f"revise_{kind}",
              f"A new version of the village's {kind} (earlier ones stay readable)", TAG,
              rpc("planning", "revise_document",
                  lambda call, kind=kind: (call.path["code"], kind, call.body), keyed=True,
                  present=version_created),
              path_params=VillagePath,
              body=lambda kind=kind: plan.version_schema(kind, revision=True),
              response=DocumentVersionSchema, status=201, location=True,
              scope=from_path("code")),
    ]


def step_route(segment, name, method, schema, summary, response=DocumentVersionSchema):
    return Route("POST", f"/api/v1/villages/{{code}}/documents/{{kind}}/{segment}", name,
                 summary, TAG, rpc("planning", method, path_and_body("code", "kind"),
                                   keyed=True),
                 path_params=DocumentPath, body=schema, response=response,
                 scope=from_path("code"))


ROUTES = [
    Route("GET", "/api/v1/villages/{code}/documents", "list_documents",
          "A village's planning documents: latest version, status, next step", TAG,
          rpc("planning", "list_documents", path("code")), path_params=VillagePath,
          response=DocumentSummarySchema(many=True), scope=from_path("code"),
          description="A JSON array, one item per kind drafted (four at most), not paged."),
    *[route for kind in plan_rules.KINDS for route in document_routes(kind)],
    Route("GET", "/api/v1/villages/{code}/documents/{kind}/versions/{version}",
          "get_document_version", "One version of a document", TAG,
          rpc("planning", "get_version", path("code", "kind", "version")),
          path_params=VersionPath, response=DocumentVersionSchema, scope=from_path("code")),
    Route("GET", "/api/v1/villages/{code}/documents/{kind}/diff", "diff_document_versions",
          "Field-level changes between two versions", TAG,
          rpc("planning", "diff_versions", lambda call: (
              call.path["code"], call.path["kind"], call.query["from_version"],
              call.query["to_version"])),
          path_params=DocumentPath, query=DiffQuery, response=VersionDiffSchema,
          scope=from_path("code")),
    step_route("approvals", "approve_document", "approve_document", plan.ApproveSchema,
               "Record that a meeting approved a version (the approval rule is checked)",
               response=ApprovalRecordSchema),
    Route("GET", "/api/v1/villages/{code}/documents/{kind}/versions/{version}/approval",
          "document_approval", "The approval of a version and the meeting behind it", TAG,
          rpc("planning", "approval_record", path("code", "kind", "version")),
          path_params=VersionPath, response=ApprovalRecordSchema, scope=from_path("code")),
    step_route("signatures", "sign_document", "sign_document", plan.SignSchema,
               "One sign-off step of an approved version"),
    step_route("bappeda-consultations", "record_bappeda_consultation",
               "record_bappeda_consultation", plan.BappedaSchema,
               "The RPLP's consultation with Bappeda"),
    step_route("musrenbang-submissions", "submit_to_musrenbang", "submit_to_musrenbang",
               plan.MusrenbangSchema, "A signed-off version entered into a Musrenbang forum"),
    Route("POST", "/api/v1/villages/{code}/meetings", "record_meeting",
          "Record a rembug warga / musyawarah: attendance, list, decisions", TAG,
          rpc("planning", "record_meeting", path_and_body("code"), keyed=True,
              present=meeting_recorded),
          path_params=VillagePath, body=plan.MeetingSchema, response=MeetingRecordSchema,
          status=201, location=True, scope=from_path("code")),
    Route("GET", "/api/v1/meetings/{meeting_id}", "get_meeting", "One meeting", TAG,
          rpc("planning", "get_meeting", path("meeting_id")), path_params=MeetingPath,
          response=MeetingRecordSchema, scope=meeting_scope),
    Route("POST", "/api/v1/villages/{code}/attachments", "upload_attachment",
          "Upload a file (base64, up to 20 MiB); it is kept by its SHA-256", TAG,
          rpc("planning", "upload_attachment", path_and_body("code"), keyed=True,
              present=attachment_stored),
          path_params=VillagePath, body=plan.UploadSchema, response=AttachmentSchema, status=201,
          location=True, scope=from_path("code"), max_body=ATTACHMENT_BODY),
    Route("GET", "/api/v1/villages/{code}/attachments", "list_attachments",
          "A village's uploaded attachments, oldest first, paged", TAG,
          rpc("planning", "list_attachments",
              lambda call: (call.path["code"], call.query_args)),
          path_params=VillagePath, query=PageQuerySchema,
          response=page_of(ListedAttachmentSchema, "AttachmentPage"),
          scope=from_path("code")),
    Route("GET", "/api/v1/villages/{code}/attachments/{sha256}", "get_attachment",
          "A stored file (base64), checked against its hash", TAG,
          rpc("planning", "get_attachment", path("code", "sha256")),
          path_params=AttachmentPath, response=AttachmentFileSchema, scope=from_path("code")),
    Route("GET", "/api/v1/planning/attachment-check", "verify_attachments",
          "Re-hash a region's stored files against the ledgers", TAG, verify_attachments,
          query=plan.VerifyQuerySchema, response=AttachmentCheckSchema),
    Route("GET", "/api/v1/planning/pending", "pending_documents",
          "Document versions in a region waiting for a step, paged", TAG, pending,
          query=plan.PendingQuerySchema, response=PendingPageSchema),
    Route("GET", "/api/v1/planning/approval-rule", "approval_rule",
          "The rule community meetings are held to", TAG,
          rpc("planning", "approval_rule"), response=ApprovalRuleSchema),
]
