"""The platform's attachment store: uploaded files kept by their SHA-256, one store for
every service (ATTACHMENT_URI), and the contract by which a ledger names a stored file.

The contract (docs/services.md, "Files"; decision 20): a service that stores a file
records, in its own ledger, an event of type `AttachmentStored` built by
`stored_event`, whose payload holds at least
  code      the region the file belongs to (a village code; region checks match its start)
  sha256    the SHA-256 of the bytes, 64 lowercase hex digits: the file's name in the store
  size      its length in bytes
  filename  the name it was uploaded under
plus anything else the service keeps (planning: media_type, kind, description). These
four keep their names and meaning in every schema version of the event. Verification
(`verify.py`) finds such events in every ledger at the store by their type alone, so a
new service needs no registration here.

Modules: this one (the contract, pure: a domain may import it), `stores.py` (the folder
and GridFS stores), `dependency.py` (the nameko DependencyProvider), `verify.py` (the
check of the store against every ledger).
"""
import hashlib
import re

from shared.ledger import NewEvent

STORED = "AttachmentStored"
SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def stored_event(code: str, sha256: str, size: int, filename: str, **details) -> NewEvent:
    """The event that names a stored file (details: the service's own JSON fields). A
    payload off the contract is a bug in the calling service: ValueError, nothing
    recorded, rather than an event verification could not read."""
    if not (isinstance(code, str) and code):
        raise ValueError(f"{STORED}: code must be a region code, not {code!r}")
    if not (isinstance(sha256, str) and SHA256.fullmatch(sha256)):
        raise ValueError(f"{STORED}: sha256 must be 64 lowercase hex digits, not {sha256!r}")
    if type(size) is not int or size < 0:
        raise ValueError(f"{STORED}: size must be a whole number of bytes, not {size!r}")
    if not (isinstance(filename, str) and filename):
        raise ValueError(f"{STORED}: filename must be a name, not {filename!r}")
    return NewEvent(STORED, {"code": code, "sha256": sha256, "size": size,
                             "filename": filename, **details})
