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


def canonical_bytes(obj) -> bytes:
    """JCS bytes of an already checked value."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise InvalidEvent(f"not encodable: {exc}") from None


def record_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
