"""The `plpbk` console script. Its commands take most of a second to load (nameko,
kombu, marshmallow, ...): a Ctrl-C meanwhile stops it with one line and exit code 130,
as a Ctrl-C during a command does, not with a traceback from inside some import."""
import sys

EXIT_INTERRUPTED = 130   # shared.cli.common's, not imported: that would load it all


def main():
    try:
        from .cli import cli
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C) before the command started", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    cli()
