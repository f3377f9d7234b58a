"""Planning's RPC parameters outside a body (a document kind and a version from the
gateway's path): refused as InvalidInput naming the parameter, whatever the wrong value
is (other text, a number, null)."""
import pytest

from services.planning import rules
from services.planning.service import _kind, _number
from shared.chassis.errors import InvalidInput

KINDS = ", ".join(rules.KINDS)


@pytest.mark.parametrize("value", ["rpjm", "RPLP", "rplp ", "", None, 1, ["rplp"]])
def test_a_kind_is_one_of_the_documents(value):
    assert [_kind(kind) for kind in rules.KINDS] == list(rules.KINDS)
    with pytest.raises(InvalidInput) as bad:
        _kind(value)
    assert (bad.value.field, str(bad.value)) == ("kind", f"kind: must be one of {KINDS}")


@pytest.mark.parametrize("value", [0, -1, True, 1.0, "1", None, [1]])
def test_a_version_is_a_whole_number_from_1(value):
    assert [_number(1), _number(10**6, "to_version")] == [1, 10**6]
    for field in ("version", "from_version", "to_version"):
        with pytest.raises(InvalidInput) as bad:
            _number(value, field)
        assert (bad.value.field, str(bad.value)) == (
            field, f"{field}: must be a whole number from 1")
