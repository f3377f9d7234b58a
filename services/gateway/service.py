"""The gateway nameko service: the platform's one public HTTP door.

Its entrypoints are made from the route table (routes/): each route becomes one
@api entrypoint (nameko @http on the JSON web server) named after the route, so
nameko-prometheus counts and times each one, and every entrypoint runs the same
pipeline (pipeline.py). The services are called over nameko RPC as the authenticated
principal. Users and API keys are event-sourced in the gateway's own ledger.
"""
from shared.chassis.entrypoints import OperatorEntrypoints, metrics_page
from shared.chassis.platform import doorbell

from .platform import GatewayPlatform
from .routes import ROUTES
from .runtime import SERVICES, GatewayRuntime
from .upstream import ExpiringRpcProxy
from .views import IdentityBoard
from .web import api

IDENTITY_EVENTS = ("UserCreated", "PasswordChanged", "UserDisabled", "UserEnabled",
                   "ApiKeyIssued", "ApiKeyRevoked")


class GatewayService(OperatorEntrypoints):
    name = "gateway"
    platform = GatewayPlatform(subscribers=[IdentityBoard])
    gateway = GatewayRuntime(ROUTES)
    # `plpbk users` / `plpbk keys` write the ledger directly: catch up when they do
    on_identity_change = doorbell("gateway", *IDENTITY_EVENTS)

    # RPC requests are transient (delivery_mode 1): one is worth something only while
    # its caller waits, so RabbitMQ need not write it to disk (bench_gateway: read p99
    # at 200/s fell from ~80 ms to ~8 ms). Publisher confirms stay on, so a call to a
    # service that is not running fails at once. A request no process took within
    # GATEWAY_RPC_TIMEOUT expires, so a service that comes back never runs it. One proxy
    # attribute per service the gateway calls (runtime.SERVICES): see the end of the module

    @api("GET", "/metrics")
    def expose_metrics(self, request):
        """Prometheus metrics of this process (on the JSON web server like the API)."""
        return metrics_page(self.metrics, request)


def _entrypoint(route):
    def handle(self, request, **path_values):
        return self.gateway.respond(route, request, path_values)
    handle.__name__ = handle.__qualname__ = route.name
    handle.__doc__ = route.summary
    return api(route.method, route.rule, max_body=route.body_limit)(handle)


for _route in ROUTES:
    setattr(GatewayService, _route.name, _entrypoint(_route))

for _service in SERVICES:
    setattr(GatewayService, _service, ExpiringRpcProxy(_service, delivery_mode=1))
