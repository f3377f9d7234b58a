"""Offline verification of an audit bundle (docs/audit-bundle-format.md).

Needs the bundle's bytes and the trusted public key, nothing else: no store, no
RabbitMQ, no network. It imports only pure modules (hashing, Ed25519, JCS, the ledger
record schema), so it runs on an auditor's own machine. Every problem is reported
with where it is (the record, the tree head, the signature) and what is wrong.
"""
import base64
import binascii
import hashlib
from dataclasses import dataclass, field

import orjson
from marshmallow import ValidationError

from shared.ledger.canonical import canonical_bytes
from shared.ledger.chain_walk import MEMBERS as RECORD_MEMBERS
from shared.ledger.envelope import CANONICAL_TIME, RecordSchema

from . import merkle, references
from .treehead import HEX64, signature_problem, tree_head_problem

BUNDLE_FORMAT = "plpbk-audit-bundle/1"


def bundle_bytes(bundle) -> bytes:
    """The file form: canonical JSON and one newline, so every byte is checked. Both
    `plpbk audit export` and the gateway's answer are these bytes."""
    return canonical_bytes(bundle) + b"\n"
FIELDS = {"format", "scope", "created_at", "created_by", "tree_heads", "events",
          "attachments", "consistency", "public_key", "signature"}
EVENT_FIELDS = {"ledger", "position", "body", "proof"}
_record_schema = RecordSchema()
PROGRESS_EVERY = 500  # events between two progress reports


@dataclass
class BundleReport:
    problems: list = field(default_factory=list)   # [{"where", "problem"}]
    events: int = 0
    tree_heads: dict = field(default_factory=dict)  # ledger -> tree size
    scope: dict | None = None

    @property
    def ok(self):
        return not self.problems

    def add(self, where, problem):
        self.problems.append({"where": where, "problem": problem})

    def as_dict(self):
        return {"ok": self.ok, "events": self.events, "tree_heads": self.tree_heads,
                "scope": self.scope, "problems": self.problems}


def verify_bundle_bytes(data: bytes, public_key, kept_heads=(), progress=None) -> BundleReport:
    """Check a bundle file's bytes: canonical JSON, then everything verify_bundle checks."""
    report = BundleReport()
    bundle = read_bundle(data, report)
    if bundle is None:
        return report
    return verify_bundle(bundle, public_key, kept_heads, report, progress)


def read_bundle(data: bytes, report: BundleReport) -> dict | None:
    """The bundle object of a file's bytes, its form checked (section 6 rule 1); None, with
    the problem in report, when the bytes are not a JSON object at all."""
    try:  # said first: the JSON reader's own words name a surrogate at char 0
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.add("bundle", f"is not UTF-8 text (byte {exc.start} is "
                             f"0x{data[exc.start]:02x}): damaged, or not an audit bundle")
        return None
    try:
        bundle = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        report.add("bundle", f"is not valid JSON ({exc}): damaged or altered")
        return None
    if not isinstance(bundle, dict):
        report.add("bundle", "is not a JSON object")
        return None
    body = data[:-1] if data.endswith(b"\n") else data
    try:
        canonical = canonical_bytes(bundle) == body
    except Exception:  # noqa: BLE001 - an unencodable value is as bad as a changed one
        canonical = False
    if not canonical:
        report.add("bundle", "bytes are not in canonical JSON form (RFC 8785): the file was "
                             "altered after export")
    return bundle


def verify_bundle(bundle: dict, public_key, kept_heads=(), report=None,
                  progress=None) -> BundleReport:
    """progress(events done), now and then: a region's bundle can hold a million events."""
    report = report or BundleReport()
    if set(bundle) != FIELDS:
        report.add("bundle", f"has fields {sorted(bundle)}, expected {sorted(FIELDS)}")
        return report
    if bundle["format"] != BUNDLE_FORMAT:
        report.add("bundle", f"format is {bundle['format']!r}, expected {BUNDLE_FORMAT}")
        return report
    report.scope = bundle["scope"]
    problem = signature_problem(bundle, public_key, "bundle")
    if problem:
        report.add("bundle signature", problem)
    heads = _tree_heads(bundle["tree_heads"], public_key, report)
    records = _events(bundle["events"], heads, report, progress or (lambda done: None))
    report.events = len(records)
    _chain_links(records, heads, report)
    _scope(bundle["scope"], records, report)
    _attachments(bundle["attachments"], records, report)
    _consistency(bundle["consistency"], heads, public_key, kept_heads, report)
    return report


def _tree_heads(tree_heads, public_key, report) -> dict:
    heads = {}
    if not isinstance(tree_heads, dict):
        report.add("tree_heads", "is not an object of ledger -> tree head")
        return heads
    for name, head in sorted(tree_heads.items()):
        problem = tree_head_problem(head, public_key)
        if problem is None and head["ledger"] != name:
            problem = f"tree head is for ledger {head['ledger']!r}"
        if problem:
            report.add(f"tree head of {name}", problem)
            continue
        heads[name] = head
        report.tree_heads[name] = head["tree_size"]
    return heads


def _events(events, heads, report, progress) -> dict:
    """(ledger, position) -> (record dict, body) of every event that proves its inclusion."""
    records = {}
    if not isinstance(events, list):
        report.add("events", "is not a list")
        return records
    previous = None
    for number, event in enumerate(events):
        if number % PROGRESS_EVERY == 0:
            progress(number)
        where = f"events[{number}]"
        if not isinstance(event, dict) or set(event) != EVENT_FIELDS:
            report.add(where, f"must have exactly the fields {sorted(EVENT_FIELDS)}")
            continue
        name, position = event["ledger"], event["position"]
        if not isinstance(name, str) or type(position) is not int:
            report.add(where, "ledger must be a name and position a whole number")
            continue
        where = f"record {name} #{position} ({where})"
        if (name, position) in records:
            report.add(where, "appears twice")
            continue
        if previous is not None and (name, position) < previous:
            report.add(where, f"comes after record {previous[0]} #{previous[1]}: events "
                              "must be sorted by ledger name, then position (reordered)")
        previous = (name, position)
        checked = _event(event, heads.get(name), where, report)
        if checked is not None:
            records[(name, position)] = checked
    progress(len(events))
    return records


def _event(event, head, where, report):
    name, position = event["ledger"], event["position"]
    if head is None:
        report.add(where, f"no valid tree head for ledger {name!r} to prove it against")
        return None
    if not 1 <= position <= head["tree_size"]:
        report.add(where, f"position is outside the signed tree of {head['tree_size']} records")
        return None
    body = _base64(event["body"])
    if body is None:
        report.add(where, "body is not canonical base64")
        return None
    proof = event["proof"]
    if not isinstance(proof, list) or not all(isinstance(p, str) and HEX64.fullmatch(p)
                                              for p in proof):
        report.add(where, "proof is not a list of 64-digit lowercase hex hashes")
        return None
    if not merkle.verify_inclusion(merkle.leaf_hash(body), position - 1, head["tree_size"],
                                   [bytes.fromhex(p) for p in proof],
                                   bytes.fromhex(head["root_hash"])):
        report.add(where, "inclusion proof does not lead to the signed root of "
                          f"{name} (size {head['tree_size']}): the body or the proof was "
                          "altered")
        return None
    return _record(body, name, position, where, report)


def _record(body, name, position, where, report):
    """The body's record, once it is known to be a well-formed ledger record."""
    try:
        record = orjson.loads(body)
    except orjson.JSONDecodeError:
        report.add(where, "body is not JSON")
        return None
    if not isinstance(record, dict) or canonical_bytes(record) != body:
        report.add(where, "body is not a record in canonical form")
        return None
    if record.keys() != RECORD_MEMBERS:
        report.add(where, "body does not have exactly the members of a record: "
                          f"{sorted(record.keys() ^ RECORD_MEMBERS)}")
        return None
    try:
        _record_schema.load(record)
    except ValidationError as exc:
        report.add(where, f"body is not a ledger record: {exc.messages}")
        return None
    if record["ledger"] != name or record["position"] != position:
        report.add(where, f"body says ledger {record['ledger']!r} position "
                          f"{record['position']}")
        return None
    return record, body


def _base64(text):
    if not isinstance(text, str):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if base64.b64encode(data).decode() == text else None


def _chain_links(records, heads, report):
    """Neighbouring records must chain; the head's record must hash to the signed head."""
    for (name, position), (record, body) in sorted(records.items()):
        previous = records.get((name, position - 1))
        if previous is not None and \
                record["prev_hash"] != hashlib.sha256(previous[1]).hexdigest():
            report.add(f"record {name} #{position}", "prev_hash does not match the record "
                                                     "before it")
        head = heads[name]
        if position == head["tree_size"] and \
                hashlib.sha256(body).hexdigest() != head["head_hash"]:
            report.add(f"record {name} #{position}", "does not hash to the signed head_hash")


def _scope(scope, records, report):
    """Every event is about the scope and in its period; streams of villages and regions in
    scope have no holes."""
    if not isinstance(scope, dict):
        report.add("scope", "is not an object")
        return
    prefix = scope.get("village") or scope.get("region")
    if not isinstance(prefix, str) or not prefix or len({"village", "region"} & set(scope)) != 1 \
            or set(scope) - {"village", "region", "from", "to"}:
        report.add("scope", "must name a village or a region, optionally from and to")
        return
    since, until = scope.get("from"), scope.get("to")
    for member, moment in (("from", since), ("to", until)):
        if member in scope and not (isinstance(moment, str) and CANONICAL_TIME.fullmatch(moment)):
            report.add("scope", f"{member} is not a ledger time (YYYY-MM-DDTHH:MM:SS.ffffffZ)")
            return
    streams = {}
    for (name, position), (record, _) in sorted(records.items()):
        where = f"record {name} #{position}"
        codes = references.codes_about(record["stream_id"], record["payload"])
        if not references.in_scope(codes, prefix):
            report.add(where, f"is not about {prefix}: the bundle reveals an event outside "
                              "its scope")
        if (since and record["recorded_at"] < since) or (until and record["recorded_at"] > until):
            report.add(where, f"was recorded at {record['recorded_at']}, outside the period")
        if references.in_scope(references.stream_codes(record["stream_id"]), prefix):
            streams.setdefault((name, record["stream_id"]), []).append(record["stream_version"])
    for (name, stream), versions in sorted(streams.items()):
        expected_first = versions[0] if since else 1
        missing = sorted(set(range(expected_first, max(versions) + 1)) - set(versions))
        if missing:
            report.add(f"stream {stream} of {name}", f"version(s) {missing[:10]} are missing: "
                                                     "events of its village or region were "
                                                     "left out")


def _attachments(listed, records, report):
    expected = [{"ledger": name, "position": position, "event_id": record["event_id"], **found}
                for (name, position), (record, _) in sorted(records.items())
                for found in references.attachments(record["payload"])]
    if listed != expected:
        report.add("attachments", "do not match the attachment hashes inside the verified "
                                  "records")


def _consistency(entries, heads, public_key, kept_heads, report):
    """Proofs that each bundle tree head extends an earlier head (the auditor's kept ones)."""
    if not isinstance(entries, list):
        report.add("consistency", "is not a list")
        return
    proven = []
    for number, entry in enumerate(entries):
        where = f"consistency[{number}]"
        if not isinstance(entry, dict) or set(entry) != {"ledger", "from", "proof"} or \
                not isinstance(entry["ledger"], str):
            report.add(where, "must have exactly the fields from, ledger (a name), proof")
            continue
        old, new = entry["from"], heads.get(entry["ledger"])
        problem = tree_head_problem(old, public_key)
        if problem:
            report.add(where, f"earlier {problem}")
            continue
        if new is None or old["ledger"] != entry["ledger"]:
            report.add(where, f"no valid bundle tree head for ledger {entry['ledger']!r}")
            continue
        proof = entry["proof"]
        if not isinstance(proof, list) or not all(isinstance(p, str) and HEX64.fullmatch(p)
                                                  for p in proof) or \
                not merkle.verify_consistency(
                    old["tree_size"], new["tree_size"], bytes.fromhex(old["root_hash"]),
                    bytes.fromhex(new["root_hash"]), [bytes.fromhex(p) for p in proof]):
            report.add(where, f"the tree head of {entry['ledger']} (size "
                              f"{new['tree_size']}) does not extend the earlier head of size "
                              f"{old['tree_size']}: history was rewritten")
            continue
        proven.append(old)
    for kept in kept_heads:
        _kept_head(kept, heads, proven, public_key, report)


def _kept_head(kept, heads, proven, public_key, report):
    name = kept.get("ledger") if isinstance(kept, dict) else None
    where = f"kept tree head of {name if isinstance(name, str) else '?'}"
    problem = tree_head_problem(kept, public_key)
    if problem:
        report.add(where, problem)
        return
    new = heads.get(kept["ledger"])
    if new is None:
        report.add(where, "the bundle has no tree head for this ledger")
    elif new["tree_size"] < kept["tree_size"]:
        report.add(where, f"the bundle's tree has {new['tree_size']} records, fewer than the "
                          f"{kept['tree_size']} of your head: the ledger was truncated")
    elif new["tree_size"] == kept["tree_size"]:
        if new["root_hash"] != kept["root_hash"]:
            report.add(where, "same size as your head but a different root: history was "
                              "rewritten")
    elif kept not in proven:
        report.add(where, f"the bundle does not prove that its head (size {new['tree_size']}) "
                          f"extends your head of size {kept['tree_size']}: export it again "
                          "with --since")
