"""RFC 6962 / 9162 proofs against a naive recursive MTH, for every size 1..70."""
import hashlib
import random

import pytest

from services.audit import merkle
from services.audit.tree import MerkleTree
from shared.views.memory import MemoryCollection


def naive_mth(leaves):
    """MTH of RFC 6962 2.1, straight from its definition."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


def naive_subtree(leaves):
    return lambda start, end: naive_mth(leaves[start:end])


LEAVES = [f"record {i}".encode() for i in range(70)]


class FakeLedger:
    """raw() rows of a chain of bodies, as a ledger gives them."""

    def __init__(self, bodies):
        import orjson
        self.rows, previous = [], "0" * 64
        for position, data in enumerate(bodies, start=1):
            body = orjson.dumps({"data": data.decode(), "prev_hash": previous,
                                 "recorded_at": f"2026-01-01T00:00:00.{position:06d}Z"})
            previous = hashlib.sha256(body).hexdigest()
            self.rows.append((position, body, previous))

    def raw(self, after=0, limit=10000):
        return self.rows[after:after + limit]


def test_hashes_use_the_rfc_6962_prefixes():
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert merkle.EMPTY_ROOT == naive_mth([])


@pytest.mark.parametrize("size", range(1, 71))
def test_inclusion_proofs_of_every_leaf_verify(size):
    leaves = LEAVES[:size]
    root, subtree = naive_mth(leaves), naive_subtree(leaves)
    for index in range(size):
        path = merkle.inclusion_path(index, size, subtree)
        leaf = merkle.leaf_hash(leaves[index])
        assert len(path) <= (size - 1).bit_length()
        assert merkle.verify_inclusion(leaf, index, size, path, root)
        assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), index, size, path, root)
        if size > 1:
            assert not merkle.verify_inclusion(leaf, (index + 1) % size, size, path, root)
            bent = [bytes([path[0][0] ^ 1]) + path[0][1:]] + path[1:]
            assert not merkle.verify_inclusion(leaf, index, size, bent, root)
            assert not merkle.verify_inclusion(leaf, index, size, path + [root], root)
            assert not merkle.verify_inclusion(leaf, index, size, path[:-1], root)
    assert not merkle.verify_inclusion(merkle.leaf_hash(leaves[0]), size, size, [], root)


@pytest.mark.parametrize("second", range(1, 71))
def test_consistency_proofs_of_every_prefix_verify(second):
    leaves = LEAVES[:second]
    new_root, subtree = naive_mth(leaves), naive_subtree(leaves)
    for first in range(0, second + 1):
        old_root = naive_mth(leaves[:first])
        path = merkle.consistency_path(first, second, subtree)
        assert merkle.verify_consistency(first, second, old_root, new_root, path)
        if 0 < first < second:
            forked = naive_mth(leaves[:first - 1] + [b"rewritten"])
            assert not merkle.verify_consistency(first, second, forked, new_root, path)
            assert not merkle.verify_consistency(first, second, old_root, forked, path)
            bent_last = path[:-1] + [bytes([path[-1][0] ^ 1]) + path[-1][1:]]
            assert not merkle.verify_consistency(first, second, old_root, new_root, bent_last)
            assert not merkle.verify_consistency(first, second, old_root, new_root, [])
            assert not merkle.verify_consistency(first + 1, second, old_root, new_root, path) \
                or naive_mth(leaves[:first + 1]) == old_root


def test_random_pairs_against_the_naive_tree():
    chance = random.Random(6962)
    leaves = [chance.randbytes(chance.randint(0, 40)) for _ in range(300)]
    subtree = naive_subtree(leaves)
    for _ in range(200):
        first, second = sorted(chance.sample(range(1, 301), 2))
        path = merkle.consistency_path(first, second, subtree)
        assert merkle.verify_consistency(first, second, naive_mth(leaves[:first]),
                                         naive_mth(leaves[:second]), path)
        index = chance.randrange(second)
        assert merkle.verify_inclusion(merkle.leaf_hash(leaves[index]), index, second,
                                       merkle.inclusion_path(index, second, subtree),
                                       naive_mth(leaves[:second]))


def test_the_stored_tree_answers_like_the_naive_one_at_every_size():
    ledger = FakeLedger(LEAVES)
    tree = MerkleTree(MemoryCollection("tree"), "test", tile=4)  # many tiles per level
    bodies = [row[1] for row in ledger.rows]
    grown = 0
    for step in (1, 2, 5, 1, 13, 30, 18):  # grow in uneven batches
        ledger_view = FakeLedger.__new__(FakeLedger)
        ledger_view.rows = ledger.rows[:grown + step]
        tree.extend(ledger_view, batch=7)
        grown += step
        assert tree.size == grown
        for size in range(1, grown + 1):
            assert tree.root(size) == naive_mth(bodies[:size])
    subtree = naive_subtree(bodies)
    for index in range(70):
        assert tree.inclusion_proof(index, 70) == merkle.inclusion_path(index, 70, subtree)
    for first in range(71):
        assert tree.consistency_proof(first, 70) == merkle.consistency_path(first, 70, subtree)


def test_the_stored_tree_survives_a_restart_and_small_caches():
    ledger = FakeLedger(LEAVES)
    collection = MemoryCollection("tree")
    MerkleTree(collection, "test", tile=4).extend(ledger, batch=9)
    reopened = MerkleTree(collection, "test", cache_tiles=1)
    assert reopened.tile == 4
    assert reopened.size == 70 and reopened.root() == naive_mth([r[1] for r in ledger.rows])
    assert reopened.last_hash == ledger.rows[-1][2]


class CountingCollection(MemoryCollection):
    """Counts document reads: a proof must not read the whole tree."""

    def __init__(self, name):
        super().__init__(name)
        self.reads = 0

    def get(self, key):
        self.reads += 1
        return super().get(key)


def test_proofs_read_a_logarithmic_number_of_stored_nodes():
    ledger = FakeLedger([f"body {i}".encode() for i in range(5000)])
    bodies = [row[1] for row in ledger.rows]
    collection = CountingCollection("tree")
    MerkleTree(collection, "test", tile=8).extend(ledger)
    for index, (first, second) in ((17, (1000, 5000)), (4999, (4095, 4999))):
        reopened = MerkleTree(collection, "test", cache_tiles=64)  # nothing cached
        collection.reads = 0
        path = reopened.inclusion_proof(index)
        consistency = reopened.consistency_proof(first, second)
        assert len(path) <= 13 and len(consistency) <= 2 * 13
        assert collection.reads <= 2 * 13 * 3, collection.reads  # tiles read, not 5000 leaves
        assert merkle.verify_inclusion(merkle.leaf_hash(bodies[index]), index, 5000, path,
                                       naive_mth(bodies))
