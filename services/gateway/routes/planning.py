"""Planning documents, their versions, approvals, sign-offs and meetings, and the
attachments they cite (the planning service), validated with its own schemas."""
from marshmallow import Schema, fields, validate

from services.planning import rules as plan_rules
from services.planning import schemas as plan
from shared.patterns import Pattern

from ..routing import Reply, Route, from_path, path, path_and_body, rpc
from ..schemas import Open, PageQuerySchema, PageSchema
from .registration import VillagePath, _scoped_region, scoped_listing

TAG = "planning"
ATTACHMENT_BODY = 28 * 1024 * 1024   # a 20 MiB file in base64, with its description


class DocumentPath(VillagePath):
    kind = fields.String(required=True, validate=validate.OneOf(plan_rules.KINDS))


class VersionPath(DocumentPath):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class AttachmentPath(VillagePath):
    sha256 = fields.String(required=True, validate=Pattern(
        r"^[0-9a-f]{64}$", error="must be a SHA-256 (64 lowercase hex digits)"))


class MeetingPath(Schema):
    meeting_id = fields.String(required=True, validate=Pattern(
        r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}-[0-9a-f]{12}$",
        error="must be a meeting id: <village code>-<12 hex digits>"))


class DocumentSummarySchema(Open):
    """One of a village's documents (GET .../documents answers a list of them)."""
    kind = fields.String(required=True, validate=validate.OneOf(plan_rules.KINDS))
    latest_version = fields.Integer(required=True)
    status = fields.String(required=True)
    approved_version = fields.Integer(allow_none=True)


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
    region = _scoped_region(call, call.query["region"])
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
              response=Open, status=201, location=True, scope=from_path("code")),
        Route("POST", f"/api/v1/villages/{{code}}/documents/{kind}/versions", f"revise_{kind}",
              f"A new version of the village's {kind} (earlier ones stay readable)", TAG,
              rpc("planning", "revise_document",
                  lambda call, kind=kind: (call.path["code"], kind, call.body), keyed=True,
                  present=version_created),
              path_params=VillagePath,
              body=lambda kind=kind: plan.version_schema(kind, revision=True),
              response=Open, status=201, location=True, scope=from_path("code")),
    ]


def step_route(segment, name, method, schema, summary):
    return Route("POST", f"/api/v1/villages/{{code}}/documents/{{kind}}/{segment}", name,
                 summary, TAG, rpc("planning", method, path_and_body("code", "kind"),
                                   keyed=True),
                 path_params=DocumentPath, body=schema, response=Open,
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
          path_params=VersionPath, response=Open, scope=from_path("code")),
    Route("GET", "/api/v1/villages/{code}/documents/{kind}/diff", "diff_document_versions",
          "Field-level changes between two versions", TAG,
          rpc("planning", "diff_versions", lambda call: (
              call.path["code"], call.path["kind"], call.query["from_version"],
              call.query["to_version"])),
          path_params=DocumentPath, query=DiffQuery, response=Open, scope=from_path("code")),
    step_route("approvals", "approve_document", "approve_document", plan.ApproveSchema,
               "Record that a meeting approved a version (the approval rule is checked)"),
    Route("GET", "/api/v1/villages/{code}/documents/{kind}/versions/{version}/approval",
          "document_approval", "The approval of a version and the meeting behind it", TAG,
          rpc("planning", "approval_record", path("code", "kind", "version")),
          path_params=VersionPath, response=Open, scope=from_path("code")),
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
          path_params=VillagePath, body=plan.MeetingSchema, response=Open, status=201,
          location=True, scope=from_path("code")),
    Route("GET", "/api/v1/meetings/{meeting_id}", "get_meeting", "One meeting", TAG,
          rpc("planning", "get_meeting", path("meeting_id")), path_params=MeetingPath,
          response=Open, scope=meeting_scope),
    Route("POST", "/api/v1/villages/{code}/attachments", "upload_attachment",
          "Upload a file (base64, up to 20 MiB); it is kept by its SHA-256", TAG,
          rpc("planning", "upload_attachment", path_and_body("code"), keyed=True,
              present=attachment_stored),
          path_params=VillagePath, body=plan.UploadSchema, response=Open, status=201,
          location=True, scope=from_path("code"), max_body=ATTACHMENT_BODY),
    Route("GET", "/api/v1/villages/{code}/attachments", "list_attachments",
          "A village's uploaded attachments, oldest first, paged", TAG,
          rpc("planning", "list_attachments",
              lambda call: (call.path["code"], call.query_args)),
          path_params=VillagePath, query=PageQuerySchema, response=PageSchema,
          scope=from_path("code")),
    Route("GET", "/api/v1/villages/{code}/attachments/{sha256}", "get_attachment",
          "A stored file (base64), checked against its hash", TAG,
          rpc("planning", "get_attachment", path("code", "sha256")),
          path_params=AttachmentPath, response=Open, scope=from_path("code")),
    Route("GET", "/api/v1/planning/attachment-check", "verify_attachments",
          "Re-hash a region's stored files against the ledger", TAG, verify_attachments,
          query=plan.VerifyQuerySchema, response=Open),
    Route("GET", "/api/v1/planning/pending", "pending_documents",
          "Document versions in a region waiting for a step, paged", TAG, pending,
          query=plan.PendingQuerySchema, response=PageSchema),
    Route("GET", "/api/v1/planning/approval-rule", "approval_rule",
          "The rule community meetings are held to", TAG,
          rpc("planning", "approval_rule"), response=Open),
]
