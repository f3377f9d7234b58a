"""The gateway over loopback against the running platform (issue 7).

Starts the platform as `make run` does (tests.e2e.running: `plpbk run`, a private
RabbitMQ virtual host, SQLite in a temporary folder), makes a user and an API key with
the CLI, registers villages over HTTP, then measures:
- reads at a fixed offered load (open loop: requests are sent on schedule whatever the
  answers do, and latency counts from the scheduled moment, so queueing shows);
- writes (evidence that records events, each with an Idempotency-Key) at a fixed load;
- the most reads/s a few connections get (closed loop);
- the cost of authentication: GET /health without credentials, with an API key and
  with a bearer token (the difference is the cost per request), and the authentication
  step alone in-process (no HTTP noise).
Target: read p99 under 50 ms at 200 requests/s.

usage: python -m tests.bench.bench_gateway [--read-rate 200] [--write-rate 50] [--seconds 20]
"""
import argparse
import http.client
import itertools
import json
import threading
import time

from rich.console import Console
from rich.table import Table

from shared.regions import all_village_codes
from tests.e2e.running import RunningPlatform
from tests.samples import ELIGIBLE

console = Console(width=120)   # whole tables in logs and pipes too
HOST, PORT = "127.0.0.1", 8000


class Client:
    """One keep-alive HTTP connection (http.client: little client-side overhead)."""

    def __init__(self):
        self.connection = http.client.HTTPConnection(HOST, PORT, timeout=30)

    def send(self, method, path, headers, body=None):
        payload = json.dumps(body).encode() if body is not None else None
        headers = {**headers, "Content-Type": "application/json"} if payload else headers
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            answer = self.connection.getresponse()
            answer.read()
            return answer.status
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection(HOST, PORT, timeout=30)
            return 0


def open_loop(rate, seconds, request, threads=64):
    """Offer `rate` requests/s for `seconds`; request(client, i) -> status."""
    total, counter = int(rate * seconds), itertools.count()
    results = [None] * total
    start = time.perf_counter() + 0.5

    def work():
        client = Client()
        while (i := next(counter)) < total:
            due = start + i / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            status = request(client, i)
            results[i] = (time.perf_counter() - due, status, time.perf_counter())
    _run_threads(work, threads)
    return _figures(results, start, rate)


def closed_loop(connections, seconds, request):
    """As fast as `connections` clients go, each waiting for its answer."""
    results, stop = [], time.perf_counter() + seconds
    lock = threading.Lock()
    start = time.perf_counter()

    def work():
        client, mine = Client(), []
        for i in itertools.count():
            sent = time.perf_counter()
            if sent > stop:
                break
            status = request(client, i)
            mine.append((time.perf_counter() - sent, status, time.perf_counter()))
        with lock:
            results.extend(mine)
    _run_threads(work, connections)
    return _figures(results, start, None)


def _run_threads(work, count):
    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _figures(results, start, offered):
    latencies = sorted(r[0] for r in results)
    finished = max(r[2] for r in results)
    ok = sum(1 for r in results if 200 <= r[1] < 300)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    return {"offered_per_s": offered, "requests": len(results),
            "achieved_per_s": len(results) / (finished - start), "ok": ok,
            "errors": len(results) - ok, "p50_ms": pct(0.50), "p90_ms": pct(0.90),
            "p99_ms": pct(0.99), "max_ms": latencies[-1] * 1000}


def sequential(count, request):
    """count requests one after another: (mean, p50, p99) in microseconds."""
    client, samples = Client(), []
    for i in range(count):
        sent = time.perf_counter()
        assert request(client, i) == 200
        samples.append((time.perf_counter() - sent) * 1e6)
    samples.sort()
    return {"mean_us": sum(samples) / count, "p50_us": samples[count // 2],
            "p99_us": samples[int(count * 0.99)]}


def auth_in_process(rounds=20000):
    """The authentication step alone (no HTTP), microseconds per request."""
    from types import SimpleNamespace

    from services.gateway import credentials, tokens
    from services.gateway.auth import Authenticator, Directory
    from shared.views import open_view_store

    views = open_view_store("memory://", "gateway")
    key_id, key, digest = credentials.new_api_key()
    views.collection("api_keys").put(key_id, {"key_id": key_id, "name": "bench",
                                              "role": "integration", "region": "",
                                              "key_sha256": digest, "revoked": False})
    user = {"username": "bench", "name": "Bench", "role": "district", "region": "52.01",
            "enabled": True, "password_version": 1}
    views.collection("users").put("bench", user)
    secret = "s" * 48
    session = SimpleNamespace(views=views, subscriptions=[], name="gateway")
    authenticator = Authenticator(Directory(session, [float("inf")]), secret)
    cases = {"none": {}, "api_key": {"X-API-Key": key},
             "jwt": {"Authorization": f"Bearer {tokens.issue(secret, user, 900)}"}}
    costs = {}
    for name, headers in cases.items():
        started = time.perf_counter()
        for _ in range(rounds):
            authenticator.authenticate(headers)
        costs[name] = (time.perf_counter() - started) / rounds * 1e6
    return costs


def run(read_rate=200, write_rate=50, seconds=20, villages=200):
    codes = [c for c in all_village_codes() if c.startswith("52.01.")][:villages]
    with RunningPlatform() as platform:
        reader = {"X-API-Key": platform.issue_key("bench reader", role="integration")}
        platform.create_user("bench", "district", "52.01")
        writer = {"Authorization": f"Bearer {platform.login('bench')}"}
        seeder = Client()
        for code in codes:
            assert seeder.send("POST", "/api/v1/villages", writer, {"code": code}) == 201
            seeder.send("POST", f"/api/v1/villages/{code}/indicators", writer, ELIGIBLE)

        def read(client, i):
            if i % 5 == 4:   # one in five: a page of the district's list
                return client.send("GET", f"/api/v1/villages?region=52.01&page={i % 4 + 1}"
                                          "&page_size=50", reader)
            return client.send("GET", f"/api/v1/villages/{codes[i % len(codes)]}", reader)

        def write(client, i):
            evidence = {**ELIGIBLE, "indicators": {"poverty_rate": f"{30 + i % 50}.{i % 97}"},
                        "source_document": f"bench survey {i}"}
            return client.send("POST", f"/api/v1/villages/{codes[i % len(codes)]}/indicators",
                               {**writer, "Idempotency-Key": f"bench-{i}"}, evidence)

        open_loop(read_rate, 3, read)                 # warm up
        reads = open_loop(read_rate, seconds, read)
        writes = open_loop(write_rate, seconds, write)
        most = closed_loop(8, 10, read)

        def health(headers):
            return lambda client, i: client.send("GET", "/health", headers)
        sequential(300, health({}))                   # warm up
        auth = {"none": sequential(2000, health({})),
                "api_key": sequential(2000, health(reader)),
                "jwt": sequential(2000, health(writer))}
    figures = {"read": reads, "write": writes, "read_closed_loop_8": most, "auth": auth,
               "auth_cost_us": {kind: auth[kind]["mean_us"] - auth["none"]["mean_us"]
                                for kind in ("api_key", "jwt")},
               "auth_in_process_us": auth_in_process()}
    figures["targets"] = [{
        "name": f"read p99 under 50 ms at {read_rate} requests/s",
        "value": 50 / max(reads["p99_ms"], 1e-3), "unit": "x 50 ms over p99", "target": 1,
        "met": reads["p99_ms"] < 50 and reads["errors"] == 0}]
    _print(figures)
    return figures


def _print(figures):
    table = Table("load", "offered /s", "achieved /s", "requests", "errors", "p50 ms",
                  "p90 ms", "p99 ms", "max ms", title="Gateway over loopback")
    for name in ("read", "write", "read_closed_loop_8"):
        f = figures[name]
        table.add_row(name, f"{f['offered_per_s'] or '-'}", f"{f['achieved_per_s']:,.0f}",
                      str(f["requests"]), str(f["errors"]), f"{f['p50_ms']:.1f}",
                      f"{f['p90_ms']:.1f}", f"{f['p99_ms']:.1f}", f"{f['max_ms']:.1f}")
    console.print(table)
    auth = Table("GET /health with", "mean us", "p50 us", "p99 us",
                 "difference to none us (mean)", "authentication step alone us",
                 title="Cost of authentication per request")
    for kind, f in figures["auth"].items():
        cost = figures["auth_cost_us"].get(kind)
        auth.add_row(kind, f"{f['mean_us']:,.0f}", f"{f['p50_us']:,.0f}",
                     f"{f['p99_us']:,.0f}", "-" if cost is None else f"{cost:,.0f}",
                     f"{figures['auth_in_process_us'][kind]:,.1f}")
    console.print(auth)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--read-rate", type=float, default=200)
    parser.add_argument("--write-rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--villages", type=int, default=200)
    arguments = parser.parse_args()
    run(arguments.read_rate, arguments.write_rate, arguments.seconds, arguments.villages)
