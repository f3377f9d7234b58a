"""The `plpbk` console script. Its commands take most of a second to load (nameko,
kombu, marshmallow, ...): a Ctrl-C or SIGTERM meanwhile stops it with one line and exit
code 130 or 143, as during a command, not with a traceback from inside some import or
without a word."""
import signal
import sys

# shared.cli.common's, not imported: that would load it all
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class _Terminated(BaseException):
    """SIGTERM while the commands load."""


def _terminated(*_):
    raise _Terminated


def main():
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        from .cli import cli
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C) before the command started", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    except _Terminated:
        print("error: stopped (SIGTERM) before the command started", file=sys.stderr)
        raise SystemExit(EXIT_TERMINATED) from None
    finally:
        signal.signal(signal.SIGTERM, previous)   # the commands handle it from here
    cli()
