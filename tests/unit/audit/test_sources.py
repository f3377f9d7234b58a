"""The audit service's ledgers: every one at STORE_URI, read, never written."""
import pytest

from services.audit.sources import LedgerSources
from shared.chassis.errors import NotFound
from shared.ledger import Actor, Metadata, NewEvent, open_ledger

META = Metadata(Actor("tester", "system"), "corr-audit-sources")


def test_the_audit_reads_every_ledger_and_can_append_to_none(tmp_path):
    store = f"sqlite:///{tmp_path}"
    writer = open_ledger(store, "registration")
    writer.append("village-1", 0, [NewEvent("VillageRegistered", {"code": "1"})],
                  META)
    sources = LedgerSources(store)
    assert sources.discover() == ["registration"]
    ledger = sources.get("registration")
    assert [r.type for r in ledger.read()] == ["VillageRegistered"]
    with pytest.raises(AttributeError, match="never written"):
        ledger.append("village-2", 0, [NewEvent("VillageRegistered", {"code": "2"})],
                      META)
    with pytest.raises(NotFound):
        sources.get("planning")
    writer.append("village-2", 0, [NewEvent("VillageRegistered", {"code": "2"})],
                  META)
    assert ledger.head().position == 2   # records added later are read
    sources.close()
    writer.close()
