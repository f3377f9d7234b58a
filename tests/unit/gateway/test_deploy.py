"""Monitoring assets agree with the code: scrape targets, alerted metrics, dashboard."""
import json
import pathlib
import re

import yaml

from services import RELAY_METRICS_PORT, SERVICES

DEPLOY = pathlib.Path(__file__).resolve().parents[3] / "deploy"


def targets(path):
    config = yaml.safe_load((DEPLOY / "prometheus" / path).read_text())
    return {group["labels"]["service"]: group["targets"][0]
            for job in config["scrape_configs"] for group in job["static_configs"]}


def test_every_service_process_is_scraped_locally_and_in_compose():
    assert targets("prometheus-local.yml") == {
        **{name: f"127.0.0.1:{port}" for name, (_target, port) in SERVICES.items()},
        "relay": f"127.0.0.1:{RELAY_METRICS_PORT}"}
    assert targets("prometheus.yml") == {**{name: f"{name}:8000" for name in SERVICES},
                                         "relay": "relay:8009"}


def test_alerts_cover_relay_lag_parked_events_verification_and_handlers():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    expressions = " ".join(rule["expr"] for group in rules["groups"]
                           for rule in group["rules"])
    for metric in ("plpbk_relay_lag_events", "plpbk_parked_events",
                   "plpbk_ledger_verify_failed", "plpbk_subscriber_handler_failures_total",
                   "gateway_http_requests_total"):
        assert metric in expressions


def test_the_dashboard_uses_metrics_the_platform_exports():
    from services.gateway import metrics as gateway_metrics  # noqa: F401 (registers them)
    from shared import metrics as platform_metrics  # noqa: F401
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "plpbk-overview.json")
                           .read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    known = set(re.findall(r"plpbk_[a-z_]+", (pathlib.Path(platform_metrics.__file__)
                                              .read_text() + pathlib.Path(
                                                  gateway_metrics.__file__).read_text())))
    used = {name.removesuffix("_bucket") for e in exprs for name in
            re.findall(r"plpbk_[a-z_]+", e)}
    assert used <= known | {n.removesuffix("_total") for n in known} | \
        {n + "_total" for n in known}, used - known
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
