"""The audit nameko service: read-only answers over every ledger.

History of a village, state as of a moment, why a decision was taken, signed tree
heads, inclusion and consistency proofs, audit bundles. It appends nothing. Each query
first catches the index up, so answers include everything recorded before the query.
"""
from nameko.rpc import rpc

from shared.chassis.access import authorize
from shared.chassis.entrypoints import OperatorEntrypoints
from shared.chassis.errors import EXPECTED, Forbidden, InvalidInput, NotFound
from shared.ledger.envelope import now_iso

from . import index, report, schemas
from .asof import state_as_of as replay_state
from .bundle import export_bundle as make_bundle
from .history import village_history, why as explain_decision
from .dependency import AuditPlatform
from .references import codes_about, in_scope

READERS = ("ministry", "province", "district", "auditor")


class AuditService(OperatorEntrypoints):
    name = "audit"
    platform = AuditPlatform()

    # -- histories and decisions ---------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def history(self, code):
        """Every event about a village in every ledger, in order, explained."""
        code = self._village(code)
        session = self.platform.catch_up()
        return village_history(session.sources, session.views, code)

    @rpc(expected_exceptions=EXPECTED)
    def history_html(self, code):
        """The village's history as one printable HTML page (a string)."""
        entries = self.history(code)
        actor = self.platform.actor
        return report.history_page(code, entries, now_iso(), f"{actor.id} ({actor.role})")

    @rpc(expected_exceptions=EXPECTED)
    def state_as_of(self, code, as_of=None):
        """The village's documents in every service as they were at a moment (None: now,
        on this service's clock, which a caller's clock may run ahead of)."""
        code = self._village(code)
        moment = now_iso() if as_of is None else schemas.moment(as_of, "as_of")
        session = self.platform.catch_up()
        return replay_state(session.sources, session.views, session.registry, code, moment)

    @rpc(expected_exceptions=EXPECTED)
    def why(self, event_id):
        """One decision: its evidence and rule results (followed), causes and effects."""
        event_id = schemas.event_id(event_id)
        self._allowed()
        session = self.platform.catch_up()
        found = explain_decision(session.sources, session.views, event_id, self._visible)
        if found["event"] and not self._visible_entry(found["event"]):
            raise Forbidden("that event is about villages or regions outside your region",
                            "event_id")
        return found

    # -- proofs --------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def ledgers(self):
        """Each ledger: head, indexed position and Merkle tree size."""
        self._allowed()
        session = self.platform.catch_up()
        trees = session.log.status()
        positions = {s.source.name: s.position for s in session.subscriptions}
        return [{"ledger": name, "head": ledger.head().position, "hash": ledger.head().hash,
                 "indexed": positions.get(name, 0), "tree": trees.get(name)}
                for name, ledger in sorted(session.sources.all().items())]

    @rpc(expected_exceptions=EXPECTED)
    def tree_head(self, ledger):
        """A signed tree head of the ledger as it is now: keep it to check later proofs."""
        self._allowed()
        return self._session_for(ledger).log.signed_head(ledger)

    @rpc(expected_exceptions=EXPECTED)
    def inclusion_proof(self, ledger, position, tree_size=None):
        """The record at position, as stored, with its inclusion proof."""
        self._allowed()
        session = self._session_for(ledger)
        proof = session.log.inclusion(ledger, schemas.position(position),
                                      schemas.tree_size(tree_size))
        record = session.sources.get(ledger).read(position - 1, limit=1)[0]
        if not self._visible(record):
            raise Forbidden("that record is about villages or regions outside your region",
                            "position")
        return proof

    @rpc(expected_exceptions=EXPECTED)
    def event_proof(self, event_id, tree_size=None, ledger=None):
        """inclusion_proof of the event with this id. ledger: the ledger of the tree head
        tree_size was read from; another ledger's head is refused naming both (its size
        would otherwise read as a ledger cut short, or the proof fail)."""
        event_id = schemas.event_id(event_id)
        if ledger is not None:
            schemas.ledger_name(ledger)
        self._allowed()
        session = self.platform.catch_up()
        location = index.event_location(session.views, event_id)
        if location is None:
            raise NotFound(f"no event with id {event_id} is recorded in any ledger", "event_id")
        if ledger is not None and ledger != location[0]:
            raise InvalidInput(f"event {event_id} is in ledger {location[0]}, not {ledger}: "
                               f"prove it against a tree head of {location[0]}", "ledger")
        return self.inclusion_proof(location[0], location[1], tree_size)

    @rpc(expected_exceptions=EXPECTED)
    def consistency_proof(self, ledger, first, second=None):
        """Proof that the tree of `second` records (default: now) extends that of `first`."""
        self._allowed()
        session = self._session_for(ledger)
        return session.log.consistency(ledger, schemas.tree_size(first, "first", False),
                                       schemas.tree_size(second, "second"))

    @rpc(expected_exceptions=EXPECTED)
    def export_bundle(self, scope, since=None):
        """An audit bundle of a village or region (and period); docs/audit-bundle-format.md.

        since: tree heads the auditor kept; the bundle then proves its heads extend them.
        """
        scope = schemas.bundle_scope(scope)
        field = "village" if scope.get("village") else "region"
        authorize(self.platform.actor, READERS, scope[field], "export audit bundles", field)
        session = self.platform.catch_up()
        actor = self.platform.actor.as_dict()
        return make_bundle(session.sources, session.views, session.log, scope, actor,
                           since or [])

    @rpc
    def status(self):
        """Ledgers indexed and trees: for health checks."""
        return {"service": "audit",
                "subscriptions": {f"{s.name}:{s.source.name}": {
                    "position": s.position, "source_head": s.source.head().position}
                    for s in self.platform.subscriptions},
                "trees": self.platform.log.status(),
                "unreadable_ledgers": {name: str(exc) for name, exc in
                                       self.platform.sources.unreadable.items()}}

    # -- internals -----------------------------------------------------------------------
    def _allowed(self):
        authorize(self.platform.actor, READERS, None, "read the audit trail")

    def _village(self, code):
        code = schemas.village_code(code)
        authorize(self.platform.actor, READERS, code, "read the audit trail")
        return code

    def _session_for(self, ledger):
        schemas.ledger_name(ledger)
        session = self.platform.catch_up(every_ledger=False)   # one ledger is enough
        session.sources.get(ledger)  # NotFound naming the field for an unknown ledger
        return session

    def _visible(self, record):
        return self._visible_codes(codes_about(record.stream_id, record.payload))

    def _visible_entry(self, entry):
        return self._visible_codes(codes_about(entry["stream_id"], entry["payload"]))

    def _visible_codes(self, codes):
        """A regional reader sees events about a village or a region inside theirs (a
        district of 52.01 sees quota-52.01: why villages were or were not selected)."""
        actor = self.platform.actor
        if actor.role == "system" or not actor.region:
            return True
        return in_scope(codes, actor.region)
