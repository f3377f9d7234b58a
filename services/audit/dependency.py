"""The audit service's platform: every ledger read-only, the index, the Merkle trees.

Unlike a writing service it has no ledger of its own (it appends nothing, and opening
one would create an empty `audit` ledger) and no relay. It keeps:
- the index (VillageIndex) in its view store (VIEW_URI, store "audit"), one subscription
  per ledger, tracking in the same store, so both are rebuilt together;
- the Merkle trees in its durable state store (STATE_URI, store "audit"): rebuilding
  them means rehashing every ledger, and signed tree heads were given out from them;
- the tree-head signing key, read from the file TREE_HEAD_KEY names (optional: without
  it, everything but signing works).

New ledgers are looked for at start, on every catch-up (CATCH_UP_INTERVAL seconds) and
before answering each query, so a service deployed later is indexed without a restart
and every answer includes everything recorded before the query.
"""
import gc
import logging
import os
import threading

from eventlet.event import Event
from nameko.extensions import DependencyProvider

from shared.chassis.access import actor_of
from shared.chassis.errors import StoreUnavailable
from shared.chassis.platform import CATCH_UP_OUTAGES
from shared.chassis.starting import starting
from shared.chassis.subscribers import fold_again_if_reshaped
from shared.config import number_setting, setting
from shared.messaging.folding import FoldingLease
from shared.messaging.outages import OUTAGES, OutageLog
from shared.messaging.subscription import Subscription
from shared.views import ViewStoreError, open_view_store

from .index import VillageIndex
from .proofs import TransparencyLog
from .sources import LedgerSources
from .treehead import load_private_key

log = logging.getLogger(__name__)


class IndexContext:
    """What the index projection needs: its view store."""

    def __init__(self, views):
        self.name, self.views = "audit", views


class AuditPlatform(DependencyProvider):
    subscriber_classes = (VillageIndex,)   # how services.audit.registry finds this read model
    upcasters = None

    def setup(self):
        # The index is millions of small long-lived objects: as shared Platform does, keep
        # the cyclic collector from rescanning them all the time.
        gc.set_threshold(100_000, 50, 1000)
        config = self.container.config
        with starting("audit"):   # a setting or store it cannot use: no service
            self.interval = number_setting(config, "CATCH_UP_INTERVAL", whole=False)
            self.views = open_view_store(setting(config, "VIEW_URI"), "audit", rebuildable=True)
            self.state = open_view_store(setting(config, "STATE_URI"), "audit")
            self.state.check_writable()
            # One audit at a time extends the trees in STATE_URI and folds the index
            # (decision 24): a second instance is refused, not a second writer
            self.lease = FoldingLease(self.state, "audit")
            if not self.lease.held():
                raise ViewStoreError(
                    f"another audit service ({self.lease.holder_now()}) keeps the Merkle trees at STATE_URI; "
                    "run one audit service per state store (this one may start once that "
                    f"one has stopped, or {int(self.lease.seconds)} s after it was killed)")
        self.sources = LedgerSources(setting(config, "STORE_URI"))
        self.log = TransparencyLog(self.sources, self.state, signing_key(config))
        self.index = VillageIndex(IndexContext(self.views))
        fold_again_if_reshaped(self.index, f"audit.{VillageIndex.name}", self.views,
                               self.views.collection("tracking"))
        self.subscriptions = []
        self._registry = None
        self.ready = Event()
        self._stopped = threading.Event()  # green under nameko's monkey-patching
        self.outages = OutageLog(log)
        self._unreadable_said = set()

    @property
    def registry(self):
        """The services' read models, found on first use (imports every service module)."""
        if self._registry is None:
            from .registry import discover
            self._registry = discover()
        return self._registry

    def start(self):
        self.container.spawn_managed_thread(self._keep_up, identifier="audit-catch-up")

    def _keep_up(self):
        self._upkeep()
        self.ready.send(True)
        while not self._stopped.wait(self.interval):
            self._upkeep()

    def _upkeep(self):
        try:
            if not self.lease.held():   # another took over while this one was stalled
                return
            self.catch_up()
            self.log.extend_all()
            self._say_unreadable()
        except CATCH_UP_OUTAGES as exc:   # the operators' to fix: said once, then retried
            self.outages.down("audit catch-up", exc)
        except Exception:  # the next round retries; a broken tree is logged by extend_all
            log.exception("audit catch-up failed")
        else:
            self.outages.up("audit catch-up")

    def _say_unreadable(self):
        """A ledger that cannot be read (a file that is no ledger, one that cannot be
        opened now): said once, and once when it is gone or readable again (the other
        ledgers are caught up meanwhile)."""
        unreadable = self.sources.unreadable
        for name in self._unreadable_said - set(unreadable):
            self.outages.up(f"audit of ledger {name}")
        for name, problem in unreadable.items():
            self.outages.down(f"audit of ledger {name}", problem)
        self._unreadable_said = set(unreadable)

    def catch_up(self):
        """Index every event recorded so far, in every ledger (new ones included)."""
        for name in self.sources.discover():
            self.subscriptions.append(Subscription(
                f"audit.{VillageIndex.name}", self.sources.get(name), self.index.handlers(),
                self.views.collection("tracking"), self.state.collection("parked")))
        for subscription in list(self.subscriptions):
            subscription.catch_up()

    def stop(self):
        self._stopped.set()
        try:   # a new audit service may start at once
            self.lease.release()
        except Exception as exc:   # the store is away: the lease runs out on its own
            log.warning("audit: could not release its lease: %s", exc)
        self.sources.close()
        self.views.close()
        self.state.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        self.ready.wait()
        return AuditSession(self, worker_ctx)


def signing_key(config):
    path = (config or {}).get("TREE_HEAD_KEY") or os.environ.get("TREE_HEAD_KEY")
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            return load_private_key(handle.read())
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"TREE_HEAD_KEY {path}: cannot load an Ed25519 private key "
                           f"({exc})") from None


class AuditSession:
    """One worker's view: who asks, and the audit platform's stores, caught up."""

    def __init__(self, platform, worker_ctx):
        self._platform = platform
        self.sources, self.views, self.log = platform.sources, platform.views, platform.log
        self.subscriptions = platform.subscriptions
        self.actor = actor_of(worker_ctx)

    @property
    def registry(self):
        return self._platform.registry

    def catch_up(self, every_ledger=True):
        """Caught up; every_ledger: the answer reads all ledgers, so a file there that is
        no readable ledger is refused (Conflict naming it), never left out unsaid."""
        try:
            self._platform.catch_up()
        except OUTAGES as exc:   # the operators' to fix, and the same query may be sent later
            raise StoreUnavailable(str(exc)) from None
        if every_ledger:
            self.sources.complete()
        return self
