"""plpbk parked: events whose handler kept failing, and replaying them."""
import os

import click
from rich.markup import escape

from ..views import open_view_store, store_names
from ..chassis.errors import CommandRejected
from .common import (EXIT_PROBLEM, EXIT_UNREACHABLE, WholeNumber, amqp_option, console, errors,
                     fail, must_exist, progress_bar, state_option)
from .rpc import actor_options, service_proxy
from .state import holds_collection, refuse_ledgers

REPLAY_TIMEOUT = 120   # seconds one service may take to run its parked events again


@click.command()
@click.option("--service", "services", multiple=True,
              help="Only this service (repeatable). Default: every service with state.")
@click.option("--replay", is_flag=True,
              help="Ask each service to run its parked events again (the service must run).")
@click.option("--position", "positions", multiple=True, type=WholeNumber(min=1),
              help="With --replay: only the events at these source positions.")
@click.option("--all", "show_all", is_flag=True, help="Also list events already replayed.")
@state_option
@amqp_option
@actor_options
def parked(services, replay, positions, show_all, state_uri, amqp_uri, actor, role, region):
    """List parked events; with --replay, retry them.

    Exit code 1 when a replayed event fails again.
    """
    if positions and not replay:
        fail("--position only makes sense with --replay")
    must_exist(state_uri)
    known = store_names(state_uri)
    unknown = [s for s in services if s not in known]
    if unknown:
        fail(f"no state for service {', '.join(unknown)} at {state_uri}")
    chosen = list(services) or known
    refuse_ledgers(state_uri, chosen)
    entries = {name: _entries(state_uri, name, show_all) for name in chosen}
    if replay:
        _replay({name: waiting for name, found in entries.items()
                 if (waiting := _to_replay(found, positions))}, positions,
                lambda: service_proxy(amqp_uri, actor, role, region, timeout=REPLAY_TIMEOUT))
        return
    if not any(entries.values()):
        console.print("no parked events")
        return
    # a line per event, its error whole: a table of 80 columns cut every cell with "…"
    for name, found in entries.items():
        for e in found:
            console.print(escape(
                f"{name} {e['subscriber']} {e['source']} #{e['position']} {e['type']} "
                f"{e['stream_id']} {e['status']}, {e['attempts']} attempts, parked at "
                f"{e['parked_at']}: {e['error']}"), highlight=False, soft_wrap=True)


def _entries(state_uri, name, show_all):
    if not holds_collection(state_uri, name, "parked"):  # listing creates nothing
        return []
    store = open_view_store(state_uri, name)
    try:
        return store.collection("parked").find(None if show_all else {"status": "parked"},
                                               sort=[("parked_at", 1)])
    finally:
        store.close()


def _to_replay(entries, positions):
    """The entries a replay runs again: still parked (--all lists replayed ones too), at
    one of the positions if any are given."""
    return [e for e in entries if e["status"] == "parked" and
            (not positions or e["position"] in positions)]


def _replay(entries, positions, connect):
    """Each service runs its parked events again, as the operator (--actor, --role)."""
    from nameko.exceptions import UnknownService

    if not entries:
        console.print("no parked events to replay")
        return
    failed = False
    with connect() as cluster:
        for name, waiting in entries.items():
            # one call per service, silent until all its events have run
            _step(f"{name}: replaying {len(waiting)} parked event"
                  f"{'' if len(waiting) == 1 else 's'} (up to {REPLAY_TIMEOUT} s)")
            try:
                with progress_bar(f"{name} is replaying", None):
                    outcomes = getattr(cluster, name).replay_parked(list(positions) or None)
            except UnknownService:
                fail(f"service {name} is not running; start it and replay again",
                     EXIT_UNREACHABLE)
            except CommandRejected as exc:
                fail(f"{name}: {exc}")
            for o in outcomes:
                failed |= not o["ok"]
                console.print(f"{name} {o['subscriber']} {o['source']} #{o['position']}: "
                              + ("[green]applied[/]" if o["ok"] else f"[red]{escape(o['error'])}[/]"))
            applied = sum(o["ok"] for o in outcomes)
            console.print(f"{name}: {applied} applied, {len(outcomes) - applied} still parked",
                          highlight=False)
    if failed:
        raise SystemExit(EXIT_PROBLEM)


def _step(text):
    """A line on stderr as each step starts; PLPBK_NO_PROGRESS silences it (as the bars)."""
    if not os.environ.get("PLPBK_NO_PROGRESS"):
        errors.print(escape(text), highlight=False)
