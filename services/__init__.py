"""One nameko service per package, and the table of what `make run` starts."""

# name -> (nameko service class, HTTP port of its process: /metrics, and the API for the
# gateway). One process per service, so the platform uses every core it is given.
SERVICES = {
    "gateway": ("services.gateway.service:GatewayService", 8000),
    "registration": ("services.registration.service:RegistrationService", 8001),
    "cycle": ("services.cycle.service:CycleService", 8002),
    "planning": ("services.planning.service:PlanningService", 8003),
    "audit": ("services.audit.service:AuditService", 8004),
}

RELAY_METRICS_PORT = 8009  # `plpbk run`'s relay process serves /metrics here
