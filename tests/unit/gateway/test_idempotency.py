"""Idempotency keys: the same request gets the first answer; a different one is refused."""
import pytest

from services.gateway import idempotency
from shared.chassis.errors import CommandRejected, InvalidInput
from shared.views import open_view_store


@pytest.fixture
def stored():
    return idempotency.StoredResponses(open_view_store("memory://", "gateway"),
                                       clock=lambda: 1000.0)


def test_keys_are_visible_ascii_of_bounded_length():
    assert idempotency.parse_key({}) is None
    assert idempotency.parse_key({"Idempotency-Key": "3f1c-retry-1"}) == "3f1c-retry-1"
    for bad in ("", "has space", "x" * 201, "ü"):
        with pytest.raises(InvalidInput) as refused:
            idempotency.parse_key({"Idempotency-Key": bad})
        assert refused.value.field == "Idempotency-Key"


def test_slots_belong_to_one_principal():
    assert idempotency.slot_of("user:a", "k") != idempotency.slot_of("user:b", "k")
    slot = idempotency.slot_of("user:a", "k")
    assert idempotency.service_key(slot, "f1").startswith("http:")
    assert len(idempotency.service_key(slot, "f1")) == len("http:") + 40
    # the same key with another request is another command for the services' ledgers
    assert idempotency.service_key(slot, "f1") != idempotency.service_key(slot, "f2")
    assert idempotency.service_key(slot, "f1") == idempotency.service_key(slot, "f1")


def test_the_same_json_written_differently_is_the_same_request():
    one = idempotency.fingerprint("POST", "/v", b"", b'{"a": 1, "b": [1, 2]}')
    assert one == idempotency.fingerprint("POST", "/v", b"", b'{"b":[1,2],"a":1}')
    assert one != idempotency.fingerprint("POST", "/v", b"", b'{"a": 2, "b": [1, 2]}')
    assert one != idempotency.fingerprint("PUT", "/v", b"", b'{"a": 1, "b": [1, 2]}')
    assert one != idempotency.fingerprint("POST", "/w", b"", b'{"a": 1, "b": [1, 2]}')
    assert idempotency.fingerprint("POST", "/v", b"", b"{not json") != one


def test_the_first_answer_is_kept_and_given_again(stored):
    assert stored.first_answer("slot", "f1") is None
    stored.keep("slot", "f1", 201, {"code": "x"}, {"Location": "/x"})
    assert stored.first_answer("slot", "f1")["body"] == {"code": "x"}
    with pytest.raises(CommandRejected) as refused:
        stored.first_answer("slot", "f2")
    assert refused.value.status == 422 and refused.value.field == "Idempotency-Key"


def test_server_failures_are_not_kept_and_answers_expire():
    clock = [1000.0]
    stored = idempotency.StoredResponses(open_view_store("memory://", "gateway"),
                                         clock=lambda: clock[0])
    stored.keep("slot", "f", 503, {"error": "ServiceUnavailable"}, {})
    assert stored.first_answer("slot", "f") is None
    stored.keep("slot", "f", 200, {}, {})
    clock[0] += idempotency.KEEP_SECONDS + 1
    assert stored.first_answer("slot", "f") is None


def test_answers_past_their_24_hours_are_deleted_not_kept_for_ever():
    """Every keyed write leaves its answer (an import's report can be large): kept for
    ever, the state store grew by every write the platform ever took."""
    clock = [1000.0]
    state = open_view_store("memory://", "gateway")
    stored = idempotency.StoredResponses(state, clock=lambda: clock[0])
    stored.keep("old", "f", 200, {"report": "x" * 1000}, {})
    clock[0] += 10
    stored.keep("newer", "f", 201, {}, {})
    clock[0] += idempotency.KEEP_SECONDS - 5          # "old" has expired, "newer" not yet
    stored.keep("now", "f", 200, {}, {})
    kept = state.collection("idempotency")
    assert kept.get("old") is None
    assert stored.first_answer("newer", "f")["status"] == 201
    clock[0] += idempotency.KEEP_SECONDS
    stored.keep("old", "g", 200, {}, {})              # a slot used again after it expired
    clock[0] += 1
    stored.keep("later", "f", 200, {}, {})
    assert kept.get("newer") is None and kept.get("now") is None
    assert stored.first_answer("old", "g")["status"] == 200   # its new answer stays
