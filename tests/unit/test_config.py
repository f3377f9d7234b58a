"""Numeric settings are taken exactly, as every other input (decision 13): a value in
other digits or with a sign stops the service at start-up naming the setting."""
import pytest
from nameko.exceptions import ConfigurationError

from shared.config import number_setting


@pytest.mark.parametrize("value, whole, expected", [
    (3, True, 3), ("900", True, 900), ("0", True, 0), (0.5, False, 0.5), ("60", False, 60.0),
    ("2.5", False, 2.5)])
def test_numbers_in_the_digits_0_9_are_taken(value, whole, expected):
    assert number_setting({"X": value}, "X", 1, whole=whole) == expected


@pytest.mark.parametrize("value", ["٣", "３", "+3", "-3", " 3", "3 ", "3_0", "1e3", "nan",
                                   True, "2.5"])
def test_anything_else_stops_the_service_naming_the_setting(value):
    with pytest.raises(ConfigurationError, match="LOGIN_USER_FREE_FAILURES="):
        number_setting({"LOGIN_USER_FREE_FAILURES": value}, "LOGIN_USER_FREE_FAILURES", 3)


def test_unset_is_the_default_and_the_environment_comes_after_config(monkeypatch):
    monkeypatch.setenv("GATEWAY_TOKEN_TTL", "120")
    assert number_setting({}, "GATEWAY_TOKEN_TTL", 900) == 120
    assert number_setting({"GATEWAY_TOKEN_TTL": 60}, "GATEWAY_TOKEN_TTL", 900) == 60
    monkeypatch.delenv("GATEWAY_TOKEN_TTL")
    assert number_setting(None, "GATEWAY_TOKEN_TTL", 900) == 900
    assert number_setting({}, "CATCH_UP_INTERVAL", whole=False) == 2.0
