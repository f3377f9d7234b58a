"""The ledger contract: every adapter must pass every test here, unchanged."""
import hashlib
import threading
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from shared.ledger import (Actor, AppendRequest, ConcurrencyError, InvalidEvent, Metadata,
                           NewEvent, UpcasterRegistry)
from shared.ledger.canonical import GENESIS_HASH

META = Metadata(Actor("officer-7", "ministry", "52.01"), "corr-1", None)


def events(*types, **payload):
    return [NewEvent(type_, dict(payload)) for type_ in types]


def test_empty_ledger_has_genesis_head(ledger):
    head = ledger.head()
    assert (head.position, head.hash, head.recorded_at) == (0, GENESIS_HASH, None)
    assert ledger.read() == [] and ledger.read_stream("village-1") == []
    assert ledger.stream_version("village-1") == 0


def test_append_then_read_back_the_whole_envelope(ledger):
    new = events("VillageRegistered", "EligibilityDecided", name="Bajur")
    result = ledger.append("village-52.01.08.2006", 0, new, META, "cmd-1")
    assert (result.first_position, result.last_position, result.stream_version) == (1, 2, 2)
    assert not result.duplicate
    first, second = ledger.read_stream("village-52.01.08.2006")
    assert first.event_id == new[0].event_id and second.event_id == new[1].event_id
    assert (first.position, first.stream_version, first.type) == (1, 1, "VillageRegistered")
    assert (second.position, second.stream_version) == (2, 2)
    assert first.actor == {"id": "officer-7", "role": "ministry", "region": "52.01"}
    assert first.correlation_id == "corr-1" and first.causation_id is None
    assert first.payload == {"name": "Bajur"} and first.ledger == "test"
    assert first.occurred_at == first.recorded_at and first.recorded_at.endswith("Z")
    assert ledger.head().position == 2 and ledger.head().hash == second.hash


def test_occurred_at_is_kept_as_given(ledger):
    event = NewEvent("MeetingHeld", {}, occurred_at="2024-03-01T09:00:00.000000Z")
    ledger.append("village-1", 0, [event], META)
    assert ledger.read_stream("village-1")[0].occurred_at == "2024-03-01T09:00:00.000000Z"


@pytest.mark.parametrize("given", ["2024-03-01T16:00:00+07:00", "2024-03-01T09:00Z",
                                   "2024-03-01T09:00:00.000000+00:00"])
def test_occurred_at_is_recorded_in_the_ledgers_own_form(ledger, given):
    ledger.append("village-1", 0, [NewEvent("MeetingHeld", {}, occurred_at=given)], META)
    assert ledger.read_stream("village-1")[0].occurred_at == "2024-03-01T09:00:00.000000Z"


def test_a_moment_given_as_text_is_compared_as_a_time(ledger):
    ledger.append("village-1", 0, events("A1"), META)
    recorded = ledger.read_stream("village-1")[0].recorded_at
    moment = datetime.fromisoformat(recorded.replace("Z", "+00:00"))
    second_before = (moment - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=7)))
    for earlier in (recorded[:19] + "Z" if recorded[19:26] != ".000000" else None,
                    second_before.isoformat()):
        if earlier:
            assert ledger.read_stream("village-1", as_of=earlier) == []
            assert ledger.position_at(earlier) == 0
    assert len(ledger.read_stream("village-1", as_of=recorded)) == 1
    with pytest.raises(InvalidEvent):
        ledger.read_stream("village-1", as_of="yesterday")


def test_one_new_event_given_twice_in_an_append_is_refused(ledger):
    twice = NewEvent("A1", {})
    with pytest.raises(InvalidEvent, match="event_id"):
        ledger.append("village-1", 0, [twice, twice], META)
    with pytest.raises(InvalidEvent, match="event_id"):
        ledger.append_batch([AppendRequest("village-1", 0, [twice], META),
                             AppendRequest("village-2", 0, [twice], META)])
    assert ledger.head().position == 0


def test_records_are_hash_chained_over_their_canonical_bytes(ledger):
    ledger.append("village-1", 0, events("A1", "B1"), META)
    ledger.append("village-2", 0, events("C1"), META)
    previous = GENESIS_HASH
    for position, body, stored_hash in ledger.raw():
        assert hashlib.sha256(body).hexdigest() == stored_hash
        fields = orjson.loads(body)
        assert fields["prev_hash"] == previous and fields["position"] == position
        assert body == orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
        previous = stored_hash


def test_expected_version_conflict_is_refused_and_records_nothing(ledger):
    ledger.append("village-1", 0, events("A1"), META)
    with pytest.raises(ConcurrencyError) as refused:
        ledger.append("village-1", 0, events("B1"), META)
    assert (refused.value.expected, refused.value.actual) == (0, 1)
    assert "village-1" in str(refused.value)
    with pytest.raises(ConcurrencyError):
        ledger.append("village-1", 5, events("B1"), META)
    assert ledger.head().position == 1


def test_repeated_idempotency_key_records_nothing_and_returns_the_first_positions(ledger):
    first = ledger.append("village-1", 0, events("A1", "B1"), META, "cmd-1")
    ledger.append("village-2", 0, events("C1"), META)
    again = ledger.append("village-1", 0, events("A1", "B1"), META, "cmd-1")
    assert again.duplicate
    assert (again.first_position, again.last_position, again.stream_version) == (1, 2, 2)
    assert first.positions == again.positions
    assert ledger.head().position == 3


def test_a_batch_is_all_or_nothing(ledger):
    ledger.append("village-2", 0, events("A1"), META)
    batch = [AppendRequest("village-1", 0, events("A1"), META),
             AppendRequest("village-2", 0, events("B1"), META)]
    with pytest.raises(ConcurrencyError):
        ledger.append_batch(batch)
    assert ledger.head().position == 1 and ledger.stream_version("village-1") == 0


def test_a_batch_sees_its_own_earlier_requests(ledger):
    results = ledger.append_batch([
        AppendRequest("village-1", 0, events("A1"), META, "k1"),
        AppendRequest("village-1", 1, events("B1", "C1"), META, "k2"),
        AppendRequest("village-1", 0, events("A1"), META, "k1"),
    ])
    assert [r.positions for r in results] == [range(1, 2), range(2, 4), range(1, 2)]
    assert [r.duplicate for r in results] == [False, False, True]
    assert ledger.stream_version("village-1") == 3


@pytest.mark.parametrize("payload, field", [
    ({"rate": 25.5}, "payload.rate"),
    ({"big": 2**60}, "payload.big"),
    ({"nested": [{"x": object()}]}, "payload.nested[0].x"),
])
def test_values_without_a_canonical_form_are_refused_by_name(ledger, payload, field):
    with pytest.raises(InvalidEvent, match=field.replace("[", r"\[").replace("]", r"\]")):
        ledger.append("village-1", 0, [NewEvent("A1", payload)], META)
    assert ledger.head().position == 0


@pytest.mark.parametrize("make, field", [
    (lambda: AppendRequest("Village 1", 0, events("A1"), META), "stream_id"),
    (lambda: AppendRequest("village-1", -1, events("A1"), META), "expected_version"),
    (lambda: AppendRequest("village-1", 0, [], META), "events"),
    (lambda: AppendRequest("village-1", 0, events("lowercase"), META), "events[0].type"),
    (lambda: AppendRequest("village-1", 0, [NewEvent("A1", {}, 0)], META),
     "events[0].schema_version"),
    (lambda: AppendRequest("village-1", 0, [NewEvent("A1", {}, event_id="x")], META),
     "events[0].event_id"),
    (lambda: AppendRequest("village-1", 0, [NewEvent("A1", {}, occurred_at="yesterday")],
                           META), "yesterday"),
    (lambda: AppendRequest("village-1", 0, events("A1"),
                           Metadata(Actor("u", "king", ""))), "actor.role"),
    (lambda: AppendRequest("village-1", 0, events("A1"),
                           Metadata(Actor("u", "bkm", "5"))), "actor.region"),
])
def test_invalid_appends_name_the_field_and_record_nothing(ledger, make, field):
    with pytest.raises(InvalidEvent, match=field.replace("[", r"\[").replace("]", r"\]")):
        ledger.append_batch([make()])
    assert ledger.head().position == 0


def test_read_from_a_position_with_limit_upto_and_types(ledger):
    for number in range(1, 11):
        ledger.append(f"village-{number}", 0,
                      events("Even" if number % 2 == 0 else "Odd", n=number), META)
    assert [r.position for r in ledger.read(3, limit=4)] == [4, 5, 6, 7]
    assert [r.position for r in ledger.read(3, upto=5)] == [4, 5]
    assert [r.payload["n"] for r in ledger.read(0, types=["Even"])] == [2, 4, 6, 8, 10]
    assert [r.position for r in ledger.iter_records(2, batch=3)] == list(range(3, 11))
    assert [r.position for r in ledger.iter_records(0, upto=4, batch=3)] == [1, 2, 3, 4]


def test_read_stream_up_to_a_version_or_a_moment(ledger):
    ledger.append("village-1", 0, events("A1", "B1", "C1"), META)
    assert [r.type for r in ledger.read_stream("village-1", to_version=2)] == ["A1", "B1"]
    recorded = ledger.read_stream("village-1")[0].recorded_at
    moment = datetime.fromisoformat(recorded.replace("Z", "+00:00"))
    assert len(ledger.read_stream("village-1", as_of=moment)) == 3
    assert ledger.read_stream("village-1", as_of=moment - timedelta(microseconds=1)) == []


def test_recorded_at_never_decreases_and_position_at_finds_the_cut(ledger):
    for number in range(6):
        ledger.append(f"village-{number}", 0, events("A1"), META)
    records = ledger.read()
    times = [r.recorded_at for r in records]
    assert times == sorted(times)
    third = datetime.fromisoformat(times[2].replace("Z", "+00:00"))
    assert ledger.position_at(third) == max(r.position for r in records
                                            if r.recorded_at <= times[2])
    assert ledger.position_at(datetime(2000, 1, 1, tzinfo=timezone.utc)) == 0
    assert ledger.position_at(datetime.now(timezone.utc) + timedelta(days=1)) == 6


def test_upcasters_upgrade_old_versions_on_read_without_touching_stored_bytes(open_store):
    upcasters = UpcasterRegistry()

    @upcasters.register("VillageRegistered", 1)
    def split_name(payload):
        payload["names"] = [payload.pop("name")]
        return payload

    @upcasters.register("VillageRegistered", 2)
    def add_source(payload):
        return {**payload, "source": "unknown"}

    writer = open_store("upcast")
    writer.append("village-1", 0, [NewEvent("VillageRegistered", {"name": "Bajur"})], META)
    before = writer.raw()
    reader = open_store("upcast", upcasters=upcasters)
    (record,) = reader.read_stream("village-1")
    assert record.schema_version == 3
    assert record.payload == {"names": ["Bajur"], "source": "unknown"}
    assert reader.read()[0].payload == record.payload
    assert reader.raw() == before


def test_records_survive_reopening(open_store):
    first = open_store("durable")
    first.append("village-1", 0, events("A1"), META, "k1")
    head = first.head()
    first.close()
    again = open_store("durable")
    assert again.head() == head
    assert again.append("village-1", 0, events("A1"), META, "k1").duplicate


def test_ledgers_are_separate(open_store):
    one, two = open_store("one"), open_store("two")
    one.append("village-1", 0, events("A1"), META)
    assert two.head().position == 0 and one.read()[0].ledger == "one"


def test_the_interface_offers_no_way_to_change_or_remove(ledger):
    forbidden = {"update", "delete", "remove", "replace", "truncate", "set", "edit"}
    public = {name for name in dir(ledger) if not name.startswith("_")}
    assert not {name for name in public if any(word in name for word in forbidden)}


def test_concurrent_appenders_to_one_stream_never_share_a_version(ledger):
    wins, conflicts = [], []

    def contender(number):
        for _ in range(20):
            version = ledger.stream_version("village-hot")
            try:
                ledger.append("village-hot", version, events("Bid", n=number), META)
                wins.append(number)
            except ConcurrencyError:
                conflicts.append(number)

    threads = [threading.Thread(target=contender, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stream = ledger.read_stream("village-hot")
    assert [r.stream_version for r in stream] == list(range(1, len(wins) + 1))
    assert [r.position for r in ledger.read(limit=10**6)] == list(range(1, len(wins) + 1))


def test_recorded_finds_the_result_of_a_keyed_append(ledger):
    assert ledger.recorded("cmd-9") is None
    ledger.append("village-1", 0, events("A1"), META)
    first = ledger.append("village-2", 0, events("A1", "B1"), META, "cmd-9")
    found = ledger.recorded("cmd-9")
    assert found.duplicate and found.positions == first.positions
    assert found.stream_version == 2


def test_a_negative_limit_is_refused_by_every_adapter(ledger):
    ledger.append("village-1", 0, events("A1"), META)
    with pytest.raises(ValueError):
        ledger.read(0, limit=-1)


def test_a_ledger_opens_again_with_what_it_holds(open_store):
    first = open_store("reopened")
    first.append("village-1", 0, events("A1"), META, "key-1")
    first.append("village-2", 0, events("A1", "B1"), META, "key-2")
    first.append("village-1", 1, events("C1"), META)
    again = open_store("reopened")
    assert again.head() == first.head() and again.head().position == 4
    assert again.append("village-1", 0, events("A1"), META, "key-1").duplicate
    with pytest.raises(ConcurrencyError):
        again.append("village-2", 0, events("A1"), META)
