"""Every Decider of every service names its event catalog, and the service's EVENTS
catalog (in its schemas.py, or payloads.py) covers them: the chassis checks a decided
event only against the catalog its decider names (shared/chassis/payloads.py), so a
decider without one records whatever its domain builds, and a type missing from EVENTS
is missing from the gateway's OpenAPI document of the audit history.

Deciders are found by importing every module of every service in services.SERVICES and
scanning it, so a new service's or module's decider cannot be forgotten."""
import importlib
import pkgutil
import types

from marshmallow import Schema

from services import SERVICES
from services.gateway.event_payloads import CATALOGS
from shared.chassis.commands import Decider
from shared.chassis.payloads import EventCatalog, PayloadMismatch
from shared.ledger import NewEvent

CATALOG_MODULES = ("schemas", "payloads")   # where a service's EVENTS may be


def service_modules(service):
    """Every module of the service's package, imported."""
    package = importlib.import_module(f"services.{service}")
    yield package
    for found in pkgutil.walk_packages(package.__path__, f"services.{service}."):
        yield importlib.import_module(found.name)


def deciders(modules):
    """(where, Decider) for each Decider a module defines (one imported from another
    module is that module's: found once, named where its decide function is)."""
    seen = {}
    for module in modules:
        for name, value in vars(module).items():
            if isinstance(value, Decider) and id(value) not in seen and \
                    getattr(value.decide, "__module__", module.__name__) == module.__name__:
                seen[id(value)] = (f"{module.__name__}.{name}", value)
    return sorted(seen.values(), key=lambda item: item[0])


def events_catalog(modules):
    """(module name, EVENTS) of the modules named in CATALOG_MODULES; several if more
    than one defines it."""
    return [(module.__name__, module.EVENTS) for module in modules
            if module.__name__.rpartition(".")[2] in CATALOG_MODULES
            and isinstance(getattr(module, "EVENTS", None), EventCatalog)]


def problems(service, modules):
    """What is wrong with the service's deciders and EVENTS ([] when nothing)."""
    modules = list(modules)
    found = deciders(modules)
    if not found:
        return []
    wrong = [f"{where} names no payload catalog (Decider(..., payloads=...))"
             for where, decider in found if decider.payloads is None]
    catalogs = events_catalog(modules)
    if len(catalogs) != 1:
        places = " or ".join(f"services.{service}.{name}" for name in CATALOG_MODULES)
        return wrong + [f"{service}: its deciders record events, so {places} must define "
                        f"one EVENTS catalog (found {[name for name, _ in catalogs]})"]
    where_events, events = catalogs[0]
    for where, decider in found:
        if decider.payloads is None:
            continue
        for type_, schema in decider.payloads.schemas.items():
            if events.schemas.get(type_) is not schema:
                wrong.append(f"{where}'s catalog has {type_} ({schema.__name__}), "
                             f"{where_events}.EVENTS "
                             f"{'has another schema' if type_ in events.schemas else 'not'}")
    checked = {type_ for _, decider in found if decider.payloads is not None
               for type_ in decider.payloads.schemas}
    wrong += [f"{where_events}.EVENTS has {type_}, which no decider's catalog checks"
              for type_ in sorted(set(events.schemas) - checked)]
    return wrong


def catalog_of(service):
    """The service's EVENTS; None if it records no events (or has no one EVENTS, which
    the test above names)."""
    modules = list(service_modules(service))
    catalogs = events_catalog(modules)
    return catalogs[0][1] if deciders(modules) and len(catalogs) == 1 else None


def test_every_decider_names_its_catalog_and_every_service_has_one_covering_them():
    found = {service: problems(service, service_modules(service)) for service in SERVICES}
    assert {service: wrong for service, wrong in found.items() if wrong} == {}
    recording = [service for service in SERVICES
                 if deciders(list(service_modules(service)))]
    assert {"registration", "cycle", "planning", "gateway"} <= set(recording)


def test_the_gateway_documents_the_catalog_of_every_ledger():
    """The audit history's OpenAPI typing comes from event_payloads.CATALOGS, by ledger
    (= the service that writes it): a service that records events and is missing there
    would have its events typed by no schema of the document."""
    wanted = {service: catalog_of(service) for service in SERVICES}
    assert {ledger: catalog.schemas for ledger, catalog in CATALOGS.items()} == {
        service: catalog.schemas for service, catalog in wanted.items() if catalog}


# -- the check itself ---------------------------------------------------------------------

class Noted(Schema):
    pass


def _module(name, **attributes):
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    return module


def _domain(payloads):
    """services.sample.domain defining NOTE, a Decider naming `payloads`."""
    def decide(state, command):
        return []
    decide.__module__ = "services.sample.domain"
    return _module("services.sample.domain", NOTE=Decider(
        initial=dict, evolve=lambda state, event: state, decide=decide, payloads=payloads))


SCHEMAS = _module("services.sample.schemas", EVENTS=EventCatalog({"Noted": Noted}))


def test_a_decider_without_a_catalog_is_named():
    assert problems("sample", [_domain(None), SCHEMAS]) == [
        "services.sample.domain.NOTE names no payload catalog (Decider(..., payloads=...))",
        "services.sample.schemas.EVENTS has Noted, which no decider's catalog checks"]


def test_a_catalog_events_does_not_cover_is_named_and_so_is_a_missing_events():
    domain = _domain(EventCatalog({"Noted": Noted, "Told": Noted}))
    assert problems("sample", [domain, SCHEMAS]) == [
        "services.sample.domain.NOTE's catalog has Told (Noted), "
        "services.sample.schemas.EVENTS not"]
    assert problems("sample", [domain]) == [
        "sample: its deciders record events, so services.sample.schemas or "
        "services.sample.payloads must define one EVENTS catalog (found [])"]
    assert problems("sample", [_domain(SCHEMAS.EVENTS), SCHEMAS]) == []
    assert problems("sample", [SCHEMAS]) == []   # no decider: nothing recorded


def test_every_payload_schema_compiles_to_its_check():
    """Checks are compiled on first use (payloads.py): compile them all here, so a schema
    apispec or fastjsonschema cannot take fails a test, not a service's first command."""
    for catalog in CATALOGS.values():
        for type_ in catalog.schemas:
            try:
                catalog.check(NewEvent(type_, {"not a field": 1}))
            except PayloadMismatch as refused:
                assert "not a field" in str(refused) or "must contain" in str(refused)
            else:
                raise AssertionError(f"{type_} took a payload of an unknown field")
