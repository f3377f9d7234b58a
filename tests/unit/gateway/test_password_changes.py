"""Password changes that meet: a double-clicked form, or the user changing theirs while
an operator runs `plpbk users passwd`. One of them is recorded, the other is refused,
and the recorded password is the one that logs in."""
from functools import partial
from types import SimpleNamespace

import pytest

from services.gateway.accounts import Accounts
from services.gateway.credentials import hash_password
from services.gateway.errors import Unauthorized
from services.gateway.identity import USER, ChangePassword
from services.gateway.locks import KeyedLocks
from services.gateway.login import log_in
from services.gateway.throttle import Policy
from services.gateway.upstream import Bulkhead
from shared.chassis import commands
from shared.chassis.errors import Conflict
from shared.ledger import Actor, Metadata, open_ledger
from shared.views import open_view_store

from .identity_support import LedgerDirectory

PASSWORD = "correct horse battery staple"
SITI = {"username": "siti", "name": "Siti", "role": "district", "region": "52.01"}


@pytest.fixture
def stores(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path}/ledgers", "gateway")
    state = open_view_store(f"sqlite:///{tmp_path}/state", "gateway")
    yield ledger, state
    ledger.close()
    state.close()


def accounts(stores, hasher=hash_password):
    ledger, state = stores
    return Accounts(ledger, partial(commands.execute, ledger), state,
                    Metadata(Actor("operator:test", "ministry", ""), "corr"), hasher=hasher)


def logs_in(stores, password):
    ledger, state = stores
    tools = SimpleNamespace(
        state=state, locks=KeyedLocks(), directory=LedgerDirectory(ledger), secret="s" * 40,
        password_checks=Bulkhead(4),
        settings=SimpleNamespace(token_ttl=900, login_policies={
            "user": Policy(100), "address": Policy(100)}))
    try:
        log_in(tools, "siti", password, "127.0.0.1")
        return True
    except Unauthorized:
        return False


def test_two_changes_at_once_record_one_and_its_password_logs_in(stores):
    accounts(stores).create_user(SITI, PASSWORD)
    operator = accounts(stores)

    def hasher_while_the_operator_changes_it(password):
        # the user's change is hashing (argon2, off the event loop) when the operator's lands
        operator.set_password("siti", "the operator's new one", "set")
        return hash_password(password)

    user = accounts(stores, hasher_while_the_operator_changes_it)
    with pytest.raises(Conflict) as refused:
        user.set_password("siti", "the user's new one", "changed")
    assert refused.value.field == "password" and "meanwhile" in str(refused.value)
    assert logs_in(stores, "the operator's new one")
    assert not logs_in(stores, "the user's new one") and not logs_in(stores, PASSWORD)
    changes = [r.payload["password_version"] for r in stores[0].iter_records()
               if r.type == "PasswordChanged"]
    assert changes == [1, 2]
    assert stores[1].collection("credentials").count() == 1   # the refused hash is dropped


def test_a_change_after_another_one_is_not_refused(stores):
    accounts(stores).create_user(SITI, PASSWORD)
    accounts(stores).set_password("siti", "a second password", "changed")
    accounts(stores).set_password("siti", "a third password!", "changed")
    assert logs_in(stores, "a third password!") and not logs_in(stores, "a second password")


def test_a_hash_kept_under_the_username_alone_still_logs_in_until_replaced(stores):
    """Users whose PasswordChanged names no credential (recorded before credentials had
    ids) keep logging in; the next change replaces that hash and deletes it."""
    ledger, state = stores
    made = accounts(stores)
    made.create_user(SITI)
    made.passwords.save("siti", hash_password(PASSWORD), 1)
    made.execute(USER, "user-siti", ChangePassword("siti"), made.metadata)
    assert logs_in(stores, PASSWORD)
    made.set_password("siti", "a second password", "changed")
    assert logs_in(stores, "a second password") and not logs_in(stores, PASSWORD)
    assert made.passwords.get("siti") is None
    assert state.collection("credentials").count() == 1   # only the hash in use is kept


def test_a_hash_made_with_weaker_argon2_settings_is_remade_at_the_next_login(stores):
    """When the ministry (or a new argon2-cffi) raises the cost, the hashes kept stay as
    cheap to crack as they were made until each user logs in: then the password is at
    hand, and its hash is made again with today's settings, under the same credential."""
    from argon2 import PasswordHasher
    from services.gateway.credentials import HASHER
    made = accounts(stores, hasher=PasswordHasher(time_cost=1, memory_cost=8192).hash)
    made.create_user(SITI, PASSWORD)
    kept = stores[1].collection("credentials")
    [weak] = kept.find()
    assert HASHER.check_needs_rehash(weak["hash"])
    assert logs_in(stores, PASSWORD)
    [remade] = kept.find()
    assert not HASHER.check_needs_rehash(remade["hash"])
    assert remade["password_version"] == weak["password_version"]
    assert logs_in(stores, PASSWORD) and not logs_in(stores, "a wrong password!")
