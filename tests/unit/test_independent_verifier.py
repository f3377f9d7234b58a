"""tools/verify-ledger.mjs, a verifier written from docs/ledger-format.md alone, agrees with
the platform's own verification on good and tampered ledgers: if it did not, the document
would not be enough to re-implement verification, as it claims to be."""
import base64
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

from shared.ledger import Actor, Metadata, NewEvent, open_ledger
from shared.ledger.canonical import canonical_bytes
from shared.ledger.verify import (
    generate_key,
    load_public_key,
    make_checkpoint,
    public_key_pem,
    verify_ledger,
)
from tests.forgery import reseal_from

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and shutil.which("sqlite3")),
    reason="the independent verifier needs `node` (20+) and the `sqlite3` CLI on PATH")

TOOL = Path(__file__).resolve().parents[2] / "tools" / "verify-ledger.mjs"
PLPBK = Path(sys.executable).with_name("plpbk")

# Values that trip up JSON canonicalization: sorting, escaping, big integers, unicode.
PAYLOADS = [
    {"text": "Désa Sukamaju — ünïcödé 日本語 🏠", "n": 1},
    {"nested": {"b": {"d": [1, {"z": None, "a": True}], "c": []}, "a": {}},
     "empty_list": [], "empty": {}},
    {"max": 2**53 - 1, "min": -(2**53 - 1), "zero": 0, "neg": -1},
    {"hectares": "25.5", "rupiah": "1250000.75", "percent": "-0.001"},
    {"b": 1, "a": 2, "B": 3, "_": 4, "aa": 5, "é": 6, "\u00ff": 7, "\uffff": 8, "\ue000": 12,
     "10": 9, "9": 10, "": 11, "__proto__": {"x": 1}},
    {"controls": "\x00\x01\x1f\x7f \b\f\n\r\t \" \\ / \u2028\u2029", "escaped": "\u00e9"},
    {"astral": "\U0001F600", "edges": ["\ud7ff", "\ue000", "\U00010000", "\U0010ffff"]},
    {"flags": [True, False, None], "deep": [[[[[{"k": [[]]}]]]]]},
]
ACTOR = Actor("officer-1", "district", "52.01")


@pytest.fixture
def ledger(tmp_path):
    """Twelve records over three streams, with causation ids and a stated zone."""
    ledger = open_ledger(f"sqlite:///{tmp_path}/ledgers", "registration")
    cause = None
    for number in range(12):
        stream = f"village-52.01.08.{2000 + number % 3}"
        event = NewEvent("IndicatorRecorded", PAYLOADS[number % len(PAYLOADS)],
                         schema_version=1 + number % 2,
                         occurred_at="2026-03-01T10:00:00.5+07:00" if number == 5 else None)
        ledger.append(stream, ledger.stream_version(stream), [event],
                      Metadata(ACTOR, f"corr-{number}", cause))
        cause = str(event.event_id)
    yield ledger
    ledger.close()


def independent(path, *options):
    """The JS verifier's report (and exit code) on the ledger file at `path`."""
    done = subprocess.run(["node", str(TOOL), "--json", *options, str(path)],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert (done.returncode == 0) == report["ok"]
    return report


def assert_agree(ledger, checkpoint=None, public_pem=None, tmp_path=None):
    """Both verifiers reach the same verdict, first bad position and verified head."""
    options = []
    if checkpoint is not None:
        (tmp_path / "ckpt.json").write_text(json.dumps(checkpoint))
        options += ["--checkpoint", str(tmp_path / "ckpt.json")]
    if public_pem is not None:
        (tmp_path / "key.pub").write_bytes(public_pem)
        options += ["--public-key", str(tmp_path / "key.pub")]
    theirs = verify_ledger(ledger, checkpoint, load_public_key(public_pem) if public_pem else None)
    ours = independent(ledger.path, *options)
    assert (ours["ok"], ours["first_bad_position"]) == (theirs.ok, theirs.first_bad_position), \
        (ours["problem"], theirs.problem)
    assert (ours["count"], ours["head_hash"]) == (theirs.count, theirs.head_hash)
    return ours, theirs


def body_of(db, position):
    return orjson.loads(db.execute("SELECT body FROM records WHERE position = ?",
                                   (position,)).fetchone()[0])


def reseal_raw(db, position, body):
    """Replace record `position`'s body with these exact bytes and re-seal it and every later
    record, so only the rules about the body itself can catch it."""
    db.execute("UPDATE records SET body = ?, hash = ? WHERE position = ?",
               (body, hashlib.sha256(body).hexdigest(), position))
    if db.execute("SELECT 1 FROM records WHERE position = ?", (position + 1,)).fetchone():
        reseal_from(db, position + 1)


def test_a_good_ledger_verifies_in_both(ledger, tmp_path):
    ours, _ = assert_agree(ledger)
    assert ours["ok"] and ours["count"] == 12


def test_an_empty_ledger_verifies_in_both(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path}/ledgers", "cycle")
    ours, _ = assert_agree(ledger)
    assert ours["ok"] and ours["count"] == 0
    ledger.close()


def test_the_good_ledger_holds_every_payload_and_a_causation_chain(ledger, attacker):
    """What the good ledger's agreement covers: every tricky payload, byte for byte."""
    records = [orjson.loads(body) for (body,) in
               attacker.execute("SELECT body FROM records ORDER BY position")]
    assert all(any(record["payload"] == payload for record in records) for payload in PAYLOADS)
    assert records[1]["causation_id"] == records[0]["event_id"]
    assert independent(ledger.path)["ok"]


def change_a_payload_byte(db):
    body = db.execute("SELECT body FROM records WHERE position = 4").fetchone()[0]
    changed = body.replace(b'"25.5"', b'"25.6"', 1)
    assert changed != body
    db.execute("UPDATE records SET body = ? WHERE position = 4", (changed,))


def change_a_payload_and_rehash(db):
    record = body_of(db, 4)
    record["payload"]["hectares"] = "2.5"
    body = canonical_bytes(record)
    db.execute("UPDATE records SET body = ?, hash = ? WHERE position = 4",
               (body, hashlib.sha256(body).hexdigest()))


def swap(db, first, second):
    one = db.execute("SELECT body, hash FROM records WHERE position = ?", (first,)).fetchone()
    two = db.execute("SELECT body, hash FROM records WHERE position = ?", (second,)).fetchone()
    db.execute("UPDATE records SET body = ?, hash = ? WHERE position = ?", (*two, first))
    db.execute("UPDATE records SET body = ?, hash = ? WHERE position = ?", (*one, second))


def insert_at(db, at):
    for position in range(12, at - 1, -1):
        db.execute("UPDATE records SET position = position + 1 WHERE position = ?", (position,))
    forged = body_of(db, at - 1)
    forged.update(position=at, event_id="00000000-0000-4000-8000-000000000000", stream_version=99)
    body = canonical_bytes(forged)
    db.execute("INSERT INTO records VALUES (?, ?, 99, 'IndicatorRecorded', ?, ?, ?)",
               (at, forged["stream_id"], forged["recorded_at"], body,
                hashlib.sha256(body).hexdigest()))


def recorded_at_as(db, times):
    """Records re-sealed with these recorded_at values, their columns changed to match."""
    for position, time in times.items():
        reseal_from(db, position, lambda record, time=time: record.update(recorded_at=time))
        db.execute("UPDATE records SET recorded_at = ? WHERE position = ?", (time, position))


def reseal_with(change, at=6):
    return lambda db: reseal_from(db, at, change)


def raw(make_body, at=6):
    return lambda db: reseal_raw(db, at, make_body(body_of(db, at)))


def with_text(old, new, at=6):
    """The canonical body with one piece of text replaced (for non-canonical spellings)."""
    def spell(record):
        body = canonical_bytes(record)
        assert old in body
        return body.replace(old, new, 1)
    return raw(spell, at)


def with_payload(**members):
    return raw(lambda record: canonical_bytes(dict(record, payload=members)))


def with_payload_text(number):
    """A payload whose one number is spelled exactly so."""
    return raw(lambda record: canonical_bytes(dict(record, payload={"z": 1})).replace(
        b'"z":1', b'"z":' + number))


TAMPERINGS = {
    "a payload byte changed": change_a_payload_byte,
    "a payload changed, hash recomputed": change_a_payload_and_rehash,
    "the first record deleted": lambda db: db.execute("DELETE FROM records WHERE position = 1"),
    "a middle record deleted": lambda db: db.execute("DELETE FROM records WHERE position = 7"),
    "two records swapped": lambda db: swap(db, 3, 4),
    "two distant records swapped": lambda db: swap(db, 2, 9),
    "a record inserted": lambda db: insert_at(db, 7),
    "a record appended with a gap": lambda db: db.execute(
        "INSERT INTO records SELECT 20, stream_id, 77, type, recorded_at, body, hash "
        "FROM records WHERE position = 12"),
    "the hash stored in upper case": lambda db: db.execute(
        "UPDATE records SET hash = upper(hash) WHERE position = 5"),
    "the hash stored as a blob": lambda db: db.execute(
        "UPDATE records SET hash = CAST(hash AS BLOB) WHERE position = 5"),
    "the body stored as text": lambda db: db.execute(
        "UPDATE records SET body = CAST(body AS TEXT) WHERE position = 2"),
    "a record deleted, the next one's body stored as text": lambda db: (
        db.execute("DELETE FROM records WHERE position = 6"),
        db.execute("UPDATE records SET body = CAST(body AS TEXT) WHERE position = 7")),
    "the stream_id column changed": lambda db: db.execute(
        "UPDATE records SET stream_id = 'village-hidden' WHERE position = 5"),
    "the stream_version column changed": lambda db: db.execute(
        "UPDATE records SET stream_version = stream_version + 7 WHERE position = 5"),
    "the type column changed": lambda db: db.execute(
        "UPDATE records SET type = 'SomethingElse' WHERE position = 5"),
    "the recorded_at column changed": lambda db: db.execute(
        "UPDATE records SET recorded_at = '2000-01-01T00:00:00.000000Z' WHERE position = 5"),
    "a member removed": reseal_with(lambda record: record.pop("event_id")),
    "a member added": reseal_with(lambda record: record.update(extra="x")),
    "the body position changed": reseal_with(lambda record: record.update(position=60)),
    "the body names another ledger": reseal_with(lambda record: record.update(ledger="cycle")),
    "recorded_at earlier than before": reseal_with(
        lambda record: record.update(recorded_at="2000-01-01T00:00:00.000000Z")),
    "recorded_at astral, then below it in code points": lambda db: recorded_at_as(
        db, {5: "\U00010000", 6: "\uffff"}),
    "a stream version jump": reseal_with(lambda record: record.update(stream_version=5)),
    "prev_hash of genesis changed": raw(lambda record: canonical_bytes(
        dict(record, prev_hash="1" * 64)), at=1),
    "the body is not JSON": raw(lambda record: b"\xff not json"),
    "the body is a JSON array": raw(lambda record: b"[1,2,3]"),
    "the body is not UTF-8": with_text(b"officer-1", b"officer-\xe9"),
    "white space added": with_text(b'","', b'", "'),
    "keys out of order": with_text(b'{"actor":', b'{"zzz":0,"actor":'),
    "a character escaped needlessly": raw(lambda record: canonical_bytes(record).replace(
        b'"IndicatorRecorded"', b'"\\u0049ndicatorRecorded"')),
    "a duplicate key": with_text(b'{"actor":', b'{"actor":0,"actor":'),
    "a position written 6.0": with_text(b'"position":6', b'"position":6.0'),
    "a position written 6e0": with_text(b'"position":6', b'"position":6e0'),
    "a position of true at record 1": with_text(b'"position":1', b'"position":true', at=1),
    "a stream's first version true": with_text(b'"stream_version":1', b'"stream_version":true',
                                               at=1),
    "a stream version written 1.0": with_text(b'"stream_version":1', b'"stream_version":1.0',
                                              at=1),
    "a recorded_at that is a number": reseal_with(lambda record: record.update(recorded_at=5)),
    "a stream_id that is a number": reseal_with(lambda record: record.update(stream_id=5)),
    "a prev_hash that is a number": raw(lambda record: canonical_bytes(dict(record, prev_hash=5))),
    "a ledger that is a list": reseal_with(lambda record: record.update(ledger=["registration"])),
    "a position that is text": reseal_with(lambda record: record.update(position="6")),
    "a fraction in the payload": with_payload(hectares=25.5),
    "an integer beyond 2**53 - 1": with_payload(big=2**53),
    "an integer far beyond 2**53": with_payload(big=2**53 + 1),
    "a payload number written 100.0": with_payload_text(b'100.0'),
    "a payload number written 1e2": with_payload_text(b'1e2'),
    "a payload number written 1E+2": with_payload_text(b'1E+2'),
    "a payload number written -0.0": with_payload_text(b'-0.0'),
    "a payload number written 1e400": with_payload_text(b'1e400'),
    "a payload number with 17 digits": with_payload_text(b'12345678901234567'),
    "minus zero": raw(lambda record: canonical_bytes(dict(record, payload={"z": 1})).replace(
        b'"z":1', b'"z":-0')),
    "a lone surrogate escaped": raw(lambda record: canonical_bytes(
        dict(record, payload={"s": "x"})).replace(b'"s":"x"', b'"s":"\\ud800"')),
    "an astral key": raw(lambda record: canonical_bytes(dict(record, payload={"k": 1})).replace(
        b'"k":1', '"\U0001F600":1'.encode())),
    "astral keys in UTF-16 order": raw(lambda record: canonical_bytes(
        dict(record, payload={"\uffff": 1})).replace(
            '{"\uffff":1}'.encode(), '{"\U0001F600":2,"\uffff":1}'.encode())),
    "an escaped astral character": raw(lambda record: canonical_bytes(
        dict(record, payload={"s": "x"})).replace(b'"s":"x"', b'"s":"\\ud83d\\ude00"')),
    "an upper-case control escape": raw(lambda record: canonical_bytes(
        dict(record, payload={"s": "\x1f"})).replace(b"\\u001f", b"\\u001F")),
    "a byte order mark": raw(lambda record: b"\xef\xbb\xbf" + canonical_bytes(record)),
    "a trailing newline": raw(lambda record: canonical_bytes(record) + b"\n"),
    "a type outside its pattern": reseal_with(lambda record: record.update(type="x")),
    "a recorded_at in another form": reseal_with(
        lambda record: record.update(recorded_at=record["recorded_at"].replace("Z", "+00:00"))),
    "a stream version that is text": reseal_with(lambda record: record.update(stream_version="2")),
}


# Re-sealed bodies whose members have another type or form than section 1's table gives:
# append refuses them, but verify checks member names only (rule 7), as the document says.
TYPES_NOT_CHECKED = {
    "an actor member added": reseal_with(lambda record: record["actor"].update(scope="x")),
    "a causation id that is a number": reseal_with(lambda record: record.update(causation_id=5)),
    "a payload that is a list": reseal_with(lambda record: record.update(payload=[1])),
    "a correlation id that is null": reseal_with(lambda record: record.update(correlation_id=None)),
    "a schema version of 0": reseal_with(lambda record: record.update(schema_version=0)),
    "a schema version that is text": reseal_with(lambda record: record.update(schema_version="1")),
    "an actor role that is no role": reseal_with(lambda record: record["actor"].update(role="king")),
    "an event id in upper case": reseal_with(
        lambda record: record.update(event_id=record["event_id"].upper())),
    "an occurred_at in another form": reseal_with(
        lambda record: record.update(occurred_at="2026-03-01T10:00:00+07:00")),
}


def tampering_cases():
    return [pytest.param(tamper, id=name) for name, tamper in TAMPERINGS.items()]


@pytest.mark.parametrize("tamper", tampering_cases())
def test_a_tampered_ledger_is_named_at_the_same_position(ledger, attacker, tamper):
    tamper(attacker)
    _, theirs = assert_agree(ledger)
    assert not theirs.ok, "the tampering must be one the platform catches"


@pytest.mark.parametrize("change", TYPES_NOT_CHECKED.values(), ids=TYPES_NOT_CHECKED.keys())
def test_a_member_of_another_type_passes_both(ledger, attacker, change):
    change(attacker)
    ours, theirs = assert_agree(ledger)
    assert ours["ok"] and theirs.ok


@pytest.mark.parametrize("tamper", tampering_cases())
def test_a_tampered_ledger_with_its_checkpoint_is_named_at_the_same_position(
        ledger, attacker, tamper, tmp_path):
    """The chain's first bad record is what both name, the checkpoint coming after it."""
    key = generate_key()
    checkpoint = make_checkpoint(ledger, key)
    tamper(attacker)
    _, theirs = assert_agree(ledger, checkpoint, public_key_pem(key), tmp_path)
    assert not theirs.ok


def test_a_truncated_ledger_passes_alone_and_fails_its_checkpoint_in_both(ledger, attacker,
                                                                          tmp_path):
    key = generate_key()
    checkpoint = make_checkpoint(ledger, key)
    attacker.execute("DELETE FROM records WHERE position > 8")
    assert assert_agree(ledger)[0]["ok"]
    ours, _ = assert_agree(ledger, checkpoint, public_key_pem(key), tmp_path)
    assert not ours["ok"] and ours["checkpoint"]["ok"] is False


def test_a_rewritten_head_fails_its_checkpoint_in_both(ledger, attacker, tmp_path):
    key = generate_key()
    checkpoint = make_checkpoint(ledger, key)
    reseal_from(attacker, 12, lambda record: record["payload"].update(n=2))
    assert assert_agree(ledger)[0]["ok"]
    assert not assert_agree(ledger, checkpoint, public_key_pem(key), tmp_path)[0]["ok"]


def test_a_good_checkpoint_holds_in_both(ledger, tmp_path):
    key = generate_key()
    ours, _ = assert_agree(ledger, make_checkpoint(ledger, key), public_key_pem(key), tmp_path)
    assert ours["ok"] and ours["checkpoint"]["ok"]


def sign(statement, private_pem):
    signature = load_pem_private_key(private_pem, None).sign(canonical_bytes(statement))
    return dict(statement, signature=base64.b64encode(signature).decode())


def raw_public_key(private_pem):
    public = load_pem_private_key(private_pem, None).public_key()
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def resigned(**changes):
    """A checkpoint whose members were changed (`...`: removed), signed again by its key."""
    def change(checkpoint, key, ledger):
        statement = {k: v for k, v in checkpoint.items() if k != "signature"}
        statement.update(changes)
        return sign({k: v for k, v in statement.items() if v is not ...}, key)
    return change


def altered(**changes):
    """A checkpoint whose members were changed after it was signed."""
    return lambda checkpoint, key, ledger: dict(checkpoint, **changes)


def signature_spelled(spell):
    return lambda checkpoint, key, ledger: dict(checkpoint,
                                                signature=spell(checkpoint["signature"]))


CHECKPOINT_CHANGES = {
    "a forged position": altered(position=3),
    "a forged hash": altered(hash="0" * 64),
    "a forged position beyond the head": altered(position=20),
    "no signature": lambda checkpoint, key, ledger: {k: v for k, v in checkpoint.items()
                                                     if k != "signature"},
    "a signature that is no base64": altered(signature="!!"),
    "signed by another key": lambda checkpoint, key, ledger: make_checkpoint(ledger,
                                                                             generate_key()),
    "another ledger": resigned(ledger="cycle"),
    "position 0": resigned(position=0, hash="0" * 64),
    "a position beyond the head": resigned(position=13),
    "a position that is text": resigned(position="12"),
    "a negative position": resigned(position=-1),
    "a hash that is no string": resigned(hash=5),
    "another format": resigned(format="plpbk-checkpoint/2"),
    "no format": resigned(format=...),
    "an extra member": resigned(note="hello"),
    "a recorded_at that is not the record's": resigned(recorded_at="2000-01-01T00:00:00.000000Z"),
    "a signed_at in another form": resigned(signed_at="yesterday"),
    "an earlier position": lambda checkpoint, key, ledger: resigned(
        position=4, hash=ledger.read(3, limit=1)[0].hash)(checkpoint, key, ledger),
    "a position written 12.0": resigned(position=12.0),
    "a position of true": resigned(position=True),
    "names another public key": lambda checkpoint, key, ledger: resigned(
        public_key=raw_public_key(generate_key()))(checkpoint, key, ledger),
    "a public key that is no base64": resigned(public_key="!!"),
    "a signature without its padding": signature_spelled(lambda text: text.rstrip("=")),
    "a signature in URL-safe base64": signature_spelled(
        lambda text: text.replace("+", "-").replace("/", "_")),
    "a signature with a line break": signature_spelled(lambda text: f"{text[:40]}\n{text[40:]}"),
}


@pytest.mark.parametrize("pinned", [True, False], ids=["pinned key", "no pinned key"])
@pytest.mark.parametrize("change", CHECKPOINT_CHANGES.values(), ids=CHECKPOINT_CHANGES.keys())
def test_a_changed_checkpoint_gets_the_same_verdict(ledger, tmp_path, change, pinned):
    key = generate_key()
    checkpoint = change(make_checkpoint(ledger, key), key, ledger)
    assert_agree(ledger, checkpoint, public_key_pem(key) if pinned else None, tmp_path)


def test_the_cli_keygen_and_checkpoint_are_verified_like_plpbk_verify(ledger, attacker,
                                                                      tmp_path):
    """The files `plpbk keygen` and `plpbk checkpoint` write, checked by both commands."""
    store = f"sqlite:///{Path(ledger.path).parent}"
    key = tmp_path / "checkpoint.pem"
    subprocess.run([str(PLPBK), "keygen", "--out", str(key)], check=True, capture_output=True)
    checkpoint = tmp_path / "registration.ckpt"
    subprocess.run([str(PLPBK), "checkpoint", "registration", "--key", str(key),
                    "--out", str(checkpoint), "--store", store], check=True, capture_output=True)
    attacker.execute("DELETE FROM records WHERE position > 10")
    for options in ([], ["--checkpoint", str(checkpoint), "--public-key", f"{key}.pub"]):
        theirs = subprocess.run([str(PLPBK), "verify", "--json", "--store", store,
                                 "registration", *options], check=False, capture_output=True, text=True)
        ours = subprocess.run(["node", str(TOOL), "--json", *options, ledger.path],
                              check=False, capture_output=True, text=True)
        (their_report,) = json.loads(theirs.stdout)
        our_report = json.loads(ours.stdout)
        assert ours.returncode == theirs.returncode == (1 if options else 0)
        assert our_report["first_bad_position"] == their_report["first_bad_position"]


@pytest.mark.parametrize("arguments, words", [
    ([], "exactly one ledger file"),
    (["--nope", "x.db"], "no such option: --nope"),
    (["missing.db"], "no such file"),
    (["--checkpoint"], "--checkpoint needs a value"),
])
def test_bad_usage_is_exit_2_with_a_message(tmp_path, arguments, words):
    done = subprocess.run(["node", str(TOOL), *arguments], check=False, capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 2 and words in done.stderr and "Error:" not in done.stderr


def test_help_describes_the_tool():
    done = subprocess.run(["node", str(TOOL), "--help"], check=False, capture_output=True, text=True)
    assert done.returncode == 0 and "docs/ledger-format.md" in done.stdout


@pytest.mark.parametrize("damage", [
    lambda path: path.write_bytes(b"not a database, no header " * 200),
    lambda path: sqlite3.connect(path).execute("CREATE TABLE other (a)").connection.commit(),
], ids=["not a database", "no records table"])
def test_a_file_that_is_no_ledger_is_broken_at_1_in_both(tmp_path, damage):
    (tmp_path / "store").mkdir()
    damage(tmp_path / "store" / "registration.db")
    theirs = subprocess.run([str(PLPBK), "verify", "--json", "--store",
                             f"sqlite:///{tmp_path}/store", "registration"],
                            check=False, capture_output=True, text=True)
    ours = subprocess.run(["node", str(TOOL), "--json", str(tmp_path / "store/registration.db")],
                          check=False, capture_output=True, text=True)
    (their_report,) = json.loads(theirs.stdout)
    assert ours.returncode == theirs.returncode == 1
    assert json.loads(ours.stdout)["first_bad_position"] == their_report["first_bad_position"] == 1


def test_a_sqlite3_that_cannot_run_is_exit_3_named(ledger):
    done = subprocess.run(["node", str(TOOL), "--sqlite3", "/no/such/sqlite3", ledger.path],
                          check=False, capture_output=True, text=True)
    assert done.returncode == 3 and "cannot run /no/such/sqlite3" in done.stderr
