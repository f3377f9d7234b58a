"""Our canonical bytes must be exactly RFC 8785 (JCS) for every value the ledger admits."""
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.ledger.canonical import (MAX_SAFE_INTEGER, canonical_bytes, canonical_record,
                                    check_value)
from shared.ledger.errors import InvalidEvent

bmp_text = st.text(alphabet=st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"]))
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]))
scalars = (st.none() | st.booleans() | any_text
           | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5)
                      | st.dictionaries(bmp_text, inner, max_size=5), max_leaves=30)


@settings(max_examples=400)
@given(st.dictionaries(bmp_text, values, max_size=8))
def test_admitted_values_encode_exactly_as_rfc8785(payload):
    check_value(payload)
    assert canonical_bytes(payload) == rfc8785.dumps(payload)


def test_keys_sort_by_code_point_and_strings_stay_literal():
    assert canonical_bytes({"b": 1, "a": "Kelurahan Bajur – é\n", "A": None}) == \
        '{"A":null,"a":"Kelurahan Bajur – é\\n","b":1}'.encode()


awkward = (scalars | st.floats(allow_nan=False) | st.integers() | st.uuids()
           | st.tuples(st.integers(), st.text()))
awkward_values = st.recursive(awkward, lambda inner: st.lists(inner, max_size=4)
                              | st.dictionaries(any_text | st.integers(), inner, max_size=4),
                              max_leaves=20)


def _refusal(check, payload):
    try:
        check(payload)
    except InvalidEvent:
        return True
    return False


@settings(max_examples=600, deadline=None)  # first runs warm caches slowly
@given(st.dictionaries(any_text, awkward_values, max_size=6))
def test_the_fast_record_path_refuses_exactly_what_check_value_refuses(payload):
    record = {"position": 1, "payload": payload}
    assert _refusal(canonical_record, record) == _refusal(check_value, payload)
    if not _refusal(check_value, payload):
        assert canonical_record(record) == canonical_bytes(record)


def test_a_key_outside_the_bmp_is_refused_by_name():
    with pytest.raises(InvalidEvent, match="outside the BMP"):
        canonical_record({"payload": {"ok": {"\U0001F600": 1}}})


def test_a_payload_nested_beyond_the_recursion_limit_is_an_invalid_event():
    deep = {}
    for _ in range(5000):
        deep = {"a": deep}
    with pytest.raises(InvalidEvent, match="nested too deeply"):
        canonical_record({"payload": deep})


@pytest.mark.parametrize("event_id", [
    "5C6B0E0E-8F3A-4A57-9D43-6A1C1F0B2C11",      # the same UUID, upper case
    "5c6b0e0e8f3a4a579d436a1c1f0b2c11",          # without hyphens
    "{5c6b0e0e-8f3a-4a57-9d43-6a1c1f0b2c11}"])
def test_a_record_from_outside_has_its_event_id_in_the_one_form_the_ledger_writes(event_id):
    """Bundles are checked with RecordSchema: an id in another spelling of the same UUID
    would not match the text other events cite it by."""
    from shared.ledger.envelope import RecordSchema
    errors = RecordSchema(only=("event_id",)).validate({"event_id": event_id})
    assert errors == {"event_id": ["must be a lowercase UUID with hyphens"]}
    assert RecordSchema(only=("event_id",)).validate(
        {"event_id": "5c6b0e0e-8f3a-4a57-9d43-6a1c1f0b2c11"}) == {}
