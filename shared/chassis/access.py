"""Who may do what, where: roles and region scopes, checked inside every service.

The gateway authenticates people and systems and passes the actor along (nameko
context data); services check again, so no entry path (RPC, CLI, a later web page)
can skip the rules. An actor's region is a Kemendagri code prefix; "" is national.
The platform itself acts as role "system" (reactions), unrestricted. An RPC call that
names no actor is anonymous: it passes no authorize, rather than acting as the platform.
"""
from nameko.rpc import Rpc

from ..ledger import SYSTEM, Actor
from .errors import Forbidden

ROLES = ("ministry", "province", "district", "facilitator", "bkm", "auditor", "integration")


ANONYMOUS = Actor("anonymous", "anonymous", "")


def actor_of(worker_ctx) -> Actor:
    """Who asks in one nameko worker: the actor the caller put in the context data. Only
    reactions (event handlers, and the gateway's HTTP, which authenticates by itself)
    act as the platform; an RPC call that names nobody is ANONYMOUS, so a caller that
    forgot to say who it acts for is refused instead of being unrestricted."""
    actor = worker_ctx.context_data.get("actor") or {}
    if actor.get("id") and actor.get("role"):
        return Actor(actor["id"], actor["role"], actor.get("region", ""))
    return ANONYMOUS if isinstance(worker_ctx.entrypoint, Rpc) else SYSTEM


def in_scope(actor, code: str) -> bool:
    return actor.role == "system" or (actor is not ANONYMOUS and code.startswith(actor.region))


def authorize(actor, roles, code=None, action="do this", field="code"):
    """Raise Forbidden unless the actor has one of roles and code (the request's `field`)
    is in its region."""
    if actor.role == "system":
        return
    _named(actor)
    if actor.role not in roles:
        raise Forbidden(f"role {actor.role} may not {action}", "role")
    if code is not None and not code.startswith(actor.region):
        raise Forbidden(f"{code} is outside your region {actor.region or '(national)'}", field)


def authorize_national(actor, roles, action):
    """authorize, and the action covers every region: a national account only."""
    authorize(actor, roles, None, action)
    if actor.role != "system" and actor.region:
        raise Forbidden(f"may not {action}: it covers every region, outside your region "
                        f"{actor.region}", "region")


def scoped_prefix(actor, requested: str) -> str:
    """The region prefix a listing may cover: the request, narrowed to the actor's scope."""
    _named(actor)
    if actor.role == "system" or requested.startswith(actor.region):
        return requested
    if actor.region.startswith(requested):
        return actor.region
    raise Forbidden(f"region {requested or '(national)'} is outside your region "
                    f"{actor.region}", "region")


def _named(actor):
    if actor is ANONYMOUS:
        raise Forbidden("the call names no actor: send context data 'actor' with the id, "
                        "role and region of whoever is acting", "actor")
