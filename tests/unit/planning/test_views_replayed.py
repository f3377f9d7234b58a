"""The planning board folds each event once in effect: a handler run again on the same
record (its retry after a failure, or the events after the last saved position when a
process died with durable views) must leave the views as they were."""
import copy
from types import SimpleNamespace

import pytest

from services.planning import domain, meetings, views
from shared.ledger import open_ledger
from shared.views import open_view_store

from ..streams import Stream
from .test_domain import BAJUR, KNOWN, LIST, approve, draft, meeting, samples, schemas, sign


def recorded(tmp_path):
    """A meeting, then an RPLP drafted, approved by it and signed: as the ledger holds them."""
    ledger = open_ledger(f"sqlite:///{tmp_path}", "planning")
    details = schemas.MeetingSchema().load(samples.meeting(LIST, (("rplp", 1),), 20, 12,
                                                           held_on="2024-08-10"))
    gathering = Stream(meetings.MEETING)
    gathering.do(meetings.RecordMeeting(f"{BAJUR}-m1", BAJUR, details, KNOWN,
                                        {"rplp": {1: "2024-08-01"}}))
    ledger.append(domain.meeting_stream(f"{BAJUR}-m1"), 0, gathering.events)
    document = Stream(domain.DOCUMENT)
    document.do(draft("rplp"), approve(1, meeting((("rplp", 1),))),
                sign("submitted", "bkm", "bkm"))
    ledger.append(domain.document_stream(BAJUR, "rplp"), 0, document.events)
    records = list(ledger.read(0))
    ledger.close()
    return records


def board():
    store = open_view_store("memory://", "planning")
    return views.PlanningBoard(SimpleNamespace(views=store)), store


def contents(store):
    return {name: copy.deepcopy(store.collection(name).find())
            for name in views.PlanningBoard.collections}


@pytest.mark.parametrize("saved", range(4))
def test_the_events_after_a_saved_position_applied_again_change_nothing(tmp_path, saved):
    """The process died after applying every event but before saving a position past
    `saved` records: those after it are applied again."""
    records = recorded(tmp_path)
    assert [record.type for record in records] == [
        "MeetingRecorded", "DocumentDrafted", "DocumentApproved", "DocumentSigned"]
    projection, store = board()
    handlers = projection.handlers()
    for record in records:
        handlers[record.type](record)
    once = contents(store)
    for record in records[saved:]:
        handlers[record.type](record)
    assert contents(store) == once
    (version,) = once["versions"]
    assert [entry["type"] for entry in version["history"]] == ["DocumentApproved",
                                                               "DocumentSigned"]
    (gathered,) = once["meetings"]
    assert len(gathered["approvals"]) == 1
