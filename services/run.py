"""`plpbk run` (what `make run` calls): the whole platform on one machine.

Starts one `nameko run` process per service that exists in this checkout, each on its
own HTTP port (see services.SERVICES), and one `plpbk relay --all` process that
publishes every ledger (services run with RELAY=external, so publishing uses another
core). Stops everything on Ctrl-C / SIGTERM, or when any process stops by itself: that
is a failure whatever its exit code (`nameko run` exits 0 after its own "Error: ..."),
named in one line with the process's last words, and plpbk run exits 1.
"""
import os
import signal
import subprocess
import sys
import threading
import time

import click
import orjson
from rich.markup import escape

from shared.cli.common import EXIT_PROBLEM, console, fail
from shared.cli.ledger_commands import keygen
from shared.config import QUIET_EVENTLET

from . import RELAY_METRICS_PORT, SERVICES
from .console import EXIT_INTERRUPTED, EXIT_TERMINATED

# How a child stops when asked: 0, or the Ctrl-C (sent to the whole group) or our
# SIGTERM ended it, by the signal itself or by a `plpbk` child's own exit code for it
# (one still loading its commands says "stopped (SIGTERM) before the command started")
STOPPED_AS_ASKED = (0, -signal.SIGTERM, -signal.SIGINT, EXIT_INTERRUPTED, EXIT_TERMINATED)

# Where the embedded default keeps the key it signs tree heads with (README "Audit").
DEFAULT_TREE_HEAD_KEY = os.path.join("var", "keys", "tree-head.pem")
# nameko's settings (each read from the environment), the checkout's own whatever the
# working directory: only the default data paths are relative to it
CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "config.yml")


def service_command(bin_dir, target):
    return [os.path.join(bin_dir, "nameko"), "run", "--config", CONFIG, target]


class Child:
    """One process of the platform. Its output (logs, errors) is passed on to stderr as it
    comes, and its last words kept: why it stopped, should it stop by itself."""

    def __init__(self, name, command, env, keep_stdout=True):
        self.name, self.last_words = name, ""
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE if keep_stdout else subprocess.DEVNULL,
            stderr=subprocess.STDOUT if keep_stdout else subprocess.PIPE,
            # Ctrl-C reaches this process alone, which stops each child with one SIGTERM:
            # a nameko run given SIGINT and then SIGTERM starts a second stop and hangs
            start_new_session=True)
        self.pid = self.process.pid
        self._reader = threading.Thread(target=self._pass_on, daemon=True)
        self._reader.start()

    def _pass_on(self):
        output = sys.stderr.buffer
        for line in self.process.stdout or self.process.stderr:
            self.last_words = _telling(line) or self.last_words
            if output is not None:
                try:
                    output.write(line)
                    output.flush()
                except OSError:   # our stderr is gone (a closed pipe): keep draining the
                    output = None   # child's, which would block on a full pipe otherwise

    def stopped_because(self):
        """One line: how it ended and its last words."""
        self._reader.join(timeout=5)   # what it said before it stopped
        code = self.process.returncode
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        return f"{self.name} stopped by itself ({how})" + \
            (f": {self.last_words}" if self.last_words else "")


def _telling(line):
    """A line that says what went wrong: one printed outside the JSON logs (nameko's
    "Error: ...", a traceback's last line, a command's "error: ...") or an error logged;
    "" for the routine log lines, which would mislead."""
    text = line.decode(errors="replace").strip()
    if text.startswith("{"):
        try:
            record = orjson.loads(text)
            if record.get("level") not in ("error", "critical"):
                return ""
            return str(record.get("event", text))
        except (orjson.JSONDecodeError, AttributeError):
            return text
    for prefix in ("Error: ", "error: "):
        text = text.removeprefix(prefix)
    return text


def available_services():
    here = os.path.dirname(__file__)
    return {name: spec for name, spec in SERVICES.items()
            if os.path.exists(os.path.join(here, name, "service.py"))}


@click.command("run")
@click.option("--only", multiple=True, help="Start only these services (repeatable).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address the HTTP ports listen on (0.0.0.0 to expose them).")
@click.pass_context
def run(ctx, only, host):
    """Start the platform: every service process and the relay, until Ctrl-C.

    Without TREE_HEAD_KEY, tree heads and audit bundles are signed with
    var/keys/tree-head.pem, made on the first run (its .pub is for auditors)."""
    services = available_services()
    unknown = [name for name in only if name not in services]
    if unknown:
        raise click.UsageError(f"unknown service(s) {', '.join(unknown)}; "
                               f"available: {', '.join(services)}")
    chosen = {name: spec for name, spec in services.items() if not only or name in only}
    bin_dir = os.path.dirname(sys.executable)
    base = dict(os.environ, RELAY="external", PYTHONWARNINGS=QUIET_EVENTLET,
                TREE_HEAD_KEY=tree_head_key(ctx, os.environ))
    console.print(f"{'tree heads':<13} signed with {escape(base['TREE_HEAD_KEY'])}")
    children = [Child("relay", [os.path.join(bin_dir, "plpbk"), "relay", "--all",
                                "--metrics-port", str(RELAY_METRICS_PORT),
                                "--metrics-address", host],
                      dict(base, PLPBK_PROCESS="relay"), keep_stdout=False)]
    console.print(f"{'relay':<13} http://{host}:{RELAY_METRICS_PORT}/metrics  "
                  f"(pid {children[0].pid})")
    for name, (target, port) in chosen.items():
        children.append(Child(
            name, service_command(bin_dir, target),
            dict(base, PLPBK_PROCESS=name, WEB_SERVER_ADDRESS=f"{host}:{port}")))
        console.print(f"{name:<13} http://{host}:{port}  (pid {children[-1].pid})")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    stopped_by_itself = None
    try:
        while not stopping and stopped_by_itself is None:
            stopped_by_itself = next(
                (child for child in children if child.process.poll() is not None), None)
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    _stop(children)
    if stopped_by_itself is not None:   # however it exited: nobody asked it to stop
        fail(f"{stopped_by_itself.stopped_because()}; the platform was stopped", EXIT_PROBLEM)
    failed = [child for child in children
              if child.process.returncode not in STOPPED_AS_ASKED]
    raise SystemExit(1 if failed and not stopping else 0)


def tree_head_key(ctx, environ):
    """TREE_HEAD_KEY when set; else the embedded default's own key, made (as `plpbk
    keygen` makes one) the first time, so that an auditor's bundle export works on
    `make run` as it does on a deployment that was given its key."""
    if environ.get("TREE_HEAD_KEY"):
        return environ["TREE_HEAD_KEY"]
    if not os.path.exists(DEFAULT_TREE_HEAD_KEY):
        os.makedirs(os.path.dirname(DEFAULT_TREE_HEAD_KEY), mode=0o700, exist_ok=True)
        ctx.invoke(keygen, out=DEFAULT_TREE_HEAD_KEY, public_out=None)
    return DEFAULT_TREE_HEAD_KEY


def _stop(children):
    """One SIGTERM each, then up to 20 s to stop before it is killed."""
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()
