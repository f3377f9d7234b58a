"""The attachment store as a nameko dependency: any service that keeps files declares
`files = AttachmentStorage()` and gets the platform's one store (ATTACHMENT_URI) and its
check against every ledger (STORE_URI)."""
from nameko.extensions import DependencyProvider

from shared.config import setting

from .stores import attachment_uri, open_attachment_store
from .verify import verify_every_ledger


class Attachments:
    """What a worker gets: put, read and digest of the store, and verify."""

    def __init__(self, store, store_uri):
        self.store, self._store_uri = store, store_uri

    def put(self, content: bytes) -> str:
        return self.store.put(content)

    def read(self, sha256) -> bytes | None:
        return self.store.read(sha256)

    def digest(self, sha256) -> str | None:
        return self.store.digest(sha256)

    def verify(self, region=""):
        """Every ledger's AttachmentStored files of codes under region, re-hashed."""
        return verify_every_ledger(self._store_uri, self.store, region)


class AttachmentStorage(DependencyProvider):
    """The platform's attachment store, opened at container setup (never at import)."""

    def __init__(self, mongo_client_class=None):
        self.mongo_client_class = mongo_client_class  # tests: mongomock.MongoClient

    def setup(self):
        config = self.container.config
        self.store = open_attachment_store(attachment_uri(config), self.mongo_client_class)
        self.store_uri = setting(config, "STORE_URI")

    def stop(self):
        self.store.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return Attachments(self.store, self.store_uri)
