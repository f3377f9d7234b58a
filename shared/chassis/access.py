"""Who may do what, where: roles and region scopes, checked inside every service.

The gateway authenticates people and systems and passes the actor along (nameko
context data); services check again, so no entry path (RPC, CLI, a later web page)
can skip the rules. An actor's region is a Kemendagri code prefix; "" is national.
The platform itself acts as role "system" (reactions), unrestricted.
"""
from .errors import Forbidden

ROLES = ("ministry", "province", "district", "facilitator", "bkm", "auditor", "integration")


def in_scope(actor, code: str) -> bool:
    return actor.role == "system" or code.startswith(actor.region)


def authorize(actor, roles, code=None, action="do this"):
    """Raise Forbidden unless the actor has one of roles and code is in its region."""
    if actor.role == "system":
        return
    if actor.role not in roles:
        raise Forbidden(f"role {actor.role} may not {action}", "role")
    if code is not None and not code.startswith(actor.region):
        raise Forbidden(f"{code} is outside your region {actor.region or '(national)'}", "code")


def scoped_prefix(actor, requested: str) -> str:
    """The region prefix a listing may cover: the request, narrowed to the actor's scope."""
    if actor.role == "system" or requested.startswith(actor.region):
        return requested
    if actor.region.startswith(requested):
        return actor.region
    raise Forbidden(f"region {requested or '(national)'} is outside your region "
                    f"{actor.region}", "region")
