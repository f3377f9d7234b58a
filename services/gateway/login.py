"""POST /api/v1/auth/login: a password for a short-lived token, guessing slowed down."""
import ipaddress

from eventlet import tpool

from . import credentials, tokens
from .auth import user_principal
from .errors import ServiceUnavailable, Unauthorized
from .metrics import LOGINS
from .throttle import LoginThrottle

WRONG = "wrong username or password"   # one message: no hint which of the two was wrong


def log_in(tools, username, password, address) -> dict:
    throttle = LoginThrottle(tools.state.collection("login_failures"),
                             tools.settings.login_policies,
                             expiry=tools.state.collection("login_failures_expiry"))
    subjects = [("user", username), ("address", address)]
    # one attempt per username at a time, so a burst cannot outrun the throttle
    with tools.locks.hold(f"login:{username}"):
        try:
            throttle.check(subjects)
        except Exception:
            LOGINS.labels("throttled").inc()
            raise
        passwords = credentials.PasswordStore(tools.state)
        # a user without a usable hash may be one the view has not caught up with yet
        user = tools.directory.user(username,
                                    fresh=lambda doc: passwords.of(doc) is not None)
        stored = passwords.of(user)
        if not _check(tools.password_checks, stored, password):
            throttle.failed(subjects)
            LOGINS.labels("failed").inc()
            raise Unauthorized(WRONG, "password")
        throttle.succeeded(username)
        if credentials.HASHER.check_needs_rehash(stored):
            # made with weaker argon2 settings than today's: made again now that the
            # password is at hand, under the same version and credential (should a change
            # land meanwhile, it names another credential: this one is never read again)
            passwords.save(username, tpool.execute(credentials.hash_password, password),
                           user["password_version"], user.get("credential"))
    LOGINS.labels("succeeded").inc()
    ttl = tools.settings.token_ttl
    return {"access_token": tokens.issue(tools.secret, user, ttl), "token_type": "Bearer",
            "expires_in": ttl, "principal": user_principal(user).as_dict()}


def _check(bulkhead, stored_hash, password) -> bool:
    """argon2: ~0.1 s of CPU and 64 MiB each, so only so many at once (a flood of logins
    held every worker, and the API stopped for everyone); off the event loop, in a real
    thread."""
    if bulkhead.full("password"):
        LOGINS.labels("busy").inc()
        raise ServiceUnavailable("the gateway is checking as many passwords as it can at "
                                 "once; try again in a second", None, retry_after=1)
    with bulkhead.holding("password"):
        return tpool.execute(credentials.password_matches, stored_hash, password)


def client_address(request, trusted_proxies) -> str:
    """Who sent the request, for the throttle: the connection's peer; or, when the peer is
    a proxy named in GATEWAY_TRUSTED_PROXIES, the address it says it forwards for (the last
    one in X-Forwarded-For, and so on through proxies named there). Everything before
    that in the header is the client's own word and is never believed."""
    address = request.remote_addr or "unknown"
    forwarded = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    while forwarded and forwarded[-1] and _among(address, trusted_proxies):
        address = forwarded.pop()
    return address


def _among(address, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    ip = getattr(ip, "ipv4_mapped", None) or ip   # ::ffff:10.0.0.1 on an IPv6 socket
    return any(ip in network for network in networks)


def proxy_networks(text) -> tuple:
    """GATEWAY_TRUSTED_PROXIES: addresses or networks, separated by commas (ValueError
    naming the one that is neither)."""
    networks = []
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is no IP address or network") from None
    return tuple(networks)
