"""History, state as of a moment, decisions explained, proofs and bundles (the audit
service, read-only), validated with the audit service's own input rules."""
from marshmallow import Schema, fields, validate

from services.audit import schemas as aud
from services.audit.bundle_verify import bundle_bytes
from services.audit.references import UUID
from shared.ledger.base import LEDGER_NAME_PATTERN
from shared.patterns import Pattern

from ..routing import Reply, Route, from_path, paged, path, rpc
from ..schemas import Open, PageQuerySchema, PageSchema
from .registration import VillagePath

TAG = "audit"


class EventPath(Schema):
    event_id = fields.String(required=True, validate=Pattern(
        UUID.pattern, error="must be an event id (a lowercase UUID)"))


class LedgerPath(Schema):
    ledger = fields.String(required=True, validate=Pattern(
        LEDGER_NAME_PATTERN, error="must be a ledger name"), metadata={"example": "registration"})


class RecordPath(LedgerPath):
    position = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class HistoryQuery(PageQuerySchema):
    as_of = aud.Moment(load_default=None, metadata={
        "description": "only what was recorded up to this moment (ISO-8601, taken exactly; "
                       "a date alone is the end of that day, UTC)", "example": "2026-03-01"})


class AsOfQuery(Schema):
    as_of = aud.Moment(load_default=None, metadata={
        "description": "the moment (ISO-8601, taken exactly; a date alone is the end of "
                       "that day, UTC); absent: now", "example": "2026-03-01T08:00:00+07:00"})


class TreeSizeQuery(Schema):
    tree_size = fields.Integer(
        load_default=None, strict=True, validate=validate.Range(min=0),
        metadata={"description": "prove against the tree of this many records (default: now)"})


class ConsistencyQuery(Schema):
    first = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    second = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=0))


class BundleSchema(aud.BundleScopeSchema):
    since = fields.List(fields.Dict(), load_default=list, metadata={
        "description": "signed tree heads you kept: the bundle proves its heads extend them"})


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
          path_params=VillagePath, query=HistoryQuery, response=PageSchema,
          scope=from_path("code")),
    Route("GET", "/api/v1/audit/villages/{code}/report", "audit_report",
          "The village's history as one printable HTML page", TAG, history_report,
          path_params=VillagePath, response={"type": "string"}, scope=from_path("code")),
    Route("GET", "/api/v1/audit/villages/{code}/state", "audit_state_as_of",
          "The village's documents in every service as they were at a moment", TAG,
          state_as_of, path_params=VillagePath, query=AsOfQuery, response=Open,
          scope=from_path("code")),
    Route("GET", "/api/v1/audit/events/{event_id}", "audit_why",
          "One decision: its evidence, rule results, causes and effects", TAG,
          rpc("audit", "why", path("event_id")), path_params=EventPath, response=Open),
    Route("GET", "/api/v1/audit/events/{event_id}/proof", "audit_event_proof",
          "The event as stored, with its inclusion proof", TAG,
          rpc("audit", "event_proof", lambda call: (call.path["event_id"],
                                                    call.query["tree_size"])),
          path_params=EventPath, query=TreeSizeQuery, response=Open),
    Route("GET", "/api/v1/audit/ledgers", "audit_ledgers",
          "Every ledger: head, indexed position, tree size; paged", TAG,
          rpc("audit", "ledgers", present=paged), query=PageQuerySchema, response=PageSchema),
    Route("GET", "/api/v1/audit/ledgers/{ledger}/tree-head", "audit_tree_head",
          "A signed tree head of the ledger as it is now", TAG,
          rpc("audit", "tree_head", path("ledger")), path_params=LedgerPath, response=Open),
    Route("GET", "/api/v1/audit/ledgers/{ledger}/records/{position}/proof",
          "audit_inclusion_proof", "A record as stored, with its inclusion proof", TAG,
          rpc("audit", "inclusion_proof", lambda call: (
              call.path["ledger"], call.path["position"], call.query["tree_size"])),
          path_params=RecordPath, query=TreeSizeQuery, response=Open),
    Route("GET", "/api/v1/audit/ledgers/{ledger}/consistency", "audit_consistency_proof",
          "Proof that the ledger's later tree extends an earlier one", TAG,
          rpc("audit", "consistency_proof", lambda call: (
              call.path["ledger"], call.query["first"], call.query["second"])),
          path_params=LedgerPath, query=ConsistencyQuery, response=Open),
    Route("POST", "/api/v1/audit/bundles", "audit_export_bundle",
          "An audit bundle of a village or region, optionally for a period", TAG,
          export_bundle, body=BundleSchema, response=Open, any_role=True,
          scope=bundle_scope, replayable=False,
          description="Read-only (POST for its body): auditors may call it. The answer "
                      "is the bundle file itself (canonical JSON and a newline): save it "
                      "as it comes for `plpbk verify-bundle`."),
]
