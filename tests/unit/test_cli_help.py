"""`--help` is all an operator may have at the console: it says what a command does, what
it needs (a running service, a setting from the environment) and how it exits."""
import pytest

from tests.unit.cli_support import run


def test_the_command_list_says_the_exit_codes_and_where_settings_come_from():
    said = run("--help").text
    for code in ("0 ", "1 ", "2 ", "3 ", "130 ", "143 ", "129 ", "141 "):
        assert "Exit codes: " in said and code in said.split("Exit codes: ", 1)[1]
    assert "STORE_URI" in said and "PLPBK_DEBUG" in said


@pytest.mark.parametrize("command, setting", [
    (["ledgers"], "STORE_URI"), (["parked"], "STATE_URI"), (["backup"], "ATTACHMENT_URI"),
    (["relay"], "AMQP_URI")])
def test_a_setting_option_names_the_environment_variable_it_reads(command, setting):
    # the default shown (sqlite:///var/ledgers) was not what ran with STORE_URI set
    assert f"env var: {setting}" in run(*command, "--help").text


@pytest.mark.parametrize("command, service", [
    (["import", "villages"], "registration"), (["audit"], "audit"),
    (["audit", "history"], "audit"), (["audit", "export"], "audit")])
def test_a_command_that_asks_a_service_says_it_must_be_running(command, service):
    said = run(*command, "--help").text
    assert f"the {service} service running" in said, said


def test_the_actor_options_say_their_variables_and_claim_no_record_of_a_read():
    # "--actor: Who is acting (recorded in every event)" on commands that record nothing;
    # PLPBK_ACTOR, PLPBK_ROLE and PLPBK_REGION were nowhere in --help
    said = run("audit", "history", "--help").text
    for setting in ("PLPBK_ACTOR", "PLPBK_ROLE", "PLPBK_REGION"):
        assert f"env var: {setting}" in said
    assert "recorded in every event)" not in said
