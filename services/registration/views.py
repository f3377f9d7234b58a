"""Registration read models and queries.

The `villages` collection holds one document per registered village: its official
identity, current indicators with their evidence, the effective eligibility with the
reasons, and its selection. `quotas` and `rule_sets` hold the ministry's settings.
"""
import unicodedata

from shared.chassis.errors import NotFound
from shared.chassis.subscribers import Projection, handles

from . import domain

HIDDEN = ("_id", "name_key", "eligibility")   # view fields a village's answer leaves out
DECISION_TYPES = ("IndicatorsRecorded", "EligibilityDecided", "EligibilityOverridden",
                  "VillageSelected")


class VillageBoard(Projection):
    name = "village_board"
    collections = ("villages", "quotas", "rule_sets")
    shape = 3   # 2: name_key (the name search); 3: a selection round applied again
    # (after a failure) added its villages twice to the quota's list: folded once more

    def __init__(self, context):
        super().__init__(context)
        self.villages = self.views.collection("villages")
        self.villages.ensure_index("status")
        self.villages.ensure_index("name_key")   # ?name= searches the whole country
        self.quotas = self.views.collection("quotas")
        self.rule_sets = self.views.collection("rule_sets")

    @handles("VillageRegistered")
    def registered(self, record):
        p = record.payload
        self.villages.put(p["code"], {
            "code": p["code"], "name": p["name"], "name_key": name_key(p["name"]),
            "kind": p["kind"],
            "kecamatan": p["kecamatan"], "kabupaten": p["kabupaten"], "province": p["province"],
            "status": "registered", "score": "0.00", "indicators": {},
            "bkm": None, "decision": None, "override": None, "selected": None,
            "registered_at": record.recorded_at})

    def _change(self, code, change):
        def change_and_restate(doc):
            change(doc)
            doc["status"] = _status(doc)
        self.villages.update(code, change_and_restate)

    @handles("BkmRecorded")
    def bkm(self, record):
        p = record.payload
        summary = {k: p[k] for k in ("name", "formed_on", "member_count", "women_count",
                                     "women_percent", "meets_women_quota")}
        self._change(p["code"], lambda doc: doc.update(bkm=summary))

    @handles("IndicatorsRecorded")
    def indicators(self, record):
        p = record.payload

        def change(doc):
            for reading in p["readings"]:
                doc["indicators"][reading["indicator"]] = {
                    "value": reading["value"], "unit": reading["unit"],
                    "source_document": p["source_document"], "observed_on": p["observed_on"],
                    "recorded_by": record.actor["id"], "recorded_at": record.recorded_at,
                    "event_id": record.event_id}
        self._change(p["code"], change)

    @handles("EligibilityDecided")
    def decided(self, record):
        p = record.payload
        decision = {"status": p["status"], "rule_set": p["rule_set"], "criteria": p["criteria"],
                    "score": p["score"], "trigger": p["trigger"], "event_id": record.event_id,
                    "decided_at": record.recorded_at, "decided_by": record.actor["id"]}
        self._change(p["code"], lambda doc: doc.update(decision=decision, score=p["score"]))

    @handles("EligibilityOverridden")
    def overridden(self, record):
        p = record.payload
        override = {"eligible": p["eligible"], "justification": p["justification"],
                    "overrides": p["overrides"], "event_id": record.event_id,
                    "by": record.actor, "at": record.recorded_at}
        self._change(p["code"], lambda doc: doc.update(override=override))

    @handles("VillageSelected")
    def selected(self, record):
        p = record.payload
        selected = {"rank": p["rank"], "quota": p["quota"], "round": p["selection_round"],
                    "score": p["score"], "at": record.recorded_at, "event_id": record.event_id}
        self._change(p["code"], lambda doc: doc.update(selected=selected))

    @handles("QuotaSet")
    def quota(self, record):
        p = record.payload
        doc = self.quotas.get(p["kabupaten"]["code"]) or {"selected": [], "rounds": 0}
        doc.update(kabupaten=p["kabupaten"], quota=p["quota"],
                   decree_reference=p["decree_reference"], set_at=record.recorded_at)
        self.quotas.put(p["kabupaten"]["code"], doc)

    @handles("SelectionRoundRecorded")
    def selection_round(self, record):
        p = record.payload

        def add(doc):
            if p["round"] > doc["rounds"]:   # a round applied again is added once only
                doc.update(selected=doc["selected"] + [v["code"] for v in p["selected"]],
                           rounds=p["round"])
        self.quotas.update(p["kabupaten"]["code"], add)

    @handles("RuleSetPublished")
    def rule_set(self, record):
        self.rule_sets.put(record.payload["id"], {**record.payload,
                                                  "published_at": record.recorded_at})


def _status(doc):
    if doc["selected"]:
        return "selected"
    decision, override = doc["decision"], doc["override"]
    if decision is None:
        return "registered"
    if override and override["overrides"] == decision["event_id"]:
        return "eligible" if override["eligible"] else "ineligible"
    return decision["status"]


# -- queries ------------------------------------------------------------------------------

def village_profile(views, code):
    doc = views.collection("villages").get(code)
    if doc is None:
        raise NotFound(f"village {code} is not registered", "code")
    # the store's key repeats "code"; name_key serves searches; "eligibility" was a field
    # never filled (views projected before it went may still hold it until rebuilt)
    return {key: value for key, value in doc.items() if key not in HIDDEN}


def name_key(name):
    """A name as searches compare it: case and accents folded, spaces single ("Bajur",
    "  bajur" and "BAJUR" alike)."""
    letters = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in letters if not unicodedata.combining(c)).split())


def list_villages(views, region, status, page, page_size, name=None):
    query = {"_id": {"$prefix": region}} if region else {}
    if status:
        query["status"] = status
    if name:   # views folded before name_key are folded again at start (shape 2)
        query["name_key"] = {"$prefix": name_key(name)}
    villages = views.collection("villages")
    total = villages.count(query)
    items = villages.find(query, skip=(page - 1) * page_size, limit=page_size)
    return {"items": [_summary(doc) for doc in items], "total": total, "page": page,
            "page_size": page_size}


def _summary(doc):
    return {k: doc[k] for k in ("code", "name", "kind", "status", "score")} | {
        "kabupaten": doc["kabupaten"]["name"], "province": doc["province"]["name"]}


def ranking(views, region):
    """Eligible and selected villages of a kabupaten/kota or province, best first."""
    villages = views.collection("villages").find(
        {"_id": {"$prefix": region}, "status": {"$in": ["eligible", "selected"]}})
    ranked = domain.rank(villages)
    return [{"rank": position, **_summary(doc),
             "selected": doc["selected"] is not None}
            for position, doc in enumerate(ranked, start=1)]


def eligible_in(views, kabupaten):
    return views.collection("villages").find(
        {"_id": {"$prefix": kabupaten + "."}, "status": {"$in": ["eligible", "selected"]}})


def history(ledger, code):
    """The eligibility history of a village, from its stream: evidence, decisions,
    overrides and selection, each with who, when and why."""
    records = ledger.read_stream(domain.village_stream(code))
    if not records:
        raise NotFound(f"village {code} is not registered", "code")
    return [{"position": r.position, "type": r.type, "recorded_at": r.recorded_at,
             "actor": r.actor, "event_id": r.event_id, "payload": r.payload}
            for r in records if r.type in DECISION_TYPES]
