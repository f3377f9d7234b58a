"""Our canonical bytes must be exactly RFC 8785 (JCS) for every value the ledger admits."""
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.ledger.canonical import MAX_SAFE_INTEGER, canonical_bytes, check_value

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
