"""Helpers shared by the registration tests over RabbitMQ and over HTTP."""
from nameko.standalone.rpc import ServiceRpcProxy

from services.registration import views
from shared.ledger import open_ledger
from tests.samples import MINISTRY


def stale_ranking(monkeypatch, code, score="99.00"):
    """The services in this process rank as if their view still listed `code` as eligible,
    with this score, whatever its own record says: a view that lags the ledger (another
    request decided about the village after the view was read)."""
    eligible_in = views.eligible_in

    def lagging(store, kabupaten):
        return [*eligible_in(store, kabupaten),
                {"_id": code, "code": code, "status": "eligible", "score": score}]

    monkeypatch.setattr(views, "eligible_in", lagging)


def selections_recorded(config):
    """The selections in the registration ledger, checked to agree: [(round number, rank,
    code)] of every round, in order. Fails when a quota was spent on a village that was
    not selected, or a village was selected outside a round (or in another one)."""
    ledger = open_ledger(config["STORE_URI"], "registration")
    try:
        records = list(ledger.iter_records(types=["SelectionRoundRecorded",
                                                  "VillageSelected"]))
    finally:
        ledger.close()
    spent = [(r.payload["round"], village["rank"], village["code"]) for r in records
             if r.type == "SelectionRoundRecorded" for village in r.payload["selected"]]
    selected = [(r.payload["selection_round"], r.payload["rank"], r.payload["code"])
                for r in records if r.type == "VillageSelected"]
    assert spent == selected, (spent, selected)
    return spent


def proxy(config, actor=MINISTRY):
    """An RPC proxy of the registration service acting as actor (the ministry)."""
    return ServiceRpcProxy("registration", config, context_data={"actor": actor})
