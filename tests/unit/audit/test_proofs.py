"""Signed tree heads, inclusion and consistency proofs over a real SQLite ledger, and a
forked ledger that rewrote history behind an old tree head."""
import base64
import shutil
import sqlite3

import pytest
from prometheus_client import REGISTRY

from services.audit import merkle
from services.audit.proofs import TransparencyLog
from services.audit.sources import LedgerSources
from services.audit.tree import MerkleTree, TreeBroken
from services.audit.treehead import load_private_key, tree_head_problem
from shared.chassis.errors import Conflict, InvalidInput, NotFound
from shared.ledger import Actor, Metadata, NewEvent, open_ledger
from shared.ledger.verify import generate_key, load_public_key, public_key_pem, verify_ledger
from shared.views.memory import MemoryViewStore
from tests.forgery import open_as_attacker, reseal_from

META = Metadata(Actor("dinas-1", "district", "52.01"), "corr")


def append(store_uri, count, start=0):
    ledger = open_ledger(store_uri, "registration")
    for number in range(start, start + count):
        stream = f"village-52.01.08.{2001 + number % 5}"
        ledger.append(stream, ledger.stream_version(stream),
                      [NewEvent("IndicatorsRecorded", {"n": number, "value": "25.5"})], META)
    ledger.close()


@pytest.fixture
def key():
    return generate_key()


@pytest.fixture
def public(key):
    return load_public_key(public_key_pem(key))


def transparency_log(store_uri, key, state=None):
    sources = LedgerSources(store_uri)
    sources.discover()
    return TransparencyLog(sources, state or MemoryViewStore("state"), load_private_key(key))


def verify_proof(proof, head):
    return merkle.verify_inclusion(
        merkle.leaf_hash(base64.b64decode(proof["body"])), proof["leaf_index"],
        head["tree_size"], [bytes.fromhex(p) for p in proof["proof"]],
        bytes.fromhex(head["root_hash"]))


def verify_extension(old, new, proof):
    return merkle.verify_consistency(
        old["tree_size"], new["tree_size"], bytes.fromhex(old["root_hash"]),
        bytes.fromhex(new["root_hash"]), [bytes.fromhex(p) for p in proof["proof"]])


def test_tree_heads_are_signed_and_name_the_chain_head(tmp_path, key, public):
    store = f"sqlite:///{tmp_path}"
    append(store, 20)
    log = transparency_log(store, key)
    head = log.signed_head("registration")
    ledger = open_ledger(store, "registration")
    assert head["tree_size"] == 20 and head["head_hash"] == ledger.head().hash
    assert head["head_recorded_at"] == ledger.head().recorded_at
    assert tree_head_problem(head, public) is None
    for field, value in (("tree_size", 19), ("root_hash", "ab" * 32), ("ledger", "cycle")):
        assert "signature" in tree_head_problem({**head, field: value}, public)
    other = load_public_key(public_key_pem(generate_key()))
    assert "different key" in tree_head_problem(head, other)
    assert "fields" in tree_head_problem({**head, "extra": 1}, public)
    ledger.close()


def test_inclusion_and_consistency_proofs_against_kept_heads(tmp_path, key):
    store = f"sqlite:///{tmp_path}"
    append(store, 37)
    log = transparency_log(store, key)
    old = log.signed_head("registration")
    append(store, 30, start=37)
    new = log.signed_head("registration")
    assert new["tree_size"] == 67
    for position in (1, 2, 17, 37, 38, 67):
        proof = log.inclusion("registration", position)
        assert verify_proof(proof, new)
        assert len(proof["proof"]) <= 7  # ceil(log2(67))
        if position <= 37:
            assert verify_proof(log.inclusion("registration", position, 37), old)
    consistency = log.consistency("registration", 37)
    assert verify_extension(old, new, consistency)
    assert log.consistency("registration", 37, 67)["proof"] == consistency["proof"]
    with pytest.raises(NotFound):
        log.inclusion("registration", 68)
    with pytest.raises(InvalidInput):
        log.inclusion("registration", 5, tree_size=100)
    # each refusal names the number to change: first after second, or second (or first,
    # when second is now) beyond the ledger; a second of 999 was blamed on first
    for first, second, field in ((50, 40, "first"), (3, 999, "second"), (68, None, "first")):
        with pytest.raises(InvalidInput) as refused:
            log.consistency("registration", first, second)
        assert refused.value.field == field, refused.value.message
    with pytest.raises(NotFound) as unknown:
        log.signed_head("planning")
    assert unknown.value.field == "ledger"


def rewrite_history(path, from_position, change):
    """What whoever controls the database can do: rewrite a record and rehash every later
    one, so the hash chain alone still verifies."""
    db = open_as_attacker(path)
    reseal_from(db, from_position, change)
    db.close()


def test_a_forked_ledger_cannot_prove_it_extends_an_old_tree_head(tmp_path, key):
    store = f"sqlite:///{tmp_path}/ledgers"
    append(store, 40)
    state = MemoryViewStore("state")
    log = transparency_log(store, key, state)
    old = log.signed_head("registration")  # the auditor keeps this

    def forge(record):
        record["payload"]["value"] = "99.9"
    rewrite_history(f"{tmp_path}/ledgers/registration.db", 25, forge)
    append(store, 10, start=40)
    forked = open_ledger(store, "registration")
    assert verify_ledger(forked).ok  # the chain alone cannot tell
    forked.close()

    # The audit service's own tree refuses to take in the fork ...
    with pytest.raises(Conflict, match="record 41"):
        log.signed_head("registration")
    # ... and a tree rebuilt from the fork (as its owner would) proves nothing to the auditor.
    rebuilt = transparency_log(store, key)
    new = rebuilt.signed_head("registration")
    proof = rebuilt.consistency("registration", old["tree_size"])
    assert not verify_extension(old, new, proof)
    # Every path of a 40-leaf tree covers the rewritten leaf: no record of the fork,
    # changed or not, proves inclusion in the tree the auditor kept.
    for position in (1, 24, 25, 40):
        assert not verify_proof(rebuilt.inclusion("registration", position, 40), old)


def test_the_persisted_tree_survives_a_restart_and_keeps_growing(tmp_path, key):
    from shared.views import open_view_store
    store, state_uri = f"sqlite:///{tmp_path}/ledgers", f"sqlite:///{tmp_path}/state"
    append(store, 300)
    state = open_view_store(state_uri, "audit")
    first = transparency_log(store, key, state).signed_head("registration")
    state.close()
    append(store, 5, start=300)
    state = open_view_store(state_uri, "audit")
    tree = MerkleTree(state.collection("tree_registration"), "registration")
    assert tree.size == 300 and tree.root().hex() == first["root_hash"]
    log = transparency_log(store, key, state)
    second = log.signed_head("registration")
    assert verify_extension(first, second, log.consistency("registration", 300))
    # Tiles, not one document per node: 2 tiles of leaves, one per level 1..8, the meta.
    assert state.collection("tree_registration").count() == 2 + 8 + 1
    state.close()


def test_a_copied_tree_notices_a_record_changed_behind_it(tmp_path, key):
    store = f"sqlite:///{tmp_path}/ledgers"
    append(store, 12)
    state = MemoryViewStore("state")
    log = transparency_log(store, key, state)
    head = log.signed_head("registration")
    shutil.copy(f"{tmp_path}/ledgers/registration.db", f"{tmp_path}/original.db")
    db = sqlite3.connect(f"{tmp_path}/ledgers/registration.db", isolation_level=None)
    db.execute("DROP TRIGGER records_no_update")
    db.execute("UPDATE records SET body = replace(body, '25.5', '99.5') WHERE position = 7")
    db.close()
    proof = log.inclusion("registration", 7)
    assert not verify_proof(proof, head)
    assert verify_proof(log.inclusion("registration", 6), head)
    append(store, 1, start=12)
    assert verify_failed("registration") == 0
    with pytest.raises(TreeBroken):
        MerkleTree(MemoryViewStore("fresh").collection("tree"), "registration").extend(
            open_ledger(store, "registration"))
    assert verify_failed("registration") == 1   # what the PlpbkLedgerVerifyFailed alert reads


def test_a_ledger_cut_behind_the_tree_is_no_longer_signed(tmp_path, key):
    store = f"sqlite:///{tmp_path}/ledgers"
    append(store, 12)
    log = transparency_log(store, key)
    assert log.signed_head("registration")["tree_size"] == 12
    db = open_as_attacker(f"{tmp_path}/ledgers/registration.db")
    db.execute("DELETE FROM records WHERE position > 10")
    with pytest.raises(Conflict, match="record 11: the ledger ends before this record, but "
                                       "the tree holds 12"):
        log.signed_head("registration")
    with pytest.raises(Conflict):
        log.consistency("registration", 5)
    assert verify_failed("registration") == 1


def verify_failed(ledger):
    return REGISTRY.get_sample_value("plpbk_ledger_verify_failed", {"ledger": ledger})


def test_prove_takes_nothing_the_service_says_on_its_word(tmp_path, key):
    """plpbk audit prove EVENT_ID checks, on the auditor's machine, that the record sent is
    that event at the position claimed: before, any other record of the tree with its own
    true proof was printed as 'proven' for the event asked about."""
    import orjson

    from services.audit.cli import inclusion_problem
    store = f"sqlite:///{tmp_path}"
    append(store, 9)
    log = transparency_log(store, key)
    head = log.signed_head("registration")
    proofs = {position: log.inclusion("registration", position) for position in (3, 4)}
    asked = orjson.loads(base64.b64decode(proofs[3]["body"]))["event_id"]
    assert inclusion_problem(proofs[3], head, asked) is None
    other = proofs[4]  # a true proof, of another event
    assert inclusion_problem(other, head, asked) == \
        f"the service sent record registration #4, which is not event {asked}"
    moved = {**proofs[3], "position": 4, "leaf_index": 3}
    assert "the service said registration #4 but sent record registration #3" == \
        inclusion_problem(moved, head, asked)
    bent = {**proofs[3], "proof": proofs[4]["proof"]}
    assert "is NOT in the signed tree" in inclusion_problem(bent, head, asked)
    assert "not a proof" in inclusion_problem({**proofs[3], "body": "%%%"}, head, asked)
    assert "tree head is of ledger planning" in inclusion_problem(
        proofs[3], {**head, "ledger": "planning"}, asked)


def test_consistency_takes_nothing_the_service_says_on_its_word(tmp_path, key, public):
    """plpbk audit consistency: the head the service sends now must be signed by the
    trusted key and be of the kept head's ledger before anything is concluded from it.
    Before, another ledger's signed head was proven against with the kept ledger's proof,
    an unsigned smaller head was called a truncation, and a proof that was not hex ended
    in an unexpected-failure line."""
    from services.audit.cli import extension_problem, new_head_problem
    store = f"sqlite:///{tmp_path}"
    append(store, 9)
    planning = open_ledger(store, "planning")
    planning.append("document-52.01.08.2006-rplp", 0, [NewEvent("DocumentDrafted", {})], META)
    planning.close()
    log = transparency_log(store, key)
    old = log.signed_head("registration")
    append(store, 4, start=9)
    new = log.signed_head("registration")
    proof = log.consistency("registration", 9, 13)
    assert new_head_problem(old, new, public) is None
    assert extension_problem(old, new, proof) is None
    assert new_head_problem(old, log.signed_head("planning"), public) == \
        "the service sent a tree head of ledger planning, not registration"
    assert new_head_problem(old, {**new, "tree_size": 3}, public).startswith(
        "the service's tree head signature is not valid")
    foreign = transparency_log(store, generate_key()).signed_head("registration")
    assert "different key" in new_head_problem(old, foreign, public)
    assert "not a proof" in extension_problem(old, new, {"proof": ["zz"]})
    assert "does NOT extend" in extension_problem(old, new, {"proof": proof["proof"][::-1]})
