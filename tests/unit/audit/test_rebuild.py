"""plpbk rebuild: durable read models rebuilt from the ledgers, and checked against them."""
import json
import os
import signal

import pytest
from click.testing import CliRunner

from services.audit.rebuild import DurableViews, changed_paths, check_view, rebuild_views
from services.audit.registry import discover
from services.cli import cli
from shared.views import open_view_store

from .world import BAJUR, NEIGHBOUR, build_world


@pytest.fixture
def world(tmp_path):
    world = build_world(tmp_path)
    (tmp_path / "views").mkdir()  # a --views folder that does not exist is a typo
    world.view_uri = f"sqlite:///{tmp_path}/views"
    yield world
    world.sources.close()


def run(world, *args):
    return CliRunner().invoke(cli, ["rebuild", *args, "--store", world.store_uri,
                                    "--views", world.view_uri, "--json"])


def test_the_registry_finds_every_service_read_model():
    registry = discover()
    keys = {spec.key for spec in registry.views}
    assert {"registration.village_board", "audit.village_index"} <= keys
    assert registry.select("registration")[0].cls.__name__ == "VillageBoard"
    assert all(spec.cls.source != "*" for spec in registry.village_views())


def test_rebuild_then_check_finds_every_kind_of_difference(world):
    registry = discover()
    spec = registry.select("registration.village_board")[0]
    [result] = rebuild_views([spec], world.sources, registry, world.view_uri)
    assert result["documents"] == 3 and result["positions"] == {"registration": 11}
    live = DurableViews(world.view_uri)
    folded = []  # a check folds the whole ledger again: it says how far it got
    assert check_view(spec, world.sources, registry, live,
                      progress=folded.append)["differences"] == []
    assert folded and folded[-1] == 11

    store = open_view_store(world.view_uri, "registration")
    villages = store.collection("villages")
    changed = villages.get(BAJUR)
    changed["status"], changed["bkm"] = "registered", {"name": "forged"}
    villages.put(BAJUR, changed)
    villages.delete(NEIGHBOUR)
    villages.put("99.99.99.9999", {"code": "99.99.99.9999"})
    found = {d["key"]: d["difference"] for d in
             check_view(spec, world.sources, registry, live)["differences"]}
    assert found == {BAJUR: "fields differ: bkm, status",
                     NEIGHBOUR: "missing from the live view",
                     "99.99.99.9999": "in the live view but not explained by the ledgers"}
    store.close()
    live.close()


def test_the_cli_rebuilds_and_checks_durable_views(world):
    rebuilt = run(world)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert {r["view"] for r in json.loads(rebuilt.output)} >= {
        "registration.village_board", "audit.village_index"}
    assert run(world, "--check").exit_code == 0

    store = open_view_store(world.view_uri, "audit")
    store.collection("villages").delete(BAJUR)
    store.close()
    checked = run(world, "audit", "--check")
    assert checked.exit_code == 1
    report = json.loads(checked.output)["checked"][0]
    assert report["differences"] == [{"collection": "villages", "key": BAJUR,
                                      "difference": "missing from the live view"}]
    assert run(world, "audit").exit_code == 0
    assert run(world, "audit", "--check").exit_code == 0


def test_the_cli_explains_in_memory_views_and_unknown_names(world):
    memory = CliRunner().invoke(cli, ["rebuild", "--store", world.store_uri,
                                      "--views", "memory://"])
    assert memory.exit_code == 0 and "restart the service" in memory.output
    unknown = run(world, "nonsense")
    assert unknown.exit_code == 2 and "registration.village_board" in unknown.output
    mistyped = CliRunner().invoke(cli, ["rebuild", "--store", world.store_uri + "-typo",
                                        "--views", world.view_uri])
    assert mistyped.exit_code == 2 and "no ledgers" in mistyped.output
    no_views = CliRunner().invoke(cli, ["rebuild", "--check", "--store", world.store_uri,
                                        "--views", world.view_uri + "-typo"])
    assert no_views.exit_code == 2 and "there is no folder" in no_views.output


def test_changed_paths_reach_nested_fields():
    assert changed_paths({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": 1, "c": 3}, "d": [2]}) \
        == ["a.c", "d"]


def test_ctrl_c_while_a_durable_view_is_replaced_waits_until_it_is_whole(world, monkeypatch):
    """A view is emptied, then written in batches: stopped between, it was left half
    written under its old positions, and its service would carry on from those over
    it. Ctrl-C then waits for the view to be whole, then stops (exit 130)."""
    from services.audit import rebuild as rebuilding
    replace = rebuilding._replace

    def ctrl_c_after_emptying(scratch, target, batch=10000):
        target.clear()
        os.kill(os.getpid(), signal.SIGINT)   # the operator presses Ctrl-C here
        return replace(scratch, target, batch)
    monkeypatch.setattr(rebuilding, "_replace", ctrl_c_after_emptying)
    stopped = run(world, "registration")
    assert stopped.exit_code == 130, stopped.output
    assert "finishing" in stopped.output
    monkeypatch.undo()
    assert run(world, "registration", "--check").exit_code == 0   # whole, not half


def test_a_rebuild_killed_while_replacing_leaves_a_mark_the_next_one_clears(world,
                                                                           monkeypatch):
    """Killed after clearing a view and before refilling it, the old tracking positions
    said the half view was up to date, and its service folded new events onto it."""
    from services.audit import rebuild

    registry = discover()
    spec = registry.select("registration.village_board")[0]

    def killed(scratch, target, batch=10000):
        target.clear()
        raise OSError("killed")   # the process ends here: nothing after it runs
    monkeypatch.setattr(rebuild, "_replace", killed)
    with pytest.raises(OSError):
        rebuild_views([spec], world.sources, registry, world.view_uri)
    store = open_view_store(world.view_uri, "registration")
    assert store.collection("tracking").get("registration.village_board:registration")[
        "rebuilding"] is True
    monkeypatch.undo()
    rebuild_views([spec], world.sources, registry, world.view_uri)
    tracked = store.collection("tracking").get("registration.village_board:registration")
    assert tracked["position"] == 11 and "rebuilding" not in tracked
    store.close()


def _files(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".db"))


def _tables(path):
    from shared.cli.state import sqlite_tables
    return sqlite_tables(path)


def test_views_in_the_ledger_folder_are_refused_before_a_table_is_written(world):
    """--views where --store was meant (VIEW_URI set to STORE_URI): the rebuild wrote view
    tables into every ledger file and new files (audit.db, gateway.db) that `plpbk
    ledgers` and `verify --all` then called damaged ledgers."""
    folder = world.store_uri[len("sqlite:///"):]
    before = {name: _tables(os.path.join(folder, name)) for name in _files(folder)}
    for args in ((), ("--check",), ("registration",)):
        result = CliRunner().invoke(cli, ["rebuild", *args, "--store", world.store_uri,
                                          "--views", world.store_uri])
        assert result.exit_code == 2, result.output
        assert "--views" in result.output and "ledger" in result.output
        assert "Traceback" not in result.output
        assert {name: _tables(os.path.join(folder, name)) for name in _files(folder)} \
            == before


def test_a_check_of_a_folder_without_the_views_says_so_and_creates_nothing(world):
    """--check against a folder holding no durable views (the wrong folder, an empty one)
    created a view file per service there and reported every view "identical at no
    position", exit 0: a wrong VIEW_URI passed the check."""
    folder = world.view_uri[len("sqlite:///"):]
    result = run(world, "--check")
    assert _files(folder) == []   # it changes nothing
    assert result.exit_code == 3, result.output
    report = json.loads(result.output)
    assert report["checked"] == []
    assert {r["view"] for r in report["not_checked"]} >= {"registration.village_board",
                                                          "audit.village_index"}
    assert all("no live view" in r["reason"] for r in report["not_checked"])


def test_a_difference_is_shown_as_it_is_never_read_as_terminal_markup(world):
    """A view key such as a username "ani[/x]" stopped `rebuild --check` with
    "unexpected failure: MarkupError" instead of the difference."""
    assert run(world, "registration").exit_code == 0
    store = open_view_store(world.view_uri, "registration")
    store.collection("villages").put("ani[/x] [bold]", {"code": "x"})
    store.close()
    result = CliRunner(env={"COLUMNS": "300"}).invoke(cli, [
        "rebuild", "registration", "--check", "--store", world.store_uri,
        "--views", world.view_uri])
    assert result.exit_code == 1, result.output
    assert "ani[/x] [bold]" in result.output and "unexpected" not in result.output
