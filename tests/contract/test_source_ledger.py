"""A ledger read as a subscription's source is never created by reading it: absent, it
reads as empty and is not listed; once another process records into it, it is read."""
import pytest

from shared.ledger import NewEvent, ledger_names
from shared.ledger.base import EMPTY_HEAD
from shared.messaging.source import SourceLedger


def test_a_source_that_does_not_exist_reads_as_empty_and_is_not_created(open_store):
    source = SourceLedger(open_store.uri, "construction", **open_store.options)
    assert source.head() == EMPTY_HEAD
    assert source.read(0) == [] and source.read_stream("works-1") == []
    assert source.stream_version("works-1") == 0
    assert "construction" not in ledger_names(open_store.uri, **open_store.options)
    source.close()


def test_a_source_is_read_once_another_ledger_object_records_into_it(open_store):
    source = SourceLedger(open_store.uri, "construction", **open_store.options)
    assert source.head().position == 0
    writer = open_store("construction")   # construction, deployed later
    writer.append("works-1", 0, [NewEvent("WorksHandedOver", {"on": "2025-01-02"})])
    assert source.head().position == 1
    (record,) = source.read(0)
    assert record.type == "WorksHandedOver" and record.payload == {"on": "2025-01-02"}
    writer.append("works-1", 1, [NewEvent("WorksHandedOver", {"on": "2025-02-03"})])
    assert [r.stream_version for r in source.read_stream("works-1")] == [1, 2]
    source.close()


def test_a_source_is_read_only(open_store):
    open_store("construction").append("works-1", 0, [NewEvent("WorksHandedOver", {})])
    source = SourceLedger(open_store.uri, "construction", **open_store.options)
    assert source.head().position == 1
    with pytest.raises(AttributeError, match="read here, never written"):
        source.append("works-1", 1, [NewEvent("WorksHandedOver", {})])
    source.close()
