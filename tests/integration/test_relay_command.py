"""`plpbk relay --all` (what `plpbk run` starts) and a file in the ledger folder that is
no ledger: the file is named, every other ledger is still published. Before, the relay
stopped with exit 1, and with it the whole platform, which could not start again while
the file was there."""
from tests.unit.cli_support import ledgers, run


def test_relay_all_names_a_file_that_is_no_ledger_and_publishes_the_others(
        platform_config, tmp_path):
    store = ledgers(tmp_path / "ledgers", "registration")
    (tmp_path / "ledgers" / "junk.db").write_bytes(b"this is no SQLite file at all" * 100)
    result = run("relay", "--all", "--once", "--store", store,
                 "--state", platform_config["STATE_URI"], "--amqp", platform_config["AMQP_URI"])
    assert "published 1 events of registration" in result.text, result.text
    assert "junk" in result.text and "not a readable PLPBK ledger" in result.text
    assert result.exit_code == 1   # a problem found (README), after the others were published
    named = run("relay", "junk", "--once", "--store", store,
                "--state", platform_config["STATE_URI"], "--amqp", platform_config["AMQP_URI"])
    assert named.exit_code == 1 and "junk" in named.text   # asked for by name: refused
