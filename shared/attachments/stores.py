"""The attachment stores, content-addressed by SHA-256: one for the whole platform.

ATTACHMENT_URI (nameko config first, then the environment, then the default below):
  file:///var/attachments   a folder, relative to the working directory like the
                            ledgers' sqlite:///var/ledgers (file:////srv/x is absolute);
                            files at <folder>/<first 2 hex digits>/<sha256>
  mongodb://host/database   GridFS (bucket `attachments`) through the platform's shared
                            mongoengine connection; one file per SHA-256 as its filename

A store holds bytes under their hash and can say what the bytes it holds hash to now;
the ledgers' AttachmentStored events say what they hashed to when uploaded. Comparing
the two (verify.py) finds a swapped or lost file. Content-addressed, so services that
share the store cannot overwrite each other's files: the same name is the same bytes.
"""
import hashlib
import logging
import os
import tempfile

from shared.config import setting

from . import sha256_of

log = logging.getLogger(__name__)

BUCKET = "attachments"
CHUNK = 1 << 20


def attachment_uri(config):
    return setting(config, "ATTACHMENT_URI")


def open_attachment_store(uri, mongo_client_class=None):
    if uri.startswith("file:///"):
        return FolderStore(uri[len("file:///"):].rstrip("/") or ".")
    if uri.startswith(("mongodb://", "mongodb+srv://")):
        return GridFsStore(uri, mongo_client_class)
    raise ValueError(f"ATTACHMENT_URI {uri!r}: expected file:///<folder> or "
                     "mongodb://<host>/<database>")


class ContentStore:
    """What every attachment store does on upload; subclasses read, digest and write."""

    def put(self, content: bytes) -> str:
        """Store content under its hash (again, if the stored copy no longer matches: an
        upload of the right bytes repairs a swapped or damaged file)."""
        sha256 = sha256_of(content)
        current = self.digest(sha256)
        if current == sha256:
            return sha256
        if current is not None:
            log.warning("attachment %s did not match its hash; stored again from an upload",
                        sha256)
        self._write(sha256, content)
        return sha256

    def digest(self, sha256) -> str | None:
        raise NotImplementedError

    def _write(self, sha256, content):
        raise NotImplementedError


class FolderStore(ContentStore):
    def __init__(self, root):
        self.root = root

    def path(self, sha256):
        return os.path.join(self.root, sha256[:2], sha256)

    def _write(self, sha256, content):
        folder = os.path.dirname(self.path(sha256))
        os.makedirs(folder, exist_ok=True)
        # write, flush to disk, then rename: a reader never sees half a file
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path(sha256))
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    def read(self, sha256) -> bytes | None:
        try:
            with open(self.path(sha256), "rb") as stored:
                return stored.read()
        except FileNotFoundError:
            return None

    def digest(self, sha256) -> str | None:
        """SHA-256 of the bytes stored under this hash now, or None if there are none."""
        digest = hashlib.sha256()
        try:
            with open(self.path(sha256), "rb") as stored:
                for block in iter(lambda: stored.read(CHUNK), b""):
                    digest.update(block)
        except FileNotFoundError:
            return None
        return digest.hexdigest()

    def close(self):
        pass


class GridFsStore(ContentStore):
    """GridFS through the shared mongoengine connection (pymongo's gridfs module)."""

    def __init__(self, uri, mongo_client_class=None):
        import gridfs
        from mongoengine.connection import get_db

        from shared.mongo_connection import connect, database_name, majority
        if not database_name(uri):
            raise ValueError("ATTACHMENT_URI names no database: use mongodb://<host>/<database>")
        database = get_db(connect(uri, mongo_client_class))
        # an upload is acknowledged only once it survives a failover, like a ledger record
        # (mongomock 4.3 has no database-level write concern; it has no failover either)
        if not type(database).__module__.startswith("mongomock"):
            database = database.with_options(write_concern=majority(database.write_concern))
        self.write_concern = database.write_concern
        self._files = gridfs.GridFS(database, collection=BUCKET)
        self._no_file = gridfs.NoFile

    def _write(self, sha256, content):
        # the newest copy under a name is the one read, so this repairs a swapped file
        self._files.put(content, filename=sha256, metadata={"sha256": sha256})

    def read(self, sha256) -> bytes | None:
        """The newest copy whose bytes have this hash, else the newest copy: a version
        added later (the insert-only role cannot stop one, nor remove it, and one dated
        in the future stays the newest) never hides the genuine file."""
        newest = None
        for stored in self._files.find({"filename": sha256}, sort=[("uploadDate", -1)]):
            content = stored.read()
            if sha256_of(content) == sha256:
                return content
            newest = content if newest is None else newest
        return newest

    def digest(self, sha256) -> str | None:
        """The newest copy's hash: verify names a changed file even when an older copy
        is still right."""
        try:
            stored = self._files.get_last_version(filename=sha256)
        except self._no_file:
            return None
        digest = hashlib.sha256()
        for block in iter(lambda: stored.read(CHUNK), b""):
            digest.update(block)
        return digest.hexdigest()

    def close(self):
        pass  # the connection is shared with the ledgers and views of the process
