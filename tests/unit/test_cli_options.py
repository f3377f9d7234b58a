"""Every integer option of plpbk takes the digits 0-9 only (shared.cli.common.WholeNumber).

click.INT and click.IntRange convert with int(), which reads '٥' (Arabic-Indic), '５'
(full-width), '+5', ' 5' and '5_0' as numbers: `plpbk parked --replay --position ٥`
would replay position 5. Bad text is a usage error (exit 2) naming the option.
"""
import click
import pytest

from services.cli import cli
from shared.cli.common import WholeNumber
from tests.unit.cli_support import UNREACHABLE, ledgers, run

NOT_PLAIN = ["٥", "５", "५", "1٠", "+5", " 5", "5 ", "5_0", "0x5", "5.0", "1e1", "", "-5",
             "9" * 16]


def store(folder):
    ledgers(folder / "ledgers", "registration")
    (folder / "state").mkdir()
    return {"store": f"sqlite:///{folder}/ledgers", "state": f"sqlite:///{folder}/state"}


def csv_file(folder):
    path = folder / "villages.csv"
    path.write_text("code,source_document,observed_on\n52.01.08.2001,BPS 2024,2024-01-01\n",
                    encoding="utf-8")
    return str(path)


# option -> the command line with the option's value as {}
COMMANDS = {
    "--position": lambda tmp: ["parked", "--replay", "--state", store(tmp)["state"],
                               "--amqp", UNREACHABLE, "--position", "{}"],
    "--workers": lambda tmp: ["verify", "--all", "--store", store(tmp)["store"],
                              "--workers", "{}"],
    "--metrics-port": lambda tmp: ["relay", "registration", "--once", "--amqp", UNREACHABLE,
                                   *sum((["--" + k, v] for k, v in store(tmp).items()), []),
                                   "--metrics-port", "{}"],
    "--show-errors": lambda tmp: ["import", "villages", csv_file(tmp), "--amqp", UNREACHABLE,
                                  "--show-errors", "{}"],
}


def command_line(option, tmp_path, value):
    return [value if arg == "{}" else arg for arg in COMMANDS[option](tmp_path)]


@pytest.mark.parametrize("value", NOT_PLAIN)
@pytest.mark.parametrize("option", sorted(COMMANDS))
def test_an_integer_option_not_in_plain_ascii_digits_is_a_usage_error_naming_it(
        tmp_path, option, value):
    result = run(*command_line(option, tmp_path, value))
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.text
    assert "must be a whole number" in result.text


@pytest.mark.parametrize("option, value", [("--position", "0"), ("--workers", "0"),
                                           ("--workers", "65"), ("--metrics-port", "0"),
                                           ("--metrics-port", "65536")])
def test_an_integer_option_out_of_its_range_is_a_usage_error_naming_it(tmp_path, option, value):
    result = run(*command_line(option, tmp_path, value))
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}': {value} is not in the range" in result.text


def test_a_position_in_ascii_digits_is_taken(tmp_path):
    result = run(*command_line("--position", tmp_path, "5"))
    assert (result.exit_code, result.text) == (0, "no parked events to replay")


def test_workers_in_ascii_digits_are_taken(tmp_path):
    result = run(*command_line("--workers", tmp_path, "5"))
    assert result.exit_code == 0, result.output
    assert "registration" in result.text


@pytest.mark.parametrize("option", ["--metrics-port", "--show-errors"])
def test_a_port_and_an_error_count_in_ascii_digits_are_taken(tmp_path, option):
    # parsed, then the command goes on to RabbitMQ, which is not there (exit 3, not 2)
    result = run(*command_line(option, tmp_path, "5"))
    assert result.exit_code == 3, result.output
    assert "Invalid value" not in result.text


@pytest.mark.parametrize("option, name", [("--position", "positions"), ("--workers", "workers"),
                                          ("--metrics-port", "metrics_port"),
                                          ("--show-errors", "show_errors")])
@pytest.mark.parametrize("value, number", [("5", 5), ("007", 7), ("64", 64)])
def test_the_option_holds_the_number_written(tmp_path, option, name, value, number):
    args = command_line(option, tmp_path, value)
    command, args = (cli.commands["import"].commands["villages"], args[2:]) \
        if args[0] == "import" else (cli.commands[args[0]], args[1:])
    parsed = command.make_context(command.name, args).params[name]
    assert parsed == ((number,) if name == "positions" else number)


def test_defaults_are_whole_numbers_in_range(tmp_path, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 128)   # more CPUs than --workers takes
    verify = cli.commands["verify"]
    assert verify.make_context("verify", ["--all"]).params["workers"] == 64
    villages = cli.commands["import"].commands["villages"]
    assert villages.make_context("villages", [csv_file(tmp_path)]).params["show_errors"] == 50
    assert cli.commands["relay"].make_context("relay", []).params["metrics_port"] is None


def integer_options(group, path=()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from integer_options(command, path + (name,))
            continue
        for param in command.params:
            if isinstance(param.type, click.types.IntParamType):
                yield " ".join(path + (name,)), param


def test_every_integer_option_of_plpbk_takes_ascii_digits_only():
    found = {(command, param.name): type(param.type) for command, param in integer_options(cli)}
    assert found == {("parked", "positions"): WholeNumber, ("verify", "workers"): WholeNumber,
                     ("relay", "metrics_port"): WholeNumber,
                     ("import villages", "show_errors"): WholeNumber}


def test_the_type_takes_text_in_ascii_digits_and_numbers_within_its_range():
    within = WholeNumber(1, 64)
    assert within.convert("5", None, None) == 5 and within.convert(64, None, None) == 64
    for bad in ["٥", "+5", " 5", 0, 65, "65", True, 5.0]:
        with pytest.raises(click.BadParameter):
            within.convert(bad, None, None)
    unbounded = WholeNumber(min=None)   # a minus is taken where the range allows negatives
    assert unbounded.convert("-3", None, None) == -3
    with pytest.raises(click.BadParameter):
        WholeNumber(min=0).convert("-3", None, None)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e-3", "٠.٥", " 1", "3601"])
def test_a_poll_interval_that_is_no_plain_number_of_seconds_in_range_is_a_usage_error(
        tmp_path, value):
    args = command_line("--metrics-port", tmp_path, "9100")[:-2] + ["--poll", value]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--poll'" in result.text


def test_a_poll_interval_in_plain_digits_is_taken():
    relay = cli.commands["relay"]
    assert relay.make_context("relay", ["--poll", "0.5"]).params["poll"] == 0.5
    assert relay.make_context("relay", []).params["poll"] == 0.05
