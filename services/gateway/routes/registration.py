"""Villages, BKM, evidence, eligibility, rule sets, quotas, selection and ranking
(the registration service), validated with its own schemas; what it answers is
documented by registration_answers.py."""
from marshmallow import Schema, ValidationError, fields, validate, validates

from services.registration import schemas as reg
from shared.chassis.access import in_scope
from shared.chassis.errors import Forbidden
from shared.regions import is_village_code

from ..routing import Reply, Route, body, from_body, from_path, paged, path, \
    path_and_body, rpc
from ..schemas import PageQuerySchema, page_of
from .common import VillagePath, only_in_scope, required_parameter, scoped_listing, \
    scoped_region
from .registration_answers import (HISTORY_ENTRY, ImportReportSchema, QuotaAnswerSchema,
                                   RankedVillageSchema, RuleSetAnswerSchema,
                                   SelectionResultSchema, VillageSchema, VillageSummarySchema)

TAG = "registration"
# 5,000 rows (ImportSchema's most) of every column are about 3.5 MB: within the body limit
IMPORT_BODY = 8 * 1024 * 1024


class RankingPath(Schema):
    region = required_parameter(reg.RANKED_REGION, example="52.01")


class ImportSchema(Schema):
    rows = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=5000),
                       metadata={"description": "objects with the columns of `plpbk import "
                                                "villages` (code, source_document, "
                                                "observed_on, poverty_rate, ...) and, "
                                                "optionally, their `line` number (a whole "
                                                "number from 1); each row "
                                                "is checked and reported on its own, an "
                                                "error naming the row by `row` (its index "
                                                "here, from 0) and `line`"})
    source = fields.String(load_default="http", validate=validate.Length(min=1, max=200))

    @validates("rows")
    def lines_are_numbers(self, rows, **kwargs):
        """A row's `line` comes back in the report: a whole number from 1, or null."""
        wrong = {number: {"line": ["must be a whole number from 1 (the row's line in the "
                                   "caller's file), or null"]}
                 for number, row in enumerate(rows)
                 if row.get("line") is not None and not (
                     type(row["line"]) is int and row["line"] >= 1)}
        if wrong:
            raise ValidationError(wrong)


list_villages = scoped_listing("registration", "list_villages")


def ranking(call):
    requested = call.path["region"]
    scoped_region(call, requested)   # a region outside the principal's: 403 here
    # sent as asked (a ranking is of a province or kabupaten/kota): the service narrows
    # it to a village or kecamatan scope itself, and the items are checked again below
    return paged(call, only_in_scope(call, call.upstream.call("registration", "ranking",
                                                              requested)))


ranking.rpc = "registration.ranking"


def import_rows(call):
    """Every row's village must be in the principal's region (403 for the whole import);
    a row whose code is not exactly a village code is the service's to report, by line."""
    for number, row in enumerate(call.loaded["rows"]):
        code = row.get("code")
        if is_village_code(code) and not in_scope(call.principal, code):
            raise Forbidden(f"{code} is outside your region "
                            f"{call.principal.region or '(national)'}", f"rows.{number}.code")
    return call.upstream.call("registration", "import_rows", call.loaded["rows"],
                              call.loaded["source"])


import_rows.rpc = "registration.import_rows"


def registered(call, village):
    return Reply(201, village, {"Location": f"/api/v1/villages/{village['code']}"})


ROUTES = [
    Route("GET", "/api/v1/villages", "list_villages", "Villages, filtered and paged", TAG,
          list_villages, query=reg.VillageQuerySchema,
          response=page_of(VillageSummarySchema, "VillagePage"),
          description="Within the caller's region (a wider `region` is narrowed to it)."),
    Route("POST", "/api/v1/villages", "register_village", "Register a village", TAG,
          rpc("registration", "register_village", body, keyed=True, present=registered),
          body=reg.RegisterVillageSchema, response=VillageSchema, status=201, location=True,
          scope=from_body("code"),
          description="Identity (name, kecamatan, kabupaten, province) comes from the "
                      "official Kemendagri list; optionally with the BKM."),
    Route("POST", "/api/v1/villages/imports", "import_villages",
          "Bulk import of villages with evidence", TAG, import_rows, body=ImportSchema,
          status=200, response=ImportReportSchema, max_body=IMPORT_BODY,
          description="Up to 5,000 rows, the body up to 8 MiB."),
    Route("GET", "/api/v1/villages/{code}", "get_village", "One village", TAG,
          rpc("registration", "get_village", path("code")), path_params=VillagePath,
          response=VillageSchema, scope=from_path("code")),
    Route("PUT", "/api/v1/villages/{code}/bkm", "record_bkm", "Record the village's BKM",
          TAG, rpc("registration", "record_bkm", path_and_body("code"), keyed=True),
          path_params=VillagePath, body=reg.BkmSchema, response=VillageSchema,
          scope=from_path("code")),
    Route("POST", "/api/v1/villages/{code}/indicators", "record_indicators",
          "Record indicator evidence (eligibility is decided again)", TAG,
          rpc("registration", "record_indicators", path_and_body("code"), keyed=True),
          path_params=VillagePath, body=reg.RecordIndicatorsSchema, response=VillageSchema,
          scope=from_path("code")),
    Route("POST", "/api/v1/villages/{code}/eligibility/decisions", "evaluate_eligibility",
          "Decide eligibility now on the current evidence and rule set", TAG,
          rpc("registration", "evaluate", path("code")), path_params=VillagePath,
          response=VillageSchema, scope=from_path("code")),
    Route("POST", "/api/v1/villages/{code}/eligibility/overrides", "override_eligibility",
          "Override the eligibility decision (ministry, with a justification)", TAG,
          rpc("registration", "override_eligibility", path_and_body("code"), keyed=True),
          path_params=VillagePath, body=reg.OverrideSchema, response=VillageSchema,
          scope=from_path("code")),
    Route("GET", "/api/v1/villages/{code}/eligibility/history", "eligibility_history",
          "Evidence, decisions, overrides and selection of a village, paged", TAG,
          rpc("registration", "eligibility_history", path("code"), present=paged),
          path_params=VillagePath, query=PageQuerySchema,
          response=page_of(HISTORY_ENTRY, "EligibilityHistoryPage"),
          scope=from_path("code")),
    Route("GET", "/api/v1/eligibility/rule-set", "active_rule_set",
          "The active eligibility rule set", TAG, rpc("registration", "rule_set"),
          response=RuleSetAnswerSchema),
    Route("POST", "/api/v1/eligibility/rule-sets", "publish_rule_set",
          "Publish a new version of a rule set (ministry)", TAG,
          rpc("registration", "publish_rule_set", body, keyed=True), body=reg.RuleSetSchema,
          response=RuleSetAnswerSchema, status=201),
    Route("POST", "/api/v1/quotas", "set_quota",
          "Set the quota of selected villages of a kabupaten/kota (ministry)", TAG,
          rpc("registration", "set_quota", body, keyed=True), body=reg.QuotaSchema,
          response=QuotaAnswerSchema, scope=from_body("kabupaten")),
    Route("POST", "/api/v1/selections", "select_villages",
          "Select the best-ranked eligible villages under the quotas (ministry)", TAG,
          rpc("registration", "select_villages", lambda call: (call.loaded["kabupaten"],),
              keyed=True),
          body=reg.SelectionSchema, response=SelectionResultSchema, scope=from_body("kabupaten")),
    Route("GET", "/api/v1/rankings/{region}", "ranking",
          "Eligible villages of a province or kabupaten/kota by priority, paged", TAG,
          ranking, path_params=RankingPath, query=PageQuerySchema,
          response=page_of(RankedVillageSchema, "RankingPage")),
]
