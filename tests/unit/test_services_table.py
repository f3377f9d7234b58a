"""services.SERVICES, the one table a new service is added to (docs/services.md, "Adding
a service"), holds together: each key is its class's nameko `name` (the RPC target the
gateway and plpbk call, its ledger's and its view store's name), and each process has a
port of its own. A key that differed from the name gave a service that started, wrote a
ledger of the class's name and was "not running" for the gateway, /health and `plpbk
rebuild`, with nothing saying why."""
import importlib

from services import RELAY_METRICS_PORT, SERVICES


def problems(table):
    found, ports = [], {RELAY_METRICS_PORT: "the relay's metrics"}
    for key, (target, port) in table.items():
        module, _, class_name = target.partition(":")
        name = getattr(getattr(importlib.import_module(module), class_name), "name", None)
        if name != key:
            found.append(f"{key}: its class {target} is named {name!r}; the key must be "
                         "the class's name")
        if port in ports:
            found.append(f"{key}: port {port} is taken by {ports[port]}")
        ports.setdefault(port, key)
    return found


def test_each_service_is_keyed_by_its_name_on_a_port_of_its_own():
    assert problems(SERVICES) == []


def test_a_key_other_than_the_name_or_a_port_taken_twice_is_named():
    table = {"works": ("services.cycle.service:CycleService", 8005),
             "audit": ("services.audit.service:AuditService", 8009)}
    assert problems(table) == [
        "works: its class services.cycle.service:CycleService is named 'cycle'; the key "
        "must be the class's name",
        "audit: port 8009 is taken by the relay's metrics"]
