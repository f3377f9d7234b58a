"""The registration service over the real RabbitMQ: commands, queries, errors, scopes."""
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_hook

from services.registration import domain, views
from services.registration.service import RegistrationService
from shared.chassis.errors import CommandRejected, Conflict, Forbidden, InvalidInput, NotFound
from tests.samples import BAJUR, ELIGIBLE

from .support import proxy, selections_recorded, stale_ranking

NEIGHBOUR = "52.01.08.2001"
SECOND = "52.01.08.2002"
LOMBOK_BARAT = {"id": "dinas-1", "role": "district", "region": "52.01"}
BKM = {"name": "BKM Bajur Sejahtera", "formed_on": "2019-03-01", "members": [
    {"name": "Siti", "sex": "P", "role": "koordinator"}, {"name": "Ahmad", "sex": "L",
                                                          "role": "anggota"},
    {"name": "Budi", "sex": "L", "role": "sekretaris"}, {"name": "Wayan", "sex": "L",
                                                         "role": "anggota"}]}






def test_register_takes_identity_from_the_official_list(registration):
    with proxy(registration, LOMBOK_BARAT) as service:
        village = service.register_village({"code": BAJUR, "bkm": BKM})
        assert (village["name"], village["kind"]) == ("Bajur", "desa")
        assert village["kabupaten"] == {"code": "52.01", "name": "Kabupaten Lombok Barat"}
        assert village["status"] == "registered"
        assert village["bkm"]["women_percent"] == "25.00"
        assert village["bkm"]["meets_women_quota"] is False
        with pytest.raises(Conflict):
            service.register_village({"code": BAJUR})
        with pytest.raises(NotFound, match="official"):
            service.register_village({"code": "52.01.08.2999"})
        with pytest.raises(InvalidInput) as bad:
            service.register_village({"code": "5201082006", "name": "Made up"})
        assert "code" in str(bad.value) and "name: Unknown field" in str(bad.value)
        with pytest.raises(Forbidden, match="outside your region"):
            service.register_village({"code": "31.71.01.1001"})


def test_evidence_decides_eligibility_with_reasons_and_history(registration):
    with proxy(registration, LOMBOK_BARAT) as service:
        service.register_village({"code": BAJUR})
        village = service.record_indicators(BAJUR, {**ELIGIBLE, "indicators": {
            "poverty_rate": "31.5"}})
        assert village["status"] == "incomplete"
        village = service.record_indicators(BAJUR, ELIGIBLE)
        assert village["status"] == "eligible"
        decision = village["decision"]
        assert decision["rule_set"] == {"id": "plpbk-seed", "version": 1}
        poverty = next(c for c in decision["criteria"] if c["criterion"] == "poverty_rate")
        assert (poverty["result"], poverty["value"], poverty["threshold"]) == \
            ("pass", "31.50", "25")
        assert village["indicators"]["voter_turnout"]["recorded_by"] == "dinas-1"

        corrected = service.record_indicators(BAJUR, {
            "indicators": {"voter_turnout": "29.99"}, "source_document": "Berita acara pemilu",
            "observed_on": "2024-07-01", "correction_reason": "recount"})
        assert corrected["status"] == "ineligible"
        history = service.eligibility_history(BAJUR)
        assert [h["type"] for h in history] == [
            "IndicatorsRecorded", "EligibilityDecided", "IndicatorsRecorded",
            "EligibilityDecided", "IndicatorsRecorded", "EligibilityDecided"]
        assert history[-2]["payload"]["readings"][0]["supersedes"] == history[2]["event_id"]
        assert history[-1]["actor"]["id"] == "dinas-1"


def test_only_the_ministry_overrides_and_only_with_a_justification(registration):
    with proxy(registration, LOMBOK_BARAT) as district:
        district.register_village({"code": BAJUR})
        district.record_indicators(BAJUR, {**ELIGIBLE, "indicators": {
            **ELIGIBLE["indicators"], "fund_misuse_cases": 2}})
        with pytest.raises(Forbidden):
            district.override_eligibility(BAJUR, {"eligible": True, "justification": "x" * 30})
    with proxy(registration) as ministry:
        with pytest.raises(InvalidInput, match="justification"):
            ministry.override_eligibility(BAJUR, {"eligible": True, "justification": "ok"})
        village = ministry.override_eligibility(BAJUR, {
            "eligible": True, "justification": "Both cases were settled in court in 2024."})
        assert village["status"] == "eligible"
        assert village["decision"]["status"] == "ineligible"  # the original stays visible
        assert village["override"]["by"]["id"] == "kemen-1"


def test_selection_under_a_quota_ranks_by_score(registration):
    codes = ["52.01.08.2001", "52.01.08.2002", "52.01.08.2003"]
    with proxy(registration) as ministry:
        for number, code in enumerate(codes):
            ministry.register_village({"code": code})
            ministry.record_indicators(code, {**ELIGIBLE, "indicators": {
                **ELIGIBLE["indicators"], "poverty_rate": str(30 + number)}})
        with pytest.raises(NotFound, match="quota"):
            ministry.select_villages("52.01")
        ministry.set_quota({"kabupaten": "52.01", "quota": 2, "decree_reference": "KepMen 7"})
        assert ministry.select_villages("52.01")["selected"] == {"52.01": [codes[2], codes[1]]}
        assert ministry.select_villages("52.01")["selected"] == {"52.01": []}  # the quota is full
        village = ministry.get_village(codes[2])
        assert village["status"] == "selected" and village["selected"]["rank"] == 1
        ranking = ministry.ranking("52.01")
        assert [r["code"] for r in ranking] == [codes[2], codes[1], codes[0]]
        with pytest.raises(CommandRejected, match="cannot be lower"):
            ministry.set_quota({"kabupaten": "52.01", "quota": 1, "decree_reference": "x"})


def eligible_village(service, code, poverty_rate="31.5"):
    service.register_village({"code": code})
    service.record_indicators(code, {**ELIGIBLE, "indicators": {
        **ELIGIBLE["indicators"], "poverty_rate": poverty_rate}})


def test_a_stale_ranking_passes_over_what_the_ledger_refuses_and_takes_the_next(
        registration, monkeypatch):
    """The ranking comes from a view, which can lag the ledger: here it still lists, at
    the top, a village whose own record is not eligible. That village is passed over and
    the next ranked fill the quota in its place, with the ranks it leaves them."""
    with proxy(registration) as ministry:
        eligible_village(ministry, BAJUR)
        eligible_village(ministry, SECOND, poverty_rate="26")
        ministry.register_village({"code": NEIGHBOUR})       # no evidence: incomplete
        ministry.set_quota({"kabupaten": "52.01", "quota": 2, "decree_reference": "KepMen 7"})
        stale_ranking(monkeypatch, NEIGHBOUR)
        assert ministry.select_villages("52.01")["selected"] == {"52.01": [BAJUR, SECOND]}
        assert ministry.get_village(NEIGHBOUR)["status"] == "registered"
    assert selections_recorded(registration) == [(1, 1, BAJUR), (1, 2, SECOND)]


def test_a_ranking_too_stale_to_fill_the_quota_selects_the_eligible_and_says_so(
        registration, monkeypatch):
    """Fewer villages are eligible by their records than the quota allows: those are
    selected, the answer says what stays open and why, and the quota is spent on them
    alone (round and villages recorded in one append). Sent again, it records nothing."""
    with proxy(registration) as ministry:
        eligible_village(ministry, BAJUR)
        ministry.register_village({"code": NEIGHBOUR})       # no evidence: incomplete
        ministry.set_quota({"kabupaten": "52.01", "quota": 2, "decree_reference": "KepMen 7"})
        stale_ranking(monkeypatch, NEIGHBOUR)
        passed_over = [{"code": NEIGHBOUR, "reason": f"village {NEIGHBOUR} is not eligible"}]
        answer = ministry.select_villages("52.01")
        assert answer == {"selected": {"52.01": [BAJUR]}, "unfilled": {"52.01": {
            "quota": 2, "selected": 1, "open": 1, "passed_over": passed_over, "message": (
                "52.01 (Kabupaten Lombok Barat) may select 2 villages and has selected 1: 1 "
                "place stays open because the ranking lists no other village that its own "
                "record shows eligible (passed over 1 that the ranking still lists: their own "
                "records refuse selection); select again later: villages decided eligible "
                "meanwhile are chosen then")}}}
        assert selections_recorded(registration) == [(1, 1, BAJUR)]
        assert ministry.get_village(NEIGHBOUR)["status"] == "registered"

        head = ministry.status()["ledger_head"]
        again = ministry.select_villages("52.01")          # idempotent: nothing new
        assert again["selected"] == {"52.01": []} and again["unfilled"] == answer["unfilled"]
        assert ministry.status()["ledger_head"] == head
        monkeypatch.undo()                                   # the view caught up
        caught_up = ministry.select_villages("52.01")
        assert caught_up["selected"] == {"52.01": []} and caught_up["unfilled"]["52.01"]["passed_over"] == []
        assert ministry.status()["ledger_head"] == head

        ministry.record_indicators(NEIGHBOUR, ELIGIBLE)       # now it is eligible
        assert ministry.select_villages("52.01")["selected"] == {"52.01": [NEIGHBOUR]}
    assert selections_recorded(registration) == [(1, 1, BAJUR), (2, 1, NEIGHBOUR)]


def test_a_selection_whose_state_keeps_changing_is_a_409_that_records_nothing(
        registration, monkeypatch):
    """Each time the round is decided, another request records new evidence of the chosen
    village before the append: the ledger refuses the append at the version it was
    decided on. After a bounded number of tries it is a 409 naming no field (POST
    /selections has none but `kabupaten`: this is about the state) that says what to do,
    and no selection is recorded."""
    with proxy(registration) as ministry:
        eligible_village(ministry, BAJUR)
        ministry.set_quota({"kabupaten": "52.01", "quota": 1, "decree_reference": "KepMen 7"})
    decided, changes = RegistrationService._decided, []

    def deciding(self, decider, stream_id, records, command):
        request = decided(self, decider, stream_id, records, command)
        if isinstance(command, domain.RecordSelectionRound):   # the round is decided
            changes.append(stream_id)
            with proxy(registration) as other:
                other.record_indicators(BAJUR, {
                    **ELIGIBLE, "source_document": f"Survei ulang {len(changes)}"})
        return request

    monkeypatch.setattr(RegistrationService, "_decided", deciding)
    with proxy(registration) as ministry:
        with pytest.raises(Conflict) as refused:
            ministry.select_villages("52.01")
        assert refused.value.field is None
        assert refused.value.message == (
            "the selection in 52.01 changed while it was being recorded: other requests "
            "recorded to its quota or to a chosen village meanwhile, 4 times; nothing was "
            "recorded for 52.01: send it again to choose from the villages and the quota as "
            "they are then")
        assert len(changes) == 4
        assert selections_recorded(registration) == []
        assert ministry.get_village(BAJUR)["status"] == "eligible"
        monkeypatch.undo()                                   # quiet again
        assert ministry.select_villages("52.01")["selected"] == {"52.01": [BAJUR]}
    assert selections_recorded(registration) == [(1, 1, BAJUR)]


@pytest.mark.parametrize("moment", ["ranked", "decided"])
def test_a_selection_overtaken_by_another_chooses_again(registration, monkeypatch, moment):
    """Another selection is recorded after this one read the quota: once it has ranked
    (its village's own record then refuses a second selection), or once everything is
    decided (the append is refused at the stream versions it read). Either way it records
    nothing and chooses again from the quota as it is then: full."""
    with proxy(registration) as ministry:
        ministry.register_village({"code": BAJUR})
        ministry.record_indicators(BAJUR, ELIGIBLE)
        ministry.set_quota({"kabupaten": "52.01", "quota": 1, "decree_reference": "KepMen 7"})
    overtaken = []

    def overtake():
        if not overtaken:
            overtaken.append(True)
            with proxy(registration) as other:
                assert other.select_villages("52.01")["selected"] == {"52.01": [BAJUR]}

    if moment == "ranked":
        eligible_in = views.eligible_in
        monkeypatch.setattr(views, "eligible_in", lambda store, kabupaten: (
            eligible_in(store, kabupaten), overtake())[0])
    else:
        decided, calls = RegistrationService._decided, []

        def deciding(self, *args):
            request = decided(self, *args)
            calls.append(request)
            if len(calls) == 2:          # the round and the village's selection
                overtake()
            return request

        monkeypatch.setattr(RegistrationService, "_decided", deciding)
    with proxy(registration) as ministry:
        assert ministry.select_villages("52.01")["selected"] == {"52.01": []}
        assert ministry.get_village(BAJUR)["selected"]["round"] == 1
    assert selections_recorded(registration) == [(1, 1, BAJUR)]


def test_listing_is_paged_filtered_and_scoped(registration):
    with proxy(registration) as ministry:
        for code in ["52.01.08.2001", "52.01.08.2002", "52.02.01.1001", "31.71.01.1001"]:
            ministry.register_village({"code": code})
        page = ministry.list_villages({"region": "52", "page": 1, "page_size": 2})
        assert page["total"] == 3 and len(page["items"]) == 2
        assert ministry.list_villages({"region": "52", "page": 2, "page_size": 2})[
            "items"][0]["code"] == "52.02.01.1001"
        with pytest.raises(InvalidInput, match="status"):
            ministry.list_villages({"status": "happy"})
    with proxy(registration, LOMBOK_BARAT) as district:
        assert district.list_villages({})["total"] == 2  # national request, narrowed
        with pytest.raises(Forbidden):
            district.list_villages({"region": "31"})


def test_evidence_for_a_village_not_registered_names_the_code_and_why(registration):
    """It said "village is not registered; register it first" whatever the code, also for
    one that is in no official list, which registering would refuse too."""
    with proxy(registration) as ministry:
        evidence = ELIGIBLE
        with pytest.raises(NotFound, match="village 52.01.08.2001 is not registered; "
                                           "register it first"):
            ministry.record_indicators("52.01.08.2001", evidence)
        with pytest.raises(NotFound, match="52.01.08.2999 is not in the official"):
            ministry.record_indicators("52.01.08.2999", evidence)


def test_villages_are_found_by_the_start_of_their_name(registration):
    """A district officer knows a village by its name, not its Kemendagri code: the list
    could only be filtered by code prefix and status."""
    with proxy(registration) as ministry:
        for code in ["52.01.08.2001", "52.01.08.2002", "52.01.08.2006", "52.02.01.1001"]:
            ministry.register_village({"code": code})   # Bengkel, Merembu, Bajur, Praya
        found = ministry.list_villages({"name": "  BA"})
        assert [v["code"] for v in found["items"]] == ["52.01.08.2006"]
        assert found["total"] == 1
        assert [v["name"] for v in ministry.list_villages({"name": "b"})["items"]] == [
            "Bengkel", "Bajur"]
        assert ministry.list_villages({"name": "b", "region": "52.02"})["total"] == 0
        assert ministry.list_villages({"name": "prayas"})["total"] == 0
        for bad in ["", "   ", "x" * 101, 7]:
            with pytest.raises(InvalidInput, match="name"):
                ministry.list_villages({"name": bad})


def test_import_records_good_rows_reports_bad_ones_and_is_idempotent(registration):
    rows = [
        {"line": 2, "code": "52.01.08.2001", "source_document": "BPS", "observed_on": "2024-01-01",
         "poverty_rate": "30", "slum_area": "ya", "bookkeeping_rating": "baik",
         "voter_turnout": "35", "fund_misuse_cases": "0", "pemda_priority": "ya",
         "pemda_decree": "SK 1"},
        {"line": 3, "code": "52.01.08.9999", "source_document": "BPS", "observed_on": "2024-01-01"},
        {"line": 4, "code": "52.01.08.2002", "source_document": "BPS", "observed_on": "2024-01-01",
         "poverty_rate": "130"},
        {"line": 5, "code": "52.01.08.2003", "source_document": "BPS", "observed_on": "2024-01-01",
         "pemda_priority": "ya"},
        {"line": 6, "code": "52.01.08.2004", "source_document": "BPS", "observed_on": "2024-01-01",
         "voter_turnout": "20"},
    ]
    with proxy(registration) as ministry:
        report = ministry.import_rows(rows, "test.csv")
        assert report["recorded"] == 2 and report["unchanged"] == 0
        assert {e["line"] for e in report["errors"]} == {3, 4, 5}
        reasons = {e["line"]: e["reason"] for e in report["errors"]}
        assert "official" in reasons[3] and "poverty_rate" in reasons[4]
        assert "pemda_decree" in reasons[5]
        assert ministry.get_village("52.01.08.2001")["status"] == "eligible"
        assert ministry.get_village("52.01.08.2004")["status"] == "ineligible"
        with pytest.raises(NotFound):
            ministry.get_village("52.01.08.2002")  # nothing of a bad row is recorded

        head = ministry.status()["ledger_head"]
        again = ministry.import_rows(rows, "test.csv")
        assert (again["recorded"], again["unchanged"], len(again["errors"])) == (0, 2, 3)
        assert ministry.status()["ledger_head"] == head


def test_import_errors_name_the_row_of_the_request_as_well_as_its_line(registration):
    # BUG: a system posting rows without a `line` got every error with "line": null,
    # and could not tell which of its rows were refused
    good = {"code": "52.01.08.2001", "source_document": "BPS", "observed_on": "2024-01-01",
            "poverty_rate": "30"}
    rows = [{**good, "poverty_rate": "130"}, good, {**good, "code": "52.01.08.9999"},
            "not a row", {**good, "line": 7, "observed_on": "30/06/2024"},
            # JSON's "\ud800" (half a character): was a 500 for the whole call, in the ledger
            {**good, "code": "52.01.08.2002", "source_document": "BPS \ud800"}]
    with proxy(registration) as ministry:
        report = ministry.import_rows(rows, "sipd")
        assert report["recorded"] == 1
        assert [(e["row"], e["line"], e["reason"].split(":")[0]) for e in report["errors"]] == [
            (0, None, "poverty_rate"), (2, None, "code"), (3, None, "row is not an object"),
            (4, 7, "observed_on"), (5, None, "source_document")]


def evidence(line, poverty=None, turnout=None, document="BPS 2024"):
    """An import row of village NEIGHBOUR with these readings."""
    row = {"line": line, "code": NEIGHBOUR, "source_document": document,
           "observed_on": "2024-01-01"}
    return row | {k: v for k, v in (("poverty_rate", poverty), ("voter_turnout", turnout)) if v}


def current(service, indicator):
    reading = service.get_village(NEIGHBOUR)["indicators"][indicator]
    return reading["value"], reading["source_document"]


def test_a_village_given_twice_in_an_import_ends_with_its_later_row(registration):
    # BUG: each row's idempotency key is the hash of its content, so a row identical to
    # one recorded earlier (line 4 here, the same as line 2) was skipped as "already
    # recorded" and the village kept line 3's 3.00, the value the file corrects
    rows = [evidence(2, poverty="30"), evidence(3, poverty="3"), evidence(4, poverty="30")]
    with proxy(registration) as ministry:
        report = ministry.import_rows(rows, "corrected.csv")
        assert (report["recorded"], report["unchanged"], report["errors"]) == (3, 0, [])
        assert current(ministry, "poverty_rate") == ("30.00", "BPS 2024")

        head = ministry.status()["ledger_head"]
        again = ministry.import_rows(rows, "corrected.csv")   # re-running: nothing new
        assert (again["recorded"], again["unchanged"], again["errors"]) == (0, 3, [])
        assert ministry.status()["ledger_head"] == head


def test_an_import_that_restores_an_earlier_value_records_it(registration):
    # BUG: a district's correction back to the value of an earlier import (same document
    # and date) was answered "already recorded" and the typo stayed the village's value
    with proxy(registration) as ministry:
        assert ministry.import_rows([evidence(2, poverty="30")])["recorded"] == 1
        assert ministry.import_rows([evidence(2, poverty="3")])["recorded"] == 1   # a typo
        report = ministry.import_rows([evidence(2, poverty="30")])
        assert (report["recorded"], report["unchanged"], report["errors"]) == (1, 0, [])
        assert current(ministry, "poverty_rate") == ("30.00", "BPS 2024")
        again = ministry.import_rows([evidence(2, poverty="30")])
        assert (again["recorded"], again["unchanged"]) == (0, 1)


def test_re_running_an_import_of_a_village_s_evidence_from_two_documents_records_nothing(
        registration):
    rows = [evidence(2, poverty="30", turnout="35", document="BPS 2024"),
            evidence(3, poverty="31", document="Survei desa 2024")]
    with proxy(registration) as ministry:
        assert ministry.import_rows(rows)["recorded"] == 2
        head = ministry.status()["ledger_head"]
        again = ministry.import_rows(rows)
        assert (again["recorded"], again["unchanged"], again["errors"]) == (0, 2, [])
        assert ministry.status()["ledger_head"] == head
        assert current(ministry, "poverty_rate") == ("31.00", "Survei desa 2024")
        assert current(ministry, "voter_turnout") == ("35.00", "BPS 2024")


@pytest.mark.parametrize("kabupaten", ["٥٢.٠١", "５２.０１", "52.0١"])
def test_a_quota_for_a_kabupaten_in_other_digits_is_bad_input_and_records_nothing(
        registration, kabupaten):
    with proxy(registration) as ministry:
        head = ministry.status()["ledger_head"]
        with pytest.raises(InvalidInput) as refused:
            ministry.set_quota({"kabupaten": kabupaten, "quota": 2,
                                "decree_reference": "KepMen 7"})
        assert refused.value.field == "kabupaten"
        assert "PP.KK" in refused.value.message
        assert ministry.status()["ledger_head"] == head


@pytest.mark.parametrize("kabupaten", [5201, ["52.01"], "", "52.01 ", "52", "52.01.08",
                                       "٥٢.٠١"])
def test_a_selection_for_what_is_no_kabupaten_code_is_bad_input_naming_it(registration,
                                                                          kabupaten):
    # an RPC caller's 5201 was a traceback (AttributeError in the scope check), and "" or
    # "52.01 " was answered "no quota is set for ..." as if it were a kabupaten
    with proxy(registration) as ministry:
        ministry.set_quota({"kabupaten": "52.01", "quota": 2, "decree_reference": "KepMen 7"})
        head = ministry.status()["ledger_head"]
        with pytest.raises(InvalidInput) as refused:
            ministry.select_villages(kabupaten)
        assert refused.value.field == "kabupaten"
        assert "PP.KK" in refused.value.message
        assert ministry.status()["ledger_head"] == head


def test_a_ranking_of_what_is_no_province_or_kabupaten_code_is_bad_input_naming_it(
        registration):
    with proxy(registration) as ministry:
        assert ministry.ranking("52") == [] and ministry.ranking("52.01") == []
        for region in ("", "5", "52.01.08", "52.01 ", "52.01\n", "٥٢", "52.0١", None, 52,
                       ["52"]):
            with pytest.raises(InvalidInput) as refused:
                ministry.ranking(region)
            assert (refused.value.field, str(refused.value)) == (
                "region", "region: must be a province (PP) or kabupaten/kota (PP.KK) code")


@pytest.mark.parametrize("threshold", ["٢٥", "２٥", " 25"])
def test_a_rule_set_threshold_in_other_digits_is_bad_input_and_records_nothing(
        registration, threshold):
    rule_set = {"id": "plpbk-2027", "criteria": [
        {"criterion": "poverty_rate", "indicator": "poverty_rate", "operator": ">=",
         "threshold": threshold}]}
    with proxy(registration) as ministry:
        head = ministry.status()["ledger_head"]
        with pytest.raises(InvalidInput) as refused:
            ministry.publish_rule_set(rule_set)
        assert refused.value.field == "criteria.0.threshold"
        assert "digits 0-9" in refused.value.message
        assert ministry.status()["ledger_head"] == head


def test_a_call_that_names_no_actor_is_refused_not_run_as_the_platform(registration):
    """Only reactions act as the platform (role system, unrestricted); an RPC caller that
    forgot to say for whom it acts is refused and records nothing."""
    with ServiceRpcProxy("registration", registration) as anonymous:
        head = anonymous.status()["ledger_head"]
        with pytest.raises(Forbidden) as refused:
            anonymous.register_village({"code": BAJUR})
        assert refused.value.field == "actor"
        assert "names no actor" in refused.value.message
        with pytest.raises(Forbidden):
            anonymous.ranking("52.01")
        with pytest.raises(Forbidden):
            anonymous.view_documents("villages")    # whole documents: operators only
        assert anonymous.status()["ledger_head"] == head
    with proxy(registration) as ministry:
        assert ministry.register_village({"code": BAJUR})["status"] == "registered"


def test_a_village_answer_holds_its_fields_not_the_store_s_key(registration):
    with proxy(registration) as ministry:
        village = ministry.register_village({"code": BAJUR})
        assert "_id" not in village and "eligibility" not in village
        assert village["code"] == BAJUR


def test_a_key_another_process_recorded_is_answered_from_its_record(container_factory,
                                                                     platform_config):
    """Two processes of the service (two gateways sent them one Idempotency-Key at once):
    the one that finds the key recorded by the other brings its views up to that record
    before it answers. It answered 404 "not registered" from views that lagged."""
    first, second = (container_factory(RegistrationService, platform_config)
                     for _ in range(2))
    first.start()
    second.start()
    context = {"actor": LOMBOK_BARAT}
    with entrypoint_hook(first, "register_village", context_data=context) as register:
        register({"code": BAJUR}, idempotency_key="register-bajur")
    with entrypoint_hook(second, "register_village", context_data=context) as register:
        assert register({"code": BAJUR}, idempotency_key="register-bajur")["code"] == BAJUR
