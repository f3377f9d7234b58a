"""Every HTTP operation of the gateway, one module per service it fronts (registration's
answer schemas in registration_answers.py)."""
from . import audit, cycle, identity, planning, registration, system

ROUTES = system.ROUTES + identity.ROUTES + registration.ROUTES + cycle.ROUTES + \
    planning.ROUTES + audit.ROUTES
