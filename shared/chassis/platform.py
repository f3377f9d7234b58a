"""The nameko dependency provider that gives a service its ledger, views and subscribers.

    class CycleService(OperatorEntrypoints):
        name = "cycle"
        platform = Platform(subscribers=[CycleBoard, OpenCycleOnSelection])
        on_registration = doorbell("registration", "VillageSelected")

Configuration (nameko config, each with an environment default):
STORE_URI (ledgers), STATE_URI (durable operator state), VIEW_URI (read models),
AMQP_URI, CATCH_UP_INTERVAL (seconds between safety-net catch-ups).
Nothing is opened at import time; everything at container setup.
"""
import gc
import inspect
import logging
import threading
from contextlib import contextmanager

from eventlet.event import Event
from nameko.events import EventHandler, event_handler
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR, DependencyProvider

from ..config import number_setting, setting
from ..ledger import SYSTEM, ConcurrencyError, LedgerDamaged, Metadata, open_ledger
from ..messaging.folding import FoldingLease
from ..messaging.outages import OUTAGES, OutageLog
from ..messaging.relay import Relay
from ..messaging.source import SourceLedger
from ..messaging.subscription import RETRY_LATER, HalfRebuilt, SourceRewound, Subscription
from ..views import open_view_store
from . import commands
from .access import actor_of
from .errors import StoreUnavailable
from .starting import starting
from .subscribers import Projection, check_subscribers, fold_again_if_reshaped

log = logging.getLogger(__name__)

# What stops a catch-up without being anybody's bug: said once per outage, no traceback
# (a reaction's target stream busy, a source restored behind our position, or a view left
# half rebuilt, too: the message says what the operator does)
CATCH_UP_OUTAGES = RETRY_LATER + (StoreUnavailable, SourceRewound, HalfRebuilt)


class ServiceContext:
    """What subscribers and workers share: the service's stores and command execution."""

    def __init__(self, platform):
        self._platform = platform
        self.name = platform.service_name
        self.views = platform.views
        self.ledger = platform.ledger

    def execute(self, decider, stream_id, command, metadata, idempotency_key=None):
        outcome = commands.execute(self.ledger, decider, stream_id, command, metadata,
                                   idempotency_key)
        self._answered_from_views(outcome.events)
        return outcome

    def execute_many(self, jobs):
        outcomes = commands.execute_many(self.ledger, jobs)
        self._answered_from_views(any(isinstance(o, commands.Outcome) and o.events
                                      for o in outcomes))
        return outcomes

    def _answered_from_views(self, recorded):
        """Bring our views up to our ledger before the answer is read from them: after
        our own append, and also when this command recorded nothing (a duplicate key, the
        same activity sent twice at once), since what it decided on may be another
        request's record of a moment ago that no catch-up has applied yet."""
        if recorded:
            self._platform.appended()   # also wakes the relay
        else:
            self._platform.catch_up(self.name, wait=True)

    def append_batch(self, requests):
        results = self.ledger.append_batch(requests)
        self._platform.appended()
        return results

    def source(self, name):
        return self._platform.source(name)

    def reaction_metadata(self, record):
        """Metadata of a command the platform issues because of record."""
        return Metadata(SYSTEM, record.correlation_id, record.event_id)


class WorkerSession(ServiceContext):
    """ServiceContext plus who is asking, for one nameko worker."""

    def __init__(self, platform, worker_ctx):
        super().__init__(platform)
        data = worker_ctx.context_data
        self.actor = actor_of(worker_ctx)
        self.correlation_id = str(data.get("correlation_id") or worker_ctx.origin_call_id)
        self.metadata = Metadata(self.actor, self.correlation_id, None)

    # A request's writes: a store that cannot take them is the caller's 503, not a bug
    def execute(self, *args, **kwargs):
        with _unavailable_is_503():
            return super().execute(*args, **kwargs)

    def execute_many(self, jobs):
        with _unavailable_is_503():
            try:
                return super().execute_many(jobs)
            except ConcurrencyError as exc:   # its retries spent: a 409, as execute's is
                raise commands.kept_changing("the records it decides on", exc) from None

    def append_batch(self, requests):   # a version conflict is the caller's to decide on
        with _unavailable_is_503():
            return super().append_batch(requests)

    def ring(self, source, position):
        self._platform.ring(source, position)

    def catch_up(self, source=None):
        """Apply what source (every source, if None) has recorded that its subscribers
        have not seen yet, before a decision that reads their effects (a doorbell may not
        have rung yet)."""
        self._platform.catch_up(source, wait=True)

    @property
    def subscriptions(self):
        return self._platform.subscriptions


class Platform(DependencyProvider):
    def __init__(self, subscribers=(), upcasters=None):
        self.subscriber_classes = check_subscribers(subscribers)
        self.upcasters = upcasters

    def setup(self):
        # In-process views are millions of small dicts that live as long as the process;
        # with the default thresholds the cyclic collector rescans them all the time.
        gc.set_threshold(100_000, 50, 1000)
        config, self.service_name = self.container.config, self.container.service_name
        self.store_uri = setting(config, "STORE_URI")
        self.amqp_uri = setting(config, "AMQP_URI")
        with starting(self.service_name):   # a setting or store it cannot use: no service
            self.interval = number_setting(config, "CATCH_UP_INTERVAL", whole=False)
            self.ledger = open_ledger(self.store_uri, self.service_name, self.upcasters)
            self.ledger.check_writable()
            self.state = open_view_store(setting(config, "STATE_URI"), self.service_name)
            self.state.check_writable()
            self.views = open_view_store(setting(config, "VIEW_URI"), self.service_name,
                                         rebuildable=True)
        self._sources = {self.service_name: self.ledger}
        self.context = ServiceContext(self)
        self.subscribers, self.subscriptions = [], []
        # One instance folds the views at a time: others on the same durable view store
        # serve from them and stand by (shared.messaging.folding, decision 24)
        self.lease = FoldingLease(self.views, self.service_name)
        for cls in self.subscriber_classes:
            subscriber = cls(self.context)
            in_views = not cls.durable_tracking
            tracking = (self.views if in_views else self.state).collection("tracking")
            self.subscribers.append(subscriber)
            self.subscriptions.append(Subscription(
                f"{self.service_name}.{cls.name}", self.source(cls.source or self.service_name),
                subscriber.handlers(), tracking, self.state.collection("parked"),
                batch_handler=subscriber.handle_batch, lease=self.lease if in_views else None))
        self.lease.taken.append(self._fold_again_if_reshaped)
        with starting(self.service_name):
            self.lease.held()   # taken: views of an earlier shape are cleared first
        for name, source, types in unbelled(self.container.service_cls, self.service_name,
                                            self.subscriber_classes):
            log.warning("%s.%s reads %s's %s without a doorbell(%r, ...) on the service: "
                        "those events arrive only at catch-ups (every CATCH_UP_INTERVAL "
                        "seconds)", self.service_name, name, source, ", ".join(types), source)
        self.relay = Relay(self.ledger, self.amqp_uri, self.state) \
            if setting(config, "RELAY") == "embedded" else None
        self.outages = OutageLog(log)
        self.ready = Event()
        self._stopped = threading.Event()  # green under nameko's monkey-patching

    def _fold_again_if_reshaped(self):
        """By the instance that folds, whenever it takes that over: views folded by an
        earlier version of the code (another instance's, in a rolling upgrade)."""
        for subscriber, subscription in zip(self.subscribers, self.subscriptions):
            if isinstance(subscriber, Projection):
                fold_again_if_reshaped(subscriber, subscription.name, self.views,
                                       subscription.tracking)

    def source(self, name):
        """A ledger to read: ours, or another's read-only, never created by reading it."""
        if name not in self._sources:
            self._sources[name] = SourceLedger(self.store_uri, name)
        return self._sources[name]

    def start(self):
        if self.relay:
            self.container.spawn_managed_thread(self.relay.run, identifier="relay")
        self.container.spawn_managed_thread(self._keep_up, identifier="catch-up")

    def _keep_up(self):
        """Catch up once before serving (views start from the ledgers), then as a safety net."""
        self.catch_up()
        self.ready.send(True)
        while not self._stopped.wait(self.interval):
            self.catch_up()

    def catch_up(self, source=None, wait=False):
        """Every subscription (to source, if given) brought up to its source's head; with
        wait, also where another instance folds it (decision 24): a command answers."""
        self._each(source, lambda subscription: subscription.catch_up(wait=wait))

    def _each(self, source, action):
        """action on every subscription (to source, if given), each on its own: one that
        fails leaves the others served; the next round (the safety net) retries it, and
        handlers' own errors are parked, not raised."""
        for subscription in self.subscriptions:
            if source is None or subscription.source.name == source:
                what = f"catch-up of {subscription.name}"
                try:
                    action(subscription)
                except CATCH_UP_OUTAGES as exc:
                    self.outages.down(what, exc)
                except LedgerDamaged as exc:   # a file to move out: said once, loudly
                    self.outages.down(what, exc, logging.ERROR)
                except Exception:
                    log.exception("%s failed", what)
                else:
                    self.outages.up(what)

    def appended(self):
        """Our ledger grew: bring our own projections up to date and wake the relay."""
        if self.relay:
            self.relay.wake()
        self.catch_up(self.service_name, wait=True)

    def ring(self, source, position):
        self._each(source, lambda subscription: subscription.ring(position))

    def stop(self):
        self._stopped.set()
        if self.relay:
            self.relay.stop()
        for ledger in self._sources.values():
            ledger.close()
        try:   # a standby takes over at once, not when the lease runs out
            self.lease.release()
        except Exception as exc:   # the store is away: the lease runs out on its own
            log.warning("%s: could not release the folding lease: %s", self.service_name, exc)
        self.state.close()
        self.views.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        self.ready.wait()
        return WorkerSession(self, worker_ctx)


@contextmanager
def _unavailable_is_503():
    try:
        yield
    except OUTAGES as exc:
        raise StoreUnavailable(str(exc)) from None


def unbelled(service_cls, service_name, subscriber_classes):
    """[(subscriber, source, [event types])] a subscriber handles from another service's
    ledger without a doorbell for them on the service class: they arrive only at the
    safety-net catch-up. Wildcard handlers ("*") are left out: no doorbell names them."""
    rung = {(entrypoint.source_service, entrypoint.event_type)
            for _, member in inspect.getmembers(service_cls, callable)
            for entrypoint in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ())
            if isinstance(entrypoint, EventHandler)}
    found = []
    for cls in subscriber_classes:
        if cls.source in (None, "*", service_name):
            continue
        types = sorted({t for t in cls.handled_types() if t != "*"} -
                       {t for source, t in rung if source == cls.source})
        if types:
            found.append((cls.name, cls.source, types))
    return found


def doorbell(source, *event_types):
    """An event-handler entrypoint per type that makes the service catch up from source.

    The message itself carries nothing the service trusts: it only says the source
    ledger has reached a position. The service needs a Platform named `platform`.
    """
    def ring(self, envelope):
        position = envelope.get("position") if isinstance(envelope, dict) else None
        self.platform.ring(source, position if isinstance(position, int) else None)

    for event_type in event_types:
        ring = event_handler(source, event_type)(ring)
    return ring
