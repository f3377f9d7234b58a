"""Helpers shared by the registration tests over RabbitMQ and over HTTP."""
from services.registration import views


def stale_ranking(monkeypatch, code, score="99.00"):
    """The services in this process rank as if their view still listed `code` as eligible,
    with this score, whatever its own record says: a view that lags the ledger (another
    request decided about the village after the view was read)."""
    eligible_in = views.eligible_in

    def lagging(store, kabupaten):
        return [*eligible_in(store, kabupaten),
                {"_id": code, "code": code, "status": "eligible", "score": score}]

    monkeypatch.setattr(views, "eligible_in", lagging)
