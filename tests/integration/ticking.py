"""A minimal producer ledger and a consumer service, to test the messaging foundation."""
import eventlet
from nameko.rpc import rpc

from shared.chassis.commands import Decider
from shared.chassis.entrypoints import OperatorEntrypoints
from shared.chassis.platform import Platform, doorbell
from shared.chassis.subscribers import Projection, React, Reaction, handles
from shared.ledger import NewEvent

FAILING = {"positions": set()}  # a test puts positions here to make the projection fail
TIMING_OUT = set()   # positions where the projection's own eventlet.Timeout ends it


def record_tock(state, command):
    return [] if state else [NewEvent("Tocked", {"tick": command["tick"]})]


TOCKS = Decider(initial=lambda: False, evolve=lambda state, record: True, decide=record_tock)


class TickCounts(Projection):
    """Counts applications per source event (durable when VIEW_URI is durable)."""
    name = "tick_counts"
    source = "producer"
    collections = ("applied",)

    @handles("Ticked")
    def ticked(self, record):
        if record.position in FAILING["positions"]:
            raise RuntimeError(f"cannot apply tick at {record.position}")
        if record.position in TIMING_OUT:
            with eventlet.Timeout(0.01):   # a deadline the handler sets itself, uncaught
                eventlet.sleep(1)
        applied = self.views.collection("applied")
        doc = applied.get(record.event_id) or {"times": 0, "position": record.position}
        doc["times"] += 1
        applied.put(record.event_id, doc)


class TockOnTick(Reaction):
    """Process manager: every Ticked in the producer records one Tocked here."""
    name = "tock_on_tick"
    source = "producer"

    @handles("Ticked")
    def ticked(self, record):
        return React(TOCKS, f"tock-{record.event_id}", {"tick": record.position})


class Consumer(OperatorEntrypoints):
    name = "consumer"
    platform = Platform(subscribers=[TickCounts, TockOnTick])
    on_producer = doorbell("producer", "Ticked")

    @rpc
    def applied(self):
        return {doc["position"]: doc["times"]
                for doc in self.platform.views.collection("applied").find()}
