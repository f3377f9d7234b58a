"""History, state as of a moment, decisions explained, proofs and bundles (the audit
service, read-only), validated with the audit service's own input rules."""
from marshmallow import Schema, fields

from services.audit import schemas as aud
from services.audit.bundle_verify import bundle_bytes

from ..event_payloads import by_event_type
from ..routing import Reply, Route, from_path, paged, path, rpc
from ..schemas import ActorSchema, PageQuerySchema, maybe, page_of
from .common import VillagePath, optional_parameter, required_parameter

TAG = "audit"
HEX = {"pattern": "^[0-9a-f]{64}$"}
PROOF = {"description": "the proof's hashes, hex, in order"}


class EventPath(Schema):
    event_id = required_parameter(aud.EVENT_ID)


class LedgerPath(Schema):
    ledger = required_parameter(aud.LEDGER, example="registration")


class RecordPath(LedgerPath):
    position = required_parameter(aud.POSITION)


class HistoryQuery(PageQuerySchema):
    as_of = aud.Moment(load_default=None, metadata={
        "description": "only what was recorded up to this moment (ISO-8601, taken exactly; "
                       "a date alone is the end of that day, UTC)", "example": "2026-03-01"})


class AsOfQuery(Schema):
    as_of = aud.Moment(load_default=None, metadata={
        "description": "the moment (ISO-8601, taken exactly; a date alone is the end of "
                       "that day, UTC); absent: now", "example": "2026-03-01T08:00:00+07:00"})


class TreeSizeQuery(Schema):
    tree_size = optional_parameter(
        aud.TREE_SIZE, description="prove against the tree of this many records (default: now)")


class ConsistencyQuery(Schema):
    first = required_parameter(aud.TREE_SIZE)
    second = optional_parameter(aud.TREE_SIZE)


class BundleSchema(aud.BundleScopeSchema):
    since = fields.List(fields.Dict(), load_default=list, metadata={
        "description": "signed tree heads you kept: the bundle proves its heads extend them"})


# -- answers ------------------------------------------------------------------------------
# What services/audit answers, field by field (the gateway tests check live answers
# against them). An event's `payload` is typed by its `type` from the services' event
# catalogs (event_payloads.py); a village's views as of a moment are each service's read
# models: objects here.

class RecordSummarySchema(Schema):
    """A recorded event: where it is, what and who."""
    ledger = fields.String(required=True)
    position = fields.Integer(required=True)
    event_id = fields.String(required=True)
    type = fields.String(required=True)
    stream_id = fields.String(required=True)
    recorded_at = fields.String(required=True, metadata={"description": "ISO-8601, UTC"})
    actor = fields.Nested(ActorSchema, required=True)


class RuleVersionUsedSchema(Schema):
    field = fields.String(required=True)
    id = fields.String(required=True)
    version = fields.Integer(required=True)


class EvidenceSchema(RecordSummarySchema):
    paths = fields.List(fields.String(), required=True, metadata={
        "description": "where the payload names it"})


class NamedAttachmentSchema(Schema):
    path = fields.String(required=True, metadata={"description": "where the payload names it"})
    sha256 = fields.String(required=True, metadata=HEX)
    name = maybe(fields.String, metadata={"description": "the file name beside it, if any"})


class ExplainedEventSchema(RecordSummarySchema):
    """An event explained: its envelope, rule versions, evidence, attachments, cause and
    effects; `payload` is its type's, by type below (explained_event)."""
    stream_version = fields.Integer(required=True)
    schema_version = fields.Integer(required=True)
    occurred_at = fields.String(required=True)
    correlation_id = maybe(fields.String)
    causation_id = maybe(fields.String)
    caused_by = maybe(fields.Nested, RecordSummarySchema)
    caused = fields.List(fields.Nested(RecordSummarySchema), required=True)
    rule_versions = fields.List(fields.Nested(RuleVersionUsedSchema), required=True)
    evidence = fields.List(fields.Nested(EvidenceSchema), required=True)
    attachments = fields.List(fields.Nested(NamedAttachmentSchema), required=True)


def explained_event(**options):
    """An explained event of any ledger, typed by its `type`: one schema per event type
    of the services' catalogs (ExplainedVillageRegistered, ...), its `payload` the
    type's payload schema (VillageRegisteredPayload, ...): the schemas the services check
    every payload against before recording it."""
    return by_event_type(
        ExplainedEventSchema, "ExplainedEvent", "Explained{type}", None,
        "An event explained, of any ledger: by its `type`, one of the schemas below, "
        "whose `payload` is that type's payload schema, the one its service checks every "
        "payload against before recording it. The payload is exactly as recorded, at its "
        "`schema_version`, never upcast.", **options)


class HiddenSchema(Schema):
    """An event outside the caller's region is given as {hidden: true, ledger, position,
    reason} only: the other fields are absent then."""
    hidden = fields.Boolean(metadata={"description": "true: outside the caller's region"})
    ledger = fields.String()
    position = fields.Integer()
    reason = fields.String()


class BasedOnSchema(HiddenSchema):
    """Evidence the decision names, and its own evidence in turn (or hidden)."""
    paths = fields.List(fields.String(), required=True)
    event = explained_event()
    based_on = fields.List(fields.Nested(lambda: BasedOnSchema()))


class CauseSchema(HiddenSchema):
    """A cause, nearest first (a record summary), or hidden, or {causation_id, recorded:
    false} when the causation id names no recorded event."""
    event_id = fields.String()
    type = fields.String()
    stream_id = fields.String()
    recorded_at = fields.String()
    actor = fields.Nested(ActorSchema)
    causation_id = fields.String()
    recorded = fields.Boolean()


class EffectSchema(HiddenSchema):
    """An event it caused, and those that one caused (or hidden)."""
    event = fields.Nested(RecordSummarySchema)
    caused = fields.List(fields.Nested(lambda: EffectSchema()))


class DecisionSchema(Schema):
    event = explained_event(required=True)
    rule_results = fields.List(fields.Dict(), required=True, metadata={
        "description": "the payload's rule results (objects with `result`), as recorded"})
    based_on = fields.List(fields.Nested(BasedOnSchema), required=True)
    caused_by = fields.List(fields.Nested(CauseSchema), required=True)
    caused = fields.List(fields.Nested(EffectSchema), required=True)


HistoryPageSchema = page_of(explained_event(), "AuditHistoryPage")


class LastEventSchema(Schema):
    ledger = fields.String(required=True)
    position = fields.Integer(required=True)
    type = fields.String(required=True)
    recorded_at = fields.String(required=True)


class ReplayProblemSchema(Schema):
    view = fields.String(required=True)
    ledger = fields.String(required=True)
    position = fields.Integer(required=True)
    type = fields.String(required=True)
    error = fields.String(required=True)


class StateAsOfSchema(Schema):
    code = fields.String(required=True)
    as_of = fields.String(required=True, metadata={"description": "the moment, ISO-8601"})
    cuts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, metadata={
        "description": "per ledger, the last position recorded by then"})
    events = fields.Integer(required=True, metadata={"description": "events replayed"})
    last_event = maybe(fields.Nested, LastEventSchema)
    views = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True, metadata={
        "description": "per service view, its collections' documents by key, as they were "
                       "(each service's read models: free-form here by design)"})
    problems = fields.List(fields.Nested(ReplayProblemSchema), required=True)
    skipped_services = fields.Dict(keys=fields.String(), values=fields.String(),
                                   required=True, metadata={"description": "service -> why"})


class InclusionProofSchema(Schema):
    ledger = fields.String(required=True)
    position = fields.Integer(required=True)
    leaf_index = fields.Integer(required=True)
    tree_size = fields.Integer(required=True)
    body = fields.String(required=True, metadata={
        "description": "the record's stored bytes, base64"})
    hash = fields.String(required=True, metadata=HEX)
    proof = fields.List(fields.String(), required=True, metadata=PROOF)


class ConsistencyProofSchema(Schema):
    ledger = fields.String(required=True)
    first = fields.Integer(required=True)
    second = fields.Integer(required=True)
    first_root = fields.String(required=True, metadata=HEX)
    second_root = fields.String(required=True, metadata=HEX)
    proof = fields.List(fields.String(), required=True, metadata=PROOF)


class BrokenSchema(Schema):
    position = fields.Integer(required=True)
    problem = fields.String(required=True)


class TreeStatusSchema(Schema):
    size = fields.Integer(required=True)
    broken = maybe(fields.Nested, BrokenSchema, metadata={
        "description": "the first record that failed verification; null when none"})


class LedgerStatusSchema(Schema):
    ledger = fields.String(required=True)
    head = fields.Integer(required=True, metadata={"description": "the last position"})
    hash = fields.String(required=True, metadata=HEX)
    indexed = fields.Integer(required=True)
    tree = maybe(fields.Nested, TreeStatusSchema, metadata={
        "description": "null before its Merkle tree is built"})


class TreeHeadSchema(Schema):
    """A signed tree head (docs/ledger-format.md): keep it to check later proofs."""
    format = fields.String(required=True, metadata={"example": "plpbk-tree-head/1"})
    ledger = fields.String(required=True)
    tree_size = fields.Integer(required=True)
    root_hash = fields.String(required=True, metadata=HEX)
    head_hash = fields.String(required=True, metadata=HEX)
    head_recorded_at = maybe(fields.String, metadata={"description": "null when empty"})
    signed_at = fields.String(required=True)
    public_key = fields.String(required=True, metadata={"description": "Ed25519, base64"})
    signature = fields.String(required=True, metadata={"description": "base64"})


class BundleEventSchema(Schema):
    ledger = fields.String(required=True)
    position = fields.Integer(required=True)
    body = fields.String(required=True, metadata={"description": "stored bytes, base64"})
    proof = fields.List(fields.String(), required=True, metadata=PROOF)


class BundleAttachmentSchema(NamedAttachmentSchema):
    ledger = fields.String(required=True)
    position = fields.Integer(required=True)
    event_id = fields.String(required=True)


class BundleConsistencySchema(Schema):
    ledger = fields.String(required=True)
    from_ = fields.Nested(TreeHeadSchema, required=True, data_key="from",
                          metadata={"description": "the tree head kept (`since`)"})
    proof = fields.List(fields.String(), required=True, metadata=PROOF)


class AuditBundleSchema(Schema):
    """An audit bundle (docs/audit-bundle-format.md), signed."""
    format = fields.String(required=True, metadata={"example": "plpbk-audit-bundle/1"})
    scope = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata={
        "description": "village, or region, and from/to as asked"})
    created_at = fields.String(required=True)
    created_by = fields.Nested(ActorSchema, required=True)
    tree_heads = fields.Dict(keys=fields.String(), values=fields.Nested(TreeHeadSchema),
                             required=True, metadata={"description": "by ledger"})
    events = fields.List(fields.Nested(BundleEventSchema), required=True)
    attachments = fields.List(fields.Nested(BundleAttachmentSchema), required=True)
    consistency = fields.List(fields.Nested(BundleConsistencySchema), required=True)
    public_key = fields.String(required=True)
    signature = fields.String(required=True)


# -- actions ------------------------------------------------------------------------------

def history(call):
    entries = call.upstream.call("audit", "history", call.path["code"])
    moment = call.query["as_of"]
    if moment is not None:
        entries = [entry for entry in entries if entry["recorded_at"] <= moment]
    return paged(call, entries)


history.rpc = "audit.history"


def state_as_of(call):
    # the moment as sent: the service reads it (a date's end is judged as a date there)
    return call.upstream.call("audit", "state_as_of", call.path["code"],
                              call.query_args.get("as_of"))


state_as_of.rpc = "audit.state_as_of"


def report(call, html):
    return Reply(200, html, content_type="text/html; charset=utf-8")


def bundle_scope(call):
    field = "village" if call.body.get("village") is not None else "region"
    return field, call.body.get(field)


def export_bundle(call):
    scope = {key: value for key, value in call.body.items() if key != "since"}
    bundle = call.upstream.call("audit", "export_bundle", scope, call.loaded["since"])
    # the file's own bytes: saved as they come, `plpbk verify-bundle` checks every byte
    return Reply(200, bundle_bytes(bundle))


export_bundle.rpc = "audit.export_bundle"
history_report = rpc("audit", "history_html", path("code"), present=report)
history_report.content_type = "text/html"


ROUTES = [
    Route("GET", "/api/v1/audit/villages/{code}/history", "audit_history",
          "Every event about a village in every ledger, explained, paged", TAG, history,
          path_params=VillagePath, query=HistoryQuery, response=HistoryPageSchema,
          scope=from_path("code")),
    Route("GET", "/api/v1/audit/villages/{code}/report", "audit_report",
          "The village's history as one printable HTML page", TAG, history_report,
          path_params=VillagePath, response={"type": "string"}, scope=from_path("code")),
    Route("GET", "/api/v1/audit/villages/{code}/state", "audit_state_as_of",
          "The village's documents in every service as they were at a moment", TAG,
          state_as_of, path_params=VillagePath, query=AsOfQuery, response=StateAsOfSchema,
          scope=from_path("code")),
    Route("GET", "/api/v1/audit/events/{event_id}", "audit_why",
          "One decision: its evidence, rule results, causes and effects", TAG,
          rpc("audit", "why", path("event_id")), path_params=EventPath,
          response=DecisionSchema),
    Route("GET", "/api/v1/audit/events/{event_id}/proof", "audit_event_proof",
          "The event as stored, with its inclusion proof", TAG,
          rpc("audit", "event_proof", lambda call: (call.path["event_id"],
                                                    call.query["tree_size"])),
          path_params=EventPath, query=TreeSizeQuery, response=InclusionProofSchema),
    Route("GET", "/api/v1/audit/ledgers", "audit_ledgers",
          "Every ledger: head, indexed position, tree size; paged", TAG,
          rpc("audit", "ledgers", present=paged), query=PageQuerySchema,
          response=page_of(LedgerStatusSchema, "LedgerPage")),
    Route("GET", "/api/v1/audit/ledgers/{ledger}/tree-head", "audit_tree_head",
          "A signed tree head of the ledger as it is now", TAG,
          rpc("audit", "tree_head", path("ledger")), path_params=LedgerPath,
          response=TreeHeadSchema),
    Route("GET", "/api/v1/audit/ledgers/{ledger}/records/{position}/proof",
          "audit_inclusion_proof", "A record as stored, with its inclusion proof", TAG,
          rpc("audit", "inclusion_proof", lambda call: (
              call.path["ledger"], call.path["position"], call.query["tree_size"])),
          path_params=RecordPath, query=TreeSizeQuery, response=InclusionProofSchema),
    Route("GET", "/api/v1/audit/ledgers/{ledger}/consistency", "audit_consistency_proof",
          "Proof that the ledger's later tree extends an earlier one", TAG,
          rpc("audit", "consistency_proof", lambda call: (
              call.path["ledger"], call.query["first"], call.query["second"])),
          path_params=LedgerPath, query=ConsistencyQuery, response=ConsistencyProofSchema),
    Route("POST", "/api/v1/audit/bundles", "audit_export_bundle",
          "An audit bundle of a village or region, optionally for a period", TAG,
          export_bundle, body=BundleSchema, response=AuditBundleSchema, any_role=True,
          scope=bundle_scope, replayable=False,
          description="Read-only (POST for its body): auditors may call it. The answer "
                      "is the bundle file itself (canonical JSON and a newline): save it "
                      "as it comes for `plpbk verify-bundle`."),
]
