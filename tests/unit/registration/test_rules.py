"""The eligibility rules (services/registration/rules.py), pure: the seed rule set at,
just below and just above every threshold, missing evidence, rule-set checks, the
priority score and the KOTAKU levels."""
import copy

import pytest

from services.registration import rules

SEED = rules.SEED_RULE_SET
CRITERIA = ["poverty_rate", "dense_slum_poor_area", "bookkeeping", "voter_turnout",
            "no_unresolved_misuse", "pemda_priority"]

# Evidence that passes every seed criterion, as the domain keeps it (values as recorded).
GOOD = {
    "poverty_rate": "31.50",
    "slum_area": {"present": True, "hectares": "12.40"},
    "bookkeeping_rating": "memadai",
    "voter_turnout": "42.00",
    "fund_misuse_cases": 0,
    "pemda_priority": {"prioritised": True, "decree_reference": "SK Bupati 050/12/2024"},
}


def readings(**changes):
    """The current readings: GOOD with changes; a change to None drops the indicator."""
    values = {**GOOD, **changes}
    return {name: {"value": value, "event_id": f"event-{name}"}
            for name, value in values.items() if value is not None}


def criterion(results, name):
    [found] = [c for c in results if c["criterion"] == name]
    return found


def test_the_seed_rule_set_is_valid_and_covers_the_five_seed_priorities():
    assert rules.check_rule_set(SEED) == []
    assert [c["criterion"] for c in SEED["criteria"]] == CRITERIA
    assert (SEED["id"], SEED["version"]) == ("plpbk-seed", 1)


def test_good_evidence_passes_every_criterion_in_rule_set_order():
    results = rules.evaluate(SEED, readings())
    assert [c["criterion"] for c in results] == CRITERIA
    assert [c["result"] for c in results] == ["pass"] * 6
    assert rules.status_of(results) == "eligible"


# -- every criterion at its threshold, just below and just above ------------------------

THRESHOLDS = [
    # (criterion, indicator, value, expected result)
    ("poverty_rate", "poverty_rate", "24.99", "fail"),
    ("poverty_rate", "poverty_rate", "25", "pass"),
    ("poverty_rate", "poverty_rate", "25.00", "pass"),
    ("poverty_rate", "poverty_rate", "25.01", "pass"),
    ("poverty_rate", "poverty_rate", "0.00", "fail"),
    ("poverty_rate", "poverty_rate", "100.00", "pass"),
    ("voter_turnout", "voter_turnout", "29.99", "fail"),
    ("voter_turnout", "voter_turnout", "30", "pass"),
    ("voter_turnout", "voter_turnout", "30.00", "pass"),
    ("voter_turnout", "voter_turnout", "30.01", "pass"),
    ("bookkeeping", "bookkeeping_rating", "tidak_memadai", "fail"),
    ("bookkeeping", "bookkeeping_rating", "memadai", "pass"),
    ("bookkeeping", "bookkeeping_rating", "baik", "pass"),
    ("bookkeeping", "bookkeeping_rating", "cukup", "fail"),        # not on the scale
    ("no_unresolved_misuse", "fund_misuse_cases", 0, "pass"),
    ("no_unresolved_misuse", "fund_misuse_cases", 1, "fail"),
    ("no_unresolved_misuse", "fund_misuse_cases", 7, "fail"),
    ("dense_slum_poor_area", "slum_area", {"present": False, "hectares": "0.00"}, "fail"),
    ("dense_slum_poor_area", "slum_area", {"present": True, "hectares": "0.00"}, "pass"),
    ("pemda_priority", "pemda_priority", {"prioritised": False, "decree_reference": None},
     "fail"),
    ("pemda_priority", "pemda_priority", {"prioritised": True, "decree_reference": "SK 1"},
     "pass"),
]


@pytest.mark.parametrize("name, indicator, value, expected", THRESHOLDS,
                         ids=[f"{t[0]}={t[2]!r}" for t in THRESHOLDS])
def test_each_criterion_at_below_and_above_its_threshold(name, indicator, value, expected):
    results = rules.evaluate(SEED, readings(**{indicator: value}))
    assert criterion(results, name)["result"] == expected
    others = [c["result"] for c in results if c["criterion"] != name]
    assert others == ["pass"] * 5
    assert rules.status_of(results) == ("eligible" if expected == "pass" else "ineligible")


def test_each_result_reports_value_operator_threshold_and_evidence_event():
    results = rules.evaluate(SEED, readings(poverty_rate="24.99"))
    assert criterion(results, "poverty_rate") == {
        "criterion": "poverty_rate", "result": "fail", "value": "24.99", "operator": ">=",
        "threshold": "25", "evidence": "event-poverty_rate"}
    assert criterion(results, "voter_turnout") == {
        "criterion": "voter_turnout", "result": "pass", "value": "42.00", "operator": ">=",
        "threshold": "30", "evidence": "event-voter_turnout"}
    assert criterion(results, "bookkeeping") == {
        "criterion": "bookkeeping", "result": "pass", "value": "memadai",
        "operator": "at_least", "threshold": "memadai", "evidence": "event-bookkeeping_rating"}
    assert criterion(results, "no_unresolved_misuse") == {
        "criterion": "no_unresolved_misuse", "result": "pass", "value": 0, "operator": "==",
        "threshold": 0, "evidence": "event-fund_misuse_cases"}


def test_a_criterion_on_a_field_reports_the_fields_value_not_the_whole_reading():
    results = rules.evaluate(SEED, readings())
    slum = criterion(results, "dense_slum_poor_area")
    assert (slum["value"], slum["threshold"], slum["evidence"]) == (True, True, "event-slum_area")
    pemda = criterion(results, "pemda_priority")
    assert (pemda["value"], pemda["evidence"]) == (True, "event-pemda_priority")


# -- missing evidence ----------------------------------------------------------------------

@pytest.mark.parametrize("indicator, name", [
    ("poverty_rate", "poverty_rate"), ("slum_area", "dense_slum_poor_area"),
    ("bookkeeping_rating", "bookkeeping"), ("voter_turnout", "voter_turnout"),
    ("fund_misuse_cases", "no_unresolved_misuse"), ("pemda_priority", "pemda_priority")])
def test_missing_evidence_is_missing_and_makes_the_village_incomplete(indicator, name):
    results = rules.evaluate(SEED, readings(**{indicator: None}))
    missing = criterion(results, name)
    assert (missing["result"], missing["value"], missing["evidence"]) == ("missing", None, None)
    assert missing["threshold"] == next(c["threshold"] for c in SEED["criteria"]
                                        if c["criterion"] == name)
    assert rules.status_of(results) == "incomplete"


def test_no_evidence_at_all_is_incomplete_with_every_criterion_missing():
    results = rules.evaluate(SEED, {})
    assert [c["result"] for c in results] == ["missing"] * 6
    assert rules.status_of(results) == "incomplete"


def test_a_reading_without_the_criterions_field_is_missing():
    results = rules.evaluate(SEED, readings(slum_area={"hectares": "3.00"}))
    assert criterion(results, "dense_slum_poor_area")["result"] == "missing"
    assert rules.status_of(results) == "incomplete"


def test_a_failure_outweighs_missing_evidence():
    results = rules.evaluate(SEED, readings(poverty_rate=None, voter_turnout="29.99"))
    assert criterion(results, "poverty_rate")["result"] == "missing"
    assert criterion(results, "voter_turnout")["result"] == "fail"
    assert rules.status_of(results) == "ineligible"


@pytest.mark.parametrize("outcomes, status", [
    (["pass", "pass"], "eligible"),
    (["pass", "fail"], "ineligible"),
    (["fail", "missing"], "ineligible"),
    (["pass", "missing"], "incomplete"),
    (["missing"], "incomplete"),
])
def test_status_of(outcomes, status):
    assert rules.status_of([{"criterion": f"c{i}", "result": r}
                            for i, r in enumerate(outcomes)]) == status


# -- other operators and scales (rule sets are data) ---------------------------------------

def test_at_most_operator_and_a_custom_rating_scale():
    rule_set = {"id": "custom", "version": 1, "criteria": [
        {"criterion": "few_cases", "indicator": "fund_misuse_cases", "operator": "<=",
         "threshold": 2},
        {"criterion": "good_books", "indicator": "bookkeeping_rating", "operator": "at_least",
         "threshold": "b", "scale": ["a", "b", "c"]}]}
    assert rules.check_rule_set(rule_set) == []

    def results(cases, rating):
        found = rules.evaluate(rule_set, {
            "fund_misuse_cases": {"value": cases, "event_id": "e1"},
            "bookkeeping_rating": {"value": rating, "event_id": "e2"}})
        return [c["result"] for c in found]

    assert results(2, "b") == ["pass", "pass"]
    assert results(3, "c") == ["fail", "pass"]
    assert results(1, "a") == ["pass", "fail"]
    assert results(0, "memadai") == ["pass", "fail"]  # not on this rule set's scale


def test_a_non_numeric_value_fails_a_numeric_criterion_without_crashing():
    results = rules.evaluate(SEED, readings(poverty_rate="banyak", fund_misuse_cases="nol"))
    assert criterion(results, "poverty_rate")["result"] == "fail"
    assert criterion(results, "no_unresolved_misuse")["result"] == "fail"


def test_a_boolean_is_not_the_number_zero_or_one():
    # True == 1 in Python; an `== 0` criterion must not let False (== 0) pass.
    results = rules.evaluate(SEED, readings(fund_misuse_cases=False))
    assert criterion(results, "no_unresolved_misuse")["result"] == "fail"


# -- check_rule_set --------------------------------------------------------------------------

def seed_with(index, **changes):
    rule_set = copy.deepcopy(SEED)
    rule_set["criteria"][index].update(changes)
    return rule_set


def test_check_rule_set_names_an_unknown_indicator():
    assert rules.check_rule_set(seed_with(0, indicator="income")) == [
        ("criteria.0.indicator", "unknown indicator 'income'")]


def test_check_rule_set_names_a_bad_operator():
    [(field, problem)] = rules.check_rule_set(seed_with(3, operator=">"))
    assert field == "criteria.3.operator" and problem.startswith("must be one of")
    assert ">=" in problem and "at_least" in problem


def test_check_rule_set_names_a_duplicate_criterion():
    assert rules.check_rule_set(seed_with(3, criterion="poverty_rate")) == [
        ("criteria.3.criterion", "'poverty_rate' appears twice")]


@pytest.mark.parametrize("threshold", ["cukup", "Memadai", None, 1])
def test_check_rule_set_names_a_threshold_not_on_the_scale(threshold):
    assert rules.check_rule_set(seed_with(2, threshold=threshold)) == [
        ("criteria.2.threshold", "not on the scale")]


def test_check_rule_set_accepts_a_threshold_on_a_custom_scale_only():
    assert rules.check_rule_set(seed_with(2, scale=["buruk", "cukup"], threshold="cukup")) == []
    assert rules.check_rule_set(seed_with(2, scale=["buruk", "cukup"], threshold="memadai")) == [
        ("criteria.2.threshold", "not on the scale")]


def test_check_rule_set_needs_criteria_and_reports_every_problem():
    assert rules.check_rule_set({"id": "x", "criteria": []}) == [
        ("criteria", "at least one criterion is needed")]
    assert rules.check_rule_set({"id": "x"}) == [("criteria", "at least one criterion is needed")]
    rule_set = {"id": "x", "criteria": [
        {"criterion": "a", "indicator": "income", "operator": ">=", "threshold": "1"},
        {"criterion": "a", "indicator": "poverty_rate", "operator": "~", "threshold": "1"}]}
    assert rules.check_rule_set(rule_set) == [
        ("criteria.0.indicator", "unknown indicator 'income'"),
        ("criteria.1.criterion", "'a' appears twice"),
        ("criteria.1.operator", "must be one of >=, <=, ==, at_least")]


@pytest.mark.parametrize("threshold", ["tiga puluh", None, True, "NaN", "Infinity", "1e999",
                                       "-inf", 25.5])
def test_check_rule_set_names_a_non_numeric_threshold_of_a_comparison(threshold):
    # BUG: `>=`/`<=` compare numbers; a non-numeric threshold is accepted for publication
    # and then silently fails every village that has evidence.
    problems = rules.check_rule_set(seed_with(3, threshold=threshold))
    assert problems and problems[0][0] == "criteria.3.threshold"


# Decimal() reads all of these as 25 (or 2.5, 25.5): '٢٥' (Arabic-Indic), '２５' (full-width),
# '२५' (Devanagari), ' 25' and '+25'; '2_5' as 25. A threshold is written plainly.
NOT_PLAIN = ["٢٥", "２５", "२५", "2٥", "2٥.5", "25.٥", " 25", "25 ", "25\n", "+25", "2_5", "2.5e1",
             "25.", ".5"]


@pytest.mark.parametrize("threshold", NOT_PLAIN + ["1" * 16, "25.1234567"])
@pytest.mark.parametrize("operator", [">=", "<="])
def test_check_rule_set_names_a_comparison_threshold_not_in_plain_ascii_digits(threshold,
                                                                               operator):
    [(field, problem)] = rules.check_rule_set(seed_with(3, threshold=threshold,
                                                        operator=operator))
    assert field == "criteria.3.threshold"
    assert problem == (f"must be a number for {operator} (an integer, or a decimal string "
                       'written with the digits 0-9, such as "25" or "25.5")')


@pytest.mark.parametrize("threshold", ["٠", "０", " 0", "+0", "0_0", "0e0"])
def test_check_rule_set_names_an_equality_threshold_that_is_a_number_in_other_digits(threshold):
    # `==` also compares text (a level, a rating), but a threshold Decimal() reads as a
    # number would be compared as that number: '٠' would pass villages with 0 cases
    [(field, problem)] = rules.check_rule_set(seed_with(4, threshold=threshold))
    assert field == "criteria.4.threshold"
    assert problem == ('must be a number for == (an integer, or a decimal string written '
                       'with the digits 0-9, such as "25" or "25.5")')


@pytest.mark.parametrize("threshold", ["25", "0", "-5", "25.5", "007", "25.123456",
                                       "1" * 15 + ".5", 25, 0])
def test_check_rule_set_takes_plain_comparison_thresholds(threshold):
    assert rules.check_rule_set(seed_with(3, threshold=threshold)) == []
    assert rules.check_rule_set(seed_with(4, threshold=threshold)) == []


def test_check_rule_set_takes_text_equality_thresholds():
    rule_set = {"id": "x", "criteria": [
        {"criterion": "berat", "indicator": "kotaku_slum_score", "field": "level",
         "operator": "==", "threshold": "berat"},
        {"criterion": "rated", "indicator": "bookkeeping_rating", "operator": "==",
         "threshold": "baik"}]}
    assert rules.check_rule_set(rule_set) == []


def test_the_rules_use_the_platforms_one_plain_decimal_pattern():
    from shared import patterns
    assert rules.PLAIN_DECIMAL is patterns.PLAIN_DECIMAL


# -- priority score ---------------------------------------------------------------------------

def kotaku(total):
    return {"value": {"scores": {}, "total": total, "level": rules.kotaku_level(total)},
            "event_id": "event-kotaku"}


def test_priority_score_formula_exact_decimal_string():
    # 0.5 x 31.50 + 0.3 x (40 / 80 x 100) + 0.2 x 42.00 = 15.75 + 15 + 8.40
    score = rules.priority_score({**readings(), "kotaku_slum_score": kotaku(40)})
    assert score == "39.15" and isinstance(score, str)


@pytest.mark.parametrize("components, expected", [
    ({}, "0.00"),
    ({"poverty_rate": "30"}, "15.00"),
    ({"voter_turnout": "35"}, "7.00"),
    ({"poverty_rate": "24.99"}, "12.50"),    # 12.495 -> 12.50
    ({"poverty_rate": "33.33", "voter_turnout": "33.33"}, "23.33"),  # 16.665 + 6.666
    ({"kotaku": 80}, "30.00"),               # the maximum KOTAKU total scales to 100
    ({"kotaku": 16}, "6.00"),                # 16 / 80 x 100 = 20 -> 6
    ({"kotaku": 1}, "0.38"),                 # 1.25 x 0.3 = 0.375
    ({"kotaku": 0}, "0.00"),
    ({"poverty_rate": "100", "voter_turnout": "100", "kotaku": 80}, "100.00"),
])
def test_priority_score_components_and_missing_ones_count_zero(components, expected):
    given = {name: {"value": value, "event_id": "e"} for name, value in components.items()
             if name != "kotaku"}
    if "kotaku" in components:
        given["kotaku_slum_score"] = kotaku(components["kotaku"])
    # criteria evidence not in the formula does not change the score
    given["bookkeeping_rating"] = {"value": "baik", "event_id": "e"}
    given["fund_misuse_cases"] = {"value": 3, "event_id": "e"}
    assert rules.priority_score(given) == expected


def test_priority_score_only_rises_when_evidence_is_added():
    poverty_only = rules.priority_score(readings(voter_turnout=None))
    with_turnout = rules.priority_score(readings())
    assert poverty_only == "15.75" and with_turnout == "24.15"


# -- KOTAKU levels ----------------------------------------------------------------------------

@pytest.mark.parametrize("total, level", [
    (0, "bukan_kumuh"), (15, "bukan_kumuh"), (16, "ringan"), (37, "ringan"),
    (38, "sedang"), (59, "sedang"), (60, "berat"), (80, "berat")])
def test_kotaku_level_boundaries(total, level):
    assert rules.kotaku_level(total) == level


def test_kotaku_has_seven_aspects_and_sixteen_sub_criteria():
    assert len(rules.KOTAKU_ASPECTS) == 7
    assert len(rules.KOTAKU_SUBCRITERIA) == len(set(rules.KOTAKU_SUBCRITERIA)) == 16
    assert rules.KOTAKU_SCORES == (0, 1, 3, 5)
    assert max(rules.KOTAKU_SCORES) * len(rules.KOTAKU_SUBCRITERIA) == 80


@pytest.mark.parametrize("index, field, problem", [
    (1, "nonexistent", "must be one of present, hectares"),
    (1, None, "must be one of present, hectares"),
    (0, "present", "poverty_rate is a single value, with no fields"),
])
def test_check_rule_set_names_a_field_the_indicator_does_not_have(index, field, problem):
    problems = rules.check_rule_set(seed_with(index, field=field))
    assert problems == [(f"criteria.{index}.field", problem)]


def test_a_not_a_number_value_or_threshold_fails_without_crashing():
    criterion = {"criterion": "p", "indicator": "poverty_rate", "operator": ">=",
                 "threshold": "NaN"}
    for value, threshold in [("NaN", "25"), ("31.5", "NaN"), ("Infinity", "25")]:
        assert not rules._holds({**criterion, "threshold": threshold}, value)


# -- a criterion compares like with like -------------------------------------------------------
# A threshold of another kind than the value it is compared with passes no village: every
# village with that evidence fails the criterion, and publishing the active rule set
# re-decides every village in the country.

@pytest.mark.parametrize("index, threshold", [
    (1, "true"), (1, 1), (1, "ya"),            # slum_area.present is yes/no
    (5, "true"), (5, 1), (5, "1"),             # pemda_priority.prioritised is yes/no
    (4, "nol"), (4, True),                     # fund_misuse_cases is a count
    (0, "memadai"), (0, False),                # poverty_rate is a percentage
])
def test_check_rule_set_names_a_threshold_of_another_kind_than_its_value(index, threshold):
    [(field, problem)] = rules.check_rule_set(seed_with(index, threshold=threshold))
    assert field == f"criteria.{index}.threshold"
    kind = {0: "a number", 4: "a number", 1: "true or false", 5: "true or false"}[index]
    assert problem.startswith(f"must be {kind}")


@pytest.mark.parametrize("index, operator", [
    (1, ">="), (5, "<="), (1, "at_least"),     # yes/no: only ==
    (2, ">="),                                 # a rating: at_least or ==
    (0, "at_least"),                           # a number: >=, <= or ==
])
def test_check_rule_set_names_an_operator_the_value_cannot_take(index, operator):
    threshold = rules.SEED_RULE_SET["criteria"][index]["threshold"]
    problems = rules.check_rule_set(seed_with(index, operator=operator, threshold=threshold))
    assert problems[0][0] == f"criteria.{index}.operator"
    assert "compares with" in problems[0][1]


def test_check_rule_set_names_a_kotaku_level_that_is_not_one():
    rule_set = {"id": "x", "criteria": [
        {"criterion": "heavy", "indicator": "kotaku_slum_score", "field": "level",
         "operator": "==", "threshold": "heavy"},
        {"criterion": "total", "indicator": "kotaku_slum_score", "field": "total",
         "operator": ">=", "threshold": "berat"}]}
    assert rules.check_rule_set(rule_set) == [
        ("criteria.0.threshold", "must be a KOTAKU level: bukan_kumuh, ringan, sedang, berat"),
        ("criteria.1.threshold", 'must be a number for >= (an integer, or a decimal string '
                                 'written with the digits 0-9, such as "25" or "25.5")')]


def test_check_rule_set_takes_every_kind_compared_with_its_own_kind():
    rule_set = {"id": "x", "criteria": [
        {"criterion": "no_slum", "indicator": "slum_area", "field": "present",
         "operator": "==", "threshold": False},
        {"criterion": "big", "indicator": "slum_area", "field": "hectares",
         "operator": ">=", "threshold": "2.5"},
        {"criterion": "sedang", "indicator": "kotaku_slum_score", "field": "level",
         "operator": "==", "threshold": "sedang"},
        {"criterion": "total", "indicator": "kotaku_slum_score", "field": "total",
         "operator": ">=", "threshold": 38},
        {"criterion": "cases", "indicator": "fund_misuse_cases", "operator": "<=",
         "threshold": "1"}]}
    assert rules.check_rule_set(rule_set) == []
