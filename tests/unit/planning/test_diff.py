"""Field-level diffs between document versions."""
from services.planning.diff import diff


def test_changed_added_and_removed_fields_with_paths():
    old = {"vision": "a", "horizon": {"start_year": 2025}, "maps": [{"title": "x"}],
           "gone": 1}
    new = {"vision": "b", "horizon": {"start_year": 2025}, "maps": [{"title": "y"},
                                                                     {"title": "z"}],
           "extra": {"n": 1}}
    assert diff(old, new) == [
        {"path": "vision", "change": "changed", "from": "a", "to": "b"},
        {"path": "maps[0].title", "change": "changed", "from": "x", "to": "y"},
        {"path": "maps[1]", "change": "added", "from": None, "to": {"title": "z"}},
        {"path": "gone", "change": "removed", "from": 1, "to": None},
        {"path": "extra", "change": "added", "from": None, "to": {"n": 1}},
    ]


def test_identical_content_has_no_changes_and_types_count():
    content = {"a": [1, 2, {"b": "c"}]}
    assert diff(content, content) == []
    assert diff({"a": 1}, {"a": "1"}) == [{"path": "a", "change": "changed", "from": 1,
                                           "to": "1"}]


def test_items_are_matched_by_id_not_position():
    one, two = {"item_id": "i-1", "unit_cost": 10}, {"item_id": "i-2", "unit_cost": 20}
    assert diff({"items": [one, two]}, {"items": [two, one]}) == []
    changes = diff({"items": [one, two]}, {"items": [{**two, "unit_cost": 25},
                                                    {"item_id": "i-3", "unit_cost": 5}]})
    assert changes == [
        {"path": "items[item_id=i-1]", "change": "removed", "from": one, "to": None},
        {"path": "items[item_id=i-2].unit_cost", "change": "changed", "from": 20, "to": 25},
        {"path": "items[item_id=i-3]", "change": "added", "from": None,
         "to": {"item_id": "i-3", "unit_cost": 5}},
    ]
    assert diff({"items": []}, {"items": [one]})[0]["path"] == "items[item_id=i-1]"
