"""RTPLP money: exact integer Rupiah, totals per year, source and sector, stable item ids."""
import pytest

from services.planning import budget
from shared.chassis.errors import InvalidInput
from shared.money import MAX_RUPIAH

DOC = "52.01.08.2006-rtplp"


def item(quantity="1", unit_cost=1000, year=2025, source="apbn", sector="drainase", **extra):
    return {"sector": sector, "description": "x", "quantity": quantity, "unit": "m",
            "unit_cost": unit_cost, "year": year, "funding_source": source, **extra}


@pytest.mark.parametrize("quantity, unit_cost, total", [
    ("1200.5", 750_000, 900_375_000),
    ("0.5", 3, 2),          # 1.5: half up
    ("0.25", 3, 1),         # 0.75
    ("0.125", 4, 1),        # 0.5: half up
    ("0.001", 499, 0),      # 0.499
    ("3", 333_333_333_333, 999_999_999_999),
])
def test_item_total_is_whole_rupiah_rounded_half_up(quantity, unit_cost, total):
    assert budget.item_total(quantity, unit_cost) == total
    assert type(budget.item_total(quantity, unit_cost)) is int


def test_totals_per_year_source_and_sector_are_exact_integers():
    items = budget.assign_ids(DOC, [
        item("1200.5", 750_000, 2025, "apbn", "drainase"),
        item("850", 210_000, 2026, "apbd_kabupaten_kota", "jalan_lingkungan"),
        item("6", 4_500_000, 2025, "swadaya", "persampahan"),
        item("0.1", 1, 2026, "apbn", "drainase"),            # 0.1 Rupiah rounds to 0
    ], set())
    totals = budget.totals(items)
    assert totals == {
        "total": 900_375_000 + 178_500_000 + 27_000_000,
        "by_year": {"2025": 927_375_000, "2026": 178_500_000},
        "by_funding_source": {"apbd_kabupaten_kota": 178_500_000, "apbn": 900_375_000,
                              "swadaya": 27_000_000},
        "by_sector": {"drainase": 900_375_000, "jalan_lingkungan": 178_500_000,
                      "persampahan": 27_000_000}}
    assert all(type(v) is int for part in totals.values() if isinstance(part, dict)
               for v in part.values())
    assert sum(totals["by_year"].values()) == totals["total"]


def test_item_ids_stay_stable_and_are_never_reused():
    first = budget.assign_ids(DOC, [item(), item(), item()], set())
    assert [i["item_id"] for i in first] == [f"{DOC}-item-{n}" for n in (1, 2, 3)]
    known = {i["item_id"] for i in first}
    # item 2 removed, item 3 moved first, one new item: it gets number 4, not 2
    second = budget.assign_ids(DOC, [first[2], first[0], item(quantity="2")], known)
    assert [i["item_id"] for i in second] == [f"{DOC}-item-3", f"{DOC}-item-1",
                                              f"{DOC}-item-4"]


def test_unknown_or_repeated_item_ids_are_refused_by_field():
    with pytest.raises(InvalidInput) as unknown:
        budget.assign_ids(DOC, [item(item_id="made-up")], set())
    assert unknown.value.field == "investment_items.0.item_id"
    known = {f"{DOC}-item-1"}
    with pytest.raises(InvalidInput, match="twice") as twice:
        budget.assign_ids(DOC, [item(item_id=f"{DOC}-item-1"), item(item_id=f"{DOC}-item-1")],
                          known)
    assert twice.value.field == "investment_items.1.item_id"


LIMIT = MAX_RUPIAH   # Rp 10 trillion: every total stays an amount the next services take


@pytest.mark.parametrize("items, field, cost, before", [
    # one item: its unit cost fits, the quantity takes it over
    ([item("2", 10**13)], "investment_items.0.quantity", 2 * 10**13, 0),
    # three items fit; the fourth's unit cost alone, at quantity 1, would take it over
    ([item("3", 10**12)] * 3 + [item("1", 2 * 10**12)], "investment_items.3.unit_cost",
     2 * 10**12, 9 * 10**12),
    # three items fit; the fourth's unit cost would fit once, its quantity takes it over
    ([item("3", 10**12)] * 3 + [item("2", 6 * 10**11), item()],
     "investment_items.3.quantity", 12 * 10**11, 9 * 10**12),
])
def test_a_plan_beyond_the_largest_amount_names_the_item_that_crosses(
        items, field, cost, before):
    with pytest.raises(InvalidInput) as too_much:
        budget.assign_ids(DOC, items, set())
    index = int(field.split(".")[1])
    crossing = items[index]
    assert too_much.value.field == field
    assert too_much.value.message == (
        f"{crossing['quantity']} x Rp {crossing['unit_cost']} = Rp {cost} takes the plan's "
        f"total to Rp {before + cost}, over the limit of Rp {LIMIT} a plan may total (the "
        f"most any amount on the platform may be); the items before it total Rp {before}, "
        f"so this one may cost at most Rp {LIMIT - before}")


def test_a_plan_at_exactly_the_limit_is_taken():
    items = budget.assign_ids(DOC, [item("9", 10**12), item("1", 10**12)], set())
    assert budget.totals(items)["total"] == LIMIT


def test_the_caller_names_where_the_items_are():
    with pytest.raises(InvalidInput) as too_much:
        budget.assign_ids(DOC, [item(), item("2", 6 * 10**12)], set(),
                          "content.investment_items")
    assert too_much.value.field == "content.investment_items.1.quantity"
    with pytest.raises(InvalidInput) as unknown:
        budget.assign_ids(DOC, [item(item_id="made-up")], set(), "content.investment_items")
    assert unknown.value.field == "content.investment_items.0.item_id"


def test_published_items_carry_the_contract_fields():
    items = budget.assign_ids(DOC, [item(ded=[{"sha256": "a" * 64, "title": "DED"}])], set())
    assert list(budget.published(items)[0]) == list(budget.PUBLISHED_FIELDS)
