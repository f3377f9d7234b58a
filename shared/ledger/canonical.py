"""Canonical encoding of ledger records (see docs/ledger-format.md).

The bytes are RFC 8785 (JCS) JSON. The ledger only admits values whose JCS form is
unambiguous and equal to orjson's sorted compact output: strings, booleans, null,
integers within +-(2**53 - 1), arrays and objects whose keys lie in the Basic
Multilingual Plane. Non-integer numbers must be sent as decimal strings, which is
what money and measurements need anyway.
"""
import hashlib

import orjson

from .errors import InvalidEvent

MAX_SAFE_INTEGER = 2**53 - 1
GENESIS_HASH = "0" * 64


def check_value(value, path="payload"):
    """Raise InvalidEvent naming the first value the canonical form cannot hold."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return
    if kind is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return
        raise InvalidEvent(f"{path}: integer {value} is outside +-(2**53-1); send it as a string")
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise InvalidEvent(f"{path}: object key {key!r} is not a string")
            if not key.isascii() and any(ord(ch) > 0xFFFF for ch in key):
                raise InvalidEvent(f"{path}: object key {key!r} has a character outside the BMP")
            check_value(item, f"{path}.{key}")
        return
    if kind is list or kind is tuple:
        for index, item in enumerate(value):
            check_value(item, f"{path}[{index}]")
        return
    if kind is float:
        raise InvalidEvent(f"{path}: {value!r} is a float; send exact numbers as decimal strings")
    raise InvalidEvent(f"{path}: {kind.__name__} is not a JSON value")


def _plain(value) -> bool:
    """True when check_value would pass, keys outside the BMP aside: the same rules as a
    quick type walk with no paths built, because every append runs it on every payload."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if not _plain(item):
                return False
        return True
    if kind is list or kind is tuple:
        return all(_plain(item) for item in value)
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    return kind is str or kind is bool or value is None


def admitted(value, body: bytes) -> bool:
    """Whether check_value would pass value, whose canonical bytes are body: the quick
    walk, and check_value's own only where that doubts or a key outside the BMP could
    hide (a non-ASCII body)."""
    if body.isascii() and _plain(value):
        return True
    try:
        check_value(value)
    except (InvalidEvent, RecursionError):
        return False
    return True


def canonical_record(record: dict) -> bytes:
    """JCS bytes of a record whose payload has not been checked yet.

    The quick walk admits the common payload; anything it doubts, and any non-ASCII
    body (where a key outside the BMP could hide), goes through check_value, which
    raises naming the offending value."""
    payload = record["payload"]
    try:
        if not _plain(payload):
            check_value(payload)
        body = canonical_bytes(record)
        if not body.isascii():
            check_value(payload)
    except RecursionError:  # raised where it would abort the other units of a commit
        raise InvalidEvent("payload: nested too deeply to record") from None
    return body


def canonical_bytes(obj) -> bytes:
    """JCS bytes of an already checked value."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise InvalidEvent(f"not encodable: {exc}") from None


def record_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
