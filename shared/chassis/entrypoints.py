"""Entrypoints every service has: operator RPCs and the Prometheus metrics page."""
from nameko.rpc import rpc
from nameko.web.handlers import http
from nameko_prometheus import PrometheusMetrics
from nameko_prometheus.utils import reset_prometheus_registry

from .access import authorize_national
from .errors import EXPECTED, InvalidInput
from .logging import Log

MAX_PAGE = 5000
OPERATORS = ("ministry",)   # who runs the platform: the ministry's operators (plpbk's default)


class ServiceMetrics(PrometheusMetrics):
    """nameko-prometheus, re-registrable: tests start the same service many times."""

    def setup(self):
        prefix = self.container.config.get("PROMETHEUS", {}).get(
            self.container.service_name, {}).get("prefix", self.container.service_name)
        reset_prometheus_registry(f"{prefix}_")
        super().setup()


def metrics_page(metrics, request):
    """The /metrics answer. nameko-prometheus reads the Accept header unguarded: a
    client that sends none (Python's urllib) got a 500; without one, the text format."""
    request.environ.setdefault("HTTP_ACCEPT", "text/plain")
    return metrics.expose_metrics(request)


class OperatorEntrypoints:
    """Mixed into every service class. Needs a Platform named `platform`."""
    metrics = ServiceMetrics()
    log = Log()  # self.log.info("...", key=value): JSON with the request's correlation id

    @rpc(expected_exceptions=EXPECTED)
    def parked(self):
        """Parked events of this service's subscribers."""
        authorize_national(self.platform.actor, OPERATORS, "list parked events")
        return [entry for subscription in self.platform.subscriptions
                for entry in subscription.parked_events()]

    @rpc(expected_exceptions=EXPECTED)
    def replay_parked(self, positions=None):
        """Run parked events again; positions limits it to those source positions."""
        actor = self.platform.actor
        authorize_national(actor, OPERATORS, "replay parked events")
        wanted = set(positions) if positions else None
        outcomes = [outcome for subscription in self.platform.subscriptions
                    for outcome in subscription.replay_parked(wanted)]
        # what a replay records acts as the platform: the log says who asked for it
        self.log.info("parked events replayed", actor=actor.id, role=actor.role,
                      applied=sum(o["ok"] for o in outcomes),
                      failed=sum(not o["ok"] for o in outcomes))
        return outcomes

    @rpc
    def status(self):
        """Ledger head, relay position and subscriber positions: for health checks."""
        head = self.platform.ledger.head()
        return {"service": self.platform.name, "ledger_head": head.position,
                "ledger_hash": head.hash,
                "subscriptions": {s.name: {"source": s.source.name, "position": s.position,
                                           "source_head": s.source.head().position}
                                  for s in self.platform.subscriptions}}

    @rpc
    def view_positions(self):
        """Tracked position of each subscription (for `plpbk rebuild --check`)."""
        return {f"{s.name}:{s.source.name}": s.position for s in self.platform.subscriptions}

    @rpc(expected_exceptions=EXPECTED)
    def view_documents(self, collection, skip=0, limit=1000):
        """One page of a view collection, in key order: in-memory views live only inside
        the service, so `plpbk rebuild --check` reads them this way. Whole documents of
        every region: the operators' alone."""
        authorize_national(self.platform.actor, OPERATORS, "read whole view collections")
        if not isinstance(collection, str) or not collection:
            raise InvalidInput("must be a collection name", "collection")
        if type(skip) is not int or skip < 0:
            raise InvalidInput("must be 0 or more", "skip")
        if type(limit) is not int or not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"must be between 1 and {MAX_PAGE}", "limit")
        return self.platform.views.collection(collection).find(skip=skip, limit=limit)

    @http("GET", "/metrics")
    def expose_metrics(self, request):
        return metrics_page(self.metrics, request)
