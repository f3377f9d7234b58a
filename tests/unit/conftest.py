"""Fixtures the unit tests share."""
import pytest

from tests.forgery import open_as_attacker


@pytest.fixture
def attacker(ledger):
    """A raw connection to the file of the module's `ledger` fixture, with the append-only
    triggers dropped, as whoever controls the file would have it."""
    db = open_as_attacker(ledger.path)
    yield db
    db.close()
