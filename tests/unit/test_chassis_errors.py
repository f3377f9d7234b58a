"""Service errors cross nameko RPC as themselves: class, message and field, and an error
about the state rather than a field arrives with no field (None), not the text 'None'."""
import pytest
from nameko.exceptions import deserialize, serialize

from shared.chassis.errors import CommandRejected, Conflict, InvalidInput, NotFound


@pytest.mark.parametrize("error", [
    Conflict("the selection changed meanwhile; send it again"),
    Conflict("another selection came first", None),
    InvalidInput("must be a kabupaten/kota code PP.KK", "kabupaten"),
    NotFound("no quota is set for 52.01", "kabupaten"),
    CommandRejected("stage 1 cannot complete", "outputs"),
])
def test_an_error_arrives_as_it_was_raised(error):
    arrived = deserialize(serialize(error))
    assert type(arrived) is type(error)
    assert (arrived.message, arrived.field) == (error.message, error.field)
    assert arrived.as_dict() == error.as_dict()
    assert str(arrived) == str(error)
