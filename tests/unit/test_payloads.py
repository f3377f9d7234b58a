"""Event payload catalogs: a decided event whose payload its catalog does not describe is
never recorded, in one command or in a batch."""
from dataclasses import dataclass

import pytest
from marshmallow import Schema, ValidationError, fields, validates_schema

from shared.chassis.commands import Decider, Job, execute, execute_many
from shared.chassis.payloads import EventCatalog, PayloadMismatch
from shared.ledger import SYSTEM, Metadata, NewEvent, open_ledger

META = Metadata(SYSTEM, "corr")


class Added(Schema):
    amount = fields.Integer(required=True, strict=True)


class Reset(Schema):
    pass


@dataclass(frozen=True)
class Emit:
    type: str
    payload: dict


def emit(_state, command):
    return [NewEvent(command.type, command.payload)]


CHECKED = Decider(initial=lambda: None, evolve=lambda state, e: state, decide=emit,
                  payloads=EventCatalog({"Added": Added, "Reset": Reset}))


@pytest.fixture
def ledger(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path}", "counters")
    yield ledger
    ledger.close()


def test_a_payload_its_schema_accepts_is_recorded_exactly_as_built(ledger):
    execute(ledger, CHECKED, "counter-1", Emit("Added", {"amount": 2}), META)
    assert [(r.type, r.payload) for r in ledger.read_stream("counter-1")] == [
        ("Added", {"amount": 2})]


@pytest.mark.parametrize("event, named", [
    (Emit("Added", {"amount": "2"}), "amount"),          # a wrong type
    (Emit("Added", {}), "amount"),                       # a field missing
    (Emit("Added", {"amount": 2, "note": "x"}), "note"),  # a field no schema names
    (Emit("Removed", {"amount": 2}), "Removed"),         # a type no schema names
])
def test_a_payload_the_catalog_does_not_describe_records_nothing(ledger, event, named):
    with pytest.raises(PayloadMismatch, match=named):
        execute(ledger, CHECKED, "counter-1", event, META)
    with pytest.raises(PayloadMismatch, match=named):
        execute_many(ledger, [Job(CHECKED, "counter-2", [Emit("Reset", {}), event], META)])
    assert ledger.head().position == 0


def test_catalogs_join_but_never_name_a_type_twice():
    joined = EventCatalog({"Added": Added}) | EventCatalog({"Reset": Reset})
    assert sorted(joined.schemas) == ["Added", "Reset"]
    with pytest.raises(ValueError, match="Added"):
        joined | EventCatalog({"Added": Added})


def test_a_catalog_refuses_a_rule_its_compiled_check_would_not_enforce():
    class PoorAmongAttendees(Schema):
        men = fields.Integer(required=True)
        poor = fields.Integer(required=True)

        @validates_schema
        def poor_are_attendees(self, data, **kwargs):
            if data["poor"] > data["men"]:
                raise ValidationError("too many", "poor")

    class Meeting(Schema):
        attendance = fields.List(fields.Nested(PoorAmongAttendees), required=True)

    for schema in (PoorAmongAttendees, Meeting):
        with pytest.raises(TypeError, match="poor_are_attendees"):
            EventCatalog({"MeetingHeld": schema})


@pytest.mark.parametrize("day, taken", [
    ("2024-06-15", True), ("2024-06-1٥", False), ("٢٠٢٤-06-30", False),
    ("2024-02-30", False), ("2024-6-15", False), ("2024-06-15\n", False)])
def test_a_day_is_a_calendar_day_in_ascii_digits(day, taken):
    class Held(Schema):
        held_on = fields.Date(required=True)

    catalog = EventCatalog({"Held": Held})
    if taken:
        catalog.check(NewEvent("Held", {"held_on": day}))
    else:
        with pytest.raises(PayloadMismatch, match="held_on"):
            catalog.check(NewEvent("Held", {"held_on": day}))


def test_an_event_decided_at_another_schema_version_than_its_schema_s_is_refused(ledger):
    catalog = EventCatalog({"Added": Added, "Reset": Reset}, versions={"Reset": 2})
    catalog.check(NewEvent("Added", {"amount": 1}))
    catalog.check(NewEvent("Reset", {}, schema_version=2))
    with pytest.raises(PayloadMismatch, match="schema_version 2"):
        catalog.check(NewEvent("Reset", {}))
    with pytest.raises(PayloadMismatch, match="schema_version 1"):
        catalog.check(NewEvent("Added", {"amount": 1}, schema_version=2))
    joined = EventCatalog({"Added": Added}) | EventCatalog({"Reset": Reset}, {"Reset": 2})
    assert joined.versions == {"Added": 1, "Reset": 2}
    with pytest.raises(ValueError, match="Removed"):
        EventCatalog({"Added": Added}, versions={"Removed": 2})
