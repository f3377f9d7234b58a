"""docker-compose.yml agrees with the code. No Docker engine runs here, so this is what
checks the stack's wiring: every service process and its command, the relay's options,
the settings the platform reads, the files mounted, and the MongoDB addresses."""
import json
import pathlib
import re

import mongomock
import pytest
import yaml

from services import RELAY_METRICS_PORT, SERVICES
from services.cli import cli
from shared.config import DEFAULTS
from shared.ledger import open_ledger
from shared.mongo_connection import database_name
from shared.views import open_view_store

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
STACK = COMPOSE["services"]
ENVIRONMENT = STACK["gateway"]["environment"]


def test_every_service_runs_its_nameko_class_with_the_platform_settings():
    for name, (target, _port) in SERVICES.items():
        assert STACK[name]["command"] == ["nameko", "run", "--config", "config.yml", target]
        assert STACK[name]["environment"] == ENVIRONMENT, name
    assert ENVIRONMENT["RELAY"] == "external"   # the relay service publishes every ledger


def test_the_relay_command_is_one_the_cli_accepts():
    program, command, *arguments = STACK["relay"]["command"]
    assert program == "plpbk"
    context = cli.commands[command].make_context(command, list(arguments))
    assert context.params["all_"] is True
    port = int(context.params["metrics_port"])
    assert f"relay:{port}" in (ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text()


def scraped(config_name):
    """(target, service label) of every target of the plpbk job, and its metrics path."""
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / config_name).read_text())
    (job,) = config["scrape_configs"]
    return job["metrics_path"], {(target, static["labels"]["service"])
                                 for static in job["static_configs"]
                                 for target in static["targets"]}


def test_prometheus_in_compose_scrapes_every_process_where_it_listens():
    host, port = ENVIRONMENT["WEB_SERVER_ADDRESS"].rsplit(":", 1)
    assert host == "0.0.0.0"   # reachable from the prometheus container
    relay = cli.commands["relay"].make_context("relay", STACK["relay"]["command"][2:]).params
    assert relay["metrics_address"] == "0.0.0.0"
    path, targets = scraped("prometheus.yml")
    assert path == "/metrics"
    assert targets == {(f"{name}:{port}", name) for name in SERVICES} | {
        (f"relay:{relay['metrics_port']}", "relay")}


def test_prometheus_local_scrapes_what_plpbk_run_starts():
    path, targets = scraped("prometheus-local.yml")
    assert path == "/metrics"
    assert targets == {(f"127.0.0.1:{port}", name) for name, (_, port) in SERVICES.items()} | {
        (f"127.0.0.1:{RELAY_METRICS_PORT}", "relay")}


def test_grafana_finds_its_dashboards_and_their_datasource():
    grafana = ROOT / "deploy" / "grafana"
    mounts = dict(volume.split(":")[:2] for volume in STACK["grafana"]["volumes"])
    (provider,) = yaml.safe_load((grafana / "provisioning/dashboards/plpbk.yml").read_text())[
        "providers"]
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    (source,) = yaml.safe_load((grafana / "provisioning/datasources/prometheus.yml")
                               .read_text())["datasources"]
    port = STACK["prometheus"]["ports"][0].split(":")[1]
    assert source["url"] == f"http://prometheus:{port}"
    boards = list((grafana / "dashboards").glob("*.json"))
    assert boards
    for board in boards:
        text = board.read_text()
        uids = set(re.findall(r'"uid":\s*"([^"]+)"', text)) - {json.loads(text)["uid"]}
        assert uids == {source["uid"]}, board.name


def test_every_setting_given_is_one_the_platform_reads():
    config = (ROOT / "config.yml").read_text()
    read = set(re.findall(r"\$\{([A-Z_]+):", config)) | set(DEFAULTS)
    assert set(ENVIRONMENT) <= read, set(ENVIRONMENT) - read


@pytest.mark.parametrize("setting", ["STORE_URI", "STATE_URI", "VIEW_URI", "ATTACHMENT_URI"])
def test_the_mongodb_addresses_name_a_database_and_the_replica_set(setting):
    uri = ENVIRONMENT[setting]
    assert uri.startswith("mongodb://mongo:27017/") and uri.endswith("?replicaSet=rs0")
    assert re.fullmatch(r"plpbk_[a-z]+", database_name(uri))


def test_the_stores_open_on_those_addresses():
    ledger = open_ledger(ENVIRONMENT["STORE_URI"], "registration",
                         mongo_client_class=mongomock.MongoClient)
    assert ledger.head().position == 0
    views = open_view_store(ENVIRONMENT["VIEW_URI"], "registration",
                            mongo_client_class=mongomock.MongoClient)
    assert views.collection("villages").count() == 0


def test_what_is_mounted_and_depended_on_exists():
    for name, service in STACK.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./deploy"):
                assert (ROOT / source).exists(), (name, source)
        for needed in service.get("depends_on", []):
            assert needed in STACK, (name, needed)
    roles = (ROOT / "deploy" / "mongo" / "ledger-roles.js").read_text()
    setup = STACK["mongo-init"]["command"][0]   # the insert/find-only role, on our databases
    assert "ATTACHMENTS_DB" in roles
    assert f"ATTACHMENTS_DB={database_name(ENVIRONMENT['ATTACHMENT_URI'])}" in setup
    assert f"mongodb://mongo:27017/{database_name(ENVIRONMENT['STORE_URI'])}?" in setup


def test_the_image_holds_what_the_commands_run():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (.+) \S+$", dockerfile, re.MULTILINE)
    for sources in copied:
        for source in sources.split():
            assert (ROOT / source).exists(), source
    assert "config.yml" in " ".join(copied)
    assert 'plpbk = "services.console:main"' in (ROOT / "pyproject.toml").read_text()
