"""RTPLP investment items over the real RabbitMQ: quantities and unit costs at their
limits, a plan whose total would pass the largest amount, items removed
and brought back across revisions with stable ids, and InvestmentItemsPublished against
the version it publishes."""
import pytest

from services.planning import budget
from shared.chassis.errors import InvalidInput
from shared.money import MAX_RUPIAH
from tests.unit.planning import samples

from .conftest import BAJUR, approve_with_meeting, pdf, proxy, upload
from .test_planning_service import ledger_events

ITEM = f"{BAJUR}-rtplp-item-"


def plan(*items):
    content = samples.rtplp()
    content["investment_items"] = [
        {"sector": "drainase", "description": f"Saluran {unit_cost}", "quantity": quantity,
         "unit": "m", "unit_cost": unit_cost, "year": 2025, "funding_source": "apbn",
         **({"item_id": item_id} if item_id else {})}
        for quantity, unit_cost, item_id in items]
    return content


def item(quantity="1", unit_cost=1000, item_id=None):
    return quantity, unit_cost, item_id


@pytest.mark.parametrize("quantity, unit_cost, field, message", [
    ("10000000.001", 1, "quantity", "at most 10000000"),
    ("0.0005", 1000, "quantity", "at most 3 decimal places"),
    ("0", 1000, "quantity", "above 0"),
    ("1e3", 1000, "quantity", "digits"),
    (1.5, 1000, "quantity", "no floats"),
    ("1", MAX_RUPIAH + 1, "unit_cost", "less than or equal to"),
    ("1", -1, "unit_cost", "greater than or equal to"),
    ("1", 1000.0, "unit_cost", "integer"),
    ("1", "1000", "unit_cost", "integer"),
])
def test_quantities_and_unit_costs_past_their_limits(planning, quantity, unit_cost, field,
                                                     message):
    with proxy(planning) as service:
        with pytest.raises(InvalidInput, match=message) as refused:
            service.draft_document(BAJUR, "rtplp", {
                "content": plan(item(quantity, unit_cost)), "drafted_on": "2024-08-01"})
        assert refused.value.field == f"content.investment_items.0.{field}"
    assert ledger_events(planning, "DocumentDrafted") == []


def test_quantities_and_unit_costs_at_their_limits(planning):
    with proxy(planning) as service:
        drafted = service.draft_document(BAJUR, "rtplp", {"content": plan(
            item("0.001", 1),              # Rp 0.001 rounds to Rp 0
            item("0.5", 3),                # Rp 1.5: half up
            item("10000000", 1),
            item("1200.50", 750_000)),     # kept as its value: 1200.5
            "drafted_on": "2024-08-01"})
        largest = service.revise_document(BAJUR, "rtplp", {"content": plan(
            item("1", MAX_RUPIAH)), "drafted_on": "2024-08-02", "based_on": 1})
    items = drafted["content"]["investment_items"]
    assert [i["total_cost"] for i in items] == [0, 2, 10**7, 900_375_000]
    assert items[3]["quantity"] == "1200.5"
    assert drafted["totals"]["total"] == sum(i["total_cost"] for i in items)
    assert largest["totals"]["total"] == MAX_RUPIAH


def test_a_plan_over_the_largest_amount_is_refused_by_its_item(planning):
    """The items' sum, not one item, passes the limit (MAX_RUPIAH, so every total is an
    amount the services after planning take): refused at the item that takes it over, in
    a draft and in a revision alike; the refused revision hands out no id."""
    with proxy(planning) as service:
        head = service.status()["ledger_head"]
        with pytest.raises(InvalidInput, match="over the limit") as over:
            service.draft_document(BAJUR, "rtplp", {"content": plan(
                item("1", MAX_RUPIAH - 1), item("1", 1), item("1", 1)),
                "drafted_on": "2024-08-01"})
        assert over.value.field == "content.investment_items.2.unit_cost"
        assert service.status()["ledger_head"] == head
        drafted = service.draft_document(BAJUR, "rtplp", {"content": plan(
            item("1", MAX_RUPIAH - 1), item("1", 1)), "drafted_on": "2024-08-01"})
        assert drafted["totals"]["total"] == MAX_RUPIAH
        head = service.status()["ledger_head"]
        with pytest.raises(InvalidInput, match="over the limit") as revised:
            service.revise_document(BAJUR, "rtplp", {"content": plan(
                item("9", 10**12, ITEM + "1"), item("2", 6 * 10**11, ITEM + "2")),
                "drafted_on": "2024-08-02", "based_on": 1})
        assert revised.value.field == "content.investment_items.1.quantity"
        assert service.status()["ledger_head"] == head
        second = service.revise_document(BAJUR, "rtplp", {"content": plan(
            item("1", 1, ITEM + "1"), item("1", 2)), "drafted_on": "2024-08-02",
            "based_on": 1})
        assert [i["item_id"] for i in second["content"]["investment_items"]] == \
            [ITEM + "1", ITEM + "3"]


def test_items_removed_and_brought_back_keep_their_ids_and_publish_as_stored(planning):
    with proxy(planning) as service:
        attendance = upload(service, pdf("daftar hadir"), "attendance_list")
        ded = upload(service, pdf("DED"), "ded_drawing")
        first = service.draft_document(BAJUR, "rtplp", {"content": plan(
            item("10", 1000), item("20", 2000), item("30", 3000)),
            "drafted_on": "2024-08-01"})
        assert [i["item_id"] for i in first["content"]["investment_items"]] == \
            [ITEM + "1", ITEM + "2", ITEM + "3"]
        # item 2 removed, a new one added: it is number 4, never 2 again
        second = service.revise_document(BAJUR, "rtplp", {"content": plan(
            item("10", 1000, ITEM + "1"), item("30", 3000, ITEM + "3"), item("5", 500)),
            "drafted_on": "2024-08-02", "based_on": 1})
        assert [i["item_id"] for i in second["content"]["investment_items"]] == \
            [ITEM + "1", ITEM + "3", ITEM + "4"]
        changes = service.diff_versions(BAJUR, "rtplp", 1, 2)["changes"]
        assert {(c["path"], c["change"]) for c in changes} == {
            (f"investment_items[item_id={ITEM}2]", "removed"),
            (f"investment_items[item_id={ITEM}4]", "added")}
        # item 2 brought back by its id, item 4 changed, a new one: number 5
        content = plan(item("25", 2000, ITEM + "2"), item("6", 500, ITEM + "4"), item("1", 1))
        content["investment_items"][0].update(
            ded=[{"sha256": ded, "title": "DED saluran"}], location="RT 03/RW 02")
        third = service.revise_document(BAJUR, "rtplp", {
            "content": content, "drafted_on": "2024-08-03", "based_on": 2})
        stored = third["content"]["investment_items"]
        assert [i["item_id"] for i in stored] == [ITEM + "2", ITEM + "4", ITEM + "5"]
        approve_with_meeting(service, "rtplp", 3, attendance)
        version = service.get_version(BAJUR, "rtplp", 3)
    [published] = ledger_events(planning, "InvestmentItemsPublished")
    p = published.payload
    assert (p["code"], p["document_id"], p["version"]) == (BAJUR, f"{BAJUR}-rtplp", 3)
    assert p["items"] == [{k: i[k] for k in budget.PUBLISHED_FIELDS} for i in stored]
    assert p["totals"] == version["totals"] == budget.totals(stored)
    assert p["totals"]["total"] == 25 * 2000 + 6 * 500 + 1
