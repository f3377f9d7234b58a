"""Platform metrics (prometheus-client), labelled by ledger or subscriber.

Defined once per process; every service's /metrics exposes the process registry.
Entrypoint counts and latencies come from nameko-prometheus on each service. Each one
here is set on its path (tests/integration/test_deploy_metrics.py checks it).
"""
from prometheus_client import Counter, Gauge

LEDGER_APPENDS = Counter("plpbk_ledger_appended_events_total",
                         "Events recorded in a ledger", ["ledger"])
LEDGER_CONFLICTS = Counter("plpbk_ledger_conflicts_total",
                           "Appends refused because the stream moved on", ["ledger"])
RELAY_PUBLISHED = Counter("plpbk_relay_published_total",
                          "Events confirmed by RabbitMQ", ["ledger"])
RELAY_LAG = Gauge("plpbk_relay_lag_events",
                  "Recorded events not yet confirmed by RabbitMQ", ["ledger"])
HANDLER_APPLIED = Counter("plpbk_subscriber_applied_total",
                          "Events applied by a subscriber", ["subscriber", "source"])
HANDLER_FAILURES = Counter("plpbk_subscriber_handler_failures_total",
                           "Failed handler attempts", ["subscriber", "source"])
PARKED_EVENTS = Gauge("plpbk_parked_events",
                      "Events parked after their handler kept failing", ["subscriber"])
SUBSCRIBER_LAG = Gauge("plpbk_subscriber_lag_events",
                       "Events in the source ledger not yet applied", ["subscriber", "source"])
VERIFY_FAILURES = Gauge("plpbk_ledger_verify_failed",
                        "1 when the last verification of a ledger found a break", ["ledger"])
