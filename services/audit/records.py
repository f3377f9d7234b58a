"""Reading many records by location ([ledger, position]) with few queries.

Locations come from the index in any order; each ledger is read in runs of
consecutive positions, one query per run.
"""
from itertools import groupby


def as_bytes(body) -> bytes:
    """A stored body as bytes (a tampered SQLite row may hold TEXT instead of a BLOB)."""
    return body.encode() if isinstance(body, str) else bytes(body)


def _runs(positions):
    """Consecutive runs of sorted, distinct positions: [(first, last), ...]."""
    ordered = sorted(set(positions))
    for _, run in groupby(enumerate(ordered), key=lambda item: item[1] - item[0]):
        run = [position for _, position in run]
        yield run[0], run[-1]


def _by_ledger(locations):
    grouped = {}
    for ledger, position in locations:
        grouped.setdefault(ledger, []).append(position)
    return grouped


def records_at(sources, locations) -> dict:
    """(ledger, position) -> Record, for every location that exists."""
    found = {}
    for name, positions in _by_ledger(locations).items():
        ledger = sources.get(name)
        for first, last in _runs(positions):
            for record in ledger.read(first - 1, upto=last, limit=last - first + 1):
                found[(name, record.position)] = record
    return found


def bodies_at(sources, locations) -> dict:
    """(ledger, position) -> (body bytes, stored hash), as stored."""
    found = {}
    for name, positions in _by_ledger(locations).items():
        ledger = sources.get(name)
        for first, last in _runs(positions):
            for position, body, stored_hash in ledger.raw(first - 1, last - first + 1):
                if position > last:
                    break
                found[(name, position)] = (as_bytes(body), stored_hash)
    return found
