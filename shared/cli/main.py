"""plpbk: operator commands for the PLPBK platform. `plpbk --help` lists them."""
import click

from . import backup, ledger_commands, parked_commands
from .common import PlatformGroup


@click.group(cls=PlatformGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """Operate the PLPBK platform: ledgers, checkpoints, relays, parked events."""


for command in (ledger_commands.ledgers, ledger_commands.verify, ledger_commands.checkpoint,
                ledger_commands.keygen, ledger_commands.relay, parked_commands.parked,
                backup.backup):
    cli.add_command(command)


if __name__ == "__main__":
    cli()
