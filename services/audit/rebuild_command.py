"""plpbk rebuild: read models rebuilt from the ledgers, or checked against a rebuild.

It works on the stores directly (and asks running services for in-memory views); the
folding and comparing are rebuild.py's, imported when the command runs (it imports
every service's projections).
"""
from contextlib import contextmanager

import click
from rich.markup import escape
from rich.table import Table

from shared.cli.common import (EXIT_PROBLEM, EXIT_UNREACHABLE, amqp_option, console,
                               ctrl_c_deferred, fail, must_exist, progress_bar, store_option,
                               unreachable_is_an_error)
from shared.cli.rpc import actor_options, service_proxy
from shared.cli.state import refuse_ledgers
from shared.cli.uris import view_store_uri
from shared.config import DEFAULTS

from .cli import print_json


@click.command("rebuild")
@click.argument("view", required=False)
@click.option("--check", is_flag=True,
              help="Do not change anything: compare the live views with a rebuild.")
@click.option("--views", "view_uri", envvar="VIEW_URI", default=DEFAULTS["VIEW_URI"],
              show_default=True, callback=view_store_uri,
              help="Where the read models are (VIEW_URI).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@store_option
@amqp_option
@actor_options
def rebuild(view, check, view_uri, as_json, store_uri, amqp_uri, actor, role, region):
    """Rebuild read models from the ledgers (VIEW: a service or service.projection).

    Durable views (VIEW_URI sqlite:/// or mongodb://) are replaced; stop their service
    first. In-memory views are rebuilt by each service when it starts. --check compares
    the live views with a rebuild and lists every difference (exit code 1 if any).
    """
    from . import rebuild as rebuilding
    from .registry import discover
    from .sources import LedgerSources
    registry = discover()
    specs = registry.select(view)
    if not specs:
        known = sorted({s.service for s in registry.views} | {s.key for s in registry.views})
        fail(f"no read model named {view!r}; known: {', '.join(known)}")
    with unreachable_is_an_error():
        sources = LedgerSources(store_uri)
        if not sources.discover():  # a mistyped --store must not empty durable views
            fail(f"no ledgers at {store_uri}")
    # a mistyped --views folder is an error: a rebuild would fill a new one and --check
    # would create it and find "identical" views there
    must_exist(view_uri, "--views")
    # --views where --store was meant: view tables written into every ledger file
    refuse_ledgers(view_uri, {spec.service for spec in registry.views}, store_uri,
                   "--views", ("a read model", "read models"))
    in_memory = view_uri.startswith("memory://")
    if check:
        _check(specs, sources, registry, view_uri, in_memory, as_json, amqp_uri,
               (actor, role, region))
    elif in_memory:
        console.print("views are in process memory (VIEW_URI=memory://): each service "
                      "rebuilds them from the ledgers when it starts, so restart the service; "
                      "`plpbk rebuild --check` compares the running views with the ledgers")
    else:
        _rebuild(specs, sources, registry, view_uri, as_json, rebuilding)


def _rebuild(specs, sources, registry, view_uri, as_json, rebuilding):
    with unreachable_is_an_error():
        with progress_bar(f"rebuilding {len(specs)} view(s)",
                          rebuilding.total_records(specs, sources)) as show:
            results = rebuilding.rebuild_views(
                specs, sources, registry, view_uri, show,
                replacing=lambda key: ctrl_c_deferred(f"replacing the view {key}"))
    if as_json:
        print_json(results)
    else:
        table = Table("view", "documents", "folded up to", "handler failures")
        for r in results:
            table.add_row(r["view"], str(r["documents"]), ", ".join(
                f"{k} #{v}" for k, v in r["positions"].items()) or "—", str(len(r["problems"])))
        console.print(table)
        for problem in (p for r in results for p in r["problems"]):
            console.print(escape(f"  {problem['view']} {problem['ledger']} #{problem['position']} "
                                 f"{problem['type']}: {problem['error']}"), highlight=False)
    if any(r["problems"] for r in results):
        raise SystemExit(EXIT_PROBLEM)


def _check(specs, sources, registry, view_uri, in_memory, as_json, amqp_uri, who):
    from . import rebuild as rebuilding
    results, unchecked = [], []
    with _live_views(view_uri, in_memory, amqp_uri, who) as live:
        for spec in specs:
            result = _check_one(spec, sources, registry, live, rebuilding)
            (results if "differences" in result else unchecked).append(result)
    if as_json:
        print_json({"checked": results, "not_checked": unchecked})
    else:
        table = Table("view", "collection", "key", "difference")
        for r in results:
            for d in r["differences"]:
                table.add_row(*map(escape, (r["view"], d["collection"], d["key"],
                                            d["difference"])))
        if table.row_count:
            console.print(table)
        for r in results:
            state = "[red]differs[/]" if r["differences"] else "[green]identical[/]"
            moving = " (kept moving during the check)" if r["moving"] else ""
            console.print(f"{r['view']}: {state} at " + (", ".join(
                f"{k} #{v}" for k, v in r["positions"].items()) or "no position") + moving)
        for r in unchecked:
            console.print(f"{r['view']}: [yellow]not checked[/]: {escape(r['reason'])}")
    if any(r["differences"] for r in results):
        raise SystemExit(EXIT_PROBLEM)
    if unchecked:
        raise SystemExit(EXIT_UNREACHABLE)


def _check_one(spec, sources, registry, live, rebuilding):
    from nameko.exceptions import MethodNotFound, UnknownService
    try:
        with progress_bar(f"checking {spec.key}",
                          rebuilding.total_records([spec], sources)) as show:
            return rebuilding.check_view(spec, sources, registry, live, progress=show)
    except rebuilding.NoLiveView as exc:
        return {"view": spec.key, "reason": str(exc)}
    except UnknownService:
        return {"view": spec.key, "reason": f"the {spec.service} service is not running"}
    except MethodNotFound:
        return {"view": spec.key, "reason": f"the {spec.service} service does not offer "
                                            "view_positions/view_documents (see docs/audit.md)"}


@contextmanager
def _live_views(view_uri, in_memory, amqp_uri, who):
    from . import rebuild as rebuilding
    if not in_memory:
        with unreachable_is_an_error():
            live = rebuilding.DurableViews(view_uri)
            try:
                yield live
            finally:
                live.close()
        return
    with service_proxy(amqp_uri, *who) as cluster:
        yield rebuilding.ServiceViews(cluster)
