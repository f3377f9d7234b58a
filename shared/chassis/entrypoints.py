"""Entrypoints every service has: operator RPCs and the Prometheus metrics page."""
from nameko.rpc import rpc
from nameko.web.handlers import http
from nameko_prometheus import PrometheusMetrics
from nameko_prometheus.utils import reset_prometheus_registry


class ServiceMetrics(PrometheusMetrics):
    """nameko-prometheus, re-registrable: tests start the same service many times."""

    def setup(self):
        prefix = self.container.config.get("PROMETHEUS", {}).get(
            self.container.service_name, {}).get("prefix", self.container.service_name)
        reset_prometheus_registry(f"{prefix}_")
        super().setup()


class OperatorEntrypoints:
    """Mixed into every service class. Needs a Platform named `platform`."""
    metrics = ServiceMetrics()

    @rpc
    def parked(self):
        """Parked events of this service's subscribers."""
        return [entry for subscription in self.platform.subscriptions
                for entry in subscription.parked_events()]

    @rpc
    def replay_parked(self, positions=None):
        """Run parked events again; positions limits it to those source positions."""
        wanted = set(positions) if positions else None
        return [outcome for subscription in self.platform.subscriptions
                for outcome in subscription.replay_parked(wanted)]

    @rpc
    def status(self):
        """Ledger head, relay position and subscriber positions: for health checks."""
        head = self.platform.ledger.head()
        return {"service": self.platform.name, "ledger_head": head.position,
                "ledger_hash": head.hash,
                "subscriptions": {s.name: {"source": s.source.name, "position": s.position,
                                           "source_head": s.source.head().position}
                                  for s in self.platform.subscriptions}}

    @http("GET", "/metrics")
    def expose_metrics(self, request):
        return self.metrics.expose_metrics(request)
