"""Tampering with a SQLite ledger file directly, bypassing the API, is always detected."""
import hashlib
import sqlite3

import orjson
import pytest

from shared.ledger import Actor, Metadata, NewEvent, open_ledger
from shared.ledger.canonical import canonical_bytes
from shared.ledger.verify import (generate_key, load_public_key, make_checkpoint,
                                  public_key_pem, verify_ledger)

META = Metadata(Actor("officer-1", "district", "52.01"), "corr")


@pytest.fixture
def ledger(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path}", "registration")
    for number in range(1, 11):
        ledger.append(f"village-{number % 3}", ledger.stream_version(f"village-{number % 3}"),
                      [NewEvent("IndicatorRecorded", {"n": number, "value": "25.5"})], META)
    yield ledger
    ledger.close()


def body_of(db, position):
    return orjson.loads(db.execute("SELECT body FROM records WHERE position=?",
                                   (position,)).fetchone()[0])


def write_body(db, position, record, rehash):
    body = canonical_bytes(record)
    if rehash:
        db.execute("UPDATE records SET body=?, hash=? WHERE position=?",
                   (body, hashlib.sha256(body).hexdigest(), position))
    else:
        db.execute("UPDATE records SET body=? WHERE position=?", (body, position))


def test_an_untouched_ledger_verifies(ledger):
    report = verify_ledger(ledger)
    assert report.ok and report.count == 10 and report.head_hash == ledger.head().hash


def test_the_triggers_refuse_update_and_delete(ledger):
    db = sqlite3.connect(ledger.path, isolation_level=None)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE records SET body = x'00' WHERE position = 3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM records WHERE position = 10")
    db.close()


def test_a_changed_payload_is_named(ledger, attacker):
    record = body_of(attacker, 4)
    record["payload"]["value"] = "9.0"
    write_body(attacker, 4, record, rehash=False)
    report = verify_ledger(ledger)
    assert (report.first_bad_position, report.ok) == (4, False)
    assert "hash" in report.problem
    # what did verify is the prefix before the break, not nothing
    assert (report.count, report.head_position) == (3, 3)
    assert report.head_hash == ledger.read(2, limit=1)[0].hash


def test_a_changed_payload_with_a_recomputed_hash_breaks_the_next_link(ledger, attacker):
    record = body_of(attacker, 4)
    record["actor"]["id"] = "someone-else"
    write_body(attacker, 4, record, rehash=True)
    report = verify_ledger(ledger)
    assert report.first_bad_position == 5 and "record 4" in report.problem


@pytest.mark.parametrize("position, version", [(1, 2), (4, 3)])
def test_a_stream_version_changed_with_a_recomputed_hash_is_named(ledger, attacker, position,
                                                                   version):
    # position 1 starts village-1; position 4 is village-1's second record
    record = body_of(attacker, position)
    record["stream_version"] = version
    write_body(attacker, position, record, rehash=True)
    report = verify_ledger(ledger)
    assert report.first_bad_position == position
    assert f"jumps to version {version}" in report.problem


def test_a_deleted_record_is_named(ledger, attacker):
    attacker.execute("DELETE FROM records WHERE position = 6")
    report = verify_ledger(ledger)
    assert report.first_bad_position == 6 and "missing" in report.problem


def test_an_inserted_record_is_named(ledger, attacker):
    for position in range(10, 6, -1):  # make room at 7, as an insertion must
        attacker.execute("UPDATE records SET position = position + 1 WHERE position = ?",
                         (position,))
    forged = body_of(attacker, 6)
    forged.update(position=7, event_id="00000000-0000-4000-8000-000000000000",
                  stream_version=99)
    body = canonical_bytes(forged)
    attacker.execute("INSERT INTO records VALUES (7, ?, 99, 'IndicatorRecorded', ?, ?, ?)",
                     (forged["stream_id"], forged["recorded_at"], body,
                      hashlib.sha256(body).hexdigest()))
    report = verify_ledger(ledger)
    assert not report.ok and report.first_bad_position == 7


def test_reordered_records_are_named(ledger, attacker):
    three = attacker.execute("SELECT body, hash FROM records WHERE position=3").fetchone()
    four = attacker.execute("SELECT body, hash FROM records WHERE position=4").fetchone()
    attacker.execute("UPDATE records SET body=?, hash=? WHERE position=3", four)
    attacker.execute("UPDATE records SET body=?, hash=? WHERE position=4", three)
    report = verify_ledger(ledger)
    assert report.first_bad_position == 3


@pytest.mark.parametrize("change", ["stream_id = 'village-hidden'",
                                    "stream_version = stream_version + 7",
                                    "type = 'SomethingElse'",
                                    "recorded_at = '2000-01-01T00:00:00.000000Z'"])
def test_a_changed_query_column_is_named(ledger, attacker, change):
    attacker.execute(f"UPDATE records SET {change} WHERE position=5")
    report = verify_ledger(ledger)
    assert report.first_bad_position == 5 and "columns" in report.problem


def test_truncation_passes_alone_but_not_against_a_kept_checkpoint(ledger, attacker,
                                                                   tmp_path):
    key = generate_key()
    checkpoint = make_checkpoint(ledger, key)
    attacker.execute("DELETE FROM records WHERE position > 7")
    assert verify_ledger(ledger).ok  # a chain alone cannot know its lost tail
    report = verify_ledger(ledger, checkpoint, load_public_key(public_key_pem(key)))
    assert not report.ok and "truncated" in report.problem and report.checkpoint["ok"] is False


def test_a_rewritten_history_is_caught_by_the_checkpoint(ledger, attacker):
    key = generate_key()
    checkpoint = make_checkpoint(ledger, key)
    # Rewrite record 10 (the head) and its hash: the chain alone is still consistent.
    record = body_of(attacker, 10)
    record["payload"]["value"] = "1.0"
    write_body(attacker, 10, record, rehash=True)
    assert verify_ledger(ledger).ok
    report = verify_ledger(ledger, checkpoint)
    assert "rewritten" in report.problem and report.first_bad_position == 10


def test_a_forged_or_foreign_checkpoint_is_refused(ledger):
    key, other = generate_key(), generate_key()
    checkpoint = make_checkpoint(ledger, key)
    assert verify_ledger(ledger, checkpoint, load_public_key(public_key_pem(key))).ok
    forged = dict(checkpoint, position=3)
    assert "signature" in verify_ledger(ledger, forged).problem
    foreign = verify_ledger(ledger, checkpoint, load_public_key(public_key_pem(other)))
    assert "different key" in foreign.problem


@pytest.mark.parametrize("position", ["7", 7.0, -1, None, True])
def test_a_checkpoint_signed_with_a_position_that_is_no_whole_number_is_named(ledger,
                                                                               position):
    """Whoever holds a key can sign any statement: its members are checked, not trusted."""
    import base64

    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    key = generate_key()
    statement = {k: v for k, v in make_checkpoint(ledger, key).items() if k != "signature"}
    statement["position"] = position
    signature = load_pem_private_key(key, None).sign(canonical_bytes(statement))
    forged = dict(statement, signature=base64.b64encode(signature).decode())
    report = verify_ledger(ledger, forged)
    assert not report.ok and "whole number" in report.problem
    assert report.first_bad_position == 0 and report.checkpoint["ok"] is False


def test_a_body_rewritten_as_text_is_named_not_a_crash(ledger, attacker):
    attacker.execute("UPDATE records SET body = CAST(body AS TEXT) WHERE position = 2")
    report = verify_ledger(ledger)
    assert report.first_bad_position == 2 and "bytes" in report.problem


@pytest.mark.parametrize("body, words", [(b"\xff not json", "not JSON"),
                                         (b"[1, 2, 3]", "not a JSON object")])
def test_a_body_that_is_no_record_but_hashes_right_is_named_not_a_crash(ledger, attacker,
                                                                        body, words):
    attacker.execute("UPDATE records SET body=?, hash=? WHERE position=6",
                     (body, hashlib.sha256(body).hexdigest()))
    report = verify_ledger(ledger)
    assert report.first_bad_position == 6 and words in report.problem
    assert report.count == 5


def test_a_resealed_record_without_a_member_or_with_an_extra_one_is_named(tmp_path):
    from tests.forgery import open_as_attacker, reseal_from
    for change in (lambda record: record.pop("event_id"),
                   lambda record: record.update(extra="x")):
        ledger = open_ledger(f"sqlite:///{tmp_path}/{len(list(tmp_path.iterdir()))}",
                             "registration")
        for n in range(3):
            ledger.append(f"village-{n}", 0, [NewEvent("VillageRegistered", {"n": n})])
        reseal_from(open_as_attacker(ledger.path), 2, change)
        report = verify_ledger(ledger)
        assert report.first_bad_position == 2 and "members" in report.problem
        ledger.close()
