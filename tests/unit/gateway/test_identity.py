"""Users and API keys: the pure deciders."""
import pytest

from services.gateway import identity
from shared.chassis.commands import decide_all, fold
from shared.chassis.errors import CommandRejected, Conflict, NotFound

SITI = identity.CreateUser("siti", "Siti Aminah", "district", "52.01")


def run(decider, *commands, state=None):
    return decide_all(decider, decider.initial() if state is None else state, list(commands))


def test_a_user_is_created_once_and_starts_enabled_without_a_password():
    events, user = run(identity.USER, SITI)
    assert [e.type for e in events] == ["UserCreated"]
    assert events[0].payload == {"username": "siti", "name": "Siti Aminah",
                                 "role": "district", "region": "52.01"}
    assert (user.enabled, user.password_version) == (True, 0)
    with pytest.raises(Conflict):
        run(identity.USER, SITI, state=user)


def test_each_password_change_has_the_next_version_and_no_secret():
    events, user = run(identity.USER, SITI, identity.ChangePassword("siti"),
                       identity.ChangePassword("siti", "changed"))
    changes = [e.payload for e in events if e.type == "PasswordChanged"]
    assert [c["password_version"] for c in changes] == [1, 2]
    assert all(set(c) == {"username", "password_version", "reason"} for c in changes)
    assert user.password_version == 2


def test_disable_and_enable_alternate():
    _, user = run(identity.USER, SITI, identity.DisableUser("left the office"))
    assert not user.enabled
    with pytest.raises(CommandRejected, match="already disabled"):
        run(identity.USER, identity.DisableUser("again"), state=user)
    events, user = run(identity.USER, identity.EnableUser("came back"), state=user)
    assert user.enabled and events[0].payload["reason"] == "came back"


def test_commands_on_an_unknown_user_are_refused():
    with pytest.raises(NotFound):
        run(identity.USER, identity.ChangePassword("nobody"))


def test_api_keys_are_issued_once_and_revoked_once():
    issue = identity.IssueApiKey("a1b2c3d4e5f6", "SIPD", "integration", "", "0" * 64)
    events, key = run(identity.API_KEY, issue)
    assert events[0].payload["key_sha256"] == "0" * 64
    with pytest.raises(Conflict):
        run(identity.API_KEY, issue, state=key)
    events, key = run(identity.API_KEY, identity.RevokeApiKey("leaked"), state=key)
    assert key.revoked and events[0].type == "ApiKeyRevoked"
    with pytest.raises(CommandRejected, match="already revoked"):
        run(identity.API_KEY, identity.RevokeApiKey("again"), state=key)
    with pytest.raises(NotFound):
        run(identity.API_KEY, identity.RevokeApiKey("x"))


def test_recorded_events_fold_like_decided_ones():
    events, decided = run(identity.USER, SITI, identity.ChangePassword("siti"))
    assert fold(identity.USER, events) == decided
