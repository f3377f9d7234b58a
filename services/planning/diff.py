"""Field-level differences between two versions of a document's content. Pure.

Paths read like `sector_plans[2].objective`. Lists of objects that carry an `item_id`
(RTPLP investment items) are matched by id, so reordering items is no change and a
changed cost shows as `investment_items[item_id=...].unit_cost`.
"""

KEYED_BY = "item_id"


def diff(old, new, path=""):
    """[{path, change: added | removed | changed, from, to}] from old to new, in
    document order."""
    if isinstance(old, dict) and isinstance(new, dict):
        return _diff_dicts(old, new, path)
    if isinstance(old, list) and isinstance(new, list):
        if _keyed(old + new):
            return _diff_dicts(_by_key(old), _by_key(new), path, keyed=True)
        return _diff_lists(old, new, path)
    if old == new and type(old) is type(new):
        return []
    return [{"path": path, "change": "changed", "from": old, "to": new}]


def _join(path, key, keyed=False):
    if keyed:
        return f"{path}[{KEYED_BY}={key}]"
    return f"{path}.{key}" if path else str(key)


def _diff_dicts(old, new, path, keyed=False):
    changes = []
    for key in old:
        where = _join(path, key, keyed)
        if key not in new:
            changes.append({"path": where, "change": "removed", "from": old[key], "to": None})
        else:
            changes.extend(diff(old[key], new[key], where))
    for key in new:
        if key not in old:
            changes.append({"path": _join(path, key, keyed), "change": "added", "from": None,
                            "to": new[key]})
    return changes


def _diff_lists(old, new, path):
    changes = []
    for index in range(max(len(old), len(new))):
        where = f"{path}[{index}]"
        if index >= len(new):
            changes.append({"path": where, "change": "removed", "from": old[index], "to": None})
        elif index >= len(old):
            changes.append({"path": where, "change": "added", "from": None, "to": new[index]})
        else:
            changes.extend(diff(old[index], new[index], where))
    return changes


def _keyed(items):
    return bool(items) and all(isinstance(item, dict) and KEYED_BY in item for item in items)


def _by_key(items):
    return {item[KEYED_BY]: item for item in items}
