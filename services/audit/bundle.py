"""Export of an audit bundle: one village's or one region's events, provable offline.

The bundle holds the events' bodies exactly as stored, an inclusion proof of each
against a freshly signed tree head of its ledger, the attachment hashes found in those
events, and optionally consistency proofs from tree heads the auditor kept earlier.
Events about other villages or regions are never included: their existence shows only
as hashes inside the proofs. The whole bundle is signed; docs/audit-bundle-format.md specifies it and
services.audit.bundle_verify checks it.
"""
import base64

import orjson

from shared.chassis.errors import Conflict, InvalidInput, NotFound
from shared.ledger.envelope import now_iso

from . import index, references
from .bundle_verify import BUNDLE_FORMAT, bundle_bytes  # noqa: F401 (the file form)
from .records import bodies_at
from .treehead import sign_statement, tree_head_problem


def export_bundle(sources, views, log, scope, actor, since=()) -> dict:
    """scope: {"village": code} or {"region": prefix}, optionally "from"/"to" moments."""
    log.key()  # refuse before any work when nothing can be signed
    selected = _selected_events(sources, views, scope)
    kept = _kept_heads(since, log)
    heads = {name: log.signed_head(name)
             for name in sorted({name for name, *_ in selected} | set(kept))}
    events = []
    for name, position, body, _record in selected:
        if not log.leaf_matches(name, position, body):
            raise Conflict(f"record {name} #{position} was altered after it was taken into "
                           "the Merkle tree: run plpbk verify", "ledger")
        proof = log.tree(name, extend=False).inclusion_proof(position - 1,
                                                             heads[name]["tree_size"])
        events.append({"ledger": name, "position": position,
                       "body": base64.b64encode(body).decode(),
                       "proof": [node.hex() for node in proof]})
    consistency = [
        {"ledger": name, "from": head, "proof": [node.hex() for node in log.tree(
            name, extend=False).consistency_proof(head["tree_size"], heads[name]["tree_size"])]}
        for name, head in sorted(kept.items())]
    attachments = [{"ledger": name, "position": position, "event_id": record["event_id"],
                    **found}
                   for name, position, _body, record in selected
                   for found in references.attachments(record["payload"])]
    return sign_statement({
        "format": BUNDLE_FORMAT, "scope": scope, "created_at": now_iso(), "created_by": actor,
        "tree_heads": heads, "events": events, "attachments": attachments,
        "consistency": consistency}, log.key())


def _selected_events(sources, views, scope):
    """(ledger, position, body, record) of the events in scope, by ledger and position."""
    if "village" in scope:
        prefix, field = scope["village"], "village"
        locations = index.village_locations(views, prefix)
    else:
        prefix, field = scope["region"], "region"
        locations = index.region_locations(views, prefix)
    if not locations:
        raise NotFound(f"no event about {prefix} is recorded in any ledger", field)
    since, until = scope.get("from"), scope.get("to")
    selected = []
    for (name, position), (body, _hash) in sorted(bodies_at(sources, locations).items()):
        record = orjson.loads(body)
        if since and record["recorded_at"] < since or until and record["recorded_at"] > until:
            continue
        if references.in_scope(references.codes_about(record["stream_id"],
                                                       record["payload"]), prefix):
            selected.append((name, position, body, record))
    if not selected:   # named by the bound given: "from" when both, or only it, are
        raise NotFound(f"no event about {prefix} was recorded in that period",
                       "from" if since or not until else "to")
    return selected


def _kept_heads(since, log) -> dict:
    """The auditor's earlier tree heads, by ledger: each must be one we signed."""
    if not isinstance(since, (list, tuple)):
        raise InvalidInput("must be a list of tree heads", "since")
    kept = {}
    for number, head in enumerate(since):
        problem = tree_head_problem(head, log.key().public_key())
        if problem:
            raise InvalidInput(f"since[{number}]: {problem}", "since")
        name = head["ledger"]
        if name in kept:
            raise InvalidInput(f"since[{number}]: a second tree head for ledger {name}", "since")
        tree = log.tree(name)
        if head["tree_size"] > tree.size:
            raise Conflict(f"your tree head of {name} has {head['tree_size']} records, the "
                           f"ledger only {tree.size}: it was truncated", "since")
        kept[name] = head
    return kept
