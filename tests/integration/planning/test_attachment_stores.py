"""Both attachment stores keep the same promises (folder; GridFS on mongomock)."""
import hashlib
import uuid

import mongomock
import mongomock.gridfs
import pytest

from services.planning import attachments


@pytest.fixture(params=["folder", "gridfs"])
def store(request, tmp_path):
    if request.param == "folder":
        return attachments.open_attachment_store(f"file:///{tmp_path}/files")
    mongomock.gridfs.enable_gridfs_integration()
    return attachments.open_attachment_store(
        f"mongodb://localhost/plpbk_files_{uuid.uuid4().hex[:8]}", mongomock.MongoClient)


def test_put_read_and_digest(store):
    content = b"%PDF-1.7 peta"
    sha256 = store.put(content)
    assert sha256 == hashlib.sha256(content).hexdigest()
    assert store.put(content) == sha256
    assert store.read(sha256) == content and store.digest(sha256) == sha256
    assert store.read("0" * 64) is None and store.digest("0" * 64) is None


def test_uri_setting_and_defaults(monkeypatch):
    monkeypatch.delenv("ATTACHMENT_URI", raising=False)
    assert attachments.attachment_uri({}) == "file:///var/attachments"
    monkeypatch.setenv("ATTACHMENT_URI", "file:///from/env")
    assert attachments.attachment_uri({}) == "file:///from/env"
    assert attachments.attachment_uri({"ATTACHMENT_URI": "mongodb://h/db"}) == "mongodb://h/db"
    assert attachments.open_attachment_store("file:///var/attachments").root == \
        "var/attachments"
    with pytest.raises(ValueError, match="ATTACHMENT_URI"):
        attachments.open_attachment_store("s3://bucket")
    with pytest.raises(ValueError, match="names no database"):
        attachments.open_attachment_store("mongodb://localhost", mongomock.MongoClient)
