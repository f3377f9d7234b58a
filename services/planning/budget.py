"""RTPLP investment items: stable item ids, exact costs and totals. Pure.

Money is integer Rupiah. Quantities are decimal strings ("120.50" metres); an item's
total is quantity x unit cost rounded half up to a whole Rupiah (the convention of a
RAB, the Indonesian bill of quantities), computed with Decimal, never float.
"""
from decimal import Decimal

from shared.chassis.errors import InvalidInput
from shared.money import MAX_RUPIAH, whole_rupiah

# The seven KOTAKU slum aspects, plus what a settlement plan adds around them.
SECTORS = ("bangunan", "jalan_lingkungan", "air_minum", "drainase", "air_limbah",
           "persampahan", "proteksi_kebakaran", "ruang_terbuka_hijau", "ekonomi", "sosial",
           "lainnya")
PUBLISHED_FIELDS = ("item_id", "sector", "description", "quantity", "unit", "unit_cost",
                    "total_cost", "year", "funding_source")


def item_total(quantity: str, unit_cost: int) -> int:
    return whole_rupiah(Decimal(quantity) * unit_cost)


def item_id(document_id, number):
    """Ids are never reused within a document, so they stay stable across versions and
    unique across villages (the document id starts with the village code)."""
    return f"{document_id}-item-{number}"


def assign_ids(document_id, items, known_ids, where="investment_items"):
    """Items with their ids and total costs. An item keeps the id it was given in an
    earlier version; an item without one gets the next unused number. Errors name the
    item's field under `where`, the items' path in the caller's request."""
    seen, placed = set(), []
    number = len(known_ids)
    for index, item in enumerate(items):
        given = item.get("item_id")
        if given is not None:
            if given not in known_ids:
                raise InvalidInput(f"unknown item id {given!r}; leave item_id out for a new "
                                   "item", f"{where}.{index}.item_id")
            if given in seen:
                raise InvalidInput(f"item id {given!r} appears twice",
                                   f"{where}.{index}.item_id")
            identity = given
        else:
            number += 1
            identity = item_id(document_id, number)
        seen.add(identity)
        placed.append({**item, "item_id": identity,
                       "total_cost": item_total(item["quantity"], item["unit_cost"])})
    _check_total(placed, where)
    return placed


def _check_total(placed, where):
    """A plan totals at most MAX_RUPIAH, the most any amount on the platform may be, so
    that every item's and every breakdown's total is an amount the services after
    planning take (marketing's funding needs, construction's work packages). Refused at
    the item whose cost takes the running total over it, naming its unit_cost when that
    alone, at quantity 1, would take it over, and otherwise its quantity."""
    before = 0
    for index, item in enumerate(placed):
        cost = item["total_cost"]
        if before + cost > MAX_RUPIAH:
            field = "unit_cost" if before + item["unit_cost"] > MAX_RUPIAH else "quantity"
            raise InvalidInput(
                f"{item['quantity']} x Rp {item['unit_cost']} = Rp {cost} takes the plan's "
                f"total to Rp {before + cost}, over the limit of Rp {MAX_RUPIAH} a plan may "
                f"total (the most any amount on the platform may be); the items before it "
                f"total Rp {before}, so this one may cost at most Rp {MAX_RUPIAH - before}",
                f"{where}.{index}.{field}")
        before += cost


def totals(items):
    """Grand total and totals per year, funding source and sector, in whole Rupiah.
    Keys are strings (JSON objects); each breakdown is sorted by key."""
    by = {"by_year": {}, "by_funding_source": {}, "by_sector": {}}
    for item in items:
        for breakdown, key in (("by_year", str(item["year"])),
                               ("by_funding_source", item["funding_source"]),
                               ("by_sector", item["sector"])):
            by[breakdown][key] = by[breakdown].get(key, 0) + item["total_cost"]
    return {"total": sum(item["total_cost"] for item in items),
            **{name: dict(sorted(values.items())) for name, values in by.items()}}


def published(items):
    """The items as InvestmentItemsPublished carries them."""
    return [{name: item[name] for name in PUBLISHED_FIELDS} for item in items]
