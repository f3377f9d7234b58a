"""What the gateway's requests share (settings, signing secret, locks, health, the
OpenAPI document) and, per request, the tools the pipeline and actions use.

Configuration (nameko config, then the environment):
  GATEWAY_SECRET           HS256 secret for tokens (32+ characters). Unset: one is
                           generated once and kept in the state store (fine for one
                           machine; set it when several gateway processes share work).
  GATEWAY_TOKEN_TTL        token lifetime in seconds (900; 1 to 86400)
  GATEWAY_RPC_TIMEOUT      seconds to wait for a service (60)
  GATEWAY_HEALTH_MAX_AGE   seconds a check of /health and of which services run is
                           reused (1)
  LOGIN_USER_FREE_FAILURES / LOGIN_ADDRESS_FREE_FAILURES
                           failed logins before lockouts start (3 / 20)
  GATEWAY_LOGIN_CONCURRENCY
                           password checks (argon2) at once in a process (4); a login
                           beyond them is a 503 with Retry-After: 1
  GATEWAY_TRUSTED_PROXIES  reverse proxies (addresses or networks, comma-separated)
                           whose X-Forwarded-For names the client (none)
"""
import os
import secrets
from dataclasses import dataclass
from types import SimpleNamespace

from eventlet import tpool
from nameko.exceptions import ConfigurationError
from nameko.extensions import DependencyProvider

from services import SERVICES as PLATFORM_SERVICES
from shared.chassis.errors import CommandRejected
from shared.chassis.platform import Platform
from shared.chassis.starting import starting
from shared.config import number_setting, setting
from shared.ledger import Actor, Metadata

from . import health, openapi, pipeline
from .accounts import Accounts
from .auth import Authenticator, Directory
from .credentials import hash_password
from .idempotency import StoredResponses
from .locks import KeyedLocks
from .login import proxy_networks
from .throttle import Policy
from .tokens import MIN_SECRET_BYTES
from .upstream import RESERVED_WORKERS, Bulkhead, Upstream, rpc_timeout

# The services the gateway calls, each an RpcProxy attribute: every one the platform runs
SERVICES = tuple(name for name in PLATFORM_SERVICES if name != "gateway")
MAX_TOKEN_TTL = 86_400   # a day: longer, a stolen token outlives a working day's logins


@dataclass(frozen=True)
class Settings:
    secret: str | None
    token_ttl: int
    rpc_timeout: float
    health_max_age: float
    login_policies: dict
    trusted_proxies: tuple   # ipaddress networks whose X-Forwarded-For is believed
    login_concurrency: int   # password checks (argon2) at once in a process
    amqp_uri: str
    store_uri: str


def read_settings(config) -> Settings:
    def get(key, default):
        return (config or {}).get(key) or os.environ.get(key) or default

    secret = get("GATEWAY_SECRET", None)
    if secret is not None and len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigurationError(f"GATEWAY_SECRET needs at least {MIN_SECRET_BYTES} "
                                 "characters")
    token_ttl = number_setting(config, "GATEWAY_TOKEN_TTL", 900)
    if token_ttl < 1:   # a token dead when issued: every login useless
        raise ConfigurationError("GATEWAY_TOKEN_TTL=0: a token must live at least 1 second")
    if token_ttl > MAX_TOKEN_TTL:   # a stolen token stays good that long
        raise ConfigurationError(f"GATEWAY_TOKEN_TTL={token_ttl}: a token may live at most "
                                 f"{MAX_TOKEN_TTL} seconds (a day)")
    try:
        trusted_proxies = proxy_networks(get("GATEWAY_TRUSTED_PROXIES", ""))
    except ValueError as exc:
        raise ConfigurationError(f"GATEWAY_TRUSTED_PROXIES: {exc}") from None
    login_concurrency = number_setting(config, "GATEWAY_LOGIN_CONCURRENCY", 4)
    if login_concurrency < 1:
        raise ConfigurationError("GATEWAY_LOGIN_CONCURRENCY=0: no one could log in")
    return Settings(
        secret=secret, token_ttl=token_ttl, trusted_proxies=trusted_proxies,
        login_concurrency=login_concurrency,
        rpc_timeout=rpc_timeout(config),
        health_max_age=number_setting(config, "GATEWAY_HEALTH_MAX_AGE", 1.0, whole=False),
        login_policies={
            "user": Policy(number_setting(config, "LOGIN_USER_FREE_FAILURES", 3)),
            "address": Policy(number_setting(config, "LOGIN_ADDRESS_FREE_FAILURES", 20))},
        amqp_uri=setting(config, "AMQP_URI"), store_uri=setting(config, "STORE_URI"))


class GatewayRuntime(DependencyProvider):
    def __init__(self, routes):
        self.routes = routes

    def setup(self):
        with starting(self.container.service_name):
            self.settings = read_settings(self.container.config)
        self.locks = KeyedLocks()
        self._secret = self.settings.secret
        self._health = self._openapi = None
        self.presence = health.Presence(self.settings.amqp_uri, SERVICES,
                                        self.settings.health_max_age)
        self.bulkhead = Bulkhead(max(1, self.container.max_workers - RESERVED_WORKERS))
        self.password_checks = Bulkhead(self.settings.login_concurrency)
        self.identity_checked = [0.0]
        self._routes_by_name = {route.name: route for route in self.routes}

    def get_dependency(self, worker_ctx):
        return Tools(self, worker_ctx)

    def refusal_before_body(self, entrypoint, request, path_values):
        """What the head of a request to route `entrypoint` already refuses (no valid
        credentials, a read-only role on a write, a bad path parameter, a region in the
        path outside the caller's: pipeline.judge_head), judged in the connection's green
        thread before its body is read (web.py), so that the client is refused (and not
        asked for the body by 100 Continue) before it can make the gateway read up to the
        route's max_body; else None. The pipeline judges the request again, in its
        worker."""
        route = self._routes_by_name.get(entrypoint)
        if route is None:
            return None
        try:
            pipeline.judge_head(pipeline.Call(route, request, ""), path_values,
                                self._authenticator().authenticate)
        except CommandRejected as refusal:   # a store that cannot be read: its 503 too
            return refusal
        return None

    def _authenticator(self):
        platform = next(dependency for dependency in self.container.dependencies
                        if isinstance(dependency, Platform))
        platform.ready.wait()   # its views are built (what a worker's session waits for)
        identity = SimpleNamespace(views=platform.views, subscriptions=platform.subscriptions,
                                   name=platform.service_name)
        return Authenticator(Directory(identity, self.identity_checked),
                             self.secret(platform.state))

    def secret(self, state) -> str:
        if self._secret is None:   # gateways starting at once on a new store: one secret
            self._secret = state.collection("secrets").keep_first(
                "token_signing", {"secret": secrets.token_urlsafe(48)})["secret"]
        return self._secret

    def health(self, session) -> dict:
        if self._health is None:
            self._health = health.HealthCache({
                "rabbitmq": lambda: health.rabbitmq(self.settings.amqp_uri),
                "services": self.presence.check,
                "ledgers": lambda: health.ledgers(self.settings.store_uri, session.source)},
                self.settings.health_max_age)
        return self._health.current()

    def openapi(self) -> dict:
        if self._openapi is None:
            self._openapi = openapi.document(self.routes)
        return self._openapi


class Tools:
    """The gateway's capabilities for one request (one nameko worker)."""

    def __init__(self, runtime, worker_ctx):
        self.runtime, self.worker_ctx = runtime, worker_ctx
        self.settings, self.locks = runtime.settings, runtime.locks
        self._metadata = None   # who records the gateway's own events (act_as)

    def respond(self, route, request, path_values):
        return pipeline.respond(route, request, path_values, self)

    @property
    def session(self):   # the service's Platform session (a WorkerSession)
        return self.worker_ctx.service.platform

    @property
    def state(self):
        return self.session.state

    @property
    def secret(self):
        return self.runtime.secret(self.state)

    @property
    def password_checks(self):   # the process's limit of argon2 checks at once
        return self.runtime.password_checks

    @property
    def directory(self):
        return Directory(self.session, self.runtime.identity_checked)

    @property
    def stored_responses(self):
        return StoredResponses(self.state)

    @property
    def upstream(self):
        service = self.worker_ctx.service
        return Upstream({name: getattr(service, name) for name in SERVICES
                         if hasattr(service, name)}, self.settings.rpc_timeout,
                        self.runtime.presence.serving, self.runtime.bulkhead)

    def authenticate(self, headers):
        return Authenticator(self.directory, self.secret).authenticate(headers)

    def act_as(self, principal, correlation_id):
        """Every RPC of this worker now carries the principal as actor (context data)."""
        self.worker_ctx.data.update(actor=principal.actor(), correlation_id=correlation_id)
        self._metadata = Metadata(Actor(**principal.actor()), correlation_id)

    def accounts(self) -> Accounts:
        session = self.session
        return Accounts(session.ledger, session.execute, self.state, self._metadata,
                        hasher=lambda password: tpool.execute(hash_password, password))

    def health(self):
        return self.runtime.health(self.session)

    def openapi(self):
        return self.runtime.openapi()
