"""Upcasters: read an old schema version of an event as the current one.

Stored bytes never change (they are hashed); the upgrade happens on every read.
Register one function per (event type, from-version); each returns the payload of
from-version + 1, so a chain 1 -> 2 -> 3 is applied step by step.
"""


class UpcasterRegistry:
    def __init__(self):
        self._steps = {}

    def register(self, event_type: str, from_version: int):
        """Decorator: @upcasters.register("VillageRegistered", 1) def v1_to_v2(payload): ..."""
        def decorate(step):
            key = (event_type, from_version)
            if key in self._steps:
                raise ValueError(f"an upcaster for {event_type} v{from_version} already exists")
            self._steps[key] = step
            return step
        return decorate

    def __bool__(self):
        return bool(self._steps)

    def upcast(self, record):
        """Upgrade record.payload in place as far as registered steps go; return the record."""
        step = self._steps.get((record.type, record.schema_version))
        while step is not None:
            record.payload = step(dict(record.payload))
            record.schema_version += 1
            step = self._steps.get((record.type, record.schema_version))
        return record
