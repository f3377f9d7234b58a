"""The cycle nameko service: thin entrypoints over the domain and the views."""
from datetime import date

from nameko.rpc import rpc

from shared.chassis.access import authorize, scoped_prefix
from shared.chassis.entrypoints import OperatorEntrypoints
from shared.chassis.errors import EXPECTED, load
from shared.chassis.platform import Platform, doorbell
from shared.schemas import village_code

from . import domain, schemas, views
from . import template as templates

RECORDERS = ("ministry", "province", "district", "facilitator")
MINISTRY = ("ministry",)
READERS = ("ministry", "province", "district", "facilitator", "bkm", "auditor", "integration")


class CycleService(OperatorEntrypoints):
    name = "cycle"
    platform = Platform(subscribers=[views.CycleBoard, views.OpenCycleOnSelection,
                                     *views.OUTPUT_REACTIONS])
    on_registration = doorbell("registration", "VillageSelected")
    on_planning = doorbell("planning", "DocumentApproved")
    on_construction = doorbell("construction", "WorksHandedOver")

    # -- commands ---------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def record_activity(self, code, data, idempotency_key=None):
        """Record an activity of the current stage (date, place, attendance, evidence)."""
        authorize(self.platform.actor, RECORDERS, village_code(code), "record activities")
        activity = load(schemas.ActivitySchema(), data)
        self._execute(code, domain.RecordActivity(**activity), idempotency_key)
        return self.get_cycle(code)

    @rpc(expected_exceptions=EXPECTED)
    def complete_stage(self, code, data, idempotency_key=None):
        """Complete the current stage; refused with the list of missing outputs."""
        authorize(self.platform.actor, RECORDERS, village_code(code), "complete stages")
        command = load(schemas.CompleteStageSchema(), data)
        self._execute(code, domain.CompleteStage(**command), idempotency_key)
        return self.get_cycle(code)

    @rpc(expected_exceptions=EXPECTED)
    def waive_output(self, code, data, idempotency_key=None):
        """A ministry official waives a required output, with a written justification."""
        authorize(self.platform.actor, MINISTRY, village_code(code), "waive outputs")
        waiver = load(schemas.WaiverSchema(), data)
        self._execute(code, domain.WaiveOutput(on=date.today().isoformat(), **waiver),
                      idempotency_key)
        return self.get_cycle(code)

    # -- queries ----------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def get_cycle(self, code, as_of=None):
        """One village's cycle: stage, done and missing outputs, due date, timeline.

        as_of (ISO time with zone): the cycle as it stood then, replayed from the ledger.
        """
        authorize(self.platform.actor, READERS, village_code(code), "read cycles")
        moment = load(schemas.AsOfSchema(), {"as_of": as_of} if as_of else {})["as_of"]
        if moment is None:
            return views.cycle_of(self.platform.views, code, date.today().isoformat())
        return views.cycle_as_of(self.platform.ledger, code, moment,
                                 moment.date().isoformat())

    @rpc(expected_exceptions=EXPECTED)
    def list_cycles(self, query=None):
        """Cycles in a region by stage, overdue or completed, paged."""
        query = load(schemas.CycleQuerySchema(), query or {})
        authorize(self.platform.actor, READERS, None, "read cycles")
        today = (query["today"] or date.today()).isoformat()
        return views.list_cycles(self.platform.views,
                                 scoped_prefix(self.platform.actor, query["region"]),
                                 query["stage"], query["overdue"], query["completed"], today,
                                 query["page"], query["page_size"])

    @rpc(expected_exceptions=EXPECTED)
    def on_time_share(self, query=None):
        """Share of villages finishing each stage and the cycle on time, against 90%."""
        region = load(schemas.RegionSchema(), query or {})["region"]
        authorize(self.platform.actor, READERS, None, "read cycles")
        return views.on_time_share(self.platform.views,
                                   scoped_prefix(self.platform.actor, region))

    @rpc(expected_exceptions=EXPECTED)
    def evaluation(self, code):
        """The evaluation table: per stage, outputs done yes/no, days taken vs guideline."""
        authorize(self.platform.actor, READERS, village_code(code), "read cycles")
        views.cycle_of(self.platform.views, code, date.today().isoformat())  # 404 if none
        doc = self.platform.views.collection("cycles").get(code)
        return domain.evaluation(domain.Cycle.from_dict(doc))

    @rpc(expected_exceptions=EXPECTED)
    def template(self):
        """The programme template the cycles follow (stages, activities, outputs, days)."""
        return templates.TEMPLATE

    def _execute(self, code, command, idempotency_key=None):
        return self.platform.execute(domain.CYCLE, domain.cycle_stream(code), command,
                                     self.platform.metadata, idempotency_key)
