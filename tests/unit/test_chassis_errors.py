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


def test_a_nested_object_s_own_error_names_its_field_not_marshmallow_s_schema_key():
    from marshmallow import Schema, fields
    from shared.chassis.errors import InvalidInput, load

    class Inner(Schema):
        rate = fields.String()

    class Outer(Schema):
        indicators = fields.Nested(Inner)

    with pytest.raises(InvalidInput) as refused:
        load(Outer(), {"indicators": []})
    assert refused.value.field == "indicators"
    assert "_schema" not in refused.value.message
    assert refused.value.message.startswith("indicators: ")


def test_text_utf_8_cannot_hold_is_named_before_anything_is_recorded():
    """JSON's "\\ud800" decodes to a lone surrogate, a str no store can encode: a direct
    RPC caller's got through the schemas and failed in the ledger, a 500 (an upload after
    its file was stored)."""
    from marshmallow import Schema, fields

    from shared.chassis.commands import checked_key
    from shared.chassis.errors import load

    class Meeting(Schema):
        place = fields.String()
        notes = fields.List(fields.Dict())

    for data, field in [({"place": "Balai \ud800"}, "place"),
                        ({"notes": [{"ok": "x"}, {"bad": "\udfff"}]}, "notes.1.bad"),
                        ({"notes": [{"\ud83d": "key"}]}, "notes.0")]:
        with pytest.raises(InvalidInput) as refused:
            load(Meeting(), data)
        assert refused.value.field == field and "surrogate" in refused.value.message
    assert load(Meeting(), {"place": "Balai Desa 🏠 Bajur"}) == {"place": "Balai Desa 🏠 Bajur"}
    with pytest.raises(InvalidInput) as refused:
        checked_key("key-\ud800")
    assert refused.value.field == "idempotency_key"
