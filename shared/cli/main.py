"""plpbk: operator commands for the PLPBK platform. `plpbk --help` lists them."""
import click

from . import backup, ledger_commands, parked_commands
from .common import PlatformGroup


EPILOG = """\b
Settings: --store, --state, --attachments and --amqp default to STORE_URI,
STATE_URI, ATTACHMENT_URI and AMQP_URI, as the platform reads them; their
relative paths (sqlite:///var/...) are read from the working folder: run
plpbk from the repository folder.

\b
Exit codes: 0 fine, 1 a problem found (a broken or damaged ledger, a failed
proof), 2 bad usage or input, 3 a store, RabbitMQ or a service unreachable or
unusable now (locked, disk full, read-only) or a setting missing, 130 Ctrl-C,
143 SIGTERM, 129 SIGHUP (the terminal closed; nohup keeps it going), 141 the
reader of its output gone (| head). PLPBK_DEBUG=1 shows an unforeseen error's
traceback; PLPBK_NO_PROGRESS=1 silences progress."""


@click.group(cls=PlatformGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EPILOG)
def cli():
    """Operate the PLPBK platform: ledgers, checkpoints, relays, parked events."""


for command in (ledger_commands.ledgers, ledger_commands.verify, ledger_commands.checkpoint,
                ledger_commands.keygen, ledger_commands.relay, parked_commands.parked,
                backup.backup):
    cli.add_command(command)


if __name__ == "__main__":
    cli()
