"""Declared fields are served from an index: at national scale (83,762 villages) a
filter answered by reading every document took 0.4-0.6 s a query in the SQLite store,
holding the service's only thread (the soak with VIEW_URI=sqlite), and a name search
0.24 s in the in-process store (tests/bench/bench_views.py)."""
import pytest

from shared.views.memory import MemoryViewStore
from shared.views.sqlite import SqliteViewStore


@pytest.fixture
def villages(tmp_path):
    store = SqliteViewStore(str(tmp_path / "views.db"), "registration")
    collection = store.collection("villages")
    collection.put_many([(f"52.01.{n:02d}", {"status": "eligible" if n % 2 else "registered",
                                             "name_key": f"sari {n}", "score": n})
                         for n in range(40)])
    yield collection
    store.close()


def plan(collection, filter):
    """SQLite's query plan of a count with this filter."""
    where, params = collection._where(filter)
    rows = collection._store.execute(
        f"EXPLAIN QUERY PLAN SELECT count(*) FROM {collection._table}{where}", params)
    return " | ".join(row[-1] for row in rows)


@pytest.mark.parametrize("filter", [{"status": "eligible"},
                                    {"status": {"$in": ["eligible", "selected"]}},
                                    {"name_key": {"$prefix": "sari"}},
                                    {"name_key": "sari 3", "status": "eligible"}])
def test_a_declared_field_is_searched_through_its_index(villages, filter):
    assert "ix_villages_" not in plan(villages, filter)   # not declared: a scan
    villages.ensure_index("status")
    villages.ensure_index("name_key")
    assert "USING INDEX ix_villages_" in plan(villages, filter)


def test_answers_are_the_same_with_and_without_the_index(villages):
    filters = [{"status": "eligible"}, {"status": {"$ne": "eligible"}},
               {"name_key": {"$prefix": "sari 1"}}, {"status": {"$in": ["registered"]}},
               {"score": 3}, {"status": True}, {"status": None}]
    before = [[doc["_id"] for doc in villages.find(filter)] for filter in filters]
    villages.ensure_index("status")
    villages.ensure_index("name_key")
    villages.ensure_index("score")
    assert [[doc["_id"] for doc in villages.find(filter)] for filter in filters] == before
    assert [len(ids) for ids in before] == [20, 20, 11, 20, 1, 0, 0]


def test_an_index_is_made_once_and_kept_by_the_file(tmp_path):
    path = str(tmp_path / "views.db")
    store = SqliteViewStore(path, "cycle")
    store.collection("progress").ensure_index("stage")
    store.collection("progress").ensure_index("stage")   # a restart declares it again
    store.close()
    again = SqliteViewStore(path, "cycle")
    names = [row[0] for row in again.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%'")]
    again.close()
    assert names == ["ix_progress_stage"]


def test_the_in_process_store_reads_only_a_prefix_s_matches():
    villages = MemoryViewStore("registration").collection("villages")
    villages.ensure_index("name_key")
    for n, name in enumerate(["sari", "sarijaya", "saribu", "sukamaju", "bajur", "sa"]):
        villages.put(f"52.01.{n:02d}", {"name_key": name})
    villages.put("52.01.90", {"name_key": 5})   # not text: no prefix matches it
    assert villages._candidates({"name_key": {"$prefix": "sari"}}) == [
        "52.01.00", "52.01.01", "52.01.02"]
    assert [doc["name_key"] for doc in villages.find({"name_key": {"$prefix": "sar"}})] == [
        "sari", "sarijaya", "saribu"]
    villages.put("52.01.06", {"name_key": "sarimulya"})     # a name the sorted list lacked
    villages.put("52.01.00", {"name_key": "bajur baru"})    # a village renamed
    assert [doc["_id"] for doc in villages.find({"name_key": {"$prefix": "sari"}})] == [
        "52.01.01", "52.01.02", "52.01.06"]
    assert villages.count({"name_key": {"$prefix": "s"}}) == 5
    assert villages.count({"name_key": {"$prefix": ""}}) == 7   # of 8: 5 is no text
    villages.clear()
    assert villages.find({"name_key": {"$prefix": "s"}}) == []
