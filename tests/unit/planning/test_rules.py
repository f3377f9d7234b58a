"""The approval rule (data with a version) at its boundaries, and the sign-off chain data."""
import pytest

from services.planning import rules

RULE = rules.APPROVAL_RULE


def attendance(men, women, poor=0):
    return {"men": men, "women": women, "poor": poor}


def results(men, women):
    return {r["criterion"]: r for r in rules.evaluate(RULE, attendance(men, women))}


def test_the_rule_is_versioned_data():
    assert (RULE["id"], RULE["version"]) == ("plpbk-musyawarah", 1)
    assert {c["criterion"] for c in RULE["criteria"]} == {"minimum_attendance",
                                                          "women_participation"}


@pytest.mark.parametrize("men, women, outcome", [
    (20, 9, "fail"),    # 29 attendees: just below
    (21, 9, "pass"),    # 30: exactly at the minimum
    (22, 9, "pass"),    # 31: just above
])
def test_minimum_attendance_at_the_boundary(men, women, outcome):
    assert results(men, women)["minimum_attendance"]["result"] == outcome
    assert results(men, women)["minimum_attendance"]["value"] == men + women


@pytest.mark.parametrize("men, women, outcome, shown", [
    (22, 8, "fail", "26.66"),   # 30 attendees, 8 women: below 30%
    (21, 9, "pass", 30),     # exactly 30%
    (20, 10, "pass", "33.33"),  # above
    (71, 29, "fail", 29),       # 29 of 100
    (70, 30, "pass", 30),       # 30 of 100: exactly at the threshold
    (69, 31, "pass", 31),       # 31 of 100
])
def test_women_participation_at_the_boundary(men, women, outcome, shown):
    result = results(men, women)["women_participation"]
    assert result["result"] == outcome
    assert result["value"] == shown


def test_a_share_just_below_the_threshold_is_never_shown_as_reaching_it():
    # 29,999 of 100,000 is 29.999%: rounded half up it would read "30.00" and fail
    result = results(70_001, 29_999)["women_participation"]
    assert (result["result"], result["value"]) == ("fail", "29.99")


def test_failures_name_the_rule_the_criterion_and_the_numbers():
    counts = attendance(20, 8)
    reason = rules.failures(RULE, rules.evaluate(RULE, counts), counts)
    assert reason.startswith("approval rule plpbk-musyawarah v1 not met: ")
    assert "minimum_attendance: attendees is 28, rule needs >= 30" in reason
    assert "women_participation: 8 of 28 attendees is 28.57%, rule needs >= 30%" in reason
    passing = attendance(21, 9)
    assert rules.failures(RULE, rules.evaluate(RULE, passing), passing) == ""


def test_nobody_attending_fails_without_dividing_by_zero():
    outcome = results(0, 0)
    assert {r["result"] for r in outcome.values()} == {"fail"}


def test_a_new_rule_version_is_just_other_data():
    stricter = {**RULE, "version": 2, "criteria": [
        {"criterion": "women_participation", "measure": "women_percent", "operator": ">=",
         "threshold": "40"},
        {"criterion": "poor_participation", "measure": "poor_percent", "operator": ">=",
         "threshold": "25"}]}
    outcome = rules.evaluate(stricter, attendance(18, 12, poor=7))
    assert [r["result"] for r in outcome] == ["pass", "fail"]


def test_the_chain_and_who_signs_it():
    assert rules.chain("rtplp") == ["submitted", "acknowledged", "verified"]
    assert rules.chain("rplp") == ["submitted", "acknowledged", "verified", "ratified"]
    assert rules.roles_for_step("acknowledged") == ("district",)
    assert rules.roles_for_step("ratified") == ("district", "bkm")
    assert rules.capacity_of("ratified", "district") == "lurah"
    assert rules.capacity_of("ratified", "bkm") == "bkm"
    assert rules.capacity_of("verified", "bkm") is None
