"""What the plpbk command tests share: running a command as an operator would, and a
small ledger store to point it at."""
from click.testing import CliRunner

from services.cli import cli
from shared.ledger import NewEvent, open_ledger

UNREACHABLE = "amqp://guest:guest@127.0.0.1:1/"   # nothing listens: any call would exit 3


def run(*args, input=None):
    """plpbk with these arguments; never a traceback. result.text is the output with its
    line wrapping undone, so messages compare whatever the terminal width."""
    result = CliRunner().invoke(cli, list(args), input=input)
    assert "Traceback" not in result.output, result.output
    result.text = " ".join(result.output.split())
    return result


def ledgers(folder, *names):
    """A SQLite store at folder with one record in each named ledger; its URI."""
    for name in names:
        ledger = open_ledger(f"sqlite:///{folder}", name)
        ledger.append("village-1", 0, [NewEvent("VillageRegistered", {"code": "1"})])
        ledger.close()
    return f"sqlite:///{folder}"
