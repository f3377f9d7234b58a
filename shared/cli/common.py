"""What every plpbk command shares: configuration options, errors, progress output."""
import logging
import os
import select
import signal
import sqlite3
import sys
from contextlib import contextmanager

import click
import orjson
from marshmallow import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
    TimeRemainingColumn

from ..chassis.errors import CommandRejected
from ..config import DEFAULTS
from ..ledger import LedgerDamaged, LedgerError
from ..ledger.sqlite import trouble
from ..patterns import PLAIN_DECIMAL, whole_number
from ..views.base import ViewStoreError
from .uris import attachment_uri, broker_uri, ledger_store_uri, view_store_uri

EXIT_READER_GONE = 141   # 128 + SIGPIPE, as shells report a writer whose reader left


def reader_gone():
    """The reader of stdout left (`| head`, `| grep -q`): stop quietly with 141, as a
    shell tool stopped by SIGPIPE does. rich exited 1, which says "a problem was found"
    (a broken ledger) to a script's pipefail. stdout goes to /dev/null first, so the
    interpreter's last flush does not complain."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise SystemExit(EXIT_READER_GONE)


def _stdout_reader_gone():
    """Whether stdout is a pipe whose reader has closed it (poll says POLLERR)."""
    try:
        waiting = select.poll()
        waiting.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in waiting.poll(0))
    except (OSError, ValueError, AttributeError):   # no stdout, or not a real file
        return False


class _Output(Console):
    def on_broken_pipe(self):
        self.quiet = True
        reader_gone()


console = _Output(stderr=False)
errors = Console(stderr=True)

# Exit codes: 0 fine, 1 a problem was found (broken ledger, failed replay),
# 2 bad usage or input (click's own code), 3 a store or broker could not be reached or
# used now (locked, full, read-only, I/O error), 130 interrupted.
EXIT_PROBLEM, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3
# Ctrl-C: 128 + SIGINT, as shells report it; not 1, which would say "a problem was found".
# SIGTERM (`timeout`, systemd, a container stop): 128 + SIGTERM.
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class WholeNumber(click.IntRange):
    """The type of every integer option: the digits 0-9 only, within [min, max].

    click.INT and click.IntRange convert with int(), which reads "٥" (Arabic-Indic), "５"
    (full-width), "+5" and " 5" as 5 and "5_0" as 50. Text goes through
    shared.patterns.whole_number first (a minus only where min < 0); anything else is a
    usage error naming the option. The range and its help text are click's own.
    """

    name = "integer"

    def __init__(self, min=0, max=None):
        super().__init__(min, max)

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            try:
                value = whole_number(value, negative=self.min is None or self.min < 0)
            except ValidationError as exc:
                self.fail(f"{value!r}: {' '.join(exc.messages)}", param, ctx)
        elif isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{value!r} is not a whole number", param, ctx)  # a default in code
        return super().convert(value, param, ctx)


class Seconds(click.FloatRange):
    """A time in seconds within [min, max], written as a plain decimal ("0.05", "2").

    click.FLOAT converts with float(), which reads "nan", "inf", "1e-3" and "٠.٥" too; NaN
    passes every range check and then stops the command where it sleeps.
    """

    name = "seconds"

    def __init__(self, min=0.001, max=3600):
        super().__init__(min, max)

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
            self.fail(f"{value!r} must be a number of seconds written with the digits 0-9 "
                      "and a point, such as 0.05", param, ctx)
        return super().convert(value, param, ctx)


class Utf8Text(click.types.StringParamType):
    """Text an operator types: UTF-8, as everything it reaches (a ledger, an RPC) is.

    Python hands over argument bytes that are not UTF-8 (a Latin-1 terminal, a file in
    another encoding) as lone surrogates; the ledger's encoder then refused them and the
    command stopped as if a store were unreachable. Paths (click.Path) stay bytes-safe.
    """

    name = "text"

    def convert(self, value, param, ctx):
        value = super().convert(value, param, ctx)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            byte = ord(value[exc.start]) & 0xff   # the surrogate U+DCxx stands for byte xx
            self.fail(f"{value!r} is not UTF-8 text (byte 0x{byte:02x} at character "
                      f"{exc.start + 1}): type it in a UTF-8 terminal or file", param, ctx)
        return value


UTF8_TEXT = Utf8Text()


def text_in_utf8(command):
    """Every plain text option and argument of COMMAND and its subcommands takes UTF8_TEXT:
    one rule for all of them, new ones included."""
    for param in command.params:
        if param.type is click.STRING:
            param.type = UTF8_TEXT
    for sub in getattr(command, "commands", {}).values():
        text_in_utf8(sub)


def _setting_option(flag, setting, check, help):
    """An option that takes a setting's place: --flag, else the environment, else the
    embedded default; the value reaches the command as setting.lower()."""
    def option(function):
        return click.option(flag, setting.lower(), envvar=setting, default=DEFAULTS[setting],
                            show_default=True, show_envvar=True, callback=check,
                            help=help)(function)
    return option


store_option = _setting_option(
    "--store", "STORE_URI", ledger_store_uri,
    "Where the ledgers are (sqlite:///folder or mongodb://host/db).")
state_option = _setting_option(
    "--state", "STATE_URI", view_store_uri,
    "Where operator state is (relay positions, parked events).")
attachments_option = _setting_option(
    "--attachments", "ATTACHMENT_URI", attachment_uri,
    "Where uploaded files are (file:///folder or mongodb://host/db).")
amqp_option = _setting_option("--amqp", "AMQP_URI", broker_uri, "RabbitMQ URI.")


def must_exist(store_uri, option=None):
    """A mistyped SQLite folder is an error, not an empty store."""
    if store_uri.startswith("sqlite:///"):
        folder = store_uri[len("sqlite:///"):] or "."
        named = f"{option} {store_uri}" if option else store_uri
        if not os.path.isdir(folder):
            fail(f"{named}: {folder} is not a folder" if os.path.exists(folder) else
                 f"{named}: there is no folder {folder}")


def names_or_all(names, all_):
    """Ledger names and --all exclude each other: silently dropping the names would
    verify or relay something else than the operator asked for."""
    if names and all_:
        fail(f"give ledger names ({' '.join(names)}) or --all, not both")


def fail(message, code=EXIT_USAGE):
    errors.print(f"[bold red]error:[/] {escape(str(message))}", highlight=False)
    sys.exit(code)


@contextmanager
def unreachable_is_an_error():
    """Turn store and broker errors into one clear line and exit code 3, never a
    traceback. Every plpbk command runs inside it (PlatformGroup)."""
    try:
        yield
    except LedgerDamaged as exc:
        fail(str(exc), EXIT_PROBLEM)
    except (LedgerError, ViewStoreError) as exc:
        fail(_first_clause(exc), EXIT_UNREACHABLE)
    except sqlite3.DatabaseError as exc:
        cause = trouble(exc)   # locked, full, read-only, I/O error: not damage
        if cause is None:
            fail(f"a store's file is damaged or is not a PLPBK store: {exc}", EXIT_PROBLEM)
        fail(f"a store cannot be used now: {cause} ({exc})", EXIT_UNREACHABLE)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError) and _stdout_reader_gone():
            reader_gone()   # not the broker's socket: stdout's reader
        fail(f"cannot reach a store, broker or file: {exc}", EXIT_UNREACHABLE)
    except Exception as exc:
        if not _is_connection_error(exc):
            raise
        fail(f"cannot reach a store or broker: {type(exc).__name__}: {_first_clause(exc)}",
             EXIT_UNREACHABLE)


@contextmanager
def nothing_unforeseen():
    """The last net around every command (PlatformGroup): what no command foresaw is one
    line and exit code 1, never a traceback."""
    try:
        yield
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except CommandRejected as exc:  # a refusal a command did not word itself
        fail(str(exc))
    except (orjson.JSONDecodeError, UnicodeError) as exc:
        fail(f"a stored record could not be read (damaged?): {exc}", EXIT_PROBLEM)
    except Exception as exc:
        if os.environ.get("PLPBK_DEBUG"):
            raise
        fail(f"unexpected failure: {type(exc).__name__}: {exc} (nothing more was done; "
             "PLPBK_DEBUG=1 shows where it happened)", EXIT_PROBLEM)


def _first_clause(exc):
    """pymongo appends its whole topology description: the first clause is the news."""
    return str(exc).split(" (configured")[0].split(", Timeout:")[0]


def _is_connection_error(exc):
    """pymongo's and kombu/amqp's errors, without importing drivers a command never used."""
    module = type(exc).__module__.split(".")[0]
    return module in ("pymongo", "kombu", "amqp")


class PlatformGroup(click.Group):
    """A click group whose commands report unreachable stores and brokers as one line."""

    def invoke(self, ctx):
        # py-amqp warns on stderr about frames that arrive while nameko closes a channel
        # (after "service not running"): noise around the one line that matters.
        logging.getLogger("amqp").setLevel(logging.ERROR)
        text_in_utf8(self)
        stopped_by = []
        previous = {number: signal.signal(number, _as_ctrl_c(stopped_by))
                    for number in STOP_SIGNALS
                    if signal.getsignal(number) is not signal.SIG_IGN}   # nohup's stays
        try:
            with nothing_unforeseen(), unreachable_is_an_error():
                return super().invoke(ctx)
        except KeyboardInterrupt:
            if stopped_by:
                what, code = STOP_SIGNALS[stopped_by[0]]
                fail(f"stopped ({what}) before the command finished", code)
            fail("interrupted (Ctrl-C) before the command finished", EXIT_INTERRUPTED)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


# Signals that stop a command as Ctrl-C does: what the message says, the exit code
# (128 + the signal, as shells report it).
STOP_SIGNALS = {signal.SIGTERM: ("SIGTERM", EXIT_TERMINATED),
                signal.SIGHUP: ("SIGHUP: the terminal closed", 128 + signal.SIGHUP)}


def _as_ctrl_c(stopped_by):
    """SIGTERM (`timeout`, systemd) and SIGHUP (an ssh session dropped) handled as Ctrl-C
    is: their default ended the process on the spot, silently, and a backup stopped so
    left its half copy behind. Whatever the command does with Ctrl-C (remove what it
    wrote, finish a view first, leave an RPC call cleanly) it then does with them; `run`
    and `relay` set their own for SIGTERM."""
    def handler(signum, frame):
        stopped_by.append(signum)
        ctrl_c = signal.getsignal(signal.SIGINT)
        if callable(ctrl_c):
            ctrl_c(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt
    return handler


@contextmanager
def ctrl_c_deferred(what):
    """Ctrl-C waits until WHAT is done, then stops the command (exit 130): for work that
    stopped half-way would leave half-written (a durable view emptied and refilled)."""
    pressed = []

    def later(*_):
        if not pressed:
            errors.print(f"note: finishing {escape(what)} first, then stopping",
                         highlight=False)
        pressed.append(True)
    previous = signal.signal(signal.SIGINT, later)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise KeyboardInterrupt


@contextmanager
def progress_bar(description, total):
    """A progress bar on a terminal; silence elsewhere (CI logs, pipes)."""
    if not sys.stderr.isatty() or os.environ.get("PLPBK_NO_PROGRESS"):
        yield lambda done: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=errors, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.update(task, completed=done)
