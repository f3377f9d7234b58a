"""`plpbk relay --all` (what `plpbk run` starts) and a file in the ledger folder that is
no ledger: the file is named, every other ledger is still published. Before, the relay
stopped with exit 1, and with it the whole platform, which could not start again while
the file was there."""
from shared.ledger import NewEvent, open_ledger
from shared.messaging.relay import Relay
from shared.views import open_view_store
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


def test_relay_once_beside_a_running_relay_says_that_one_publishes(platform_config, tmp_path):
    """A second relay of a ledger stands by (shared/messaging/relay.py): asked for one
    pass, it says so and leaves the events to the relay that holds the ledger's lease."""
    store = ledgers(tmp_path / "ledgers", "registration")
    holder = Relay(open_ledger(store, "registration"), platform_config["AMQP_URI"],
                   open_view_store(platform_config["STATE_URI"], "registration"))
    try:
        assert holder.publish_pending() == 1          # it holds the lease from now on
        holder.ledger.append("village-2", 0, [NewEvent("VillageRegistered", {"code": "2"})])
        result = run("relay", "registration", "--once", "--store", store,
                     "--state", platform_config["STATE_URI"],
                     "--amqp", platform_config["AMQP_URI"])
        assert result.exit_code == 0, result.text
        assert "another relay is publishing ledger 'registration'" in result.text
        assert holder.publish_pending() == 1           # left to the holder, not published
    finally:
        holder.close()
        holder.ledger.close()
