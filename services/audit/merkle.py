"""Merkle tree hashing, proofs and their verification: RFC 6962 / RFC 9162, pure.

A ledger's Merkle tree has one leaf per record, in position order; the leaf's data is
the record's body bytes exactly as stored. Hashes are SHA-256 with domain separation:
leaf = SHA-256(0x00 || body), node = SHA-256(0x01 || left || right), and the tree over
n leaves splits at k, the largest power of two below n (RFC 6962 section 2.1). The
empty tree's root is SHA-256 of nothing.

Proofs are built from a `subtree(start, end)` function giving MTH(D[start:end]), so this
module never needs the leaves: the tree store answers with persisted node hashes, tests
answer with a naive recursive MTH. Verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2)
needs only the proof, the leaf hash, the sizes and the roots; it imports hashlib alone,
so an auditor can run it anywhere.
"""
import hashlib

LEAF_PREFIX, NODE_PREFIX = b"\x00", b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """k: the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# -- proofs, from any subtree oracle ------------------------------------------------------

def inclusion_path(index: int, size: int, subtree) -> list:
    """PATH(m, D[n]) of RFC 6962 2.1.1: sibling hashes from the leaf up to the root."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
    path, start, end = [], 0, size
    # Walk down from the root, remembering each sibling; the proof lists them bottom-up.
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    return path[::-1]


def consistency_path(first: int, second: int, subtree) -> list:
    """PROOF(m, D[n]) of RFC 6962 2.1.2: that the first `first` leaves are a prefix."""
    if not 0 <= first <= second:
        raise ValueError(f"cannot prove a tree of {first} leaves is a prefix of one of {second}")
    if first == 0 or first == second:
        return []
    path, start, end, m, whole = [], 0, second, first, True
    # SUBPROOF(m, D[start:end], whole), unrolled; siblings are collected top-down.
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        path.append(subtree(start, end))
    return path[::-1]


def root_from_subtrees(size: int, subtree) -> bytes:
    return EMPTY_ROOT if size == 0 else subtree(0, size)


# -- verification (RFC 9162) ----------------------------------------------------------------

def verify_inclusion(leaf: bytes, index: int, size: int, path, root: bytes) -> bool:
    """RFC 9162 2.1.3.2: does `path` prove leaf hash `leaf` at `index` of a tree with root?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       path) -> bool:
    """RFC 9162 2.1.4.2: is the tree (second, second_root) an extension of (first, first_root)?"""
    path = list(path)
    if not 0 <= first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path  # every tree extends the empty one
    if not path:
        return False
    if first & (first - 1) == 0:  # an exact power of two: its root is a node of the new tree
        path = [first_root] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0
