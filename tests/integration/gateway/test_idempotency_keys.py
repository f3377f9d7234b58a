"""What an Idempotency-Key keeps: the answers of services, never the gateway's own
refusals (the key may be sent again with the request corrected)."""
from tests.samples import BAJUR

from .conftest import login

JAKARTA = "31.71.01.1001"


def row(line, code):
    return {"line": line, "code": code, "source_document": "BPS 2024",
            "observed_on": "2024-06-30", "poverty_rate": "31.5"}


def test_an_import_refused_for_a_row_outside_the_region_keeps_nothing(gateway, operator):
    """The import's rows are checked against the region by the gateway (in the route's
    action, not its declared scope): that 403 was kept as the key's answer, and the
    corrected import with the same key was a 422 'already used for a different request'."""
    operator.user("siti", "district", "52.01")
    siti = login(gateway, "siti")
    key = {"Idempotency-Key": "import-2024-06"}
    refused = siti.post("/api/v1/villages/imports", headers=key,
                        json={"rows": [row(2, BAJUR), row(3, JAKARTA)]})
    assert refused.status_code == 403 and refused.json()["field"] == "rows.1.code"
    corrected = siti.post("/api/v1/villages/imports", headers=key,
                          json={"rows": [row(2, BAJUR)]})
    assert corrected.status_code == 200, corrected.text
    assert "Idempotent-Replayed" not in corrected.headers
    again = siti.post("/api/v1/villages/imports", headers=key, json={"rows": [row(2, BAJUR)]})
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == corrected.json()
