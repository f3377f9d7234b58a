"""The gateway in front of the real registration and audit services (and cycle and
planning when present), over the real RabbitMQ, spoken to over real HTTP."""
import importlib
from functools import partial

import pytest
import requests

from services import SERVICES
from services.gateway.accounts import Accounts
from services.gateway.service import GatewayService
from services.gateway.web import JsonWebServer
from shared.chassis import commands
from shared.ledger import Actor, Metadata, open_ledger
from shared.ledger.verify import generate_key
from shared.views import open_view_store

PASSWORD = "correct horse battery staple"
SECRET = "a-test-secret-that-is-long-enough-for-hs256"


@pytest.fixture
def gateway_config(platform_config, tmp_path):
    key = tmp_path / "tree-head.pem"   # a configured platform signs tree heads
    key.write_bytes(generate_key())
    return {**platform_config, "GATEWAY_SECRET": SECRET, "LOGIN_USER_FREE_FAILURES": 3,
            "LOGIN_ADDRESS_FREE_FAILURES": 8, "TREE_HEAD_KEY": str(key),
            "ATTACHMENT_URI": f"file:///{tmp_path}/attachments"}


def backend_classes():
    """The service classes present in this checkout, besides the gateway."""
    found = []
    for name, (target, _port) in SERVICES.items():
        if name == "gateway":
            continue
        module, _, cls = target.partition(":")
        try:
            found.append(getattr(importlib.import_module(module), cls))
        except ImportError:
            continue
    return found


@pytest.fixture
def backends(container_factory, gateway_config):
    for cls in backend_classes():
        container_factory(cls, gateway_config).start()
    return gateway_config


@pytest.fixture
def gateway(container_factory, gateway_config, backends):
    """The base URL of a running gateway (with every backend service running)."""
    return start_gateway(container_factory, gateway_config)


def start_gateway(container_factory, config):
    container = container_factory(GatewayService, config)
    container.start()
    port = container.shared_extensions[JsonWebServer]._sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Operator:
    """What `plpbk users` / `plpbk keys` do, in-process (the same Accounts code)."""

    def __init__(self, config):
        self.config = config

    def _accounts(self):
        ledger = open_ledger(self.config["STORE_URI"], "gateway")
        state = open_view_store(self.config["STATE_URI"], "gateway")
        return Accounts(ledger, partial(commands.execute, ledger), state,
                        Metadata(Actor("operator:test", "ministry", ""), "test"))

    def user(self, username, role, region="", password=PASSWORD):
        self._accounts().create_user({"username": username, "name": username.title(),
                                      "role": role, "region": region}, password)
        return username

    def key(self, role="integration", region="", name="SIPD"):
        return self._accounts().issue_key({"name": name, "role": role, "region": region})

    def accounts(self):
        return self._accounts()


@pytest.fixture
def operator(gateway_config):
    return Operator(gateway_config)


class Client:
    """requests against the gateway with a principal's credentials."""

    def __init__(self, base, headers=None):
        self.base, self.headers = base, dict(headers or {})

    def request(self, method, path, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, self.base + path, headers=headers, timeout=60,
                                **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)


def login(base, username, password=PASSWORD):
    answer = requests.post(f"{base}/api/v1/auth/login",
                           json={"username": username, "password": password}, timeout=60)
    assert answer.status_code == 200, answer.text
    return Client(base, {"Authorization": f"Bearer {answer.json()['access_token']}"})


@pytest.fixture
def as_user(gateway, operator):
    """as_user(role, region) -> a logged-in Client for a new user of that role."""
    made = {}

    def make(role, region=""):
        key = (role, region)
        if key not in made:
            username = f"{role}{len(made)}"
            operator.user(username, role, region)
            made[key] = login(gateway, username)
        return made[key]
    return make
