"""The platform's attachment contract (shared/attachments): an AttachmentStored event in
any ledger names a stored file by its SHA-256, and verification finds such events in
every ledger at the store, whichever service recorded them."""
import pytest

from shared.attachments import STORED, sha256_of, stored_event
from shared.attachments.stores import FolderStore
from shared.attachments.verify import verify_every_ledger
from shared.chassis.errors import Conflict
from shared.ledger import SYSTEM, Metadata, NewEvent, open_ledger

VILLAGE = "52.01.08.2006"
SHA = "a" * 64


@pytest.fixture
def platform(tmp_path):
    store_uri = f"sqlite:///{tmp_path}/ledgers"
    return store_uri, FolderStore(str(tmp_path / "attachments"))


def record(store_uri, ledger_name, *events):
    ledger = open_ledger(store_uri, ledger_name)
    try:
        for event in events:
            stream = f"files-{ledger_name}"
            ledger.append(stream, ledger.stream_version(stream), [event],
                          Metadata(SYSTEM, "test", None))
    finally:
        ledger.close()


def test_stored_event_holds_the_four_fields_and_the_services_own():
    event = stored_event(VILLAGE, SHA, 12, "foto-progres.jpg", media_type="image/jpeg")
    assert event.type == STORED == "AttachmentStored"
    assert event.payload == {"code": VILLAGE, "sha256": SHA, "size": 12,
                             "filename": "foto-progres.jpg", "media_type": "image/jpeg"}


@pytest.mark.parametrize("arguments, named", [
    (("", SHA, 1, "a.pdf"), "code"), ((VILLAGE, SHA.upper(), 1, "a.pdf"), "sha256"),
    ((VILLAGE, "../../etc/passwd", 1, "a.pdf"), "sha256"),
    ((VILLAGE, SHA, -1, "a.pdf"), "size"),
    ((VILLAGE, SHA, True, "a.pdf"), "size"), ((VILLAGE, SHA, 1, ""), "filename")])
def test_an_event_off_the_contract_is_never_built(arguments, named):
    with pytest.raises(ValueError, match=named):
        stored_event(*arguments)


def test_every_ledgers_files_are_checked_by_code(platform):
    store_uri, store = platform
    photo, agreement = store.put(b"\xff\xd8\xff photo"), store.put(b"%PDF agreement")
    record(store_uri, "site_photos", stored_event(VILLAGE, photo, 10, "photo.jpg"))
    record(store_uri, "partner_files", stored_event("52.02.01.2001", agreement, 14, "mou.pdf"))
    record(store_uri, "other", NewEvent("SomethingElse", {"code": VILLAGE, "sha256": SHA}))
    assert verify_every_ledger(store_uri, store) == {"region": "", "checked": 2, "ok": 2,
                                                     "problems": []}
    with open(store.path(agreement), "wb") as swapped:
        swapped.write(b"%PDF another agreement")
    report = verify_every_ledger(store_uri, store, "52.02")
    assert (report["checked"], report["ok"]) == (1, 0)
    [problem] = report["problems"]
    assert (problem["sha256"], problem["filename"], problem["problem"]) == \
        (agreement, "mou.pdf", "mismatch")
    assert problem["found_sha256"] == sha256_of(b"%PDF another agreement")
    assert verify_every_ledger(store_uri, store, VILLAGE)["problems"] == []


def test_an_event_off_the_contract_is_a_problem_not_a_crash_nor_a_path(platform, tmp_path):
    """An AttachmentStored some service built by hand: no code, a name that is no hash
    (a path out of the store is never opened), no filename."""
    store_uri, store = platform
    store.put(b"%PDF in the store")   # the store's folder exists, so <root>/.. resolves
    # FolderStore.path("..secret") is <root>/../..secret: beside the store, not in it
    (tmp_path / "..secret").write_bytes(b"not an attachment")
    record(store_uri, "handmade",
           NewEvent(STORED, {"sha256": SHA}),
           NewEvent(STORED, {"code": VILLAGE, "sha256": "..secret", "size": 1}))
    report = verify_every_ledger(store_uri, store)
    assert (report["checked"], report["ok"]) == (2, 0)
    assert [(p["code"], p["sha256"], p["filename"], p["problem"], p["found_sha256"])
            for p in report["problems"]] == [("", SHA, "", "missing", None),
                                             (VILLAGE, "..secret", "", "missing", None)]
    assert verify_every_ledger(store_uri, store, "52")["checked"] == 1   # no code: no region


def test_a_damaged_ledger_refuses_the_check_naming_it(platform, tmp_path):
    store_uri, store = platform
    record(store_uri, "planning", stored_event(VILLAGE, store.put(b"%PDF x"), 6, "x.pdf"))
    (tmp_path / "ledgers" / "site_photos.db").write_bytes(b"not a ledger at all" * 300)
    with pytest.raises(Conflict, match="site_photos") as refused:
        verify_every_ledger(store_uri, store)
    assert refused.value.field == "ledger"
