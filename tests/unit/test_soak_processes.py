"""The soak test (tests/bench/soak.py, run by hand) watches every process `plpbk run`
starts: it read the services and their ports from lists of its own, and a service added
to services.SERVICES went unwatched (its memory, descriptors, threads, metrics)."""
import importlib

import pytest

import services
from services.run import service_command
from tests.bench import soak


@pytest.fixture
def with_a_new_service(monkeypatch):
    monkeypatch.setitem(services.SERVICES, "construction",
                        ("services.construction.service:ConstructionService", 8005))
    yield importlib.reload(soak)
    monkeypatch.undo()
    importlib.reload(soak)


def test_every_service_is_watched_by_its_command_line_and_its_metrics_port(
        with_a_new_service):
    for name, (target, port) in services.SERVICES.items():
        command = " ".join(service_command("/venv/bin", target))   # as plpbk run starts it
        assert with_a_new_service.PROCESSES[name] in command
        assert with_a_new_service.METRIC_PORTS[name] == port
    assert "plpbk relay" == with_a_new_service.PROCESSES["relay"]
    assert with_a_new_service.METRIC_PORTS["relay"] == services.RELAY_METRICS_PORT
    assert set(with_a_new_service.PROCESSES) == set(services.SERVICES) | {"relay"}
