"""Running services as real processes for benchmarks, as `make run` does, but isolated:
a private RabbitMQ virtual host and a temporary folder for ledgers and state."""
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

from shared.config import QUIET_EVENTLET
from services import SERVICES

MGMT = "http://127.0.0.1:15672/api"
BIN = os.path.dirname(sys.executable)


def management(method, path):
    request = urllib.request.Request(f"{MGMT}{path}", method=method)
    request.add_header("Authorization", "Basic Z3Vlc3Q6Z3Vlc3Q=")  # guest:guest
    request.add_header("content-type", "application/json")
    data = b'{"configure":".*","write":".*","read":".*"}' if "permissions" in path else None
    urllib.request.urlopen(request, data=data).read()


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Platform:
    def __init__(self, folder, amqp, env):
        self.folder, self.amqp, self.env = folder, amqp, env
        self.processes = {}

    def start(self, *names):
        for name in names:
            self.processes[name] = subprocess.Popen(
                [os.path.join(BIN, "nameko"), "run", "--config", "config.yml", SERVICES[name][0]],
                env=self.env)
        return self

    def start_relay(self):
        self.processes["relay"] = subprocess.Popen(
            [os.path.join(BIN, "plpbk"), "relay", "--all"], env=self.env,
            stdout=subprocess.DEVNULL)
        return self

    def proxy(self, actor=None, timeout=600):
        from nameko.standalone.rpc import ClusterRpcProxy
        actor = actor or {"id": "bench", "role": "ministry", "region": ""}
        return ClusterRpcProxy({"AMQP_URI": self.amqp}, timeout=timeout,
                               context_data={"actor": actor})

    def wait_until_up(self, cluster, *names, timeout=120):
        deadline = time.monotonic() + timeout
        for name in names:
            while True:
                try:
                    getattr(cluster, name).status()
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)

    def peak_memory_mb(self):
        return {name: peak_rss_mb(p.pid) for name, p in self.processes.items()}

    def relay_position(self, ledger):
        from shared.views import open_view_store
        store = open_view_store(self.env["STATE_URI"], ledger)
        try:
            doc = store.collection("relay_positions").get(ledger)
        finally:
            store.close()
        return doc["position"] if doc else 0


@contextlib.contextmanager
def isolated_platform(durable_views=False, **settings):
    """A private virtual host and folder; views in process memory (the embedded default)
    or, with durable_views, in SQLite files in the folder."""
    vhost = f"plpbk-bench-{uuid.uuid4().hex[:8]}"
    management("PUT", f"/vhosts/{vhost}")
    management("PUT", f"/permissions/{vhost}/guest")
    amqp = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    folder = tempfile.mkdtemp(prefix="plpbk-bench-")
    env = dict(os.environ, AMQP_URI=amqp, STORE_URI=f"sqlite:///{folder}/ledgers",
               STATE_URI=f"sqlite:///{folder}/state",
               VIEW_URI=f"sqlite:///{folder}/views" if durable_views else "memory://",
               WEB_SERVER_ADDRESS="127.0.0.1:0", LOG_LEVEL="WARNING", PLPBK_NO_PROGRESS="1",
               RELAY="external", PYTHONPATH=os.getcwd(), PYTHONWARNINGS=QUIET_EVENTLET,
               **settings)
    platform = Platform(folder, amqp, env)
    try:
        yield platform
    finally:
        for process in platform.processes.values():
            process.terminate()
        for process in platform.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        management("DELETE", f"/vhosts/{vhost}")
        shutil.rmtree(folder, ignore_errors=True)
