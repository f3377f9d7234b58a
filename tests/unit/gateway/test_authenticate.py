"""Who a request's credentials name, against the identity folded from the ledger."""
from functools import partial

import jwt
import pytest

from services.gateway import tokens
from services.gateway.accounts import Accounts
from services.gateway.auth import Authenticator
from services.gateway.errors import Unauthorized
from shared.chassis import commands
from shared.ledger import Actor, Metadata, open_ledger
from shared.views import open_view_store

from .identity_support import LedgerDirectory

SECRET = "s" * 40
SITI = {"username": "siti", "name": "Siti", "role": "district", "region": "52.01"}


@pytest.fixture
def ledger(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path}/ledgers", "gateway")
    yield ledger
    ledger.close()


@pytest.fixture
def accounts(ledger, tmp_path):
    return Accounts(ledger, partial(commands.execute, ledger),
                    open_view_store(f"sqlite:///{tmp_path}/state", "gateway"),
                    Metadata(Actor("operator:test", "ministry", ""), "corr"))


def bearer(ledger, token):
    return Authenticator(LedgerDirectory(ledger), SECRET).authenticate(
        {"Authorization": f"Bearer {token}"})


def token_of(ledger, username="siti"):
    return tokens.issue(SECRET, LedgerDirectory(ledger).user(username), 900)


def test_a_token_of_a_user_disabled_since_stays_ended_once_re_enabled(ledger, accounts):
    """Disabling a user whose token leaked ends that token; enabling them again (to let
    them log in and change the password) must not bring it back for the rest of its
    15 minutes."""
    accounts.create_user(SITI, "correct horse battery staple")
    leaked = token_of(ledger)
    assert bearer(ledger, leaked).id == "user:siti"
    accounts.disable_user("siti", "token leaked in a screenshot")
    with pytest.raises(Unauthorized, match="disabled"):
        bearer(ledger, leaked)
    accounts.enable_user("siti", "identity checked")
    with pytest.raises(Unauthorized, match="disabled since") as refused:
        bearer(ledger, leaked)
    assert refused.value.field == "Authorization"
    assert bearer(ledger, token_of(ledger)).id == "user:siti"   # a new login works


def test_a_token_issued_before_any_disabling_names_no_count_and_still_works(ledger, accounts):
    """Tokens issued before this check existed carry no count of disablings: taken as 0."""
    accounts.create_user(SITI, "correct horse battery staple")
    claims = tokens.read(SECRET, token_of(ledger))
    del claims["dis"]
    old = jwt.encode(claims, SECRET, algorithm=tokens.ALGORITHM)
    assert bearer(ledger, old).id == "user:siti"
    accounts.disable_user("siti", "moved")
    accounts.enable_user("siti", "back")
    with pytest.raises(Unauthorized, match="disabled since"):
        bearer(ledger, old)


def test_role_and_region_claims_in_a_token_are_not_believed(ledger, accounts):
    """A token signed by the gateway names the user; role and region come from the
    identity view on every request."""
    accounts.create_user(SITI, "correct horse battery staple")
    claims = {**tokens.read(SECRET, token_of(ledger)), "role": "ministry", "region": ""}
    principal = bearer(ledger, jwt.encode(claims, SECRET, algorithm=tokens.ALGORITHM))
    assert (principal.role, principal.region) == ("district", "52.01")


def test_api_keys_wrong_prefix_wrong_secret_or_revoked_are_refused(ledger, accounts):
    record, key = accounts.issue_key({"name": "SIPD", "role": "integration", "region": "52"})
    authenticator = Authenticator(LedgerDirectory(ledger), SECRET)
    assert authenticator.authenticate({"X-API-Key": key}).id == f"key:{record['key_id']}"
    prefix, key_id, secret = key.split("_", 2)
    other_secret = secret[:-1] + ("B" if secret.endswith("A") else "A")
    for wrong in (f"plpbx_{key_id}_{secret}", f"{prefix}_{key_id}_{other_secret}",
                  f"{prefix}_{key_id}_", f"{prefix}_{key_id}", key + "x", key.upper()):
        with pytest.raises(Unauthorized, match="unknown API key") as refused:
            authenticator.authenticate({"X-API-Key": wrong})
        assert refused.value.field == "X-API-Key"
    accounts.revoke_key(record["key_id"], "leaked")
    with pytest.raises(Unauthorized, match="revoked"):
        authenticator.authenticate({"X-API-Key": key})


def test_logged_out_tokens_are_forgotten_once_they_would_have_expired(ledger, accounts):
    """The view keeps each logged-out token only until its own expiry: a person logging
    out every day for years must not grow their identity record for ever."""
    accounts.create_user(SITI, "correct horse battery staple")
    first, second = token_of(ledger), token_of(ledger)
    first_claims = tokens.read(SECRET, first)
    accounts.log_out("siti", {"id": first_claims["jti"], "expires_at": 0})  # long expired
    assert first_claims["jti"] in LedgerDirectory(ledger).user("siti")["logged_out"]
    second_claims = tokens.read(SECRET, second)
    accounts.log_out("siti", {"id": second_claims["jti"],
                              "expires_at": second_claims["exp"]})
    assert LedgerDirectory(ledger).user("siti")["logged_out"] == {
        second_claims["jti"]: second_claims["exp"]}
    with pytest.raises(Unauthorized, match="logged out"):
        bearer(ledger, second)
