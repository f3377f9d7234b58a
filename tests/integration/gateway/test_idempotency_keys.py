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


def test_a_key_used_again_after_its_24_hours_for_another_request_records_it(
        gateway, operator, gateway_config):
    """After 24 hours the gateway has forgotten the key's answer, but the services'
    ledgers keep idempotency keys for good: the same key with another request was then
    answered as if done, and nothing was recorded."""
    import time

    from services.gateway import idempotency
    from shared.views import open_view_store
    from tests.samples import ELIGIBLE

    from .test_idempotency_races import records
    operator.user("siti", "district", "52.01")
    siti = login(gateway, "siti")
    siti.post("/api/v1/villages", json={"code": BAJUR})
    key = {"Idempotency-Key": "monthly-evidence"}
    first = siti.post(f"/api/v1/villages/{BAJUR}/indicators", json=ELIGIBLE, headers=key)
    assert first.status_code == 200, first.text
    state = open_view_store(gateway_config["STATE_URI"], "gateway")
    try:   # a day goes by
        kept = state.collection("idempotency")
        slot = idempotency.slot_of("user:siti", key["Idempotency-Key"])
        kept.update(slot, lambda doc: doc.update(at=time.time() - idempotency.KEEP_SECONDS - 1))
    finally:
        state.close()
    later = {**ELIGIBLE, "source_document": "BPS Lombok Barat 2025",
             "observed_on": "2025-06-30"}
    second = siti.post(f"/api/v1/villages/{BAJUR}/indicators", json=later, headers=key)
    assert second.status_code == 200, second.text
    assert len(records(gateway_config, "IndicatorsRecorded")) == 2
    retry = siti.post(f"/api/v1/villages/{BAJUR}/indicators", json=later, headers=key)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(records(gateway_config, "IndicatorsRecorded")) == 2


def test_a_write_sent_without_a_key_goes_down_with_a_key_of_its_own(
        gateway, operator, gateway_config):
    """A service killed while it ran a request gets it again from RabbitMQ when it
    restarts (nameko acks a call once it has run): without a key the write was recorded
    twice (the crash drill's quotas). Each request without an Idempotency-Key now goes
    down under a key of its own: its redelivery records nothing, a new request does."""
    from nameko.standalone.rpc import ServiceRpcProxy

    from shared.ledger import open_ledger
    from tests.samples import MINISTRY

    from .test_idempotency_races import records
    operator.user("ani", "ministry")
    ani = login(gateway, "ani")
    quota = {"kabupaten": "52.01", "quota": 3, "decree_reference": "KepMen 12/2026"}
    assert ani.post("/api/v1/quotas", json=quota).status_code == 200
    ledger = open_ledger(gateway_config["STORE_URI"], "registration")
    try:
        (key,) = [key for (key,) in ledger._query("SELECT idempotency_key FROM commits")]
    finally:
        ledger.close()
    assert key.startswith("once:")
    with ServiceRpcProxy("registration", gateway_config,
                         context_data={"actor": MINISTRY}) as rabbitmq:
        rabbitmq.set_quota(quota, idempotency_key=key)    # the same call, redelivered
    assert len(records(gateway_config, "QuotaSet")) == 1
    assert ani.post("/api/v1/quotas", json=quota).status_code == 200   # a new request
    assert len(records(gateway_config, "QuotaSet")) == 2
