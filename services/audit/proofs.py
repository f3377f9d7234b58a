"""The transparency log over the ledgers: signed tree heads, inclusion and consistency proofs.

One MerkleTree per ledger, kept in the audit service's durable state store (collection
tree_<ledger>) and extended from the ledger before each answer. Proof hashes travel as
lowercase hex; record bodies as base64 of the stored bytes.
"""
import base64
import logging
import threading

from shared.chassis.errors import Conflict, InvalidInput, NotConfigured, NotFound
from shared.ledger.envelope import now_iso

from . import merkle
from .records import as_bytes
from .tree import MerkleTree, TreeBroken
from .treehead import make_tree_head

log = logging.getLogger(__name__)


class TransparencyLog:
    def __init__(self, sources, state, signing_key=None):
        self.sources, self.state, self.signing_key = sources, state, signing_key
        self._trees = {}
        self._lock = threading.Lock()

    def tree(self, name, extend=True) -> MerkleTree:
        """The ledger's tree, first extended to the ledger's head (Conflict if it cannot be)."""
        ledger = self.sources.get(name)
        with self._lock:
            if name not in self._trees:
                self._trees[name] = MerkleTree(self.state.collection(f"tree_{name}"), name)
        tree = self._trees[name]
        if extend:
            try:
                tree.extend(ledger)
            except TreeBroken as broken:
                raise Conflict(f"ledger {name} no longer continues its signed history at "
                               f"record {broken.position}: {broken.problem}", "ledger") \
                    from None
        return tree

    def extend_all(self):
        """Background upkeep: keep every tree at its ledger's head; log what cannot be."""
        for name in self.sources.names:
            try:
                self.tree(name)
            except Conflict as exc:
                log.error("merkle tree of %s: %s", name, exc)

    def status(self) -> dict:
        return {name: {"size": tree.size, "broken": tree.broken}
                for name, tree in sorted(self._trees.items())}

    # -- answers -------------------------------------------------------------------------------
    def key(self):
        """The signing key, or a clear refusal when none is configured."""
        if self.signing_key is None:
            raise NotConfigured("no tree-head signing key is configured (set TREE_HEAD_KEY "
                                  "to the path of an Ed25519 private key)", "TREE_HEAD_KEY")
        return self.signing_key

    def signed_head(self, name) -> dict:
        key = self.key()
        tree = self.tree(name)
        return make_tree_head(name, tree.size, tree.root(), tree.last_hash,
                              tree.last_recorded_at, now_iso(), key)

    def inclusion(self, name, position, tree_size=None) -> dict:
        """The record at position as stored, and its proof against the tree of tree_size."""
        tree = self.tree(name)
        size = tree.size if tree_size is None else tree_size
        if size > tree.size:
            raise InvalidInput(f"tree size {size} is beyond the {tree.size} records of "
                               f"ledger {name}", "tree_size")
        if not 1 <= position <= size:
            raise NotFound(f"ledger {name} has no record {position} in a tree of {size}",
                           "position")
        _, body, stored_hash = self.sources.get(name).raw(position - 1, 1)[0]
        return {"ledger": name, "position": position, "leaf_index": position - 1,
                "tree_size": size, "body": base64.b64encode(as_bytes(body)).decode(),
                "hash": stored_hash,
                "proof": [node.hex() for node in tree.inclusion_proof(position - 1, size)]}

    def consistency(self, name, first, second=None) -> dict:
        tree = self.tree(name)
        second = tree.size if second is None else second
        if second > tree.size:  # named apart: the caller must know which number to change
            raise InvalidInput(f"tree size {second} is beyond the {tree.size} records of "
                               f"ledger {name}", "second")
        if not 0 <= first <= second:
            raise InvalidInput(f"a tree of {first} records cannot be a prefix of one of "
                               f"{second}: first must be 0 to {second}", "first")
        return {"ledger": name, "first": first, "second": second,
                "first_root": tree.root(first).hex(), "second_root": tree.root(second).hex(),
                "proof": [node.hex() for node in tree.consistency_proof(first, second)]}

    def leaf_matches(self, name, position, body) -> bool:
        """Is this body the one the tree took in at position (not altered since)?"""
        return self.tree(name, extend=False).node(0, position - 1) == merkle.leaf_hash(body)
