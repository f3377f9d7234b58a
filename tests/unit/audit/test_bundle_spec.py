"""The bundle recomputed from the words of docs/audit-bundle-format.md and
docs/ledger-format.md alone, as an auditor writing a verifier in another language would:
no audit or ledger code, only hashlib, json, base64, sqlite3 (the store layout of
ledger-format.md section 4) and Ed25519. Whatever the platform writes must be what the
words say, byte for byte."""
import base64
import hashlib
import json
import re
import sqlite3

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit.bundle import bundle_bytes, export_bundle
from services.audit.bundle_verify import verify_bundle_bytes
from shared.ledger import NewEvent, open_ledger

from .world import BAJUR, DISTRICT, ELSEWHERE, MINISTRY, build_world, record_quotas

AUDITOR = {"id": "bpkp-1", "role": "auditor", "region": ""}
BUNDLE_MEMBERS = {"attachments", "consistency", "created_at", "created_by", "events",
                  "format", "public_key", "scope", "signature", "tree_heads"}
HEAD_MEMBERS = {"format", "ledger", "tree_size", "root_hash", "head_hash",
                "head_recorded_at", "signed_at", "public_key", "signature"}
CODE = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}")


@pytest.fixture
def world(tmp_path):
    world = build_world(tmp_path)
    yield world
    world.sources.close()


# -- the words, as code ------------------------------------------------------------------

def jcs(value) -> bytes:
    """RFC 8785 for the values a ledger admits (strings, integers, true/false/null, keys in
    the Basic Multilingual Plane): sorted keys, no white space, minimal escapes, UTF-8."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).encode()


def signed_by(statement, raw_key: bytes) -> bool:
    """Ed25519 over the JCS bytes of the object without `signature`; public_key is the
    base64 of the signer's 32 raw bytes."""
    if base64.b64decode(statement["public_key"]) != raw_key:
        return False
    unsigned = {k: v for k, v in statement.items() if k != "signature"}
    Ed25519PublicKey.from_public_bytes(raw_key).verify(
        base64.b64decode(statement["signature"]), jcs(unsigned))
    return True


def mth(leaves) -> bytes:
    """RFC 6962 2.1: leaf SHA-256(0x00 || body), node SHA-256(0x01 || l || r), split at
    the largest power of two smaller than n, the empty tree SHA-256 of nothing."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m, leaves) -> list:
    """RFC 6962 2.1.1 PATH(m, D[n]), sibling hashes from the leaf up."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def consistency(m, leaves) -> list:
    """RFC 6962 2.1.2 PROOF(m, D[n]) = SUBPROOF(m, D[n], true); empty when m is 0 or n."""
    def subproof(m, leaves, whole):
        if m == len(leaves):
            return [] if whole else [mth(leaves)]
        k = 1
        while k * 2 < len(leaves):
            k *= 2
        if m <= k:
            return subproof(m, leaves[:k], whole) + [mth(leaves[k:])]
        return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]
    return [] if m == 0 else subproof(m, leaves, True)


def ledger_rows(world, name):
    """ledger-format.md section 4: one SQLite file per ledger, table records."""
    db = sqlite3.connect(f"{world.store_uri[len('sqlite:///'):]}/{name}.db")
    try:
        return db.execute("SELECT position, body, hash FROM records ORDER BY position").fetchall()
    finally:
        db.close()


def about(record, prefix) -> bool:
    """Section 6 rule 7: village codes (payload `code`, or a code PP.KK.CC.DDDD inside the
    stream id) and region codes (a stream id `word-PP[.KK[.CC]]` whose word is not user,
    apikey, ruleset or meeting; payload `kabupaten` PP.KK, or an object with that code)."""
    payload, stream = record["payload"], record["stream_id"]
    code = payload.get("code")
    codes = CODE.findall(stream) + (
        [code] if isinstance(code, str) and CODE.fullmatch(code) else [])
    named = re.fullmatch(r"([a-z][a-z0-9_]*)-([0-9]{2}(\.[0-9]{2}){0,2})", stream)
    if named and named.group(1) not in ("user", "apikey", "ruleset", "meeting"):
        codes.append(named.group(2))
    kabupaten = payload.get("kabupaten")
    if isinstance(kabupaten, dict):
        kabupaten = kabupaten.get("code")
    if isinstance(kabupaten, str) and re.fullmatch(r"[0-9]{2}\.[0-9]{2}", kabupaten):
        codes.append(kabupaten)
    return any(c.startswith(prefix) for c in codes)


def attachments_of(payload) -> list:
    """Section 4: every payload field named sha256 or ending in _sha256 whose value is 64
    lowercase hex digits, in payload order (keys sorted, as in the canonical body, depth
    first); path `a.b[2].c`; name the first of the sibling members name, filename,
    file_name, title that is a string, else null."""
    found = []

    def visit(value, where):
        if isinstance(value, dict):
            for key in sorted(value):
                item, at = value[key], f"{where}.{key}" if where else key
                if (key == "sha256" or key.endswith("_sha256")) and isinstance(item, str) \
                        and re.fullmatch(r"[0-9a-f]{64}", item):
                    name = next((value[n] for n in ("name", "filename", "file_name", "title")
                                 if isinstance(value.get(n), str)), None)
                    found.append({"path": at, "sha256": item, "name": name})
                else:
                    visit(item, at)
        elif isinstance(value, list):
            for number, item in enumerate(value):
                visit(item, f"{where}[{number}]")

    visit(payload, "")
    return found


def check_against_the_words(world, data: bytes, prefix: str):
    bundle = json.loads(data)
    raw_key = base64.b64decode(world.log.signed_head("registration")["public_key"])
    assert data == jcs(bundle) + b"\n"                             # section 1
    assert set(bundle) == BUNDLE_MEMBERS and bundle["format"] == "plpbk-audit-bundle/1"
    assert signed_by(bundle, raw_key)
    bodies = {}
    for name, head in bundle["tree_heads"].items():               # section 2
        rows = ledger_rows(world, name)
        bodies[name] = [bytes(body) for _, body, _ in rows]
        assert set(head) == HEAD_MEMBERS and head["format"] == "plpbk-tree-head/1"
        assert head["ledger"] == name and signed_by(head, raw_key)
        assert head["tree_size"] == len(rows)
        assert head["root_hash"] == mth(bodies[name]).hex()
        assert head["head_hash"] == hashlib.sha256(bodies[name][-1]).hexdigest() == rows[-1][2]
        assert head["head_recorded_at"] == json.loads(bodies[name][-1])["recorded_at"]
    events = bundle["events"]                                     # section 3
    assert [(e["ledger"], e["position"]) for e in events] == sorted(
        (e["ledger"], e["position"]) for e in events)
    for event in events:
        leaves = bodies[event["ledger"]]
        assert base64.b64decode(event["body"]) == leaves[event["position"] - 1]
        assert event["proof"] == [h.hex() for h in path(event["position"] - 1, leaves)]
    expected = [(name, number + 1) for name in sorted(bodies)
                for number, body in enumerate(bodies[name]) if about(json.loads(body), prefix)]
    assert [(e["ledger"], e["position"]) for e in events] == expected
    assert bundle["attachments"] == [                             # section 4
        {"ledger": e["ledger"], "position": e["position"], "event_id": record["event_id"],
         **found}
        for e in events for record in [json.loads(base64.b64decode(e["body"]))]
        for found in attachments_of(record["payload"])]
    return bundle


def export(world, scope):
    return export_bundle(world.sources, world.views, world.log, scope, AUDITOR, [])


def test_a_bundle_is_what_the_format_says_byte_for_byte(world):
    data = bundle_bytes(export(world, {"village": BAJUR}))
    bundle = check_against_the_words(world, data, BAJUR)
    assert bundle["attachments"][0]["name"] == "rplp.pdf"
    assert verify_bundle_bytes(data, world.public_key).ok


def test_attachments_are_found_as_section_4_words_them(world):
    """A field is named by its key, never by reading the path back: a key holding a dot
    is not a field named sha256, and the name is its own sibling's. Before, `scan.sha256`
    was taken for an attachment, a sibling name came from another object, and a list
    beside a dotted key crashed the export and the verifier with an AttributeError."""
    digest = hashlib.sha256(b"scan").hexdigest()
    planning = open_ledger(world.store_uri, "planning")
    planning.append(f"document-{BAJUR}-scan", 0, [NewEvent("DocumentUploaded", {
        "code": BAJUR, "scan.sha256": digest, "a": ["not a file"],
        "a.b": {"sha256": digest, "title": "Peta"},
        "files": [{"name": "wrong.pdf"}], "files[0]": {"file_sha256": digest, "name": 7,
                                                       "filename": "bukti.jpg"}})],
        DISTRICT)
    planning.close()
    world.index()
    data = bundle_bytes(export(world, {"village": BAJUR}))
    bundle = check_against_the_words(world, data, BAJUR)
    assert [a["path"] for a in bundle["attachments"] if a["position"] == 3] == [
        "a.b.sha256", "files[0].file_sha256"]
    assert [a["name"] for a in bundle["attachments"] if a["position"] == 3] == [
        "Peta", "bukti.jpg"]
    report = verify_bundle_bytes(data, world.public_key)
    assert report.ok, report.problems


def test_consistency_proofs_are_rfc_6962_proofs_of_the_kept_sizes(world):
    """Section 5: PROOF(m, D[n]) from each kept head to the bundle's head; from a head of
    the same size it is empty (section 6 rule 10)."""
    kept = [world.log.signed_head(name) for name in ("registration", "planning")]
    registration = open_ledger(world.store_uri, "registration")
    for number in range(5):
        stream = f"village-{BAJUR}"
        registration.append(stream, registration.stream_version(stream), [NewEvent(
            "BkmRecorded", {"code": BAJUR, "n": number})], DISTRICT)
    registration.close()
    world.index()
    data = bundle_bytes(export_bundle(world.sources, world.views, world.log,
                                      {"village": BAJUR}, AUDITOR, kept))
    bundle = check_against_the_words(world, data, BAJUR)
    for entry, head in zip(bundle["consistency"], sorted(kept, key=lambda h: h["ledger"])):
        assert entry["ledger"] == head["ledger"] and entry["from"] == head
        leaves = [bytes(body) for _, body, _ in ledger_rows(world, head["ledger"])]
        assert entry["proof"] == [h.hex() for h in consistency(head["tree_size"], leaves)]
        assert head["root_hash"] == mth(leaves[:head["tree_size"]]).hex()
    assert [len(e["proof"]) > 0 for e in bundle["consistency"]] == [False, True]
    assert verify_bundle_bytes(data, world.public_key, kept).ok


def test_a_region_bundle_holds_what_rule_7_says_is_about_the_region(world):
    """Region codes as rule 7 words them: quota-52.01 and a kecamatan's stream are about
    their regions; streams named by chosen names (a username or rule-set id a-52.01, a
    meeting id 52.01) never are, nor is anything outside the prefix."""
    record_quotas(world, "52.01", "31.71")
    other = open_ledger(world.store_uri, "gateway")
    for stream, payload in (("survey-52.01.08", {"round": 1}),
                            ("report-x", {"kabupaten": "52.01"}),
                            ("user-a-52.01", {"username": "a-52.01", "region": "52.01"}),
                            ("ruleset-a-52", {"note": "national"}),
                            ("meeting-52.01", {"code": ELSEWHERE}),
                            ("survey-52.02", {"kabupaten": {"code": "52.02"}})):
        other.append(stream, 0, [NewEvent("Recorded", payload)], MINISTRY)
    other.close()
    world.index()
    for prefix in ("52", "52.01"):
        data = bundle_bytes(export(world, {"region": prefix}))
        bundle = check_against_the_words(world, data, prefix)
        streams = {json.loads(base64.b64decode(e["body"]))["stream_id"]
                   for e in bundle["events"]}
        assert {"quota-52.01", "survey-52.01.08", "report-x"} <= streams
        assert not {"user-a-52.01", "ruleset-a-52", "meeting-52.01", "quota-31.71"} & streams
        assert ("survey-52.02" in streams) is (prefix == "52")
        report = verify_bundle_bytes(data, world.public_key)
        assert report.ok, report.problems
