"""Projections and reactions: the two kinds of subscriber a service declares.

    class VillageList(Projection):
        name = "village_list"          # unique within the service
        source = "registration"        # ledger read; None = the service's own ledger

        @handles("VillageRegistered")
        def registered(self, record):
            self.views.collection("villages").put(...)

A Projection folds events into view documents; its tracking position lives with its
views, so both are rebuilt together. A Reaction (process manager) turns another
service's event into a command on this service; its position is kept durably, and
each command carries an idempotency key derived from the source event, so replays
record nothing twice.
"""


def handles(*event_types):
    """Mark a method as the handler of these event types ("*": every type)."""
    def mark(method):
        method.handles = event_types
        return method
    return mark


class Subscriber:
    name = None
    source = None          # None: the service's own ledger
    durable_tracking = False

    def __init__(self, context):
        self.context = context        # a ServiceContext: views, ledger, execute
        self.views = context.views

    @classmethod
    def handled_types(cls):
        return [t for attr in dir(cls) for t in getattr(getattr(cls, attr), "handles", ())]

    def handlers(self):
        found = {}
        for attr in dir(type(self)):
            for event_type in getattr(getattr(type(self), attr), "handles", ()):
                if event_type in found:
                    raise TypeError(f"{type(self).__name__} handles {event_type} twice")
                found[event_type] = getattr(self, attr)
        return found

    def reset(self):
        """Forget everything derived (before a rebuild); projections clear their views."""


class Projection(Subscriber):
    collections = ()       # view collections this projection owns (cleared on rebuild)

    def reset(self):
        for name in self.collections:
            self.views.collection(name).clear()


class Reaction(Subscriber):
    durable_tracking = True

    def command_key(self, record):
        """Idempotency key of the command caused by record: same event, same key."""
        return f"{self.name}:{record.ledger}:{record.event_id}"
