"""The registration nameko service: thin entrypoints over the domain and the views."""
import hashlib
from dataclasses import replace

import orjson
from marshmallow import ValidationError
from nameko.dependency_providers import Config
from nameko.rpc import rpc

from shared import regions
from shared.chassis.access import authorize, authorize_national, in_scope, scoped_prefix
from shared.chassis.commands import Job, decide_all, fold
from shared.chassis.entrypoints import OperatorEntrypoints
from shared.chassis.errors import EXPECTED, LONE_SURROGATE, CommandRejected, Conflict, \
    InvalidInput, NotFound, flatten, load, lone_surrogate
from shared.chassis.platform import Platform
from shared.ledger import SYSTEM, AppendRequest, ConcurrencyError, Metadata
from shared.schemas import official_village, parameter, village_code

from . import domain, rules, schemas, views

EVIDENCE_ROLES = ("ministry", "province", "district", "facilitator")
BKM_ROLES = EVIDENCE_ROLES + ("bkm",)
MINISTRY = ("ministry",)
READERS = ("ministry", "province", "district", "facilitator", "bkm", "auditor", "integration")
IMPORT_CHUNK = 500
SELECTION_ATTEMPTS = 4  # rounds overtaken by other requests before a 409


class RegistrationService(OperatorEntrypoints):
    name = "registration"
    platform = Platform(subscribers=[views.VillageBoard])
    config = Config()

    # -- commands ---------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def register_village(self, data, idempotency_key=None):
        """Register a village by its official code (optionally with its BKM)."""
        command = load(schemas.RegisterVillageSchema(), data)
        code = command["code"]
        authorize(self.platform.actor, EVIDENCE_ROLES, code, "register villages")
        self.platform.execute(domain.VILLAGE, domain.village_stream(code),
                              domain.RegisterVillage(official_village(code), command["bkm"]),
                              self.platform.metadata, idempotency_key)
        return views.village_profile(self.platform.views, code)

    @rpc(expected_exceptions=EXPECTED)
    def record_bkm(self, code, data, idempotency_key=None):
        """Record (or update) the BKM/LKM: name, formation date, members by sex and role."""
        authorize(self.platform.actor, BKM_ROLES, village_code(code), "record BKM data")
        bkm = load(schemas.BkmSchema(), data)
        self._execute(code, domain.RecordBkm(bkm), idempotency_key)
        return views.village_profile(self.platform.views, code)

    @rpc(expected_exceptions=EXPECTED)
    def record_indicators(self, code, data, idempotency_key=None):
        """Record indicator evidence; eligibility is re-decided on the new evidence."""
        authorize(self.platform.actor, EVIDENCE_ROLES, village_code(code), "record evidence")
        evidence = load(schemas.RecordIndicatorsSchema(), data)
        self._execute(code, domain.RecordIndicators(rule_set=self._rule_set(), **evidence),
                      idempotency_key)
        return views.village_profile(self.platform.views, code)

    @rpc(expected_exceptions=EXPECTED)
    def evaluate(self, code):
        """Decide eligibility now, on the current evidence and rule set."""
        authorize(self.platform.actor, EVIDENCE_ROLES, village_code(code), "request a decision")
        self._execute(code, domain.Evaluate(self._rule_set(), "request"))
        return views.village_profile(self.platform.views, code)

    @rpc(expected_exceptions=EXPECTED)
    def override_eligibility(self, code, data, idempotency_key=None):
        """A ministry official overrides the decision, with a written justification."""
        authorize(self.platform.actor, MINISTRY, village_code(code), "override eligibility")
        override = load(schemas.OverrideSchema(), data)
        self._execute(code, domain.Override(**override), idempotency_key)
        return views.village_profile(self.platform.views, code)

    @rpc(expected_exceptions=EXPECTED)
    def publish_rule_set(self, data, idempotency_key=None):
        """Publish a new version of an eligibility rule set; every village is re-decided.
        A key already recorded publishes nothing again (a version published since stands);
        sent again, it finishes the re-decisions of the version the ledger holds."""
        actor = self.platform.actor
        authorize_national(actor, MINISTRY, "publish rule sets")   # it re-decides every village
        rule_set = load(schemas.RuleSetSchema(), data)
        outcome = self.platform.execute(domain.RULE_SET, domain.rule_set_stream(rule_set["id"]),
                                        domain.PublishRuleSet(rule_set), self.platform.metadata,
                                        idempotency_key)
        if rule_set["id"] == self._active_rule_set_id():
            # also when nothing was recorded now (sent again, or identical): a publication
            # stopped part-way through its re-decisions is finished this way; villages
            # already decided under this version record nothing (their keys, their state)
            self._reevaluate_all(outcome.state)
        return outcome.state

    @rpc(expected_exceptions=EXPECTED)
    def set_quota(self, data, idempotency_key=None):
        """The ministry's quota of selected villages for a kabupaten/kota (a key already
        recorded sets nothing again: a retry, or a request redelivered after a crash)."""
        quota = load(schemas.QuotaSchema(), data)
        code = quota["kabupaten"]
        authorize(self.platform.actor, MINISTRY, code, "set quotas")
        name = regions.region_name(code)
        if name is None:
            raise NotFound(f"{code} is not an official kabupaten/kota code", "kabupaten")
        outcome = self.platform.execute(
            domain.QUOTA, domain.quota_stream(code),
            domain.SetQuota({"code": code, "name": name}, quota["quota"],
                            quota["decree_reference"]), self.platform.metadata,
            idempotency_key)
        return {"kabupaten": code, "quota": outcome.state.quota,
                "selected": len(outcome.state.selected)}

    @rpc(expected_exceptions=EXPECTED)
    def select_villages(self, kabupaten=None, idempotency_key=None):
        """Select the best-ranked eligible villages under each quota (one kabupaten or all).

        Answers {"selected": {kabupaten: [codes selected now]}, "unfilled": {kabupaten:
        what stays open and why}}, the latter only for quotas left partly open (too few
        eligible villages). A round already recorded under the key (a retry whose answer
        was lost, a request redelivered after a crash) is answered as it was recorded.
        """
        kabupaten = load(schemas.SelectionSchema(), {"kabupaten": kabupaten})["kabupaten"]
        actor = self.platform.actor
        authorize(actor, MINISTRY, kabupaten, "select villages")
        quotas = self.platform.views.collection("quotas")
        if kabupaten is not None and quotas.get(kabupaten) is None:
            raise NotFound(f"no quota is set for {kabupaten}", "kabupaten")
        # "all" is every quota in the actor's region: a ministry account may be regional
        chosen = [kabupaten] if kabupaten else [q["_id"] for q in quotas.find()
                                                if in_scope(actor, q["_id"])]
        rounds = {code: self._select_in(code, idempotency_key and f"{idempotency_key}/{code}")
                  for code in chosen}
        selected = {code: codes for code, (codes, _open) in rounds.items()}
        unfilled = {code: open_ for code, (_codes, open_) in rounds.items() if open_}
        self.log.info("villages selected", kabupaten=len(chosen),
                      selected=sum(len(codes) for codes, _open in rounds.values()),
                      unfilled=len(unfilled))
        return {"selected": selected, "unfilled": unfilled}

    @rpc(expected_exceptions=EXPECTED)
    def import_rows(self, rows, source="import"):
        """Bulk import: rows of ImportRowSchema, each with its CSV `line` number.

        Bad rows are reported with row (index in rows), line and reason and record
        nothing; good rows are recorded; a row already imported (same content) records
        nothing again unless it corrects the village back to it (_import_chunk).
        """
        authorize(self.platform.actor, EVIDENCE_ROLES, None, "import villages")
        if not isinstance(rows, list):
            raise InvalidInput("expected a list of rows", "rows")
        report = {"recorded": 0, "unchanged": 0, "errors": []}
        rule_set = self._rule_set()
        schema = schemas.ImportRowSchema()
        valid = [loaded for loaded in (self._import_row(schema, index, row, report)
                                       for index, row in enumerate(rows)) if loaded]
        finals, keys = _last_said(valid), set()   # keys: those this import used
        for start in range(0, len(valid), IMPORT_CHUNK):
            self._import_chunk(valid[start:start + IMPORT_CHUNK],
                               finals[start:start + IMPORT_CHUNK], keys, rule_set, report)
        self.log.info("villages imported", source=source, rows=len(rows),
                      recorded=report["recorded"], unchanged=report["unchanged"],
                      refused=len(report["errors"]))
        return report

    # -- queries ----------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def get_village(self, code):
        """One village: identity, BKM, current indicators, eligibility and its reasons."""
        authorize(self.platform.actor, READERS, village_code(code), "read villages")
        return views.village_profile(self.platform.views, code)

    @rpc(expected_exceptions=EXPECTED)
    def eligibility_history(self, code):
        authorize(self.platform.actor, READERS, village_code(code), "read villages")
        return views.history(self.platform.ledger, code)

    @rpc(expected_exceptions=EXPECTED)
    def list_villages(self, query=None):
        """Villages in a region (code prefix), optionally by status, paged."""
        query = load(schemas.VillageQuerySchema(), query or {})
        authorize(self.platform.actor, READERS, None, "read villages")
        region = scoped_prefix(self.platform.actor, query["region"])
        return views.list_villages(self.platform.views, region, query["status"], query["page"],
                                   query["page_size"], query["name"])

    @rpc(expected_exceptions=EXPECTED)
    def ranking(self, region):
        """Eligible villages of a kabupaten/kota (PP.KK) or province (PP) by priority score."""
        region = parameter(region, schemas.RANKED_REGION, "region")
        authorize(self.platform.actor, READERS, None, "read rankings")
        return views.ranking(self.platform.views, scoped_prefix(self.platform.actor, region))

    @rpc(expected_exceptions=EXPECTED)
    def rule_set(self):
        """The active eligibility rule set (latest version)."""
        return self._rule_set()

    # -- internals --------------------------------------------------------------------
    def _execute(self, code, command, idempotency_key=None):
        try:
            return self.platform.execute(domain.VILLAGE, domain.village_stream(code), command,
                                         self.platform.metadata, idempotency_key)
        except NotFound as exc:   # the domain knows no code before registration: name it
            if exc.field != "code":
                raise
            official_village(code)   # a code in no official list: registering fails too
            raise NotFound(f"village {code} is not registered; register it first",
                           "code") from None

    def _active_rule_set_id(self):
        return self.config.get("RULE_SET_ID") or rules.SEED_RULE_SET["id"]

    def _rule_set(self):
        """The active rule set; the seed's rules are published on first use."""
        found = self.platform.views.collection("rule_sets").get(self._active_rule_set_id())
        if found is None:
            seed = {k: v for k, v in rules.SEED_RULE_SET.items() if k != "version"}
            outcome = self.platform.execute(
                domain.RULE_SET, domain.rule_set_stream(seed["id"]),
                domain.PublishRuleSet(seed), Metadata(SYSTEM, self.platform.correlation_id),
                idempotency_key=f"seed-rule-set:{seed['id']}")
            found = outcome.state
        return {k: v for k, v in found.items() if k not in ("_id", "published_at")}

    def _active_rule_set(self):
        """The active rule set as its ledger stream holds it (the view may lag)."""
        stream = domain.rule_set_stream(self._active_rule_set_id())
        recorded = fold(domain.RULE_SET, self.platform.ledger.read_stream(stream))
        return recorded if recorded is not None else self._rule_set()

    def _reevaluate_all(self, rule_set):
        villages = self.platform.views.collection("villages").find()
        metadata = self.platform.metadata
        for start in range(0, len(villages), IMPORT_CHUNK):
            self.platform.execute_many([
                Job(domain.VILLAGE, domain.village_stream(v["code"]),
                    [domain.Evaluate(rule_set, "rule_set")], metadata,
                    f"reevaluate:{rule_set['id']}:{rule_set['version']}:{v['code']}")
                for v in villages[start:start + IMPORT_CHUNK]])

    def _select_in(self, kabupaten, key=None):
        """One selection round in one kabupaten, recorded whole or not at all:
        ([codes selected], what stays open under the quota or None).

        A state that changed under the round (another request recorded to the quota or to
        a chosen village after they were read) records nothing and the round is chosen
        again from the state as it is then; only when that keeps happening is it a 409.
        """
        for _attempt in range(SELECTION_ATTEMPTS):
            try:
                return self._round_in(kabupaten, key)
            except ConcurrencyError:
                continue
        raise Conflict(f"the selection in {kabupaten} changed while it was being recorded: "
                       "other requests recorded to its quota or to a chosen village "
                       f"meanwhile, {SELECTION_ATTEMPTS} times; nothing was recorded for "
                       f"{kabupaten}: send it again to choose from the villages and the "
                       "quota as they are then")

    def _round_in(self, kabupaten, key=None):
        """Choose by the ranking (a view, which can lag the ledger) and confirm each
        chosen village on its own record, the truth: one that refuses selection is passed
        over and the next ranked takes its place. The round (quota stream) and every
        village's selection are decided on the streams as read and appended in one
        transaction at those versions (ConcurrencyError if any moved on), so a quota can
        never be exceeded nor spent on a village that was not selected."""
        ledger = self.platform.ledger
        quota_stream = domain.quota_stream(kabupaten)
        quota_records = ledger.read_stream(quota_stream)
        if key is not None and (done := ledger.recorded(key)) is not None:
            return _recorded_round(ledger, quota_records, done.first_position)
        quota = fold(domain.QUOTA, quota_records)
        eligible = views.eligible_in(self.platform.views, kabupaten)
        # each village is decided on the active rule set as the ledger holds it first: one
        # published, its re-decisions not yet recorded, must not select by the version it
        # replaced
        rule_set = self._active_rule_set()
        records, passed_over = {}, {}
        while True:  # ends: each pass either confirms every chosen or passes one over
            chosen = domain.choose(eligible, quota.quota or 0, set(quota.selected),
                                   passed_over)
            selections = []
            for village in chosen:
                code = village["code"]
                if code not in records:
                    records[code] = ledger.read_stream(domain.village_stream(code))
                try:
                    selections.append(self._decided(
                        domain.VILLAGE, domain.village_stream(code), records[code],
                        [domain.Evaluate(rule_set, "rule_set"),
                         domain.Select(village["rank"], quota.quota, quota.rounds + 1)]))
                except CommandRejected as refused:
                    passed_over[code] = refused.message
                    break
            else:
                break
        if passed_over:
            self.log.info("villages passed over: the ranking lags their records",
                          kabupaten=kabupaten, villages=sorted(passed_over))
        if chosen:
            # the key rides on a village's append, never the quota's: an append whose key
            # is already recorded is skipped unchecked, and the quota's version must be
            # checked (a same-key request racing this one could exceed the quota otherwise)
            selections[0] = replace(selections[0], idempotency_key=key)
            self.platform.append_batch([self._decided(
                domain.QUOTA, quota_stream, quota_records,
                domain.RecordSelectionRound(chosen))] + selections)
        elif (version := ledger.stream_version(quota_stream)) != len(quota_records):
            # nothing to append, so no version check: what stays open is said only of
            # the quota as it still is (a village passed over as already selected means
            # another round was recorded after the quota was read)
            raise ConcurrencyError(quota_stream, len(quota_records), version)
        return [village["code"] for village in chosen], \
            domain.unfilled(quota, chosen, passed_over)

    def _decided(self, decider, stream_id, records, command):
        """The append of what command (or a list, in a row) decides on a stream as read
        (at its version)."""
        commands = command if isinstance(command, list) else [command]
        events, _state = decide_all(decider, fold(decider, records), commands)
        return AppendRequest(stream_id, len(records), events, self.platform.metadata)

    def _import_row(self, schema, index, row, report):
        """(where, validated row, official village) of one import row, or None when it is
        refused (said in the report where it is: its index in the request, its line)."""
        where = {"row": index, "line": row.get("line") if isinstance(row, dict) else None}
        field = lone_surrogate(row)
        if field is not None:
            report["errors"].append({**where, "reason": f"{field}: {LONE_SURROGATE}"})
            return None
        try:
            data = schema.load({k: v for k, v in row.items() if k != "line"})
        except ValidationError as exc:
            report["errors"].append({**where, "reason": "; ".join(
                f"{f}: {m}" for f, m in flatten(exc.messages))})
            return None
        except AttributeError:
            report["errors"].append({**where, "reason": "row is not an object"})
            return None
        if not in_scope(self.platform.actor, data["code"]):
            report["errors"].append({**where, "reason": f"code: {data['code']} is "
                                     f"outside your region {self.platform.actor.region}"})
            return None
        official = regions.village(data["code"])
        if official is None:
            report["errors"].append({**where, "reason": f"code: {data['code']} is not "
                                     "in the official Kemendagri list"})
            return None
        return where, data, official

    def _import_chunk(self, rows, finals, keys, rule_set, report):
        """Record valid rows. A row's idempotency key is the hash of its content, so a
        file run again records nothing; a row whose key was used (before, or earlier in
        this import) is recorded again only where the village's current evidence is not
        what it says and no later row of the import says otherwise (a correction back to
        an earlier value must not be taken for a re-run)."""
        jobs, places, ledger = [], [], self.platform.ledger
        for (where, data, official), final in zip(rows, finals):
            key = "import:" + hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
                                             ).hexdigest()
            again = key in keys or ledger.recorded(key) is not None
            if again and not final:
                report["unchanged"] += 1  # recorded before, and later rows speak after it
                continue
            keys.add(key)
            commands = [domain.RegisterVillage(official, if_missing=True),
                        domain.RecordIndicators(data["readings"], data["source_document"],
                                                data["observed_on"], rule_set,
                                                unless_current=final if again else None)]
            jobs.append(Job(domain.VILLAGE, domain.village_stream(data["code"]), commands,
                            self.platform.metadata, None if again else key))
            places.append(where)
        for where, outcome in zip(places, self.platform.execute_many(jobs)):
            if isinstance(outcome, CommandRejected):
                report["errors"].append({**where, "reason": str(outcome)})
            elif outcome.events:
                report["recorded"] += 1
            else:
                report["unchanged"] += 1


def _last_said(rows):
    """Per valid import row, the indicators of its village that no later row gives: where
    its value is the one the import leaves current."""
    later, finals = {}, []
    for _where, data, _official in reversed(rows):
        given = {reading["indicator"] for reading in data["readings"]}
        seen = later.setdefault(data["code"], set())
        finals.append(frozenset(given - seen))
        seen |= given
    return finals[::-1]


def _recorded_round(ledger, quota_records, position):
    """The answer of the selection round whose village selection is recorded at position:
    what it selected, and what it left open under the quota as it stood before it (no
    village passed over)."""
    number = ledger.read(position - 1, limit=1)[0].payload["selection_round"]
    index = next(index for index, record in enumerate(quota_records)
                 if record.type == "SelectionRoundRecorded" and record.payload["round"] == number)
    chosen = quota_records[index].payload["selected"]
    return [village["code"] for village in chosen], \
        domain.unfilled(fold(domain.QUOTA, quota_records[:index]), chosen, {})
