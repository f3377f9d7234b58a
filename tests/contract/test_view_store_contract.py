"""The view-store contract: every implementation passes every test here, unchanged."""
import importlib.util
import os
import uuid

import pytest

from shared.views import ViewStoreError, open_view_store
from tests.contract.real_mongo import real_server_uri

STORES = ["memory", "sqlite"]
if importlib.util.find_spec("shared.views.mongo"):
    STORES.append("mongomock")
if os.environ.get("MONGO_URI"):
    STORES.append("mongodb")


@pytest.fixture(params=STORES)
def store(request, tmp_path):
    kind = request.param
    database = f"plpbk_views_test_{uuid.uuid4().hex[:10]}"
    if kind == "memory":
        store = open_view_store("memory://", "svc")
    elif kind == "sqlite":
        store = open_view_store(f"sqlite:///{tmp_path}", "svc")
    elif kind == "mongomock":
        import mongomock
        store = open_view_store(f"mongodb://localhost/{database}", "svc",
                                mongo_client_class=mongomock.MongoClient)
    else:
        store = open_view_store(real_server_uri(database), "svc")
    yield store
    store.close()


@pytest.fixture
def villages(store):
    villages = store.collection("villages")
    villages.ensure_index("status")
    rows = [("52.01.08.2006", "eligible", 71, "Bajur"), ("52.01.08.2001", "ineligible", 40, "A"),
            ("52.01.09.1001", "eligible", 88, "B"), ("52.02.01.1001", "eligible", 55, "C"),
            ("31.71.01.1001", "selected", 90, "D"), ("52.01.08.2007", "eligible", 71, "E")]
    for code, status, score, name in rows:
        villages.put(code, {"status": status, "score": score, "name": name,
                            "region": {"province": code[:2]}})
    return villages


def codes(docs):
    return [doc["_id"] for doc in docs]


def test_get_put_replace_delete(store):
    things = store.collection("things")
    assert things.get("a") is None
    things.put("a", {"n": 1, "tags": ["x"], "deep": {"k": None}})
    assert things.get("a") == {"_id": "a", "n": 1, "tags": ["x"], "deep": {"k": None}}
    things.put("a", {"n": 2})
    assert things.get("a") == {"_id": "a", "n": 2}
    things.delete("a")
    things.delete("never-there")
    assert things.get("a") is None and things.count() == 0


def test_documents_are_copies(store):
    things = store.collection("things")
    original = {"list": [1]}
    things.put("a", original)
    original["list"].append(2)
    fetched = things.get("a")
    fetched["list"].append(3)
    assert things.get("a")["list"] == [1]
    assert things.find()[0]["list"] == [1]


def test_find_by_equality_in_prefix_and_ranges(villages):
    assert codes(villages.find({"status": "eligible", "_id": {"$prefix": "52.01"}})) == \
        ["52.01.08.2006", "52.01.08.2007", "52.01.09.1001"]
    assert codes(villages.find({"status": {"$in": ["selected", "ineligible"]}})) == \
        ["31.71.01.1001", "52.01.08.2001"]
    assert codes(villages.find({"score": {"$gte": 71, "$lt": 90}})) == \
        ["52.01.08.2006", "52.01.08.2007", "52.01.09.1001"]
    assert codes(villages.find({"region.province": "31"})) == ["31.71.01.1001"]
    assert codes(villages.find({"status": {"$ne": "eligible"}})) == \
        ["31.71.01.1001", "52.01.08.2001"]
    assert villages.count({"_id": {"$prefix": "52"}}) == 5
    assert villages.count() == 6 and villages.count({"status": "gone"}) == 0


def test_sort_skip_limit_and_ties_in_key_order(villages):
    ranked = villages.find({"_id": {"$prefix": "52.01"}}, sort=[("score", -1)])
    assert codes(ranked) == ["52.01.09.1001", "52.01.08.2006", "52.01.08.2007",
                             "52.01.08.2001"]
    page = villages.find(sort=[("score", -1), ("name", 1)], skip=2, limit=2)
    assert codes(page) == ["52.01.08.2006", "52.01.08.2007"]
    assert villages.find(skip=10) == []


def test_index_follows_replacements(villages):
    villages.put("52.01.08.2001", {"status": "eligible", "score": 1})
    villages.delete("52.01.09.1001")
    assert codes(villages.find({"status": "eligible", "_id": {"$prefix": "52.01"}})) == \
        ["52.01.08.2001", "52.01.08.2006", "52.01.08.2007"]


def test_clear_and_collections_are_separate(store, villages):
    other = store.collection("other")
    other.put("x", {"a": 1})
    villages.clear()
    assert villages.count() == 0 and villages.find() == [] and other.count() == 1


def test_put_many(store):
    things = store.collection("things")
    things.put_many([("a", {"n": 1}), ("b", {"n": 2})])
    assert [things.get(key) for key in "abc"] == [{"_id": "a", "n": 1},
                                                  {"_id": "b", "n": 2}, None]


def test_bad_filters_and_documents_are_named(store):
    things = store.collection("things")
    with pytest.raises(ViewStoreError, match="unknown operator"):
        things.find({"n": {"$where": "1"}})
    with pytest.raises(ViewStoreError, match=r"\$in needs a list"):
        things.count({"n": {"$in": "abc"}})
    with pytest.raises(ViewStoreError, match="not JSON"):
        things.put("a", {"when": object()})


def test_update_changes_in_place_and_keeps_indexes(villages):
    assert villages.update("52.01.08.2001", lambda doc: doc.update(status="eligible", score=99))
    assert villages.get("52.01.08.2001")["score"] == 99
    assert codes(villages.find({"status": "eligible", "_id": {"$prefix": "52.01.08"}})) == \
        ["52.01.08.2001", "52.01.08.2006", "52.01.08.2007"]
    assert villages.count({"status": "ineligible"}) == 0
    assert villages.update("nope", lambda doc: doc.update(x=1)) is False


def test_an_update_whose_change_raises_leaves_no_trace(villages):
    def half_done(doc):
        doc["score"] += 1
        doc["status"] = "selected"
        raise ConnectionError("the handler failed half-way")

    with pytest.raises(ConnectionError):
        villages.update("52.01.08.2006", half_done)
    assert villages.get("52.01.08.2006")["score"] == 71
    assert codes(villages.find({"status": "selected"})) == ["31.71.01.1001"]
    villages.update("52.01.08.2006", lambda doc: doc.update(score=doc["score"] + 1))
    assert villages.get("52.01.08.2006")["score"] == 72   # the retry counts once


def test_a_dotted_index_finds_what_a_scan_finds(villages):
    villages.ensure_index("region.province")
    assert codes(villages.find({"region.province": "31"})) == ["31.71.01.1001"]
    assert villages.count({"region.province": "52"}) == 5
    villages.update("31.71.01.1001", lambda doc: doc["region"].update(province="52"))
    assert villages.count({"region.province": "52"}) == 6


def test_sorting_mixed_values_never_raises(store):
    things = store.collection("things")
    for key, value in [("a", "abc"), ("b", [3]), ("c", 2), ("d", None), ("e", {"k": 1})]:
        things.put(key, {"x": value})
    found = codes(things.find({}, sort=[("x", 1)]))
    assert sorted(found) == ["a", "b", "c", "d", "e"]
    assert found.index("d") < found.index("c") < found.index("a")   # None, number, text


def test_values_of_another_type_never_match(store):
    things = store.collection("things")
    for key, doc in [("a", {"x": 5, "s": "52.01"}), ("b", {"x": "abc"}),
                     ("c", {"x": 2.5, "s": 5201, "o": {"k": 1}}), ("d", {"x": None}),
                     ("e", {"o": '{"k":1}'})]:
        things.put(key, doc)
    assert codes(things.find({"x": {"$gt": 3}})) == ["a"]
    assert codes(things.find({"x": {"$lt": "b"}})) == ["b"]
    assert codes(things.find({"n": {"$in": [None]}})) == ["a", "b", "c", "d", "e"]
    assert codes(things.find({"x": {"$in": [None, 5]}})) == ["a", "d", "e"]
    assert codes(things.find({"s": {"$prefix": "52"}})) == ["a"]
    assert codes(things.find({"o": '{"k":1}'})) == ["e"]
    assert things.count({"x": None}) == 2


@pytest.mark.parametrize("query", [
    {"filter": {"$where": 1}}, {"filter": {"nest.0": 1}}, {"sort": [("$where", 1)]},
    {"skip": -1}, {"limit": -1}, {"skip": 1.5},
])
def test_every_store_refuses_the_same_bad_queries(villages, query):
    with pytest.raises(ViewStoreError):
        villages.find(**query)


def test_a_filter_never_matches_inside_an_array(store):
    """MongoDB alone would match "x" against ["x", "y"]: an array is one value."""
    things = store.collection("things")
    things.ensure_index("tags")
    for key, tags in [("a", ["x", "y"]), ("b", "x"), ("c", [["x"]]), ("d", [5]), ("e", "xy"),
                      ("f", [{"k": "x"}]), ("g", {"k": "x"})]:
        things.put(key, {"tags": tags})
    assert codes(things.find({"tags": "x"})) == ["b"]
    assert things.count({"tags": "x"}) == 1
    assert codes(things.find({"tags": {"$in": ["x", 5]}})) == ["b"]
    assert codes(things.find({"tags": {"$ne": "x"}})) == ["a", "c", "d", "e", "f", "g"]
    assert codes(things.find({"tags": {"$prefix": "x"}})) == ["b", "e"]
    assert codes(things.find({"tags": {"$gte": 0}})) == []
    assert codes(things.find({"tags": {"$lt": "y"}})) == ["b", "e"]
    # a dotted path does not follow an array either: there the field is missing
    assert codes(things.find({"tags.k": "x"})) == ["g"]
    assert codes(things.find({"tags.k": None})) == ["a", "b", "c", "d", "e", "f"]
    assert codes(things.find({"tags.k": {"$ne": None}})) == ["g"]


def test_a_path_through_a_scalar_reads_as_missing(store):
    things = store.collection("things")
    for key, doc in [("a", {"v": 5}), ("b", {"v": None}), ("c", {}), ("d", {"v": {"w": 1}}),
                     ("e", {"v": "w"}), ("f", {"v": {"w": None}})]:
        things.put(key, doc)
    assert codes(things.find({"v.w": None})) == ["a", "b", "c", "e", "f"]
    assert codes(things.find({"v.w": {"$in": [None, 1]}})) == ["a", "b", "c", "d", "e", "f"]
    assert codes(things.find({"v.w": {"$ne": 1}})) == ["a", "b", "c", "e", "f"]


def test_true_and_false_are_not_one_and_zero(store):
    """Python says True == 1; JSON and MongoDB do not."""
    things = store.collection("things")
    things.ensure_index("flag")
    for key, flag in [("a", True), ("b", 1), ("c", 1.0), ("d", False), ("e", 0), ("f", None)]:
        things.put(key, {"flag": flag, "copy": flag})
    for field in ("flag", "copy"):   # with an index and without
        assert codes(things.find({field: True})) == ["a"]
        assert codes(things.find({field: 1})) == ["b", "c"]
        assert codes(things.find({field: False})) == ["d"]
        assert codes(things.find({field: 0})) == ["e"]
        assert things.count({field: True}) == 1 and things.count({field: 0}) == 1
        assert codes(things.find({field: {"$in": [True, 0]}})) == ["a", "e"]
        assert codes(things.find({field: {"$ne": True}})) == ["b", "c", "d", "e", "f"]
        assert codes(things.find({field: {"$gte": 0}})) == ["b", "c", "e"]


def test_sort_orders_types_as_mongodb_does_and_ties_by_key(store):
    things = store.collection("things")
    for key, value in [("a", "b"), ("b", True), ("c", 2), ("d", None), ("e", False),
                       ("f", 1.5), ("g", "a"), ("h", 2.0), ("j", "é")]:
        things.put(key, {"x": value})
    things.put("i", {})
    assert codes(things.find(sort=[("x", 1)])) == \
        ["d", "i", "f", "c", "h", "g", "a", "j", "e", "b"]
    assert codes(things.find(sort=[("x", -1)])) == \
        ["b", "e", "j", "a", "g", "c", "h", "f", "d", "i"]
    assert codes(things.find(sort=[("x", -1)], skip=3, limit=3)) == ["a", "g", "c"]


@pytest.mark.parametrize("filter", [
    {"x": [1]}, {"x": {"k": 1}}, {"x": {}}, {"x": {"$in": [[1]]}}, {"x": {"$in": [{"k": 1}]}},
    {"x": {"$ne": [1]}}, {"x": {"$gte": None}}, {"x": {"$gt": True}}, {"x": {"$lt": [0]}},
    {"x": float("nan")}, {"x": float("inf")}, {"x": 2 ** 63}, {"x": {"$in": [-2 ** 63 - 1]}},
    ["x"],
])
def test_filters_compare_scalars_only(villages, filter):
    with pytest.raises(ViewStoreError):
        villages.find(filter)
    with pytest.raises(ViewStoreError):
        villages.count(filter)


@pytest.mark.parametrize("sort", [[("score", 0)], [("score", "asc")], [("score", True)],
                                  [("score",)], ["score"], "score",
                                  # pymongo keeps the last of a field named twice
                                  [("score", 1), ("name", 1), ("score", -1)]])
def test_sort_takes_1_or_minus_1(villages, sort):
    with pytest.raises(ViewStoreError):
        villages.find(sort=sort)


@pytest.mark.parametrize("key", [5, None, b"a", "a\ud800"])
def test_keys_are_text(store, key):
    things = store.collection("things")
    things.put("5", {"n": 5})
    with pytest.raises(ViewStoreError):
        things.put(key, {"n": 1})
    if isinstance(key, str):
        return  # text a store cannot hold: refused, and there is nothing to get
    for read in (things.get, things.delete):
        with pytest.raises(ViewStoreError):
            read(key)
    assert things.count() == 1


def test_a_document_is_an_object(store):
    with pytest.raises(ViewStoreError, match="not a JSON object"):
        store.collection("things").put("a", ["n", 1])


def test_a_key_prefix_finds_every_key_that_starts_with_it(store):
    things = store.collection("things")
    for key in ["a", "a\U0010ffff", "a\U0010ffffb", "a\ud7ffz", "a\ue000", "b", "\U0010ffff"]:
        things.put(key, {})
    assert codes(things.find({"_id": {"$prefix": "a"}})) == \
        ["a", "a\ud7ffz", "a\ue000", "a\U0010ffff", "a\U0010ffffb"]
    assert codes(things.find({"_id": {"$prefix": "a\U0010ffff"}})) == \
        ["a\U0010ffff", "a\U0010ffffb"]
    assert codes(things.find({"_id": {"$prefix": "a\ud7ff"}})) == ["a\ud7ffz"]
    assert things.count({"_id": {"$prefix": "\U0010ffff"}}) == 1
    assert things.count({"_id": {"$prefix": ""}}) == 7


def test_paging_far_past_the_end(villages):
    assert villages.find(skip=2 ** 63) == []
    assert villages.find(skip=6) == []
    assert codes(villages.find(skip=5, limit=2 ** 64)) == ["52.02.01.1001"]
    assert villages.find({"status": "eligible"}, skip=4, limit=1) == []


# Every store answers a grid of filters as the reference evaluator (base.matches) does:
# documents holding each kind of JSON value, at one level and behind a dotted path.
GRID_VALUES = [None, True, False, 0, 1, 1.0, 2, -1.5, "", "a", "ab", "1", [], [1], ["a"],
               [True], [None], {}, {"w": 1}, {"w": "a"}, {"w": None}, {"w": True}, [{"w": 1}],
               [{"w": None}], {"w": [1]}, {"w": {"z": 1}}]
GRID_SCALARS = [None, True, False, 0, 1, 1.0, -1.5, "", "a", "1"]


def _grid_conditions():
    for value in GRID_SCALARS:
        yield from (value, {"$ne": value}, {"$in": [value]}, {"$in": [value, "a", 1]})
        if isinstance(value, str):
            yield {"$prefix": value}
        if value is not None and type(value) is not bool:
            yield from ({op: value} for op in ("$gt", "$gte", "$lt", "$lte"))
    yield from ({"$in": []}, {"$gt": 0, "$ne": 1})


def test_every_store_answers_as_the_reference_evaluator(store):
    from shared.views.base import matches
    things = store.collection("things")
    things.ensure_index("v")
    docs = {f"k{number:02d}": {"v": value} for number, value in enumerate(GRID_VALUES)}
    docs["missing"] = {}
    for key, doc in docs.items():
        things.put(key, doc)
    for field in ("v", "v.w", "v.w.z"):
        for condition in _grid_conditions():
            query = {field: condition}
            expected = sorted(key for key, doc in docs.items() if matches(doc, query))
            assert codes(things.find(query)) == expected, query
            assert things.count(query) == len(expected), query


@pytest.mark.parametrize("query", [
    {"n": "a\ud800"}, {"n": {"$in": ["x", "\udcff"]}}, {"n": {"$ne": "\ud800"}},
    {"n": {"$gt": "\ud800"}}, {"_id": {"$prefix": "\ud800"}}, {"n": {"$prefix": "\udc80"}},
])
def test_text_that_is_not_utf8_is_refused_in_a_filter(store, query):
    """A lone surrogate (a command-line argument in bytes that are not UTF-8 reads so)
    is nothing any store holds: SQLite and MongoDB could not even send it."""
    things = store.collection("things")
    things.put("a", {"n": "x"})
    for read in (things.find, things.count):
        with pytest.raises(ViewStoreError, match="not valid UTF-8"):
            read(query)


@pytest.mark.parametrize("read", [lambda c: c.get("a\ud800"), lambda c: c.delete("\udcff"),
                                  lambda c: c.update("\ud800", lambda doc: None)])
def test_a_key_that_is_not_utf8_is_refused_on_every_read(store, read):
    things = store.collection("things")
    things.put("a", {"n": 1})
    with pytest.raises(ViewStoreError, match="not valid UTF-8"):
        read(things)
    assert things.get("a") == {"_id": "a", "n": 1}


# What a MongoDB server refuses, every store refuses: a view that works on the embedded
# default must not start failing (its events parked) when deployed on MongoDB.
UNSTORABLE = [{"n": 2 ** 63}, {"n": [2 ** 64 - 1]}, {"$set": 1}, {"a": 1, "$b": 2},
              {"a\x00b": 1}, {"x": {"y\x00": 1}}, {"big": "x" * (16 * 2 ** 20)}]


@pytest.mark.parametrize("doc", UNSTORABLE, ids=["2^63", "2^64-1", "$first", "$second",
                                                 "nul-name", "nested-nul-name", "16MiB"])
def test_a_document_mongodb_cannot_hold_is_refused_by_every_store(store, doc):
    things = store.collection("things")
    things.put("a", {"n": 1})
    with pytest.raises(ViewStoreError):
        things.put("a", doc)
    with pytest.raises(ViewStoreError):
        things.update("a", lambda stored: stored.update(doc))
    with pytest.raises(ViewStoreError):   # refused whole: nothing of the batch written
        things.put_many([("a", {"n": 2}), ("b", {"n": 2}), ("c", doc)])
    assert things.get("a") == {"_id": "a", "n": 1} and things.get("b") is things.get("c") is None


def test_what_mongodb_can_hold_every_store_keeps(store):
    """Dotted and nested "$" field names (a map keyed by village code), 64-bit integers."""
    things = store.collection("things")
    doc = {"by_village": {"52.01.08.2006": 3, "$note": "x"}, "n": 2 ** 63 - 1,
           "m": -2 ** 63, "code": "52.01", "text": "\x00"}
    things.put("52.01.08.2006", doc)
    assert things.get("52.01.08.2006") == {"_id": "52.01.08.2006", **doc}
    assert codes(things.find({"n": 2 ** 63 - 1, "m": -2 ** 63})) == ["52.01.08.2006"]


def test_an_update_keeps_what_a_put_would_keep(store):
    """A change may put a datetime, an enum or a tuple in: stored as put stores them
    (text, its value, a list), so filters see what every store sees."""
    import datetime
    import enum

    class Status(str, enum.Enum):
        ELIGIBLE = "eligible"

    things = store.collection("things")
    things.ensure_index("status")
    things.put("a", {"n": 1})
    things.put("b", {"when": "2024-01-01T12:00:00+00:00"})
    things.update("a", lambda doc: doc.update(
        when=datetime.datetime(2024, 1, 1, 12), status=Status.ELIGIBLE, t=(1, 2)))
    assert things.get("a") == {"n": 1, "when": "2024-01-01T12:00:00", "status": "eligible",
                               "t": [1, 2], "_id": "a"}
    assert codes(things.find({"when": "2024-01-01T12:00:00", "status": "eligible"})) == ["a"]
    assert codes(things.find({"when": {"$prefix": "2024"}}, sort=[("when", -1)])) == ["b", "a"]


def test_an_update_that_leaves_no_json_is_refused_and_leaves_no_trace(store):
    import decimal
    things = store.collection("things")
    things.ensure_index("n")
    things.put("a", {"n": 1})
    with pytest.raises(ViewStoreError, match="not JSON"):
        things.update("a", lambda doc: doc.update(n=2, money=decimal.Decimal("1.5")))
    assert things.get("a") == {"_id": "a", "n": 1} and codes(things.find({"n": 1})) == ["a"]
    assert things.find({"n": 2}) == []


def test_documents_come_back_as_they_were_put(store):
    """Fields in the order put, the key last, nested objects alike (MongoDB alone moves
    _id to the front)."""
    things = store.collection("things")
    things.put_many([("b", {"z": 1, "a": {"y": 2, "b": 3}}), ("a", {"m": 1})])
    assert list(things.get("b")) == ["z", "a", "_id"]
    assert list(things.get("b")["a"]) == ["y", "b"]
    assert [list(doc) for doc in things.find()] == [["m", "_id"], ["z", "a", "_id"]]
    things.update("b", lambda doc: doc.update(c=1))
    assert list(things.get("b")) == ["z", "a", "c", "_id"]
    things.put("b", {"_id": "ignored", "z": 2})
    assert things.get("b") == {"z": 2, "_id": "b"} and list(things.get("b")) == ["z", "_id"]


@pytest.mark.parametrize("field", ["$where", "a..b", "", 5, "nest.0"])
def test_every_store_refuses_an_index_on_a_field_no_filter_can_name(store, field):
    with pytest.raises(ViewStoreError, match="field name"):
        store.collection("things").ensure_index(field)


@pytest.mark.parametrize("indexed", [False, True])
def test_text_holding_nul_is_compared_whole(store, indexed):
    """SQLite's JSON functions cut text at NUL; MongoDB refuses NUL in a $regex."""
    things = store.collection("things")
    if indexed:
        things.ensure_index("n")
    for key, value in [("a", "x\x00y"), ("b", "x"), ("c", "x\x00"), ("d", "\x00")]:
        things.put(key, {"n": value})
    assert codes(things.find({"n": "x"})) == ["b"]
    assert codes(things.find({"n": "x\x00y"})) == ["a"]
    assert codes(things.find({"n": {"$in": ["x\x00", "\x00"]}})) == ["c", "d"]
    assert codes(things.find({"n": {"$ne": "x"}})) == ["a", "c", "d"]
    assert codes(things.find({"n": {"$prefix": "x\x00"}})) == ["a", "c"]
    assert codes(things.find({"n": {"$prefix": "x"}})) == ["a", "b", "c"]
    assert codes(things.find({"n": {"$prefix": "\x00"}})) == ["d"]
    assert things.count({"n": "x"}) == 1


@pytest.mark.parametrize("indexed", [False, True])
def test_text_written_with_escapes_is_found_by_equality_and_prefix(store, indexed):
    """Quotes, backslashes, control characters, accents and characters beyond the BMP:
    SQLite compares the JSON text the store wrote, escapes included."""
    things = store.collection("things")
    if indexed:
        things.ensure_index("n")
    values = {"a": 'say "hi"', "b": "back\\slash", "c": "tab\tline\n", "d": "Désa Ñ",
              "e": "\U0001f3e0 rumah", "f": "say", "g": "/path", "h": "\x7f\u2028"}
    for key, value in values.items():
        things.put(key, {"n": value})
    for key, value in values.items():
        assert codes(things.find({"n": value})) == [key], value
        assert things.count({"n": {"$prefix": value}}) >= 1
    assert codes(things.find({"n": {"$prefix": "say"}})) == ["a", "f"]
    assert codes(things.find({"n": {"$prefix": 'say "'}})) == ["a"]
    assert codes(things.find({"n": {"$prefix": "back\\"}})) == ["b"]
    assert codes(things.find({"n": {"$prefix": "D\u00e9"}})) == ["d"]
    assert codes(things.find({"n": {"$prefix": "\U0001f3e0"}})) == ["e"]
    assert codes(things.find({"n": {"$ne": "say"}})) == ["a", "b", "c", "d", "e", "g", "h"]


def test_a_lease_is_held_by_one_holder_until_it_runs_out_or_is_released(store):
    """Collection.claim and release, built on swap (every store's atomic step)."""
    leases = store.collection("leases")
    assert leases.claim("folding", "a", until=130.0, now=100.0)
    assert not leases.claim("folding", "b", until=140.0, now=110.0)       # a holds it
    assert leases.claim("folding", "a", until=150.0, now=120.0)           # a renews
    assert not leases.claim("folding", "b", until=160.0, now=149.9)
    assert leases.get("folding")["holder"] == "a"
    assert leases.claim("folding", "b", until=180.0, now=150.0)           # a's ran out
    leases.release("folding", "a")                                        # not a's now
    assert not leases.claim("folding", "a", until=190.0, now=160.0)
    leases.release("folding", "b")
    assert leases.claim("folding", "a", until=200.0, now=170.0)           # b's ended
    with pytest.raises(ViewStoreError, match="holder"):
        leases.claim("folding", "", until=1.0, now=0.0)


def test_keep_first_stores_a_document_only_where_there_is_none(store):
    secrets = store.collection("secrets")
    assert secrets.keep_first("signing", {"secret": "first"}) == {"secret": "first",
                                                                  "_id": "signing"}
    assert secrets.keep_first("signing", {"secret": "second"})["secret"] == "first"
    assert secrets.get("signing")["secret"] == "first"
    with pytest.raises(ViewStoreError):
        secrets.keep_first("other", {"n": 2 ** 64})   # past what MongoDB holds
    assert secrets.get("other") is None


def test_swap_changes_a_document_in_one_step_or_leaves_it(store):
    counters = store.collection("counters")

    def add(doc):
        return {"n": (doc or {"n": 0})["n"] + 1}
    assert counters.swap("c", add) == {"n": 1, "_id": "c"}
    assert counters.swap("c", add)["n"] == 2
    assert counters.swap("c", lambda doc: doc) == {"n": 2, "_id": "c"}      # untouched
    assert counters.swap("none", lambda doc: None) is None                  # nothing kept
    assert counters.get("none") is None
    with pytest.raises(ViewStoreError):
        counters.swap("c", lambda doc: {"n": 2 ** 64})
    assert counters.get("c")["n"] == 2
