"""Verifying in several processes gives the verdict of one walk, whatever was tampered.

Here the helper processes walk every stretch (two of them, taking turns in whatever
order they finish); in `plpbk verify` the verifying process walks stretches too."""

import pytest

from shared.ledger import AppendRequest, NewEvent, open_ledger
from shared.ledger import parallel_verify, verify
from shared.ledger.verify import verify_ledger
from tests.forgery import open_as_attacker, reseal_from

STREAMS, ROUNDS = 150, 20        # 3,000 records; each stream's versions spread over all
STRETCH = 700                    # five stretches, the last one short


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_verify, "STRETCH", STRETCH)
    monkeypatch.setattr(verify, "WORTH_IT", 1)
    monkeypatch.setattr(parallel_verify, "PARENT_WALKS", False)
    uri = f"sqlite:///{tmp_path}"
    ledger = open_ledger(uri, "registration")
    for round_ in range(ROUNDS):
        ledger.append_batch([_request(stream, round_) for stream in range(STREAMS)])
    yield uri, ledger
    ledger.close()


def _request(stream, version):
    return AppendRequest(f"village-{stream}", version,
                         [NewEvent("IndicatorRecorded", {"round": version, "value": "2.5"})])


def both(uri, ledger):
    """(one walk, two helper processes) reports, as dicts."""
    single = verify_ledger(ledger).as_dict()
    spread = verify_ledger(ledger, workers=3, store_uri=uri).as_dict()
    return single, spread


def attacker(ledger):
    return open_as_attacker(ledger.path)


def test_an_untouched_ledger_gets_the_same_report(store):
    single, spread = both(*store)
    assert single == spread and single["ok"] and single["count"] == STREAMS * ROUNDS


@pytest.mark.parametrize("position", [2, STRETCH, STRETCH + 1, 2 * STRETCH + 350, 3000])
def test_a_changed_body_is_named_at_the_same_place(store, position):
    uri, ledger = store
    db = attacker(ledger)
    db.execute("UPDATE records SET body = CAST(replace(CAST(body AS TEXT), '2.5', '9.5')"
               " AS BLOB) WHERE position = ?", (position,))
    single, spread = both(uri, ledger)
    assert single == spread
    assert single["first_bad_position"] == position and "hash" in single["problem"]
    assert single["count"] == position - 1


@pytest.mark.parametrize("position", [STRETCH, STRETCH + 1, 3000])
def test_a_deleted_record_is_named_at_the_same_place(store, position):
    uri, ledger = store
    attacker(ledger).execute("DELETE FROM records WHERE position = ?", (position,))
    single, spread = both(uri, ledger)
    if position == 3000:  # the head itself: only a kept checkpoint tells (test_tamper_sqlite)
        assert single["ok"] and spread["ok"] and single == spread
        return
    assert single == spread
    assert single["first_bad_position"] == position and "missing" in single["problem"]


def at(round_, stream):
    """Position of a stream's event of a round (version round_ + 1)."""
    return round_ * STREAMS + stream + 1


@pytest.mark.parametrize("position, version", [
    (at(10, 3), 13),   # where the third stretch first meets village-3 (it began in the first)
    (at(9, 3), 12),    # inside the second stretch, which met village-3 before
    (at(14, 7), 1),    # village-7 restarted where the fourth stretch first meets it
    (at(15, 7), 1),    # and restarted inside that stretch
])
def test_a_stream_version_forged_and_resealed_is_named_at_the_same_place(store, position,
                                                                          version):
    uri, ledger = store
    reseal_from(attacker(ledger), position, lambda record: record.update(stream_version=version))
    single, spread = both(uri, ledger)
    assert single == spread
    assert single["first_bad_position"] == position
    assert f"jumps to version {version}" in single["problem"]


def test_the_verifying_process_walks_beside_its_helpers(store, monkeypatch):
    uri, ledger = store
    monkeypatch.setattr(parallel_verify, "PARENT_WALKS", True)
    reseal_from(attacker(ledger), at(12, 5), lambda record: record.update(stream_version=2))
    single, spread = both(uri, ledger)
    assert single == spread and single["first_bad_position"] == at(12, 5)


@pytest.mark.parametrize("failure", ["no interpreter", "no store"])
def test_helpers_that_fail_leave_the_work_to_the_verifying_process(store, monkeypatch,
                                                                   failure):
    uri, ledger = store
    if failure == "no interpreter":   # the helper cannot even start
        monkeypatch.setattr(parallel_verify.sys, "executable", "/nonexistent/python")
    else:                             # it starts, then cannot open the store and exits
        uri = "nosuch://store"
    walked = []
    report = parallel_verify.verify_in_processes(ledger, uri, 3, 500, progress=walked.append)
    assert walked[-1] == STREAMS * ROUNDS
    assert report.as_dict() == verify_ledger(ledger).as_dict()


def test_a_forged_stream_id_that_is_no_string_is_a_break_not_a_crash(store):
    uri, ledger = store
    reseal_from(attacker(ledger), 1500, lambda record: record.update(stream_id=["village-1"]))
    single, spread = both(uri, ledger)
    assert single == spread and single["first_bad_position"] == 1500
    assert "stream_id" in single["problem"]
