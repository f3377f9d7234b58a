"""The cycle nameko service: thin entrypoints over the domain and the views."""
from nameko.rpc import rpc

from shared.chassis.access import authorize, scoped_prefix
from shared.chassis.entrypoints import OperatorEntrypoints
from shared.chassis.errors import EXPECTED, NotFound, load
from shared.chassis.platform import Platform, doorbell
from shared import schemas as common
from shared.schemas import indonesia_today, village_code

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
    # plus one doorbell per source ledger of the gate mapping: see the end of this module

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
        self._execute(code, domain.WaiveOutput(on=_today(), **waiver), idempotency_key)
        return self.get_cycle(code)

    # -- queries ----------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def get_cycle(self, code, as_of=None):
        """One village's cycle: stage, done and missing outputs, due date, timeline.

        as_of (ISO time with zone, or a date, not in the future): the cycle as it stood
        then, replayed from the ledger and judged on that day (a time: its date in UTC+9);
        today's date in Indonesia (UTC+9), whose end has not come, is the cycle now.
        """
        authorize(self.platform.actor, READERS, village_code(code), "read cycles")
        day, until = _judged(load(schemas.AsOfSchema(), {} if as_of is None else
                                  {"as_of": as_of})["as_of"])
        if until is None:
            return views.cycle_of(self.platform.views, code, day)
        return views.cycle_as_of(self.platform.ledger, code, until, day)

    @rpc(expected_exceptions=EXPECTED)
    def list_cycles(self, query=None):
        """Cycles in a region by stage, overdue (as of a day) or completed, paged."""
        query = load(schemas.CycleQuerySchema(), {} if query is None else query)
        authorize(self.platform.actor, READERS, None, "read cycles")
        day, until = _judged(query["as_of"])
        return views.list_cycles(self.platform.views,
                                 scoped_prefix(self.platform.actor, query["region"]),
                                 query["stage"], query["overdue"], query["completed"],
                                 day, query["page"], query["page_size"], self._past(until))

    @rpc(expected_exceptions=EXPECTED)
    def on_time_share(self, query=None):
        """Share of villages finishing each stage and the cycle on time (target 90%), for
        a region and each region one level below it."""
        query = load(schemas.OnTimeShareSchema(), {} if query is None else query)
        authorize(self.platform.actor, READERS, None, "read cycles")
        day, until = _judged(query["as_of"])
        return views.on_time_share(self.platform.views,
                                   scoped_prefix(self.platform.actor, query["region"]), day,
                                   self._past(until))

    @rpc(expected_exceptions=EXPECTED)
    def evaluation(self, code, as_of=None):
        """The evaluation form: per stage, outputs done yes/no, days taken vs guideline.

        as_of is read as get_cycle's is (a later day too)."""
        authorize(self.platform.actor, READERS, village_code(code), "read cycles")
        day, until = _judged(load(schemas.DaySchema(), {} if as_of is None else
                                  {"as_of": as_of})["as_of"])
        return views.evaluation(self.platform.views, code, day, self._past(until))

    @rpc(expected_exceptions=EXPECTED)
    def template(self, version=None):
        """The programme template (the current one, or a published version)."""
        query = load(schemas.TemplateQuerySchema(), {} if version is None else
                     {"version": version})
        if query["version"] is None:
            return templates.CURRENT
        found = templates.get(templates.CURRENT["id"], query["version"])
        if found is None:
            raise NotFound(f"template {templates.CURRENT['id']} has no version "
                           f"{query['version']}", "version")
        return found

    def _past(self, until):
        """(ledger, moment) when a report is asked as of a past moment: the views hold
        only today's cycles, so the ledger is replayed up to it (None: from the views)."""
        return None if until is None else (self.platform.ledger, until)

    def _execute(self, code, command, idempotency_key=None):
        # a selection or an approval recorded a moment ago, not yet announced, counts:
        # the reactions apply it before the cycle decides
        self.platform.catch_up()
        return self.platform.execute(domain.CYCLE, domain.cycle_stream(code), command,
                                     self.platform.metadata, idempotency_key)


def _today():
    """Today for the cycle: the date in UTC+9 (WIT), the latest anywhere in Indonesia, on
    the platform's clock (shared.schemas.indonesia_today), not the server's date. It is
    the day a waiver is recorded on and the day reports are judged on by default
    (overdue, days so far): the same today as the latest date people may record
    (not_in_future), so a report of now and the dates written now agree. docs/cycle.md
    ("Time") says why, and what it costs in WIB."""
    return indonesia_today().isoformat()


def _judged(as_of):
    """The day a report is judged on, and the moment its cycles are replayed up to when
    that has passed (a past day: its end; None: today's cycles, from the views), on the
    platform's clock (shared.schemas.utc_now). as_of: a loaded schemas.AsOf, or None
    (now, judged on today in UTC+9)."""
    if as_of is None:
        return _today(), None
    return as_of.day, as_of.moment if as_of.moment < common.utc_now() else None


# A doorbell for every (ledger, event types) of the gate mapping, so that a service added
# later only has to emit its event: its messages make the matching reaction catch up.
for _ledger, _types in views.MAPPED_SOURCES.items():
    setattr(CycleService, f"on_{_ledger}", doorbell(_ledger, *_types))
