"""Which read models exist and which ledgers feed them, found from the services themselves.

services.SERVICES names every service class. Each class declares its subscribers on
its platform dependency (Platform(subscribers=[...], upcasters=...)); the Projections
among them are its read models. A service that does not exist in this checkout (not
yet written) or fails to import is skipped and named in `problems`, so the audit tools
work with whatever services there are.

A projection reads `cls.source` (None: its own service's ledger); "*" means every
ledger (the audit service's own index).
"""
import importlib
from dataclasses import dataclass, field

from shared.chassis.subscribers import Projection


@dataclass(frozen=True)
class ViewSpec:
    service: str        # owner: its view store is named after it
    cls: type           # the Projection class

    @property
    def name(self) -> str:
        return self.cls.name

    @property
    def key(self) -> str:
        """service.projection: the subscription name the platform gives it."""
        return f"{self.service}.{self.cls.name}"

    def sources(self, ledger_names) -> list:
        if self.cls.source == "*":
            return list(ledger_names)
        source = self.cls.source or self.service
        return [source] if source in ledger_names else []


@dataclass
class Registry:
    views: list = field(default_factory=list)
    upcasters: dict = field(default_factory=dict)   # ledger name -> UpcasterRegistry
    problems: dict = field(default_factory=dict)    # service -> why it was skipped

    def select(self, wanted=None) -> list:
        """Views named by `wanted`: a service name, service.projection, or None for all."""
        if not wanted:
            return list(self.views)
        return [v for v in self.views if wanted in (v.service, v.key)]

    def village_views(self) -> list:
        """Views of the services themselves (not the audit index) for as-of replays."""
        return [v for v in self.views if v.cls.source != "*"]


def discover(services=None) -> Registry:
    if services is None:
        from services import SERVICES
        services = SERVICES
    registry = Registry()
    for name, (target, _port) in services.items():
        module_name, _, class_name = target.partition(":")
        try:
            service_class = getattr(importlib.import_module(module_name), class_name)
        except ModuleNotFoundError as exc:
            if exc.name in (module_name, module_name.rsplit(".", 1)[0]):
                registry.problems[name] = "not present in this checkout"
            else:
                registry.problems[name] = f"cannot be imported: {exc}"
            continue
        except Exception as exc:  # a service being written may not import yet
            registry.problems[name] = f"cannot be imported: {type(exc).__name__}: {exc}"
            continue
        for provider in _platforms(service_class):
            for cls in provider.subscriber_classes:
                if issubclass(cls, Projection):
                    registry.views.append(ViewSpec(name, cls))
            if getattr(provider, "upcasters", None):
                registry.upcasters[name] = provider.upcasters
    return registry


def _platforms(service_class):
    """The class's dependencies that declare subscribers (subclasses override by name)."""
    found = {}
    for klass in reversed(service_class.__mro__):
        for attribute, value in vars(klass).items():
            if hasattr(value, "subscriber_classes"):
                found[attribute] = value
    return list(found.values())
