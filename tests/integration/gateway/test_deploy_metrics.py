"""Every metric a Grafana panel or a Prometheus rule in deploy/ reads is one the services
really expose on /metrics, with the labels the query matches, groups by and shows: a
panel on a name nobody exposes is an empty graph, and an alert on it never fires.

The platform does real work first (over the gateway's HTTP API, with the services on
the real RabbitMQ), so that every metric has samples, then each service's /metrics page
is read as Prometheus reads it.
"""
import re

import pytest
import requests
from nameko.web.server import WebServer
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from services.audit.service import AuditService
from services.cycle.service import CycleService
from services.gateway.service import GatewayService
from services.gateway.web import JsonWebServer
from services.registration.service import RegistrationService
from shared import metrics as platform_metrics
from shared.ledger import Actor, ConcurrencyError, Metadata, NewEvent, open_ledger
from tests.samples import BAJUR, ELIGIBLE

from ..conftest import wait_for
from ..deploy_queries import (dashboard_queries, job_names, overridden_labels, parse,
                              rule_queries, target_labels)
from .conftest import Operator, login

QUERIES = dashboard_queries() + rule_queries()
NEIGHBOUR = "52.01.08.2001"
PROMETHEUS_OWN = {"up"}   # series Prometheus makes for each target, not scraped


def page_of(container, server):
    port = container.shared_extensions[server]._sock.getsockname()[1]
    answer = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.text


class Exposed:
    """Sample names -> label names and label values, over every scraped page."""

    def __init__(self, pages):
        self.labels, self.values = {}, {}
        for page in pages:
            for family in text_string_to_metric_families(page):
                for sample in family.samples:
                    self.labels.setdefault(sample.name, set()).update(sample.labels)
                    for label, value in sample.labels.items():
                        self.values.setdefault((sample.name, label), set()).add(value)

    def names(self, selector):
        if selector.name is not None:
            return [selector.name] if selector.name in self.labels else []
        pattern = re.compile(selector.name_pattern() or "(?!)")
        return [name for name in self.labels if pattern.fullmatch(name)]


def problems_of(query, exposed):
    """What the query reads that is not there, as sentences (empty: all there)."""
    found, labels = [], set(target_labels())
    for selector in query.selectors:
        if selector.name in PROMETHEUS_OWN:
            for label, operator, value in selector.matchers:
                if label == "job" and operator == "=" and value not in job_names():
                    found.append(f"job {value!r} is scraped by no config")
            continue
        names = exposed.names(selector)
        if not names:
            found.append(f"no exposed metric is {selector.name or selector.name_pattern()}")
            continue
        own = set().union(*(exposed.labels[name] for name in names))
        labels |= own
        for label in sorted(own & overridden_labels()):
            found.append(f"{names[0]} has its own label {label}, which the scrape target's "
                         f"{label} replaces (Prometheus keeps it as exported_{label})")
        for label, operator, value in selector.matchers:
            if label == "__name__":
                continue
            if label not in own | target_labels():
                found.append(f"{names[0]} has no label {label} (it has {sorted(own)})")
            elif operator in ("=", "=~") and label in own and re.fullmatch(r"\w+(\|\w+)*",
                                                                             value):
                seen = set().union(*(exposed.values.get((n, label), set()) for n in names))
                missing = set(value.split("|")) - seen
                if missing:
                    found.append(f"{names[0]}{{{label}}} is never {sorted(missing)} "
                                 f"(seen: {sorted(seen)})")
    for label in query.grouping:
        if label == "__name__" and not query.keeps_names:
            found.append("groups by __name__, which rate()/an aggregation has dropped")
        elif label not in labels | {"__name__"}:
            found.append(f"groups by {label}, a label none of its metrics has")
    kept = query.grouping or labels | ({"__name__"} if query.keeps_names else set())
    for label in query.shown - kept:
        found.append(f"shows {{{{{label}}}}}, which its result does not have (it keeps "
                     f"{sorted(kept)})")
    return found


def test_every_query_is_read_by_this_test():
    assert len(QUERIES) >= 20 and all(query.selectors for query in QUERIES)


@pytest.fixture
def exposed(container_factory, gateway_config):
    """Real work on registration, cycle, audit and the gateway (planning is not started:
    calls to it are the gateway's upstream failures), then their /metrics pages."""
    containers = {cls: container_factory(cls, gateway_config)
                  for cls in (RegistrationService, CycleService, AuditService, GatewayService)}
    for container in containers.values():
        container.start()
    gateway_socket = containers[GatewayService].shared_extensions[JsonWebServer]._sock
    base = f"http://127.0.0.1:{gateway_socket.getsockname()[1]}"
    operator = Operator(gateway_config)
    operator.user("district", "district", "52.01")
    operator.user("ministry", "ministry")
    district, ministry = login(base, "district"), login(base, "ministry")

    for code in (BAJUR, NEIGHBOUR):   # appends, reactions, relays, subscriber lag
        assert district.post("/api/v1/villages", json={"code": code}).status_code == 201
        district.post(f"/api/v1/villages/{code}/indicators", json=ELIGIBLE)
    district.put(f"/api/v1/villages/{BAJUR}/bkm", json={
        "name": "BKM Bajur", "formed_on": "2019-03-01",
        "members": [{"name": "Siti", "sex": "P", "role": "koordinator"}]})
    district.post(f"/api/v1/villages/{BAJUR}/eligibility/decisions")
    ministry.post("/api/v1/quotas", json={"kabupaten": "52.01", "quota": 1,
                                          "decree_reference": "KepMen 7"})
    assert ministry.post("/api/v1/selections", json={"kabupaten": "52.01"}).status_code == 200
    assert district.get(f"/api/v1/villages/{BAJUR}").status_code == 200
    assert ministry.get("/api/v1/audit/ledgers/registration/tree-head").status_code == 200
    assert district.get(f"/api/v1/villages/{BAJUR}/documents").status_code == 503

    assert requests.get(base + "/api/v1/villages", timeout=10,
                        headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert requests.get(base + "/no/such/route", timeout=10).status_code == 404
    for _ in range(5):   # failed, then throttled (3 free failures in gateway_config)
        requests.post(base + "/api/v1/auth/login", timeout=10,
                      json={"username": "district", "password": "not the password"})

    registration = open_ledger(gateway_config["STORE_URI"], "registration")
    meta = Metadata(Actor("tester", "system"), "corr-deploy-metrics")
    first = registration.read(0, limit=1)[0]
    with pytest.raises(ConcurrencyError):   # the stream has moved on: a conflict
        registration.append(first.stream_id, 0, [NewEvent("Noted", {})], meta)
    # a selection the cycle's reaction cannot read: retried, then parked
    registration.append("forged-selection", 0,
                        [NewEvent("VillageSelected", {"code": NEIGHBOUR})], meta)
    registration.close()

    servers = {GatewayService: JsonWebServer}
    pages = lambda: [page_of(c, servers.get(cls, WebServer)) for cls, c in containers.items()]
    # the gauge is there from the start at 0: wait for the count of one parked event
    wait_for(lambda: re.search(r"^plpbk_parked_events\{[^}]*\} [1-9]", "".join(pages()),
                               re.MULTILINE), what="a parked event")
    return Exposed(pages())


def test_every_metric_a_dashboard_or_rule_reads_is_exposed_with_its_labels(exposed):
    problems = [f"{query.where}: {query.expr}\n    " + "; ".join(found)
                for query in QUERIES if (found := problems_of(query, exposed))]
    assert not problems, "\n".join(problems)
    # where scraped labels are honoured, none may pass for the target's job or instance
    assert not [name for name, labels in exposed.labels.items() if {"job", "instance"} & labels]
    # and the check sees a misspelt name, a label no metric has, a value never given
    assert problems_of(parse("probe", "rate(plpbk_ledger_conflict_total[5m])"), exposed)
    assert problems_of(parse("probe", "sum by (ledgr) (plpbk_relay_lag_events)"), exposed)
    assert problems_of(parse("probe", 'plpbk_gateway_logins_total{outcome="lost"}'), exposed)


def test_every_platform_metric_is_set_by_the_work(exposed):
    """A metric declared and never set is an empty graph for whoever builds a panel
    on it."""
    declared = {metric._name for metric in vars(platform_metrics).values()
                if isinstance(metric, MetricWrapperBase)}
    sampled = {name.removesuffix("_total").removesuffix("_bucket")
               for name in exposed.labels}
    assert declared - sampled == set()
