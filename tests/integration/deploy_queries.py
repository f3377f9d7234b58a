"""Every PromQL query in deploy/ (Grafana panels, Prometheus alert and recording rules),
and what each needs of the metrics: selectors (metric name or __name__ regex, label
matchers) and the labels it groups by or shows (legends, annotations).

A small reader, enough for the expressions we write: a query it cannot read fully is a
test failure (unknown words are reported as selectors whose metric does not exist).
"""
import json
import pathlib
import re
from dataclasses import dataclass, field

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
            "or", "unless", "offset"}
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
SELECTOR = re.compile(rf"({NAME})?\s*\{{([^}}]*)\}}")
MATCHER = re.compile(r'([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
BARE_NAME = re.compile(rf"(?<![\w:.])({NAME})(?![\w:]|\s*\()")
FUNCTION = re.compile(rf"{NAME}\s*\(")
TEMPLATE_LABEL = re.compile(r"\{\{\s*\$?(?:labels\.)?\s*([a-zA-Z_]\w*)\s*\}\}")
ANNOTATION_LABEL = re.compile(r"\$labels\.([a-zA-Z_]\w*)")


@dataclass
class Selector:
    name: str | None                      # None: {__name__=~"..."} picks the names
    matchers: list = field(default_factory=list)   # (label, operator, value)

    def name_pattern(self):
        for label, operator, value in self.matchers:
            if label == "__name__" and operator == "=~":
                return value
        return None


@dataclass
class Query:
    where: str                 # "dashboard <title> / <panel>" or "alert <name>"
    expr: str
    selectors: list
    grouping: set              # labels of `by (...)`
    shown: set                 # labels a legend or annotation prints

    @property
    def keeps_names(self):
        """Does the result keep __name__? rate(), histogram_quantile() and every
        aggregation of them drop it: only a bare selector shows it in a legend."""
        return not FUNCTION.search(GROUPING.sub("", self.expr))


def parse(where, expr, shown=()):
    grouping = {label.strip() for group in GROUPING.findall(expr)
                for label in group.split(",") if label.strip()}
    rest = re.sub(r"\[[^\]]*\]", " ", GROUPING.sub(" ", expr))   # ranges: [5m], [1h:1m]
    selectors = []

    def take(match):
        matchers = [(label, op, value) for label, op, value in MATCHER.findall(match[2])]
        selectors.append(Selector(match[1], matchers))
        return " "
    rest = SELECTOR.sub(take, rest)
    rest = re.sub(r'"(?:[^"\\]|\\.)*"', " ", rest)
    for name in BARE_NAME.findall(rest):
        if name not in KEYWORDS and not re.fullmatch(r"[0-9.eE+-]+|Inf|NaN", name):
            selectors.append(Selector(name))
    return Query(where, expr, selectors, grouping, set(shown))


def dashboard_queries():
    queries = []
    for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):
        board = json.loads(path.read_text())
        for panel in _panels(board.get("panels", [])):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    legend = target.get("legendFormat", "")
                    queries.append(parse(f"dashboard {path.name} / {panel.get('title')}",
                                         target["expr"], TEMPLATE_LABEL.findall(legend)))
    return queries


def _panels(panels):
    for panel in panels:   # rows hold their panels when collapsed
        yield panel
        yield from _panels(panel.get("panels", []))


def rule_files():
    return [DEPLOY / "prometheus" / name for config in scrape_configs().values()
            for name in config.get("rule_files", [])]


def rule_queries():
    queries = []
    for path in sorted(set(rule_files())):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                text = " ".join(str(v) for v in rule.get("annotations", {}).values())
                queries.append(parse(f"{path.name} rule {name}", str(rule["expr"]),
                                     ANNOTATION_LABEL.findall(text)))
    return queries


def scrape_configs():
    return {path.name: yaml.safe_load(path.read_text())
            for path in sorted((DEPLOY / "prometheus").glob("prometheus*.yml"))}


def target_labels():
    """Labels Prometheus puts on every scraped series: job, instance and the static
    labels of the scrape configs."""
    labels = {"job", "instance"}
    for config in scrape_configs().values():
        for job in config["scrape_configs"]:
            for static in job.get("static_configs", []):
                labels |= set(static.get("labels", {}))
    return labels


def overridden_labels():
    """Target labels that replace a scraped series' own label of the same name (which
    Prometheus keeps as exported_<name>): those of every job without honor_labels."""
    labels = set()
    for config in scrape_configs().values():
        for job in config["scrape_configs"]:
            if not job.get("honor_labels"):
                labels |= {"job", "instance"} | {
                    label for static in job.get("static_configs", [])
                    for label in static.get("labels", {})}
    return labels


def job_names():
    return {job["job_name"] for config in scrape_configs().values()
            for job in config["scrape_configs"]}
