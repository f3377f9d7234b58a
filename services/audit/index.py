"""The audit index: a projection of every ledger that finds events by village, by region
and by id.

One VillageIndex instance handles every event type ("*") of every ledger; the audit
service gives it one subscription per ledger (tracking "audit.village_index:<ledger>"
in its view store), so a ledger that appears later is indexed from its first record.

Collections (locations are [ledger, position]):
  villages  code -> {"events": [location, ...]}      events about the village
  regions   region code -> {"events": [location, ...]}  events about a province, kabupaten
            or kecamatan itself (quota-52.01), references.region_codes
  events    event id -> {"ledger", "position"}        find any event by its id
  effects   causation id -> {"events": [location, ...]}  what an event or command caused
"""
import bisect
import sys

from shared.chassis.subscribers import Projection, handles

from .references import region_codes, village_codes


class VillageIndex(Projection):
    name = "village_index"
    source = "*"   # every ledger at the store (see services.audit.registry)
    collections = ("villages", "regions", "events", "effects")

    def __init__(self, context):
        super().__init__(context)
        self.villages = self.views.collection("villages")
        self.regions = self.views.collection("regions")
        self.events = self.views.collection("events")
        self.effects = self.views.collection("effects")

    @handles("*")
    def index(self, record):
        # Interned: millions of locations share one string per ledger name.
        location = [sys.intern(record.ledger), record.position]
        self.events.put(record.event_id, {"ledger": location[0], "position": record.position})
        for code in village_codes(record.stream_id, record.payload):
            _add(self.villages, code, location)
        for code in region_codes(record.stream_id, record.payload):
            _add(self.regions, code, location)
        if record.causation_id:
            _add(self.effects, record.causation_id, location)


def _add(collection, key, location):
    """Insert a location once, in (ledger, position) order.

    Once only: a batch may be applied again after a crash. Sorted: the order ledgers are
    caught up in varies, and a rebuilt index must equal the live one document for document.
    """
    def append(doc):
        events = doc["events"]
        at = bisect.bisect_left(events, location)
        if at == len(events) or events[at] != location:
            events.insert(at, location)
    if not collection.update(key, append):
        collection.put(key, {"events": [location]})


# -- queries ----------------------------------------------------------------------------------

def village_locations(views, code) -> list:
    doc = views.collection("villages").get(code)
    return [tuple(location) for location in doc["events"]] if doc else []


def region_locations(views, prefix) -> list:
    """Locations of events about any village or region whose code starts with prefix."""
    found = {}
    for collection in ("villages", "regions"):
        for doc in views.collection(collection).find({"_id": {"$prefix": prefix}}):
            for location in doc["events"]:
                found[tuple(location)] = True
    return list(found)


def event_location(views, event_id):
    doc = views.collection("events").get(event_id)
    return (doc["ledger"], doc["position"]) if doc else None


def effect_locations(views, cause_id) -> list:
    doc = views.collection("effects").get(cause_id)
    return [tuple(location) for location in doc["events"]] if doc else []
