"""The gateway's identity view for unit tests, without a running service."""
from types import SimpleNamespace

from services.gateway.views import IdentityBoard
from shared.views import open_view_store


class LedgerDirectory:
    """The gateway's identity view, folded afresh from the ledger on every lookup."""

    def __init__(self, ledger):
        self.ledger = ledger

    def user(self, username, fresh=None):
        return self._views().collection("users").get(username)

    def api_key(self, key_id):
        return self._views().collection("api_keys").get(key_id)

    def _views(self):
        views = open_view_store("memory://", "gateway")
        handlers = IdentityBoard(SimpleNamespace(views=views)).handlers()
        for record in self.ledger.iter_records():
            handlers[record.type](record)
        return views
