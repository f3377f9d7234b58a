"""What several route modules share: the village path, a service's parameter field as a
path or query parameter, and region-scoped listings. A route module imports these from
here, never from another service's route module."""
import copy

from marshmallow import Schema

from shared.chassis.access import scoped_prefix
from shared.schemas import VillageCode


class VillagePath(Schema):
    code = VillageCode(required=True, metadata={"description": "PP.KK.CC.DDDD",
                                                "example": "52.01.08.2006"})


# -- a service's parameter fields ---------------------------------------------------------
# A service checks a parameter outside a body with shared.schemas.parameter and a field of
# its schemas.py (audit's LEDGER, planning's KIND, ...). The gateway checks the same value
# in the path or query with that very field, so the rule and its words are defined once
# and the caller is told the same whichever of the two refuses it.

def required_parameter(field, **metadata):
    """The service's field as a required parameter; metadata added for the document."""
    found = copy.copy(field)
    found.required = True
    found.metadata = {**field.metadata, **metadata}
    return found


def optional_parameter(field, **metadata):
    """The service's field as an optional parameter: absent is None."""
    found = copy.copy(field)
    found.load_default = None
    found.allow_none = True
    found.metadata = {**field.metadata, **metadata}
    return found


# -- scope --------------------------------------------------------------------------------

def scoped_region(call, requested):
    """The region a listing may cover: the request narrowed to the principal's scope
    (Forbidden for a region outside it)."""
    return scoped_prefix(call.principal, requested)


def only_in_scope(call, items):
    """Defence in depth: no item about a village outside the principal's region leaves
    the gateway, whatever a service answered."""
    region = call.principal.region
    return [item for item in items
            if not isinstance(item.get("code"), str) or item["code"].startswith(region)]


def scoped_listing(service, method):
    """An action for a paged region listing: the region narrowed to the principal's
    scope before the call, the items checked against it after."""
    def action(call):
        query = {**call.query_args, "region": scoped_region(call, call.query["region"])}
        page = call.upstream.call(service, method, query)
        return {**page, "items": only_in_scope(call, page["items"])}
    action.rpc = f"{service}.{method}"
    return action
