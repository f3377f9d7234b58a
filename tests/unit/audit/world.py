"""A small platform on disk without RabbitMQ: real registration decisions (its own domain),
a reaction in a ledger no service here owns, and a document with attachment hashes in the
planning ledger, indexed and with Merkle trees, for the audit's unit tests."""
import hashlib
from dataclasses import dataclass

from services.audit.dependency import IndexContext
from services.audit.index import VillageIndex
from services.audit.proofs import TransparencyLog
from services.audit.sources import LedgerSources
from services.audit.treehead import load_private_key
from services.registration import domain, rules, schemas
from shared import regions
from shared.chassis.commands import execute
from shared.ledger import Actor, Metadata, NewEvent, open_ledger
from shared.ledger.verify import generate_key, load_public_key, public_key_pem
from shared.views.memory import MemoryViewStore

BAJUR, NEIGHBOUR, ELSEWHERE = "52.01.08.2006", "52.01.08.2001", "31.71.01.1001"
DISTRICT = Metadata(Actor("dinas-1", "district", "52.01"), "corr-1")
MINISTRY = Metadata(Actor("kemen-1", "ministry", ""), "corr-2")
EVIDENCE = {"indicators": {
    "poverty_rate": "31.5", "slum_area": {"present": True, "hectares": "12.4"},
    "bookkeeping_rating": "memadai", "voter_turnout": "42", "fund_misuse_cases": 1,
    "pemda_priority": {"prioritised": True, "decree_reference": "SK Bupati 050/12/2024"}},
    "source_document": "BPS Lombok Barat 2024", "observed_on": "2024-06-30"}
PDF = b"%PDF-1.7 RPLP Bajur"


@dataclass
class World:
    store_uri: str
    sources: LedgerSources
    views: MemoryViewStore
    state: MemoryViewStore
    log: TransparencyLog
    private_pem: bytes

    @property
    def public_key(self):
        return load_public_key(public_key_pem(self.private_pem))

    def index(self):
        """Bring the index up to every ledger's head (what the service's catch-up does)."""
        self.sources.discover()
        projection = VillageIndex(IndexContext(self.views))
        handler = projection.handlers()["*"]
        tracking = self.views.collection("tracking")
        for name, ledger in self.sources.all().items():
            done = (tracking.get(name) or {}).get("position", 0)
            for record in ledger.iter_records(done):
                handler(record)
            tracking.put(name, {"position": ledger.head().position})
        return self


def decide(ledger, code, command, metadata):
    return execute(ledger, domain.VILLAGE, domain.village_stream(code), command, metadata)


def record_quotas(world, *kabupaten_codes, selecting=BAJUR):
    """Registration's own quota decisions (stream quota-<kabupaten>, events about the
    kabupaten, no village): a quota for each, then a selection round of `selecting` under
    the first."""
    registration = open_ledger(world.store_uri, "registration")
    for code in kabupaten_codes:
        execute(registration, domain.QUOTA, domain.quota_stream(code), domain.SetQuota(
            {"code": code, "name": f"Kabupaten {code}"}, 2, "KepMen 7"), MINISTRY)
    execute(registration, domain.QUOTA, domain.quota_stream(kabupaten_codes[0]),
            domain.RecordSelectionRound([{"code": selecting, "rank": 1, "score": "80"}]),
            MINISTRY)
    registration.close()
    return world.index()


def build_world(tmp_path) -> World:
    store_uri = f"sqlite:///{tmp_path}/ledgers"
    registration = open_ledger(store_uri, "registration")
    for code in (BAJUR, NEIGHBOUR, ELSEWHERE):
        decide(registration, code, domain.RegisterVillage(regions.village(code)), DISTRICT)
    evidence = schemas.RecordIndicatorsSchema().load(EVIDENCE)
    for code in (BAJUR, NEIGHBOUR, ELSEWHERE):
        decide(registration, code, domain.RecordIndicators(
            rule_set=rules.SEED_RULE_SET, **evidence), DISTRICT)
    decision = registration.read_stream(domain.village_stream(BAJUR))[-1]
    decide(registration, BAJUR, domain.Override(True, "Settled in court in 2024, see ruling."),
           MINISTRY)
    decide(registration, BAJUR, domain.Select(1, 1, 1), MINISTRY)
    selected = registration.read_stream(domain.village_stream(BAJUR))[-1]
    # A reaction in a service that has no code here yet (its ledger is all the audit needs):
    # the selection caused it, as its causation id says.
    construction = open_ledger(store_uri, "construction")
    construction.append(f"works-{BAJUR}", 0, [NewEvent("WorksPlanned", {
        "code": BAJUR, "template": {"id": "plpbk-works", "version": 1}, "package": 1})],
        Metadata(Actor("system", "system", ""), selected.correlation_id, selected.event_id))
    planning = open_ledger(store_uri, "planning")
    planning.append(f"document-{BAJUR}-rplp", 0, [NewEvent("DocumentUploaded", {
        "code": BAJUR, "kind": "rplp", "files": [
            {"name": "rplp.pdf", "sha256": hashlib.sha256(PDF).hexdigest()}]})], DISTRICT)
    planning.append(f"document-{NEIGHBOUR}-rplp", 0, [NewEvent("DocumentUploaded", {
        "code": NEIGHBOUR, "kind": "rplp", "files": [
            {"name": "secret.pdf", "sha256": hashlib.sha256(b"other").hexdigest()}]})],
        DISTRICT)
    for ledger in (registration, construction, planning):
        ledger.close()
    private = generate_key()
    sources = LedgerSources(store_uri)
    state = MemoryViewStore("audit-state")
    world = World(store_uri, sources, MemoryViewStore("audit"), state,
                  TransparencyLog(sources, state, load_private_key(private)), private)
    world.decision_id = decision.event_id
    world.selected_id = selected.event_id
    return world.index()
