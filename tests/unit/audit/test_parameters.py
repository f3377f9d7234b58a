"""The audit's RPC parameters outside a body (an event id, a ledger, a position or tree
size from the gateway's path; the CLI's arguments): each refused as InvalidInput naming
it and saying what it must be, whatever the wrong value is (text, a number, null)."""
import pytest

from services.audit import schemas
from shared.chassis.errors import InvalidInput

EVENT = "9637c80a-ced8-4d24-8f5d-a49579ebc045"
IS_EVENT_ID = "must be an event id (a lowercase UUID)"
IS_LEDGER = "must be a ledger name (^[a-z][a-z0-9_]{0,39}$)"
IS_RECORDS = "must be a whole number of records (0 or more)"
IS_POSITION = "must be a record position (1 or more)"


def refused(check, value, *args):
    with pytest.raises(InvalidInput) as bad:
        check(value, *args)
    return bad.value.field, str(bad.value)


@pytest.mark.parametrize("value", [
    "not-an-id", EVENT.upper(), EVENT + "\n", " " + EVENT, EVENT[:-1], "", None, 5, [EVENT]])
def test_an_event_id_is_a_lowercase_uuid(value):
    assert schemas.event_id(EVENT) == EVENT
    assert refused(schemas.event_id, value) == ("event_id", f"event_id: {IS_EVENT_ID}")


@pytest.mark.parametrize("value", [
    "Registration!", "registration\n", "../etc", "1registration", "a" * 41, "", None, 7,
    ["cycle"]])
def test_a_ledger_is_named_as_ledgers_are(value):
    assert schemas.ledger_name("construction_2") == "construction_2"
    assert refused(schemas.ledger_name, value) == ("ledger", f"ledger: {IS_LEDGER}")


@pytest.mark.parametrize("value", [-1, True, False, 1.0, "3", [3]])
def test_a_tree_size_is_a_whole_number_from_0(value):
    assert [schemas.tree_size(size) for size in (None, 0, 10**20)] == [None, 0, 10**20]
    assert refused(schemas.tree_size, value) == ("tree_size", f"tree_size: {IS_RECORDS}")
    assert refused(schemas.tree_size, value, "second") == ("second", f"second: {IS_RECORDS}")


def test_a_tree_size_that_must_be_given_refuses_none():
    assert schemas.tree_size(0, "first", False) == 0
    assert refused(schemas.tree_size, None, "first", False) == ("first",
                                                                f"first: {IS_RECORDS}")


@pytest.mark.parametrize("value", [0, -3, True, 1.0, "1", None, [1]])
def test_a_position_is_a_whole_number_from_1(value):
    assert schemas.position(1) == 1
    assert refused(schemas.position, value) == ("position", f"position: {IS_POSITION}")


@pytest.mark.parametrize("check", [schemas.event_id, schemas.ledger_name])
def test_text_no_store_can_write_is_refused_naming_the_parameter(check):
    field, said = refused(check, "a\ud800")
    assert field in ("event_id", "ledger") and said.startswith(f"{field}: ")
