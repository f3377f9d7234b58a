"""The gateway's event payload catalog (services/gateway/payloads.py): every
type it names is one the identity deciders record, and a secret put where a credential's
id or digest belongs is refused before anything is recorded."""
import hashlib
import uuid

import pytest

from services.gateway import credentials, identity
from services.gateway.payloads import EVENTS
from shared.chassis.commands import decide_all
from shared.chassis.payloads import PayloadMismatch

SITI = identity.CreateUser("siti", "Siti Aminah", "district", "52.01")
KEY = "a1b2c3d4e5f6"


def run(decider, *commands, state=None):
    return decide_all(decider, decider.initial() if state is None else state, list(commands))


def test_every_type_in_the_catalog_is_one_the_identity_deciders_record():
    users, _ = run(identity.USER, SITI, identity.ChangePassword("siti", credential="0" * 16),
                   identity.LogOut(uuid.uuid4().hex, 1_800_000_000),
                   identity.DisableUser("left"), identity.EnableUser("back"))
    keys, _ = run(identity.API_KEY, identity.IssueApiKey(
        KEY, "SIPD", "integration", "", hashlib.sha256(b"k").hexdigest()),
        identity.RevokeApiKey("leaked"))
    assert {e.type for e in users + keys} == set(EVENTS.schemas)


def test_a_password_change_recorded_before_credential_ids_is_still_described():
    [_, changed], _ = run(identity.USER, SITI, identity.ChangePassword("siti"))
    assert "credential" not in changed.payload
    EVENTS.check(changed)


@pytest.mark.parametrize("decider, commands, named", [
    (identity.USER, [SITI, identity.ChangePassword(
        "siti", credential=credentials.hash_password("correct horse battery"))],
     "credential"),
    (identity.API_KEY, [identity.IssueApiKey(KEY, "SIPD", "integration", "",
                                             credentials.new_api_key()[1])], "key_sha256"),
    (identity.USER, [SITI, identity.LogOut("eyJhbGciOiJIUzI1NiJ9.e30.c2ln", 0)],
     "token_id"),
])
def test_a_secret_where_its_id_or_digest_belongs_is_refused(decider, commands, named):
    with pytest.raises(PayloadMismatch, match=named):
        run(decider, *commands)
