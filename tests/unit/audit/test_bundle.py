"""Audit bundles: export, offline verification, and every kind of tampering."""
import base64
import hashlib
import json
import subprocess
import sys

import orjson
import pytest

from services.audit import bundle_verify
from services.audit.bundle import bundle_bytes, export_bundle
from services.audit.bundle_verify import verify_bundle_bytes
from services.audit.treehead import sign_statement
from shared.chassis.errors import Conflict, InvalidInput, NotConfigured, NotFound
from shared.ledger.verify import generate_key, load_public_key, public_key_pem

from .world import BAJUR, ELSEWHERE, NEIGHBOUR, PDF, build_world, record_quotas

AUDITOR = {"id": "bpkp-1", "role": "auditor", "region": ""}


@pytest.fixture
def world(tmp_path):
    world = build_world(tmp_path)
    yield world
    world.sources.close()


def export(world, scope=None, since=()):
    return export_bundle(world.sources, world.views, world.log, scope or {"village": BAJUR},
                         AUDITOR, list(since))


def check(world, data, kept=()):
    return verify_bundle_bytes(data, world.public_key, kept)


def resigned(world, bundle):
    """An exporter holding the real key that signs whatever it likes (to test the checks
    that do not rest on the bundle signature)."""
    from services.audit.treehead import load_private_key
    unsigned = {k: v for k, v in bundle.items() if k not in ("public_key", "signature")}
    return sign_statement(unsigned, load_private_key(world.private_pem))


def problems(report):
    return " | ".join(f"{p['where']}: {p['problem']}" for p in report.problems)


def test_a_village_bundle_verifies_and_holds_only_that_village(world):
    bundle = export(world)
    data = bundle_bytes(bundle)
    report = check(world, data)
    assert report.ok, problems(report)
    assert report.tree_heads == {"registration": 11, "construction": 1, "planning": 2}
    bodies = [orjson.loads(base64.b64decode(e["body"])) for e in bundle["events"]]
    assert {b["payload"]["code"] for b in bodies} == {BAJUR}
    assert [b["type"] for b in bodies if b["ledger"] == "registration"] == [
        "VillageRegistered", "IndicatorsRecorded", "EligibilityDecided",
        "EligibilityOverridden", "VillageSelected"]
    text = data.decode()
    assert NEIGHBOUR not in text and ELSEWHERE not in text and "secret.pdf" not in text
    assert bundle["attachments"] == [{
        "ledger": "planning", "position": 1,
        "event_id": next(b["event_id"] for b in bodies if b["ledger"] == "planning"),
        "path": "files[0].sha256", "sha256": hashlib.sha256(PDF).hexdigest(),
        "name": "rplp.pdf"}]


def test_a_region_and_period_bundle(world):
    everything = export(world, {"region": "52.01"})
    codes = {orjson.loads(base64.b64decode(e["body"]))["payload"]["code"]
             for e in everything["events"]}
    assert codes == {BAJUR, NEIGHBOUR}
    assert check(world, bundle_bytes(everything)).ok
    times = sorted(orjson.loads(base64.b64decode(e["body"]))["recorded_at"]
                   for e in everything["events"])
    late = export(world, {"region": "52.01", "from": times[-1]})
    assert 0 < len(late["events"]) < len(everything["events"])
    report = check(world, bundle_bytes(late))
    assert report.ok, problems(report)
    with pytest.raises(NotFound) as empty:
        export(world, {"region": "52.01", "from": "2999-01-01T00:00:00.000000Z"})
    assert empty.value.field == "from"
    # a period with only an end names "to": "from" named an option never given
    with pytest.raises(NotFound) as empty:
        export(world, {"region": "52.01", "to": "2000-01-01T00:00:00.000000Z"})
    assert empty.value.field == "to"
    with pytest.raises(NotFound) as unknown:
        export(world, {"village": "52.01.08.2003"})
    assert unknown.value.field == "village"


def streams_of(bundle) -> list:
    return [orjson.loads(base64.b64decode(e["body"]))["stream_id"] for e in bundle["events"]]


def test_a_region_bundle_holds_the_quota_records_of_the_regions_inside_it(world):
    """quota-52.01 is about kabupaten 52.01 (no village): a region bundle of 52 or 52.01
    holds it, so a district can replay why villages were or were not selected; one of a
    kecamatan, of a village or of another kabupaten does not. Before, no bundle held it."""
    record_quotas(world, "52.01", "31.71")
    for prefix in ("52", "52.01"):
        bundle = export(world, {"region": prefix})
        assert streams_of(bundle).count("quota-52.01") == 2
        assert "quota-31.71" not in streams_of(bundle)
        report = check(world, bundle_bytes(bundle))
        assert report.ok, problems(report)
    for scope in ({"region": "52.01.08"}, {"village": BAJUR}, {"region": "31.71"}):
        assert "quota-52.01" not in streams_of(export(world, scope))
    with pytest.raises(NotFound):
        export(world, {"region": "52.02"})


def test_a_bundle_smuggling_in_another_kabupatens_quota_is_refused(world):
    record_quotas(world, "52.01", "52.02")
    other = export(world, {"region": "52.02"})
    assert set(streams_of(other)) == {"quota-52.02"} and check(world, bundle_bytes(other)).ok
    ours = export(world, {"region": "52.01"})
    quota = [e for e, stream in zip(ours["events"], streams_of(ours)) if stream == "quota-52.01"]
    events = sorted(other["events"] + quota[:1], key=lambda e: (e["ledger"], e["position"]))
    smuggled = resigned(world, {**other, "events": events})
    report = check(world, bundle_bytes(smuggled))
    assert f"registration #{quota[0]['position']}: is not about 52.02: the bundle reveals an " \
           "event outside its scope" in problems(report)

    # and a region's stream with a hole: its quota set left out of a 52.01 bundle
    dropped = resigned(world, {**ours, "events": [e for e in ours["events"]
                                                  if e is not quota[0]]})
    assert "stream quota-52.01 of registration: version(s) [1] are missing" in problems(
        check(world, bundle_bytes(dropped)))


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def number_of(bundle, ledger, nth=0):
    return [i for i, e in enumerate(bundle["events"]) if e["ledger"] == ledger][nth]


def with_event(bundle, number, **change):
    events = [dict(e) for e in bundle["events"]]
    events[number].update(change)
    return {**bundle, "events": events}


def test_any_flipped_byte_of_a_body_is_named(world):
    bundle = export(world)
    number = number_of(bundle, "registration", 2)
    body = base64.b64decode(bundle["events"][number]["body"])
    for at in sorted({0, 1, len(body) // 3, len(body) // 2, len(body) - 2, len(body) - 1}):
        tampered = with_event(bundle, number, body=base64.b64encode(flip(body, at)).decode())
        report = check(world, bundle_bytes(tampered))
        assert not report.ok
        position = orjson.loads(body)["position"]
        assert any(p["where"] == f"record registration #{position} (events[{number}])"
                   for p in report.problems), problems(report)


def test_a_flipped_proof_node_tree_head_or_signature_is_named(world):
    bundle = export(world)
    number = number_of(bundle, "registration")
    proof = list(bundle["events"][number]["proof"])
    proof[1] = proof[1][:10] + ("0" if proof[1][10] != "0" else "1") + proof[1][11:]
    report = check(world, bundle_bytes(with_event(bundle, number, proof=proof)))
    assert "inclusion proof does not lead to the signed root" in problems(report)

    heads = {**bundle["tree_heads"]}
    for field, value in (("tree_size", 10), ("root_hash", "0" * 64),
                         ("head_hash", "1" * 64), ("signed_at", "2020-01-01T00:00:00.000000Z")):
        heads["registration"] = {**bundle["tree_heads"]["registration"], field: value}
        report = check(world, bundle_bytes({**bundle, "tree_heads": heads}))
        assert any(p["where"] == "tree head of registration" and "signature" in p["problem"]
                   for p in report.problems), problems(report)
        assert any("no valid tree head" in p["problem"] for p in report.problems)

    signature = bundle["tree_heads"]["construction"]["signature"]
    broken = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    heads = {**bundle["tree_heads"], "construction": {
        **bundle["tree_heads"]["construction"], "signature": broken}}
    report = check(world, bundle_bytes({**bundle, "tree_heads": heads}))
    assert "tree head of construction" in problems(report)

    signature = bundle["signature"]
    report = check(world, bundle_bytes({**bundle, "signature": signature[::-1]}))
    assert [p["where"] for p in report.problems] == ["bundle signature"]
    report = check(world, bundle_bytes({**bundle, "created_at": "2020-01-01T00:00:00.000000Z"}))
    assert [p["where"] for p in report.problems] == ["bundle signature"]


def test_every_flipped_byte_of_the_file_fails(world):
    data = bundle_bytes(export(world))
    for at in range(0, len(data), 7):
        assert not check(world, flip(data, at)).ok, f"byte {at} flipped and not noticed"
    assert not check(world, data.replace(b'","', b'", "', 1)).ok  # white space only
    assert not check(world, data[:-40]).ok


def test_a_foreign_key_or_a_forged_bundle_fails(world):
    data = bundle_bytes(export(world))
    other = load_public_key(public_key_pem(generate_key()))
    report = verify_bundle_bytes(data, other)
    assert "different key" in problems(report)


def test_an_exporter_cannot_leak_drop_or_invent_events(world):
    bundle = export(world)
    neighbour = export(world, {"village": NEIGHBOUR})
    leaked = resigned(world, {**bundle, "events": bundle["events"] + [neighbour["events"][0]]})
    assert "outside its scope" in problems(check(world, bundle_bytes(leaked)))

    second = number_of(bundle, "registration", 1)
    dropped = resigned(world, {**bundle, "events": bundle["events"][:second] +
                                                   bundle["events"][second + 1:]})
    assert "version(s) [2] are missing" in problems(check(world, bundle_bytes(dropped)))

    no_attachments = resigned(world, {**bundle, "attachments": []})
    assert "attachments" in problems(check(world, bundle_bytes(no_attachments)))

    number = number_of(bundle, "registration", 1)
    record = orjson.loads(base64.b64decode(bundle["events"][number]["body"]))
    record["payload"]["source_document"] = "forged"
    invented = with_event(bundle, number, body=base64.b64encode(orjson.dumps(
        record, option=orjson.OPT_SORT_KEYS)).decode())
    assert "inclusion proof does not lead" in problems(check(world, bundle_bytes(
        resigned(world, invented))))


def test_kept_tree_heads_and_consistency_proofs(world, tmp_path):
    old = {name: world.log.signed_head(name) for name in ("registration", "planning")}
    from shared.ledger import NewEvent, open_ledger
    from .world import DISTRICT
    registration = open_ledger(world.store_uri, "registration")
    registration.append(f"village-{NEIGHBOUR}", registration.stream_version(
        f"village-{NEIGHBOUR}"), [NewEvent("BkmRecorded", {"code": NEIGHBOUR})], DISTRICT)
    registration.close()
    world.index()
    bundle = export(world, since=old.values())
    assert bundle["tree_heads"]["registration"]["tree_size"] == 12
    report = check(world, bundle_bytes(bundle), kept=list(old.values()))
    assert report.ok, problems(report)
    plain = export(world)
    report = check(world, bundle_bytes(plain), kept=[old["registration"]])
    assert "export it again with --since" in problems(report)

    bent = [dict(entry) for entry in bundle["consistency"]]
    reg = next(e for e in bent if e["ledger"] == "registration")
    reg["proof"] = reg["proof"][:-1] + ["0" * 64]
    report = check(world, bundle_bytes(resigned(world, {**bundle, "consistency": bent})))
    assert "does not extend the earlier head" in problems(report)

    with pytest.raises(InvalidInput):
        export(world, since=[{**old["planning"], "tree_size": 1}])


def test_export_refuses_without_a_key_or_over_altered_records(world):
    world.log.signing_key = None
    with pytest.raises(NotConfigured) as refused:   # the operators' to fix: a 503
        export(world)
    assert refused.value.field == "TREE_HEAD_KEY" and refused.value.status == 503


def test_export_refuses_a_record_altered_after_the_tree_took_it(world):
    import sqlite3
    world.log.signed_head("registration")  # the tree takes every record in
    db = sqlite3.connect(world.store_uri[len("sqlite:///"):] + "/registration.db",
                         isolation_level=None)
    db.execute("DROP TRIGGER records_no_update")
    body = db.execute("SELECT body FROM records WHERE position = 4").fetchone()[0]
    db.execute("UPDATE records SET body = ? WHERE position = 4",
               (body.replace(b"BPS Lombok Barat", b"BPS Lombok Timur"),))
    db.close()
    with pytest.raises(Conflict, match="registration #4 was altered"):
        export(world)


def test_the_verifier_imports_nothing_that_talks_to_a_network_or_a_store():
    code = ("import sys, services.audit.bundle_verify; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'nameko', 'kombu', "
            "'amqp', 'pymongo', 'mongoengine', 'eventlet', 'sqlite3', 'urllib3', 'requests'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
    assert bundle_verify.BUNDLE_FORMAT == "plpbk-audit-bundle/1"


def test_the_verifier_never_crashes_on_a_malformed_bundle(world):
    """Whatever the bundle holds, the answer is a report naming a problem, not a traceback."""
    import random
    bundle = export(world)
    chance = random.Random(2026)
    oddities = [None, True, 0, -1, 2**40, "", "x", [], {}, [1], {"a": 1}, "0" * 64]

    def mutate(value, depth=0):
        if isinstance(value, dict) and value and chance.random() < 0.7:
            key = chance.choice(sorted(value))
            return {**value, key: mutate(value[key], depth + 1)}
        if isinstance(value, list) and value and chance.random() < 0.7:
            index = chance.randrange(len(value))
            return value[:index] + [mutate(value[index], depth + 1)] + value[index + 1:]
        return chance.choice(oddities)

    for _ in range(400):
        mutated = mutate(bundle)
        report = check(world, bundle_bytes(mutated))
        assert mutated == bundle or not report.ok, [
            (k, mutated[k]) for k in bundle if mutated.get(k) != bundle[k]]
    kept = world.log.signed_head("construction")
    for odd in oddities:
        assert not verify_bundle_bytes(bundle_bytes(bundle), world.public_key, [odd]).ok
    assert check(world, bundle_bytes(bundle), [kept]).ok


def test_reordered_events_are_named_even_under_a_valid_signature(world):
    """Section 1 sorts events by ledger then position; an exporter holding the key that
    reorders them is named, not only the one that breaks the signature."""
    bundle = export(world)
    first, second = number_of(bundle, "registration", 0), number_of(bundle, "registration", 1)
    events = list(bundle["events"])
    events[first], events[second] = events[second], events[first]
    report = check(world, bundle_bytes(resigned(world, {**bundle, "events": events})))
    moved = orjson.loads(base64.b64decode(events[second]["body"]))["position"]
    assert [p["where"] for p in report.problems] == [
        f"record registration #{moved} (events[{second}])"], problems(report)
    assert "sorted by ledger name, then position (reordered)" in problems(report)
    report = check(world, bundle_bytes({**bundle, "events": events}))  # and unsigned
    assert {p["where"] for p in report.problems} >= {"bundle signature"}


def test_a_signed_record_with_a_member_the_format_does_not_have_is_refused(world):
    """A body must have exactly the members of ledger-format.md section 1: one carrying
    an extra `hash` in the signed tree was taken as a record before."""
    import sqlite3
    path = world.store_uri[len("sqlite:///"):] + "/planning.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DROP TRIGGER records_no_update")
    body = db.execute("SELECT body FROM records WHERE position = 1").fetchone()[0]
    record = orjson.loads(body)
    record["hash"] = "0" * 64  # the first record: its chain stays whole for the tree
    forged = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    db.execute("UPDATE records SET body = ?, hash = ? WHERE position = 1",
               (forged, hashlib.sha256(forged).hexdigest()))
    second = orjson.loads(db.execute("SELECT body FROM records WHERE position = 2")
                          .fetchone()[0])
    second["prev_hash"] = hashlib.sha256(forged).hexdigest()
    second_body = orjson.dumps(second, option=orjson.OPT_SORT_KEYS)
    db.execute("UPDATE records SET body = ?, hash = ? WHERE position = 2",
               (second_body, hashlib.sha256(second_body).hexdigest()))
    db.close()
    bundle = export(world)
    report = check(world, bundle_bytes(bundle))
    assert {"where": f"record planning #1 (events[{number_of(bundle, 'planning')}])",
            "problem": "body does not have exactly the members of a record: ['hash']"} \
        in report.problems, problems(report)


@pytest.mark.parametrize("damage, named", [
    (lambda data: data[:len(data) // 2], "is not valid JSON (unexpected end of data"),
    (lambda data: b"", "is not valid JSON (Input is a zero-length"),
    (lambda data: data[:200] + b"\xff" + data[201:], "is not UTF-8 text (byte 200 is 0xff)"),
    (lambda data: data.decode().replace("auditor", "auditör").encode("latin-1"),
     "is not UTF-8 text (byte"),
    (lambda data: b"\x1f\x8b\x08\x00" + data, "is not UTF-8 text (byte 1 is 0x8b)"),  # gzipped
    (lambda data: b"[" * 100_000 + b"]" * 100_000, "depth limit exceeded"),
    (lambda data: b"[]", "is not a JSON object"),
    (lambda data: data + data, "unexpected content after document"),
    (lambda data: data + b" " * 5_000_000, "bytes are not in canonical JSON form"),
])
def test_a_damaged_bundle_file_is_named_by_the_command_never_a_traceback(world, tmp_path,
                                                                         damage, named):
    from click.testing import CliRunner

    from services.cli import cli
    data = bundle_bytes(export(world))
    path, key = tmp_path / "bundle.json", tmp_path / "platform.pub"
    path.write_bytes(damage(data))
    key.write_bytes(public_key_pem(world.private_pem))
    result = CliRunner().invoke(cli, ["verify-bundle", str(path), "--public-key", str(key),
                                      "--json"])
    assert result.exit_code == 1 and type(result.exception) is SystemExit, result.output
    assert named in " ".join(p["problem"] for p in json.loads(result.output)["problems"])


def test_verifying_a_large_bundle_reports_its_progress(world, monkeypatch):
    """A region's bundle can hold a million events, minutes of checking: the verifier says
    how far it got, now and then and at the end, which verify-bundle shows as a bar."""
    bundle = export(world, {"region": "52"})
    monkeypatch.setattr(bundle_verify, "PROGRESS_EVERY", 4)
    seen = []
    report = verify_bundle_bytes(bundle_bytes(bundle), world.public_key, progress=seen.append)
    assert report.ok, problems(report)
    events = len(bundle["events"])
    assert seen == [*range(0, events, 4), events] and events > 8


@pytest.mark.parametrize("scope, named", [
    ({"village": BAJUR, "from": 5}, "from is not a ledger time"),
    ({"village": BAJUR, "to": 20261231}, "to is not a ledger time"),
    ({"village": BAJUR, "to": "2026-12-31"}, "to is not a ledger time"),
    ({"village": BAJUR, "region": "52"}, "must name a village or a region"),
])
def test_a_scope_of_the_wrong_shape_is_named_never_a_traceback(world, scope, named):
    """A period's bounds are compared with recorded_at as text: a number there raised a
    TypeError out of verify-bundle, signed or not."""
    bundle = export(world)
    for changed in ({**bundle, "scope": scope}, resigned(world, {**bundle, "scope": scope})):
        report = check(world, bundle_bytes(changed))
        assert any(p["where"] == "scope" and p["problem"].startswith(named)
                   for p in report.problems), problems(report)


def test_text_from_a_bundle_is_shown_as_it_is_never_read_as_terminal_markup(world, tmp_path):
    """A tampered bundle naming a ledger "reg[/x]" stopped verify-bundle with "unexpected
    failure: MarkupError" instead of its problems; "[bold]" would have been hidden."""
    from click.testing import CliRunner

    from services.cli import cli
    bundle = export(world)
    bundle["events"][0]["ledger"] = "reg[/x]"
    bundle["tree_heads"]["[/y] [bold]"] = bundle["tree_heads"]["registration"]
    path, key = tmp_path / "bundle.json", tmp_path / "platform.pub"
    path.write_bytes(bundle_bytes(bundle))
    key.write_bytes(public_key_pem(world.private_pem))
    result = CliRunner(env={"COLUMNS": "300"}).invoke(
        cli, ["verify-bundle", str(path), "--public-key", str(key)])
    assert result.exit_code == 1 and type(result.exception) is SystemExit, result.output
    assert "unexpected" not in result.output
    assert "record reg[/x] #" in result.output and "tree head of [/y] [bold]" in result.output
