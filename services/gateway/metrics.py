"""The gateway's own Prometheus metrics.

nameko-prometheus already counts and times every routed request
(gateway_http_requests_total, gateway_http_request_latency_seconds, labelled by method,
route template and status); these cover what it cannot see.
"""
from prometheus_client import Counter, Histogram

UNROUTED = Counter("plpbk_gateway_unrouted_total",
                   "Requests answered before reaching a route (404, 405, 413, 414, 431, ...)", ["status"])
AUTH_FAILURES = Counter("plpbk_gateway_auth_failures_total",
                        "Requests refused for missing or invalid credentials", ["reason"])
LOGINS = Counter("plpbk_gateway_logins_total", "Login attempts by outcome", ["outcome"])
IDEMPOTENT_REPLAYS = Counter("plpbk_gateway_idempotent_replays_total",
                             "Writes answered from the stored first response")
UPSTREAM_SECONDS = Histogram("plpbk_gateway_upstream_seconds",
                             "Time of one RPC to a service", ["service", "method"],
                             buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5,
                                      5, 10, 30))
UPSTREAM_FAILURES = Counter("plpbk_gateway_upstream_failures_total",
                            "RPCs that failed for a reason other than the request",
                            ["service", "kind"])
