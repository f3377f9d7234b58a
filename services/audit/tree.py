"""A ledger's Merkle tree, persisted as the hashes of its complete subtrees.

Node (level, index) is the root of leaves [index * 2^level, (index + 1) * 2^level); it
is stored once all its leaves exist and never changes after. Any MTH(D[a:b]) the
RFC 6962 proofs ask for is then at most about log2(n) stored nodes folded together, so
a proof costs O(log n) look-ups and never rehashes the ledger.

Nodes are kept in tiles: one view-store document holds TILE consecutive node hashes of
one level (hex), key "<level>:<tile>", as Go's checksum database does. So the tree lives
in any view store (SQLite, MongoDB, memory for tests) with few documents: about 2n/TILE.
A meta document holds the size and the chain hash of the last leaf, so extending the
tree can check that the ledger still continues the history the tree already holds.
"""
import hashlib
import threading
from collections import OrderedDict

import orjson

from shared.metrics import VERIFY_FAILURES

from . import merkle
from .records import as_bytes

TILE = 256
META = "meta"


class TreeBroken(Exception):
    """The ledger no longer continues the history the tree was built from."""

    def __init__(self, ledger, position, problem):
        self.ledger, self.position, self.problem = ledger, position, problem
        super().__init__(f"ledger {ledger}: record {position}: {problem}")


class MerkleTree:
    """The stored tree of one ledger: extend it from the ledger, ask it for proofs."""

    def __init__(self, collection, ledger_name, tile=TILE, cache_tiles=512):
        self.collection, self.ledger_name = collection, ledger_name
        self._tiles = OrderedDict()   # (level, tile) -> bytearray of hashes, LRU
        self._dirty = {}              # tiles changed and not yet written: never evicted
        self._cache_tiles = cache_tiles
        self._lock = threading.Lock()
        meta = collection.get(META) or {}
        self.size = meta.get("size", 0)
        self.last_hash = meta.get("last_hash", "0" * 64)
        self.last_recorded_at = meta.get("last_recorded_at")
        self.broken = meta.get("broken")
        self.tile = meta.get("tile", tile)  # fixed once the first tile is written
        self._report()

    def _report(self):
        """plpbk_ledger_verify_failed: every record the tree takes in is verified against
        the chain, so the audit service is the ledger's continuous verifier (alert rule
        PlpbkLedgerVerifyFailed)."""
        VERIFY_FAILURES.labels(self.ledger_name).set(1 if self.broken else 0)

    # -- growing ------------------------------------------------------------------------------
    def extend(self, ledger, batch=20000, progress=None) -> int:
        """Add the ledger's records after the tree's size; return how many were added.

        Each new record must hash to its stored hash and name the previous record's hash
        as prev_hash, else TreeBroken: a ledger rewritten behind the tree is never
        silently taken in (proofs keep answering for the history already signed).
        """
        with self._lock:
            if self.broken:
                raise TreeBroken(self.ledger_name, self.broken["position"],
                                 self.broken["problem"])
            self._check_still_held(ledger)
            added = 0
            while True:
                rows = ledger.raw(self.size, batch)
                if not rows:
                    return added
                leaves, last_hash, last_recorded_at, problem = self._checked_leaves(rows)
                if leaves:  # the good records before a break still belong to the tree
                    self._append(leaves)
                    self.last_hash, self.last_recorded_at = last_hash, last_recorded_at
                    added += len(leaves)
                if problem:
                    self.broken = {"position": self.size + 1, "problem": problem}
                    self._report()
                self._save_meta()
                if problem:
                    raise TreeBroken(self.ledger_name, self.size + 1, problem)
                if progress:
                    progress(self.size)
                if len(rows) < batch:
                    return added

    def _check_still_held(self, ledger):
        """The ledger must still hold the record the tree took in last: a ledger cut
        behind the tree would otherwise go on being signed at the old size, and bundles
        would leave the cut events out. (A record rewritten in place is named where it
        is read: a proof or bundle of it, or the next record the tree takes in.)"""
        if not self.size:
            return
        rows = ledger.raw(self.size - 1, 1)
        if rows and rows[0][0] == self.size:
            return
        position = min(self.size, ledger.head().position + 1)
        problem = (f"the ledger ends before this record, but the tree holds {self.size} "
                   "records: it was cut behind the tree")
        self.broken = {"position": position, "problem": problem}
        self._report()
        self._save_meta()
        raise TreeBroken(self.ledger_name, position, problem)

    def _checked_leaves(self, rows):
        """Leaf hashes of the rows that continue the chain, up to the first that does not."""
        previous, expected, leaves = self.last_hash, self.size + 1, []
        recorded_at = self.last_recorded_at
        for position, body, stored_hash in rows:
            problem, body = None, as_bytes(body)
            if position != expected:
                problem = f"expected position {expected}, the ledger has {position}"
            elif hashlib.sha256(body).hexdigest() != stored_hash:
                problem = "content does not match its stored hash"
            else:
                record = orjson.loads(body)
                if record.get("prev_hash") != previous:
                    problem = (f"prev_hash is not the hash of record {position - 1} the tree "
                               "holds: history was rewritten behind the tree")
            if problem:
                return leaves, previous, recorded_at, problem
            leaves.append(merkle.leaf_hash(body))
            previous, expected, recorded_at = stored_hash, expected + 1, record["recorded_at"]
        return leaves, previous, recorded_at, None

    def _append(self, leaves):
        """Store new leaves and every node they complete, one write per touched tile."""
        level_nodes, first = leaves, self.size
        level = 0
        while level_nodes:
            for offset, value in enumerate(level_nodes):
                self._set(level, first + offset, value)
            # Parents completed by this level's new nodes: those whose right child is new.
            start = first if first % 2 == 0 else first - 1
            end = first + len(level_nodes)
            parents = []
            for index in range(start, end - 1, 2):
                parents.append(merkle.node_hash(self.node(level, index),
                                                self.node(level, index + 1)))
            level_nodes, first, level = parents, start // 2, level + 1
        self.size += len(leaves)
        # Tiles first, then the size (_save_meta): after a crash in between, the next
        # extend rewrites the same hashes over the tiles' unaccounted tail.
        self.collection.put_many(
            (f"{lv}:{tile}", {"level": lv, "tile": tile, "hashes": hashes.hex()})
            for (lv, tile), hashes in sorted(self._dirty.items()))
        for key, hashes in self._dirty.items():
            self._cache(key, hashes)
        self._dirty.clear()

    # -- nodes ------------------------------------------------------------------------------
    def _tile(self, level, tile) -> bytearray:
        key = (level, tile)
        found = self._dirty.get(key)
        if found is not None:
            return found
        found = self._tiles.get(key)
        if found is None:
            doc = self.collection.get(f"{level}:{tile}")
            found = bytearray(bytes.fromhex(doc["hashes"])) if doc else bytearray()
            self._cache(key, found)
        else:
            self._tiles.move_to_end(key)
        return found

    def _cache(self, key, hashes):
        self._tiles[key] = hashes
        self._tiles.move_to_end(key)
        if len(self._tiles) > self._cache_tiles:
            self._tiles.popitem(last=False)

    def _set(self, level, index, value):
        tile, slot = divmod(index, self.tile)
        hashes = self._dirty.get((level, tile))
        if hashes is None:
            hashes = self._dirty[(level, tile)] = self._tile(level, tile)
        if len(hashes) < slot * 32:
            raise AssertionError(f"tree tile {level}:{tile} has a gap before node {index}")
        del hashes[slot * 32:]
        hashes.extend(value)

    def node(self, level, index) -> bytes:
        """Hash of the complete subtree (level, index); it must already be stored."""
        tile, slot = divmod(index, self.tile)
        hashes = self._tile(level, tile)
        value = bytes(hashes[slot * 32:slot * 32 + 32])
        if len(value) != 32:
            raise KeyError(f"node {level}:{index} of {self.ledger_name} is not stored")
        return value

    def subtree(self, start, end) -> bytes:
        """MTH(D[start:end]) for the ranges RFC 6962 proofs use (start aligned to its size)."""
        n = end - start
        if n & (n - 1) == 0:
            level = n.bit_length() - 1
            return self.node(level, start >> level)
        k = merkle.split_point(n)
        return merkle.node_hash(self.subtree(start, start + k), self.subtree(start + k, end))

    # -- answers -----------------------------------------------------------------------------
    def root(self, size=None) -> bytes:
        size = self.size if size is None else self._checked_size(size)
        return merkle.root_from_subtrees(size, self.subtree)

    def inclusion_proof(self, index, size=None) -> list:
        size = self.size if size is None else self._checked_size(size)
        return merkle.inclusion_path(index, size, self.subtree)

    def consistency_proof(self, first, second=None) -> list:
        second = self.size if second is None else self._checked_size(second)
        return merkle.consistency_path(first, second, self.subtree)

    def _checked_size(self, size):
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is beyond the {self.size} records the tree "
                             f"of {self.ledger_name} holds")
        return size

    def _save_meta(self):
        self.collection.put(META, {"ledger": self.ledger_name, "size": self.size,
                                   "last_hash": self.last_hash,
                                   "last_recorded_at": self.last_recorded_at,
                                   "broken": self.broken, "tile": self.tile})
