"""Every plpbk command reports an unusable store or broker as one line and exit code 3,
never a traceback (shared.cli.common.PlatformGroup)."""
from click.testing import CliRunner

from services.cli import cli
from shared.ledger import NewEvent, open_ledger


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result


def test_an_unknown_state_scheme_is_bad_usage_naming_the_option_not_an_empty_list():
    result = run("parked", "--state", "bogus://x")
    assert result.exit_code == 2   # bad usage, not "unreachable" (3)
    assert "Invalid value for '--state': 'bogus://x': expected memory://" in result.output


def test_an_unknown_store_scheme_names_the_option_and_the_schemes_it_takes():
    result = run("verify", "--store", "foo://x")
    assert result.exit_code == 2
    assert "Invalid value for '--store': 'foo://x': expected sqlite:///<folder>" in \
        " ".join(result.output.split())


def test_an_unreachable_broker_stops_the_relay_with_one_line(tmp_path):
    open_ledger(f"sqlite:///{tmp_path}/ledgers", "registration").append(
        "village-1", 0, [NewEvent("VillageRegistered", {"code": "1"})])
    result = run("relay", "registration", "--once", "--store", f"sqlite:///{tmp_path}/ledgers",
                 "--state", f"sqlite:///{tmp_path}/state",
                 "--amqp", "amqp://guest:guest@127.0.0.1:1/")
    assert result.exit_code == 3
    assert "cannot publish registration to RabbitMQ at amqp://guest:**@127.0.0.1:1/" in \
        " ".join(result.output.split())
    assert "111" in result.output  # ECONNREFUSED, worded differently by platform


def test_an_unreachable_mongodb_state_is_one_line():
    result = run("parked", "--state", "mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=200")
    assert result.exit_code == 3
    assert "cannot reach a store or broker" in result.output


def test_a_blank_reason_and_a_region_that_is_no_prefix_are_usage_errors(tmp_path):
    blank = run("users", "disable", "ani", "--reason", "  ", "--store", f"sqlite:///{tmp_path}")
    assert blank.exit_code == 2 and "reason" in blank.output
    region = run("audit", "history", "52.01.08.2006", "--region", "zz")
    assert region.exit_code == 2 and "region code prefix" in region.output


def test_an_unreachable_broker_is_named_without_its_password():
    result = run("audit", "history", "52.01.08.2006", "--amqp",
                 "amqp://guest:secret@127.0.0.1:1/")
    assert result.exit_code == 3 and "secret" not in result.output
    assert "amqp://guest:**@127.0.0.1:1/" in " ".join(result.output.split())


def test_ledger_names_with_all_are_refused_rather_than_ignored(tmp_path):
    store = f"sqlite:///{tmp_path}"
    open_ledger(store, "registration").append(
        "village-1", 0, [NewEvent("VillageRegistered", {"code": "1"})])
    for command in (["verify"], ["relay", "--once", "--state", f"sqlite:///{tmp_path}/state"]):
        result = run(*command, "registration", "--all", "--store", store)
        assert result.exit_code == 2, command
        assert "give ledger names (registration) or --all, not both" in result.output
