"""The registration deciders (services/registration/domain.py), pure: commands decided on
states folded from NewEvents, with no ledger."""
import copy

import pytest

from services.registration import domain, rules
from shared.chassis.errors import CommandRejected, Conflict, InvalidInput, NotFound

from ..streams import Stream

BAJUR = "52.01.08.2006"
OFFICIAL = {"code": BAJUR, "name": "Bajur", "kind": "desa",
            "kecamatan": {"code": "52.01.08", "name": "Labuapi"},
            "kabupaten": {"code": "52.01", "name": "Kabupaten Lombok Barat"},
            "province": {"code": "52", "name": "Nusa Tenggara Barat"}}
SEED = rules.SEED_RULE_SET
SEED_V2 = {**SEED, "version": 2}
GOOD = [
    {"indicator": "bookkeeping_rating", "value": "memadai"},
    {"indicator": "fund_misuse_cases", "value": 0},
    {"indicator": "pemda_priority", "value": {"prioritised": True, "decree_reference": "SK 1"}},
    {"indicator": "poverty_rate", "value": "31.50"},
    {"indicator": "slum_area", "value": {"present": True, "hectares": "12.40"}},
    {"indicator": "voter_turnout", "value": "42.00"},
]


def kotaku(**scores):
    """A KOTAKU reading: every sub-criterion 0 unless given."""
    values = {name: scores.get(name, 0) for name in rules.KOTAKU_SUBCRITERIA}
    total = sum(values.values())
    return {"indicator": "kotaku_slum_score",
            "value": {"scores": values, "total": total, "level": rules.kotaku_level(total)}}


def evidence(readings, source="BPS Lombok Barat 2024", observed_on="2024-06-30",
             rule_set=SEED, correction_reason=None):
    return domain.RecordIndicators(readings, source, observed_on, rule_set, correction_reason)


def with_value(indicator, value, readings=GOOD):
    return [{**r, "value": value} if r["indicator"] == indicator else r for r in readings]


def types(events):
    return [e.type for e in events]


@pytest.fixture
def village():
    stream = Stream(domain.VILLAGE)
    stream.do(domain.RegisterVillage(OFFICIAL))
    return stream


def eligible_village():
    stream = Stream(domain.VILLAGE)
    stream.do(domain.RegisterVillage(OFFICIAL), evidence(GOOD))
    assert stream.state.effective_status == "eligible"
    return stream


def ineligible_village():
    stream = Stream(domain.VILLAGE)
    stream.do(domain.RegisterVillage(OFFICIAL), evidence(with_value("fund_misuse_cases", 2)))
    assert stream.state.effective_status == "ineligible"
    return stream


# -- registration ------------------------------------------------------------------------------

def test_a_village_registers_once():
    stream = Stream(domain.VILLAGE)
    assert stream.state.effective_status == "registered" and not stream.state.registered
    [registered] = stream.do(domain.RegisterVillage(OFFICIAL))
    assert registered.type == "VillageRegistered" and registered.payload == OFFICIAL
    assert stream.state.registered and stream.state.official == OFFICIAL
    assert stream.state.effective_status == "registered"

    with pytest.raises(Conflict) as refused:
        stream.do(domain.RegisterVillage(OFFICIAL))
    assert refused.value.field == "code" and BAJUR in refused.value.message
    assert stream.do(domain.RegisterVillage(OFFICIAL, if_missing=True)) == []
    assert len(stream.events) == 1


def test_if_missing_still_registers_a_new_village():
    stream = Stream(domain.VILLAGE)
    assert types(stream.do(domain.RegisterVillage(OFFICIAL, if_missing=True))) == [
        "VillageRegistered"]


def test_registering_with_a_bkm_records_both():
    bkm = {"name": "BKM Bajur", "formed_on": "2019-03-01",
           "members": [{"name": "Siti", "sex": "P", "role": "koordinator"}]}
    events = Stream(domain.VILLAGE).do(domain.RegisterVillage(OFFICIAL, bkm))
    assert types(events) == ["VillageRegistered", "BkmRecorded"]
    assert events[1].payload["code"] == BAJUR


@pytest.mark.parametrize("command", [
    domain.RecordBkm({"name": "x", "formed_on": "2020-01-01", "members": []}),
    evidence(GOOD), domain.Evaluate(SEED),
    domain.Override(True, "A long enough written justification."),
    domain.Select(1, 1, 1)], ids=lambda c: type(c).__name__)
def test_nothing_is_recorded_for_an_unregistered_village(command):
    with pytest.raises(NotFound) as refused:
        Stream(domain.VILLAGE).do(command)
    assert refused.value.field == "code"


# -- BKM ---------------------------------------------------------------------------------------

def members(women, men):
    return [{"name": f"P{i}", "sex": "P", "role": "anggota"} for i in range(women)] + \
        [{"name": f"L{i}", "sex": "L", "role": "anggota"} for i in range(men)]


@pytest.mark.parametrize("women, men, percent, meets", [
    (3, 7, "30.00", True),     # exactly 30%
    (2, 7, "22.22", False),
    (2, 5, "28.57", False),    # 2 of 7, just below
    (1, 2, "33.33", True),
    (29, 71, "29.00", False),
    (31, 69, "31.00", True),
    (0, 4, "0.00", False),
    (5, 0, "100.00", True),
])
def test_bkm_women_share_and_the_30_percent_flag(village, women, men, percent, meets):
    bkm = {"name": "BKM Bajur", "formed_on": "2019-03-01", "members": members(women, men)}
    [recorded] = village.do(domain.RecordBkm(bkm))
    assert recorded.type == "BkmRecorded"
    payload = recorded.payload
    assert (payload["member_count"], payload["women_count"]) == (women + men, women)
    assert payload["women_percent"] == percent
    assert payload["meets_women_quota"] is meets
    assert village.state.bkm == payload


def test_a_bkm_below_the_women_quota_is_flagged_not_refused(village):
    bkm = {"name": "BKM", "formed_on": "2019-03-01", "members": members(1, 9)}
    [recorded] = village.do(domain.RecordBkm(bkm))
    assert recorded.payload["meets_women_quota"] is False
    assert village.state.bkm["name"] == "BKM"


def test_the_same_bkm_sent_again_records_nothing(village):
    # PUT /bkm sent twice (a double click, a retry without a key) recorded the BKM twice
    bkm = {"name": "BKM Bajur", "formed_on": "2019-03-01", "members": members(2, 3)}
    [recorded] = village.do(domain.RecordBkm(bkm))
    assert village.do(domain.RecordBkm(copy.deepcopy(bkm))) == []
    changed = {**bkm, "members": members(3, 3)}
    [again] = village.do(domain.RecordBkm(changed))
    assert again.payload["member_count"] == 6 and village.state.bkm == again.payload
    assert village.do(domain.RecordBkm(bkm))[0].payload == recorded.payload  # back is new


# -- evidence ----------------------------------------------------------------------------------

def test_first_evidence_is_recorded_with_units_and_decides(village):
    recorded, decided = village.do(evidence(GOOD))
    assert (recorded.type, decided.type) == ("IndicatorsRecorded", "EligibilityDecided")
    assert recorded.payload["code"] == BAJUR
    assert recorded.payload["source_document"] == "BPS Lombok Barat 2024"
    assert recorded.payload["observed_on"] == "2024-06-30"
    assert "correction_reason" not in recorded.payload
    units = {r["indicator"]: r["unit"] for r in recorded.payload["readings"]}
    assert units == {"bookkeeping_rating": "rating", "fund_misuse_cases": "cases",
                     "pemda_priority": "decree", "poverty_rate": "%", "slum_area": "ha",
                     "voter_turnout": "%"}
    assert all(r["supersedes"] is None for r in recorded.payload["readings"])

    decision = decided.payload
    assert (decision["status"], decision["eligible"], decision["trigger"]) == (
        "eligible", True, "evidence")
    assert decision["rule_set"] == {"id": "plpbk-seed", "version": 1}
    assert decision["score"] == "24.15"
    # each criterion names the evidence event recorded together with the decision
    assert {c["evidence"] for c in decision["criteria"]} == {recorded.event_id}
    assert village.state.readings["poverty_rate"]["event_id"] == recorded.event_id
    assert village.state.decision["event_id"] == decided.event_id


def test_a_correction_supersedes_the_earlier_reading(village):
    [first, _] = village.do(evidence(GOOD))
    recorded, decided = village.do(evidence(
        [{"indicator": "voter_turnout", "value": "29.99"}], source="Berita acara pemilu",
        observed_on="2024-07-01", correction_reason="recount"))
    [reading] = recorded.payload["readings"]
    assert reading == {"indicator": "voter_turnout", "value": "29.99", "unit": "%",
                       "supersedes": first.event_id}
    assert recorded.payload["correction_reason"] == "recount"
    assert decided.payload["status"] == "ineligible"
    turnout = next(c for c in decided.payload["criteria"] if c["criterion"] == "voter_turnout")
    assert (turnout["result"], turnout["value"], turnout["evidence"]) == (
        "fail", "29.99", recorded.event_id)
    poverty = next(c for c in decided.payload["criteria"] if c["criterion"] == "poverty_rate")
    assert poverty["evidence"] == first.event_id   # the untouched reading stays
    # the original stays in the stream: nothing is edited
    assert first.payload["readings"][-1]["value"] == "42.00"


def test_the_same_evidence_again_records_nothing(village):
    village.do(evidence(GOOD))
    assert village.do(evidence(GOOD)) == []
    assert village.do(evidence(GOOD[:2])) == []   # a subset, all unchanged


def test_the_same_value_from_another_document_is_new_evidence(village):
    village.do(evidence(GOOD))
    assert types(village.do(evidence(GOOD, source="Survei ulang 2024"))) == [
        "IndicatorsRecorded", "EligibilityDecided"]
    assert types(village.do(evidence(GOOD, source="Survei ulang 2024",
                                     observed_on="2024-08-01"))) == [
        "IndicatorsRecorded", "EligibilityDecided"]


def test_an_import_row_recorded_before_is_recorded_again_only_where_it_is_not_current(village):
    row = GOOD[3:5]   # poverty_rate and slum_area from one document
    village.do(evidence(row))
    village.do(evidence(with_value("poverty_rate", "3.00", row)))   # a typo, corrected below

    def again(unless_current):
        return domain.RecordIndicators(row, "BPS Lombok Barat 2024", "2024-06-30", SEED,
                                       unless_current=frozenset(unless_current))

    # later rows of the import give poverty_rate: the current value is theirs to say
    assert village.do(again({"slum_area"})) == []
    assert village.do(again(set())) == []
    # the row is the last word on poverty_rate, which is not what it says: recorded
    assert types(village.do(again({"poverty_rate"}))) == ["IndicatorsRecorded",
                                                          "EligibilityDecided"]
    assert village.state.readings["poverty_rate"]["value"] == "31.50"
    assert village.do(again({"poverty_rate", "slum_area"})) == []


def test_an_import_row_run_again_never_takes_back_newer_evidence_of_another_document(village):
    """Running last year's file again after this year's evidence was recorded (from
    another document or day) leaves this year's current: only a value of the row's own
    document and day (a typo of that reading) is put back. Before, the old file's values
    were recorded again over the newer evidence."""
    row = GOOD[3:5]
    village.do(evidence(row))
    village.do(evidence(with_value("poverty_rate", "22.00", row), "BPS 2025", "2025-06-30"))
    again = domain.RecordIndicators(row, "BPS Lombok Barat 2024", "2024-06-30", SEED,
                                    unless_current=frozenset({"poverty_rate", "slum_area"}))
    assert village.do(again) == []
    assert village.state.readings["poverty_rate"]["value"] == "22.00"


def test_partial_evidence_is_incomplete_then_eligible(village):
    [_, decided] = village.do(evidence(GOOD[:1]))
    assert decided.payload["status"] == "incomplete" and decided.payload["eligible"] is False
    [_, decided] = village.do(evidence(GOOD[1:]))
    assert decided.payload["status"] == "eligible"


# -- decisions ---------------------------------------------------------------------------------

def test_evidence_that_changes_nothing_in_the_decision_records_no_decision(village):
    village.do(evidence(GOOD))
    # KOTAKU is not a criterion but is in the score: a new total re-decides ...
    recorded, decided = village.do(evidence([kotaku(genangan=5, ketersediaan_drainase=5)],
                                            source="KOTAKU 2024"))
    assert decided.payload["score"] == "27.90"   # 24.15 + 0.3 x (10 / 80 x 100)
    # ... the same total from other sub-criteria changes no criterion and no score
    assert types(village.do(evidence([kotaku(sistem_air_limbah=5, prasarana_air_limbah=5)],
                                     source="KOTAKU 2025"))) == ["IndicatorsRecorded"]
    assert village.state.decision["event_id"] == decided.event_id


def test_a_request_records_a_decision_only_when_there_is_none_or_something_changed(village):
    [decided] = village.do(domain.Evaluate(SEED))
    assert decided.payload["trigger"] == "request"
    village.do(evidence(GOOD))
    assert village.do(domain.Evaluate(SEED, "request")) == []  # nothing changed


def test_a_request_that_changes_nothing_cannot_undo_an_override(village):
    village.do(evidence([r if r["indicator"] != "fund_misuse_cases" else
                         {"indicator": "fund_misuse_cases", "value": 1} for r in GOOD]))
    village.do(domain.Override(True, "The case was settled in court in March 2024."))
    assert village.state.effective_status == "eligible"
    assert village.do(domain.Evaluate(SEED, "request")) == []
    assert village.state.effective_status == "eligible"


def test_a_request_without_any_evidence_decides_incomplete(village):
    [decided] = village.do(domain.Evaluate(SEED))
    assert decided.payload["status"] == "incomplete"
    assert decided.payload["score"] == "0.00"
    assert all(c["result"] == "missing" for c in decided.payload["criteria"])


def test_a_new_rule_set_version_re_decides_the_same_one_does_not(village):
    village.do(evidence(GOOD))
    assert village.do(domain.Evaluate(SEED, "rule_set")) == []
    [decided] = village.do(domain.Evaluate(SEED_V2, "rule_set"))
    assert decided.payload["rule_set"] == {"id": "plpbk-seed", "version": 2}
    assert decided.payload["trigger"] == "rule_set"
    assert village.do(domain.Evaluate(SEED_V2, "rule_set")) == []

    stricter = copy.deepcopy(SEED)
    stricter["version"] = 3
    stricter["criteria"][0]["threshold"] = "35"
    [decided] = village.do(domain.Evaluate(stricter, "rule_set"))
    assert decided.payload["status"] == "ineligible"
    poverty = decided.payload["criteria"][0]
    assert (poverty["result"], poverty["value"], poverty["threshold"]) == ("fail", "31.50", "35")


# -- overrides ---------------------------------------------------------------------------------

JUSTIFICATION = "Both cases were settled in court in 2024."


def test_an_override_needs_a_decision(village):
    with pytest.raises(CommandRejected) as refused:
        village.do(domain.Override(True, JUSTIFICATION))
    assert "no eligibility decision" in refused.value.message


def test_an_override_flips_the_effective_status_and_keeps_the_original():
    stream = ineligible_village()
    decision_id = stream.state.decision["event_id"]
    [overridden] = stream.do(domain.Override(True, JUSTIFICATION))
    assert overridden.type == "EligibilityOverridden"
    assert overridden.payload == {"code": BAJUR, "eligible": True, "justification": JUSTIFICATION,
                                  "overrides": decision_id, "original_status": "ineligible"}
    state = stream.state
    assert state.effective_status == "eligible"
    assert state.decision["status"] == "ineligible" and state.decision["event_id"] == decision_id

    with pytest.raises(CommandRejected) as refused:
        stream.do(domain.Override(True, JUSTIFICATION))
    assert refused.value.field == "eligible" and "already eligible" in refused.value.message
    [back] = stream.do(domain.Override(False, "On reflection the cases are not settled."))
    assert back.payload["overrides"] == decision_id
    assert stream.state.effective_status == "ineligible"


def test_an_override_to_the_current_status_is_refused():
    with pytest.raises(CommandRejected, match="already eligible"):
        eligible_village().do(domain.Override(True, JUSTIFICATION))
    with pytest.raises(CommandRejected, match="already not eligible"):
        ineligible_village().do(domain.Override(False, JUSTIFICATION))


def test_an_incomplete_village_can_be_overridden_to_eligible(village):
    village.do(evidence(GOOD[:2]))
    assert village.state.effective_status == "incomplete"
    village.do(domain.Override(True, JUSTIFICATION))
    assert village.state.effective_status == "eligible"


def test_a_later_decision_supersedes_the_override():
    stream = ineligible_village()
    stream.do(domain.Override(True, JUSTIFICATION))
    [_, decided] = stream.do(evidence(with_value("fund_misuse_cases", 3), source="Inspektorat"))
    assert decided.payload["status"] == "ineligible"
    assert stream.state.effective_status == "ineligible"
    assert stream.state.override["overrides"] != decided.event_id


def test_no_override_once_selected():
    stream = eligible_village()
    stream.do(domain.Select(1, 2, 1))
    with pytest.raises(Conflict, match="already selected"):
        stream.do(domain.Override(False, JUSTIFICATION))


# -- selection ---------------------------------------------------------------------------------

def test_only_an_eligible_village_is_selected_and_only_once():
    stream = eligible_village()
    [selected] = stream.do(domain.Select(rank=3, quota=5, selection_round=2))
    assert selected.type == "VillageSelected"
    assert selected.payload == {
        "code": BAJUR, "name": "Bajur", "kabupaten": OFFICIAL["kabupaten"],
        "province": OFFICIAL["province"], "rank": 3, "quota": 5, "score": "24.15",
        "selection_round": 2}
    assert stream.state.selected == selected.payload
    with pytest.raises(Conflict, match="already selected"):
        stream.do(domain.Select(1, 5, 3))


def test_an_ineligible_incomplete_or_undecided_village_is_not_selected(village):
    with pytest.raises(CommandRejected, match="not eligible"):
        village.do(domain.Select(1, 1, 1))                     # no decision yet
    village.do(evidence(GOOD[:3]))
    with pytest.raises(CommandRejected, match="not eligible"):
        village.do(domain.Select(1, 1, 1))                     # incomplete
    with pytest.raises(CommandRejected, match="not eligible"):
        ineligible_village().do(domain.Select(1, 1, 1))


def test_an_override_to_eligible_makes_a_village_selectable():
    stream = ineligible_village()
    stream.do(domain.Override(True, JUSTIFICATION))
    assert types(stream.do(domain.Select(1, 1, 1))) == ["VillageSelected"]


# -- quotas ------------------------------------------------------------------------------------

LOMBOK_BARAT = {"code": "52.01", "name": "Kabupaten Lombok Barat"}


def labuapi(letter):
    """Villages a, b, c, d of Kecamatan Labuapi (a selection names real codes)."""
    return f"52.01.08.200{'abcd'.index(letter) + 1}"


def chosen(*letters):
    return [{"code": labuapi(letter), "rank": rank, "score": "50.00"}
            for rank, letter in enumerate(letters, start=1)]


def test_a_round_needs_a_quota():
    with pytest.raises(NotFound) as refused:
        Stream(domain.QUOTA).do(domain.RecordSelectionRound(chosen("a")))
    assert refused.value.field == "kabupaten"


def test_selection_rounds_under_a_quota():
    stream = Stream(domain.QUOTA)
    [quota_set] = stream.do(domain.SetQuota(LOMBOK_BARAT, 2, "KepMen 7"))
    assert quota_set.payload == {"kabupaten": LOMBOK_BARAT, "quota": 2,
                                 "decree_reference": "KepMen 7"}

    with pytest.raises(Conflict, match="would exceed its quota"):
        stream.do(domain.RecordSelectionRound(chosen("a", "b", "c")))
    [first] = stream.do(domain.RecordSelectionRound(chosen("a")))
    assert first.payload == {"kabupaten": LOMBOK_BARAT, "round": 1, "quota": 2,
                             "selected": chosen("a")}
    with pytest.raises(Conflict, match="would exceed its quota"):
        stream.do(domain.RecordSelectionRound(chosen("b", "c")))
    [second] = stream.do(domain.RecordSelectionRound(chosen("b")))
    assert second.payload["round"] == 2
    assert stream.state.selected == [labuapi("a"), labuapi("b")]
    assert stream.state.rounds == 2
    with pytest.raises(Conflict):
        stream.do(domain.RecordSelectionRound(chosen("c")))   # full
    assert stream.do(domain.RecordSelectionRound([])) == []     # nothing chosen, nothing recorded


def test_a_round_over_the_quota_names_no_field_and_says_what_to_do():
    """POST /selections has no field `quota`: a round over the quota is about the state
    (another selection came first), so the refusal names no field and says what to do."""
    stream = Stream(domain.QUOTA)
    stream.do(domain.SetQuota(LOMBOK_BARAT, 2, "KepMen 7"),
              domain.RecordSelectionRound(chosen("a")))
    with pytest.raises(Conflict) as refused:
        stream.do(domain.RecordSelectionRound(chosen("b", "c")))
    assert refused.value.field is None
    assert refused.value.message == (
        "52.01 (Kabupaten Lombok Barat) may select 2 villages in all and has selected 1: "
        "2 more would exceed its quota (another selection was recorded meanwhile); nothing "
        "was recorded: select again to choose within what is left, or set a higher quota "
        "first")
    assert [e.type for e in stream.events] == ["QuotaSet", "SelectionRoundRecorded"]


def test_a_quota_cannot_be_lowered_below_the_selected_count():
    stream = Stream(domain.QUOTA)
    stream.do(domain.SetQuota(LOMBOK_BARAT, 3, "KepMen 7"),
              domain.RecordSelectionRound(chosen("a", "b")))
    with pytest.raises(CommandRejected) as refused:
        stream.do(domain.SetQuota(LOMBOK_BARAT, 1, "KepMen 8"))
    assert refused.value.field == "quota" and "cannot be lower" in refused.value.message
    stream.do(domain.SetQuota(LOMBOK_BARAT, 2, "KepMen 9"))     # equal to the count: fine
    assert stream.state.quota == 2
    with pytest.raises(Conflict):
        stream.do(domain.RecordSelectionRound(chosen("c")))
    stream.do(domain.SetQuota(LOMBOK_BARAT, 4, "KepMen 10"))
    [third] = stream.do(domain.RecordSelectionRound(chosen("c", "d")))
    assert (third.payload["round"], third.payload["quota"]) == (2, 4)


def test_a_zero_quota_takes_nobody():
    stream = Stream(domain.QUOTA)
    stream.do(domain.SetQuota(LOMBOK_BARAT, 0, "KepMen 7"))
    with pytest.raises(Conflict):
        stream.do(domain.RecordSelectionRound(chosen("a")))


# -- rank and choose ---------------------------------------------------------------------------

def test_rank_by_score_descending_ties_by_code():
    villages = [{"code": "52.01.08.2003", "score": "50.00"},
                {"code": "52.01.08.2001", "score": "50.00"},
                {"code": "52.01.08.2002", "score": "9.50"},
                {"code": "52.01.08.2004", "score": "10.00"},   # numerically, not as text
                {"code": "52.01.08.2005", "score": "60.10"}]
    assert [v["code"] for v in domain.rank(villages)] == [
        "52.01.08.2005", "52.01.08.2001", "52.01.08.2003", "52.01.08.2004", "52.01.08.2002"]


def test_choose_the_best_not_yet_selected_with_their_rank_in_the_whole_ranking():
    eligible = [{"code": "a", "score": "90.00"}, {"code": "b", "score": "80.00"},
                {"code": "c", "score": "70.00"}, {"code": "d", "score": "70.00"},
                {"code": "e", "score": "10.00"}]
    assert domain.choose(eligible, 2, set()) == [
        {"code": "a", "rank": 1, "score": "90.00"}, {"code": "b", "rank": 2, "score": "80.00"}]
    # a and b already selected: the next two keep ranks 3 and 4
    assert domain.choose(eligible, 4, {"a", "b"}) == [
        {"code": "c", "rank": 3, "score": "70.00"}, {"code": "d", "rank": 4, "score": "70.00"}]
    # a selected earlier, b is not: b (rank 2) comes before c
    assert [c["code"] for c in domain.choose(eligible, 3, {"a"})] == ["b", "c"]
    assert domain.choose(eligible, 2, {"a", "b"}) == []          # the quota is full
    assert domain.choose(eligible, 1, {"a", "b"}) == []          # lowered below: no room
    assert len(domain.choose(eligible, 10, set())) == 5           # fewer eligible than room
    assert domain.choose([], 3, set()) == []


def test_choose_leaves_out_villages_whose_record_refused_and_moves_the_next_ones_up():
    """The ranking is a view that can lag the ledger: a village it lists that its own
    record refuses is passed over, and the next ranked take its place and its rank."""
    eligible = [{"code": "a", "score": "90.00"}, {"code": "b", "score": "80.00"},
                {"code": "c", "score": "70.00"}, {"code": "d", "score": "60.00"}]
    assert domain.choose(eligible, 2, set(), {"a": "not eligible"}) == [
        {"code": "b", "rank": 1, "score": "80.00"}, {"code": "c", "rank": 2, "score": "70.00"}]
    # a selected earlier keeps its rank 1; b passed over: c and d are ranks 2 and 3
    assert domain.choose(eligible, 3, {"a"}, {"b": "not eligible"}) == [
        {"code": "c", "rank": 2, "score": "70.00"}, {"code": "d", "rank": 3, "score": "60.00"}]
    assert domain.choose(eligible, 3, set(), {"a", "b", "c"}) == [
        {"code": "d", "rank": 1, "score": "60.00"}]          # fewer left than the quota
    assert domain.choose(eligible, 2, set(), {"a", "b", "c", "d"}) == []


def quota_state(quota, *selected):
    return domain.Quota(quota=quota, kabupaten=LOMBOK_BARAT, selected=list(selected),
                        rounds=1 if selected else 0)


def test_a_round_that_fills_its_quota_leaves_nothing_open():
    assert domain.unfilled(quota_state(2), chosen("a", "b"), {}) is None
    assert domain.unfilled(quota_state(2, "a"), chosen("b"), {"c": "not eligible"}) is None
    assert domain.unfilled(quota_state(2, "a", "b"), [], {}) is None     # full before
    assert domain.unfilled(quota_state(0), [], {}) is None
    assert domain.unfilled(domain.Quota(), [], {}) is None               # no quota


def test_a_round_short_of_eligible_villages_says_what_stays_open_and_why():
    open_ = domain.unfilled(quota_state(3, "a"), chosen("b"),
                            {"d": "village d is not eligible", "c": "village c was already "
                             "selected"})
    assert open_ == {
        "quota": 3, "selected": 2, "open": 1,
        "passed_over": [{"code": "c", "reason": "village c was already selected"},
                        {"code": "d", "reason": "village d is not eligible"}],
        "message": (
            "52.01 (Kabupaten Lombok Barat) may select 3 villages and has selected 2: 1 place "
            "stays open because the ranking lists no other village that its own record shows "
            "eligible (passed over 2 that the ranking still lists: their own records refuse "
            "selection); select again later: villages decided eligible meanwhile are chosen "
            "then")}
    nothing = domain.unfilled(quota_state(2), [], {})
    assert (nothing["selected"], nothing["open"], nothing["passed_over"]) == (0, 2, [])
    assert "2 places stay open because the ranking lists no other village that its own " \
        "record shows eligible; select again later" in nothing["message"]


# -- rule sets ---------------------------------------------------------------------------------

def seed_without_version():
    return {k: v for k, v in copy.deepcopy(SEED).items() if k != "version"}


def test_publishing_a_rule_set_increments_its_version():
    stream = Stream(domain.RULE_SET)
    [first] = stream.do(domain.PublishRuleSet(seed_without_version()))
    assert first.type == "RuleSetPublished" and first.payload["version"] == 1
    assert first.payload["criteria"] == SEED["criteria"]
    assert stream.do(domain.PublishRuleSet(seed_without_version())) == []   # identical
    assert stream.do(domain.PublishRuleSet({**seed_without_version(), "version": 9})) == []

    changed = seed_without_version()
    changed["criteria"][0]["threshold"] = "30"
    [second] = stream.do(domain.PublishRuleSet(changed))
    assert second.payload["version"] == 2
    assert stream.state["criteria"][0]["threshold"] == "30"
    # going back to the first content is a new version, not a return to version 1
    [third] = stream.do(domain.PublishRuleSet(seed_without_version()))
    assert third.payload["version"] == 3


def test_an_invalid_rule_set_is_refused_naming_the_problem():
    bad = seed_without_version()
    bad["criteria"][2]["threshold"] = "cukup"
    bad["criteria"][4]["indicator"] = "income"
    stream = Stream(domain.RULE_SET)
    with pytest.raises(InvalidInput) as refused:
        stream.do(domain.PublishRuleSet(bad))
    # named as the request names them (criteria.N.x), the first one as the field
    assert refused.value.field == "criteria.2.threshold"
    assert refused.value.message == ("criteria.2.threshold: not on the scale; "
                                     "criteria.4.indicator: unknown indicator 'income'")
    assert stream.events == []

