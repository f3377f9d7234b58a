"""The gateway's own resources: health and the OpenAPI document (both public)."""
from ..routing import Reply, Route
from ..schemas import HealthSchema


def health(call):
    report = dict(call.tools.health())
    if call.principal is not None:   # credentials are optional here, checked when given
        report["principal"] = call.principal.as_dict()
    return Reply(200 if report["status"] == "ok" else 503, report)


def openapi_document(call):
    return call.tools.openapi()


ROUTES = [
    Route("GET", "/health", "health", "Is the platform able to work?", "system", health,
          response=HealthSchema, public=True,
          description="RabbitMQ reachable and every ledger readable (checked at most once "
                      "a second). 503 with the failing check when not.",
          responses={503: {"description": "A check failed",
                           "content": {"application/json": {"schema": HealthSchema}}}}),
    Route("GET", "/openapi.json", "openapi", "This API's OpenAPI 3 document", "system",
          openapi_document, public=True),
]
