"""`plpbk run` (what `make run` calls): the whole platform on one machine.

Starts one `nameko run` process per service that exists in this checkout, each on its
own HTTP port (see services.SERVICES), and one `plpbk relay --all` process that
publishes every ledger (services run with RELAY=external, so publishing uses another
core). Stops everything on Ctrl-C / SIGTERM, or when any process dies.
"""
import os
import signal
import subprocess
import sys
import time

import click

from shared.cli.common import console
from shared.config import QUIET_EVENTLET

from . import RELAY_METRICS_PORT, SERVICES


def available_services():
    here = os.path.dirname(__file__)
    return {name: spec for name, spec in SERVICES.items()
            if os.path.exists(os.path.join(here, name, "service.py"))}


@click.command("run")
@click.option("--only", multiple=True, help="Start only these services (repeatable).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address the HTTP ports listen on (0.0.0.0 to expose them).")
def run(only, host):
    """Start the platform: every service process and the relay, until Ctrl-C."""
    services = available_services()
    unknown = [name for name in only if name not in services]
    if unknown:
        raise click.UsageError(f"unknown service(s) {', '.join(unknown)}; "
                               f"available: {', '.join(services)}")
    chosen = {name: spec for name, spec in services.items() if not only or name in only}
    bin_dir = os.path.dirname(sys.executable)
    base = dict(os.environ, RELAY="external", PYTHONWARNINGS=QUIET_EVENTLET)
    processes = {"relay": subprocess.Popen(
        [os.path.join(bin_dir, "plpbk"), "relay", "--all", "--metrics-port",
         str(RELAY_METRICS_PORT), "--metrics-address", host],
        env=dict(base, PLPBK_PROCESS="relay"), stdout=subprocess.DEVNULL,
        start_new_session=True)}
    console.print(f"{'relay':<13} http://{host}:{RELAY_METRICS_PORT}/metrics  "
                  f"(pid {processes['relay'].pid})")
    for name, (target, port) in chosen.items():
        processes[name] = subprocess.Popen(
            [os.path.join(bin_dir, "nameko"), "run", "--config", "config.yml", target],
            env=dict(base, PLPBK_PROCESS=name, WEB_SERVER_ADDRESS=f"{host}:{port}"),
            # Ctrl-C reaches this process alone, which stops each child with one SIGTERM:
            # a nameko run given SIGINT and then SIGTERM starts a second stop and hangs
            start_new_session=True)
        console.print(f"{name:<13} http://{host}:{port}  (pid {processes[name].pid})")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            dead = [name for name, p in processes.items() if p.poll() is not None]
            if dead:
                console.print(f"[red]{', '.join(dead)} stopped; stopping the platform[/]")
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    failed = [name for name, p in processes.items() if p.returncode not in (0, -15, None)]
    raise SystemExit(1 if failed and not stopping else 0)
