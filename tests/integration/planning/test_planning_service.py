"""The planning service over the real RabbitMQ: versions and diffs, meetings that approve
or cannot, the sign-off chain with roles, Musrenbang, queries, errors and scopes."""
import json

import kombu
import pytest

from services.planning.service import PlanningService
from shared.chassis.errors import CommandRejected, Conflict, Forbidden, InvalidInput, NotFound
from shared.ledger import open_ledger
from shared.messaging.relay import exchange_name
from tests.unit.planning import samples

from ..conftest import wait_for
from .conftest import (AUDITOR, BAJUR, BAPPEDA, FACILITATOR, LURAH, approve_with_meeting,
                       cycle_at, draft_all_four, pdf, proxy, upload)


def person(name, position):
    return {"name": name, "position": position}


def sign(service, kind, step, signer, signed_on, version=1):
    return service.sign_document(BAJUR, kind, {"version": version, "step": step,
                                               "signer": signer, "signed_on": signed_on})


def ledger_events(config, *types):
    ledger = open_ledger(config["STORE_URI"], "planning")
    try:
        return list(ledger.iter_records(types=list(types)))
    finally:
        ledger.close()


def test_versions_stay_readable_and_diff_by_field(planning):
    with proxy(planning) as service:
        ded = upload(service, pdf("DED saluran"), "ded_drawing")
        first = service.draft_document(BAJUR, "rtplp", {"content": samples.rtplp(ded),
                                                        "drafted_on": "2024-08-01"})
        assert (first["version"], first["status"], first["next_step"]) == (1, "draft",
                                                                             "approval")
        assert first["totals"]["total"] == 1_105_875_000
        assert first["drafted"]["actor"]["id"] == "bkm-bajur"
        items = first["content"]["investment_items"]
        revised = samples.rtplp(ded)
        revised["investment_items"] = [
            {**{k: v for k, v in items[0].items() if k != "total_cost"}, "unit_cost": 800_000},
            {k: v for k, v in items[2].items() if k != "total_cost"}]
        second = service.revise_document(BAJUR, "rtplp", {
            "content": revised, "drafted_on": "2024-08-05", "based_on": 1,
            "note": "paving moved to APBD next cycle"})
        assert second["version"] == 2 and second["based_on"] == 1
        assert service.get_version(BAJUR, "rtplp", 1)["content"] == first["content"]
        assert service.get_version(BAJUR, "rtplp", 1)["superseded_by"] == 2
        diff = service.diff_versions(BAJUR, "rtplp", 1, 2)
        item1, item2 = items[0]["item_id"], items[1]["item_id"]
        assert {(c["path"], c["change"]) for c in diff["changes"]} == {
            (f"investment_items[item_id={item1}].unit_cost", "changed"),
            (f"investment_items[item_id={item1}].total_cost", "changed"),
            (f"investment_items[item_id={item2}]", "removed")}
        assert {"path": "totals.by_year.2026", "change": "removed", "from": 178_500_000,
                "to": None} in diff["totals"]
        [document] = service.list_documents(BAJUR)
        assert (document["latest_version"], document["status"]) == (2, "draft")
        assert [v["version"] for v in document["versions"]] == [1, 2]
        with pytest.raises(Conflict, match="version 2 is the latest"):
            service.revise_document(BAJUR, "rtplp", {"content": revised, "based_on": 1,
                                                     "drafted_on": "2024-08-06"})
        with pytest.raises(NotFound):
            service.get_version(BAJUR, "rtplp", 3)
        head = service.status()["ledger_head"]
        for old, new, field, missing in ((1, 3, "to_version", 3), (3, 2, "from_version", 3),
                                         (4, 3, "from_version", 4)):
            with pytest.raises(NotFound) as absent:
                service.diff_versions(BAJUR, "rtplp", old, new)
            assert (absent.value.field, absent.value.message) == (
                field, f"the rtplp of {BAJUR} has no version {missing}"), (old, new)
        assert service.status()["ledger_head"] == head


def test_bad_input_names_the_field_and_records_nothing(planning):
    with proxy(planning) as service:
        head = service.status()["ledger_head"]
        content = samples.rtplp()
        content["investment_items"][0]["unit_cost"] = 750000.5
        with pytest.raises(InvalidInput) as money:
            service.draft_document(BAJUR, "rtplp", {"content": content,
                                                    "drafted_on": "2024-08-01"})
        assert money.value.field == "content.investment_items.0.unit_cost"
        content["investment_items"][0]["unit_cost"] = 10**13
        content["investment_items"][0]["quantity"] = "1000"
        with pytest.raises(InvalidInput, match="may cost at most Rp 10000000000000") as total:
            service.draft_document(BAJUR, "rtplp", {"content": content,
                                                    "drafted_on": "2024-08-01"})
        assert total.value.field == "content.investment_items.0.quantity"
        with pytest.raises(InvalidInput) as kind:
            service.draft_document(BAJUR, "rpjm", {"content": {}, "drafted_on": "2024-08-01"})
        assert kind.value.field == "kind"
        with pytest.raises(InvalidInput) as code:
            service.list_documents("5201082006")
        assert code.value.field == "code"
        with pytest.raises(InvalidInput) as body:
            service.record_meeting(BAJUR, ["not", "an", "object"])
        assert body.value.field == "body"
        for key in (5, ["k"], "", "k" * 301):   # a direct RPC caller's key, not the gateway's
            with pytest.raises(InvalidInput) as bad_key:
                service.record_meeting(BAJUR, samples.meeting("0" * 64),
                                       idempotency_key=key)
            assert bad_key.value.field == "idempotency_key"
        with pytest.raises(NotFound) as meeting:
            service.approve_document(BAJUR, "rplp", {"version": 1, "meeting_id": "nope"})
        assert meeting.value.field == "meeting_id"
        with pytest.raises(NotFound) as undrafted:
            service.revise_document(BAJUR, "aturan_bersama", {
                "content": samples.aturan_bersama(), "based_on": 1, "drafted_on": "2024-08-01"})
        assert undrafted.value.field == "kind"
        assert service.status()["ledger_head"] == head
    with proxy(planning, LURAH) as lurah:
        with pytest.raises(Forbidden, match="role district"):
            lurah.draft_document(BAJUR, "aturan_bersama", {
                "content": samples.aturan_bersama(), "drafted_on": "2024-08-01"})


def test_a_meeting_that_fails_the_rule_cannot_approve_one_that_meets_it_can(planning):
    with proxy(planning) as service:
        attendance = upload(service, pdf("daftar hadir"), "attendance_list")
        map_ = upload(service, pdf("peta"), "map")
        service.draft_document(BAJUR, "rplp", {"content": samples.rplp(map_),
                                               "drafted_on": "2024-08-01"})
        small = service.record_meeting(BAJUR, samples.meeting(
            attendance, [("rplp", 1)], men=21, women=8, poor=5))
        assert small["attendance"]["attendees"] == 29
        assert small["attendance_list"]["size"] == len(pdf("daftar hadir"))
        with pytest.raises(CommandRejected) as refused:
            service.approve_document(BAJUR, "rplp", {"version": 1,
                                                     "meeting_id": small["meeting_id"]})
        message = str(refused.value)
        assert "approval rule plpbk-musyawarah v1 not met" in message
        assert "minimum_attendance: attendees is 29, rule needs >= 30" in message
        assert "women_participation: 8 of 29 attendees is 27.58%" in message
        pending = service.pending({"region": "52.01"})
        assert [p["document_id"] for p in pending["items"]] == [f"{BAJUR}-rplp"]

        record = approve_with_meeting(service, "rplp", 1, attendance)
        assert record["approval"]["rule"] == {"id": "plpbk-musyawarah", "version": 1}
        assert record["meeting"]["attendance"] == {"men": 20, "women": 12, "poor": 9,
                                                   "attendees": 32}
        assert record["meeting"]["decisions"][0]["approves"] == {"kind": "rplp", "version": 1}
        assert record["meeting"]["approvals"][0]["document_id"] == f"{BAJUR}-rplp"
        assert service.approval_record(BAJUR, "rplp", 1) == record
        assert service.get_meeting(record["meeting"]["meeting_id"]) == record["meeting"]
        assert service.pending({"region": "52.01"})["total"] == 0
        assert service.pending({"waiting_for": "submitted"})["items"][0]["version"] == 1
        [document] = service.list_documents(BAJUR)
        assert (document["status"], document["approved_version"]) == ("approved", 1)
    [approved] = ledger_events(planning, "DocumentApproved")
    assert approved.actor["id"] == "bkm-bajur"
    assert {k: approved.payload[k] for k in ("code", "kind", "document_id", "version",
                                             "meeting_id")} == {
        "code": BAJUR, "kind": "rplp", "document_id": f"{BAJUR}-rplp", "version": 1,
        "meeting_id": record["meeting"]["meeting_id"]}


def test_the_sign_off_chain_with_roles_order_and_musrenbang(planning):
    with proxy(planning) as bkm:
        attendance = upload(bkm, pdf("daftar hadir"), "attendance_list")
        map_ = upload(bkm, pdf("peta"), "map")
        bkm.draft_document(BAJUR, "rplp", {"content": samples.rplp(map_),
                                           "drafted_on": "2024-08-01"})
        approve_with_meeting(bkm, "rplp", 1, attendance)
        sign(bkm, "rplp", "submitted", person("H. Lalu Ahmad", "Koordinator BKM"),
             "2024-08-12")
        with pytest.raises(Forbidden, match="sign the acknowledged step"):
            sign(bkm, "rplp", "acknowledged", person("x", "y"), "2024-08-13")
    with proxy(planning, FACILITATOR) as facilitator:
        with pytest.raises(CommandRejected, match="after acknowledged") as order:
            sign(facilitator, "rplp", "verified", person("Dewi", "Faskel"), "2024-08-14")
        assert order.value.field == "step"
    with proxy(planning, BAPPEDA) as bappeda:  # a kabupaten account is not the Lurah
        with pytest.raises(Forbidden, match="scoped to the village itself") as kabupaten:
            sign(bappeda, "rplp", "acknowledged", person("Ir. Made", "Bappeda"), "2024-08-13")
        assert kabupaten.value.field == "step"
    with proxy(planning, LURAH) as lurah:
        version = sign(lurah, "rplp", "acknowledged", person("Lalu Sahnan", "Kepala Desa Bajur"),
                       "2024-08-13")
        signature = version["sign_offs"]["acknowledged"]["lurah"]
        assert signature["signer"]["position"] == "Kepala Desa Bajur"
        assert signature["role"] == "district" and signature["actor"]["id"] == "lurah-bajur"
        with pytest.raises(Conflict, match="already signed"):
            sign(lurah, "rplp", "acknowledged", person("x", "y"), "2024-08-13")
    with proxy(planning, FACILITATOR) as facilitator:
        version = sign(facilitator, "rplp", "verified", person("Dewi", "Faskel"), "2024-08-14")
        assert version["next_step"] == "bappeda_consultation"
    with proxy(planning, LURAH) as lurah:
        with pytest.raises(CommandRejected, match="Bappeda"):
            sign(lurah, "rplp", "ratified", person("Lalu Sahnan", "Kepala Desa"), "2024-08-20")
    with proxy(planning, BAPPEDA) as bappeda:
        version = bappeda.record_bappeda_consultation(BAJUR, "rplp", {
            "version": 1, "consulted_on": "2024-08-18", "reference": "050/BAPPEDA/2024",
            "official": person("Ir. Made", "Kabid Fisik Bappeda")})
        assert version["next_step"] == "ratified"
    with proxy(planning, LURAH) as lurah:
        sign(lurah, "rplp", "ratified", person("Lalu Sahnan", "Kepala Desa"), "2024-08-20")
    with proxy(planning) as bkm:
        with pytest.raises(CommandRejected, match="not signed off yet"):
            bkm.submit_to_musrenbang(BAJUR, "rplp", {
                "version": 1, "forum": "kecamatan", "reference": "MR-1",
                "submitted_on": "2024-08-22"})
        version = sign(bkm, "rplp", "ratified", person("H. Lalu Ahmad", "Koordinator BKM"),
                       "2024-08-21")
        assert (version["status"], version["signed_off_on"]) == ("signed_off", "2024-08-21")
        version = bkm.submit_to_musrenbang(BAJUR, "rplp", {
            "version": 1, "forum": "kecamatan", "reference": "MUSREN-KEC-LABUAPI-2025-17",
            "submitted_on": "2024-08-22"})
        assert version["status"] == "submitted"
        assert version["musrenbang"] == [{"forum": "kecamatan", "submitted_on": "2024-08-22",
                                          "reference": "MUSREN-KEC-LABUAPI-2025-17"}]
        assert [h["type"] for h in version["history"]] == [
            "DocumentApproved", "DocumentSigned", "DocumentSigned", "DocumentSigned",
            "BappedaConsulted", "DocumentSigned", "DocumentSigned", "DocumentSignedOff",
            "DocumentSubmittedToMusrenbang"]
        assert bkm.list_documents(BAJUR)[0]["status"] == "submitted"


def test_rtplp_approval_publishes_items_to_rabbitmq(planning):
    connection = kombu.Connection(planning["AMQP_URI"])
    exchange = kombu.Exchange(exchange_name("planning"), "topic", durable=True)
    queue = kombu.Queue("planning-tap", exchange, routing_key="#", durable=False)
    queue(connection.default_channel).declare()
    seen = {}

    def published():
        while (message := queue(connection.default_channel).get(no_ack=True)) is not None:
            seen[message.payload["type"]] = message.payload["payload"]
        return "InvestmentItemsPublished" in seen and seen

    try:
        with proxy(planning) as service:
            attendance = upload(service, pdf("daftar hadir"), "attendance_list")
            service.draft_document(BAJUR, "rtplp", {"content": samples.rtplp(),
                                                    "drafted_on": "2024-08-01"})
            approve_with_meeting(service, "rtplp", 1, attendance)
        wait_for(published, what="InvestmentItemsPublished on RabbitMQ")
    finally:
        connection.release()
    assert seen["DocumentApproved"]["kind"] == "rtplp"
    items = seen["InvestmentItemsPublished"]["items"]
    assert [i["item_id"] for i in items] == [f"{BAJUR}-rtplp-item-{n}" for n in (1, 2, 3)]
    assert items[0]["total_cost"] == 900_375_000 and items[0]["funding_source"] == "apbn"


def test_queries_are_scoped_and_paged(planning):
    with proxy(planning, FACILITATOR) as facilitator:
        sha256 = upload(facilitator, pdf("peta"), "map")
        draft_all_four(facilitator, sha256)
        other = "52.01.08.2001"
        facilitator.draft_document(other, "aturan_bersama", {
            "content": samples.aturan_bersama(), "drafted_on": "2024-08-01"})
        page = facilitator.pending({"region": "52.01", "page": 1, "page_size": 3})
        assert (page["total"], len(page["items"])) == (5, 3)
        assert facilitator.pending({"region": "52.01", "page": 2, "page_size": 3})[
            "items"][-1]["code"] == BAJUR
        assert facilitator.pending({"kind": "rplp"})["total"] == 1
        with pytest.raises(Forbidden):
            facilitator.pending({"region": "31"})
    with proxy(planning) as bkm:     # scoped to Bajur: a national request is narrowed
        assert bkm.pending({})["total"] == 4
        with pytest.raises(Forbidden):
            bkm.list_documents("52.01.08.2001")
        assert [d["kind"] for d in bkm.list_documents(BAJUR)] == [
            "rplp", "rtplp", "aturan_bersama", "marketing_strategy"]
    with proxy(planning, AUDITOR) as auditor:
        assert auditor.pending({"region": "52"})["total"] == 5
        assert auditor.approval_rule()["version"] == 1


def test_answers_carry_no_view_store_key(planning):
    """`_id` is how the view store keys a document (`52.01.08.2006-rplp@00001`): the
    answers showed it beside document_id, meeting_id and sha256, an internal detail
    clients would start to read."""
    with proxy(planning) as service:
        attendance = upload(service, pdf("daftar hadir"), "attendance_list")
        drafted = service.draft_document(BAJUR, "aturan_bersama", {
            "content": samples.aturan_bersama(), "drafted_on": "2024-08-01"})
        record = approve_with_meeting(service, "aturan_bersama", 1, attendance)
        answers = {
            "draft_document": drafted, "approve_document": record,
            "list_documents": service.list_documents(BAJUR),
            "get_version": service.get_version(BAJUR, "aturan_bersama", 1),
            "get_meeting": service.get_meeting(record["meeting"]["meeting_id"]),
            "list_attachments": service.list_attachments(BAJUR)}
    for rpc, answer in answers.items():
        assert '"_id"' not in json.dumps(answer), (rpc, answer)


def test_duplicates_superseded_versions_and_early_dates_are_refused_recording_nothing(planning):
    """The review probe's findings, over RabbitMQ: each refusal names its field, and the
    ledger head does not move."""
    with proxy(planning) as service:
        attendance = upload(service, pdf("daftar hadir"), "attendance_list")
        map_ = upload(service, pdf("peta"), "map")
        service.draft_document(BAJUR, "rplp", {"content": samples.rplp(map_),
                                               "drafted_on": "2024-08-01"})
        head = service.status()["ledger_head"]
        content = samples.rtplp()
        content["priority_area"]["rt_rw"].append({"rt": 4, "rw": 2})
        with pytest.raises(InvalidInput, match="RT 4/RW 2") as rt_rw:
            service.draft_document(BAJUR, "rtplp", {"content": content,
                                                    "drafted_on": "2024-08-01"})
        assert rt_rw.value.field == "content.priority_area.rt_rw.2"
        with pytest.raises(InvalidInput, match="rplp version 1") as twice:
            service.record_meeting(BAJUR, samples.meeting(attendance, [("rplp", 1),
                                                                       ("rplp", 1)]))
        assert twice.value.field == "decisions.1.approves"
        with pytest.raises(InvalidInput, match="2000-01-01") as early:
            service.draft_document(BAJUR, "aturan_bersama", {
                "content": samples.aturan_bersama(), "drafted_on": "0001-01-01"})
        assert early.value.field == "drafted_on"
        assert service.status()["ledger_head"] == head

        decided = service.record_meeting(BAJUR, samples.meeting(attendance, [("rplp", 1)]))
        second = samples.rplp(map_)
        second["vision"] = "Versi dua"
        service.revise_document(BAJUR, "rplp", {"content": second, "based_on": 1,
                                                "drafted_on": "2024-08-11"})
        head = service.status()["ledger_head"]
        with pytest.raises(Conflict, match="version 2 is the current version") as superseded:
            service.approve_document(BAJUR, "rplp", {"version": 1,
                                                     "meeting_id": decided["meeting_id"]})
        assert superseded.value.field == "version"
        assert service.status()["ledger_head"] == head
        assert service.get_version(BAJUR, "rplp", 1)["status"] == "draft"

        approve_with_meeting(service, "rplp", 2, attendance, held_on="2024-08-12")
        again = service.record_meeting(BAJUR, samples.meeting(attendance, [("rplp", 2)],
                                                              held_on="2024-08-13"))
        head = service.status()["ledger_head"]
        with pytest.raises(Conflict, match="already approved") as approved_twice:
            service.approve_document(BAJUR, "rplp", {"version": 2,
                                                     "meeting_id": again["meeting_id"]})
        assert approved_twice.value.field == "version"
        assert service.status()["ledger_head"] == head
        assert service.approval_record(BAJUR, "rplp", 2)["approval"]["approved_on"] == \
            "2024-08-12"
    [approved] = ledger_events(planning, "DocumentApproved")
    assert approved.payload["version"] == 2


def test_a_plan_is_approved_only_in_the_cycle_planning_stage(container_factory,
                                                             planning_config):
    """Planning reads the village's cycle from the cycle ledger when it decides: a village
    still mapping itself (stage 3) cannot approve its RPLP; once stage 4 began it can, at
    a meeting held since then."""
    container_factory(PlanningService, planning_config).start()
    cycle_at(planning_config, 3)                      # stage 3 began on 2024-04-21
    with proxy(planning_config) as service:
        attendance = upload(service, pdf("daftar hadir"), "attendance_list")
        service.draft_document(BAJUR, "aturan_bersama", {
            "content": samples.aturan_bersama(), "drafted_on": "2024-08-01"})
        decided = service.record_meeting(BAJUR, samples.meeting(
            attendance, [("aturan_bersama", 1)]))
        head = service.status()["ledger_head"]
        with pytest.raises(CommandRejected, match="at stage 3; the aturan_bersama is "
                                                  "approved in stage 4") as early:
            service.approve_document(BAJUR, "aturan_bersama", {
                "version": 1, "meeting_id": decided["meeting_id"]})
        assert early.value.field == "code"
        assert service.status()["ledger_head"] == head
    with proxy(planning_config, FACILITATOR) as service:   # a village never selected
        other = "52.01.08.2001"
        listed = upload(service, pdf("daftar hadir 2001"), "attendance_list", code=other)
        service.draft_document(other, "aturan_bersama", {
            "content": samples.aturan_bersama(), "drafted_on": "2024-08-01"})
        decided = service.record_meeting(other, samples.meeting(
            listed, [("aturan_bersama", 1)]))
        with pytest.raises(CommandRejected, match="has no open cycle") as unselected:
            service.approve_document(other, "aturan_bersama", {
                "version": 1, "meeting_id": decided["meeting_id"]})
        assert unselected.value.field == "code"
    assert ledger_events(planning_config, "DocumentApproved") == []


def test_a_version_replaced_by_a_newer_approval_leaves_the_chain(planning):
    with proxy(planning) as bkm:
        attendance = upload(bkm, pdf("daftar hadir"), "attendance_list")
        bkm.draft_document(BAJUR, "aturan_bersama", {"content": samples.aturan_bersama(),
                                                     "drafted_on": "2024-08-01"})
        approve_with_meeting(bkm, "aturan_bersama", 1, attendance)
        sign(bkm, "aturan_bersama", "submitted", person("H. Lalu Ahmad", "Koordinator BKM"),
             "2024-08-11")
        second = samples.aturan_bersama()
        second["rules"][0]["sanction"] = "Denda Rp 50.000"
        bkm.revise_document(BAJUR, "aturan_bersama", {"content": second, "based_on": 1,
                                                      "drafted_on": "2024-08-11"})
        assert bkm.get_version(BAJUR, "aturan_bersama", 1)["next_step"] == "acknowledged"
        approve_with_meeting(bkm, "aturan_bersama", 2, attendance, held_on="2024-08-12")
        old = bkm.get_version(BAJUR, "aturan_bersama", 1)
        assert (old["replaced_by"], old["next_step"]) == (2, None)
        assert [v["document_id"] + f"@{v['version']}"
                for v in bkm.pending({"waiting_for": "acknowledged"})["items"]] == []
        assert bkm.pending({"waiting_for": "submitted"})["items"][0]["version"] == 2
    with proxy(planning, LURAH) as lurah:
        with pytest.raises(Conflict, match="version 2 was approved on 2024-08-12") as old:
            sign(lurah, "aturan_bersama", "acknowledged", person("Lalu Sahnan",
                                                                 "Kepala Desa Bajur"),
                 "2024-08-13")
        assert old.value.field == "version"


def test_only_the_village_own_bkm_account_signs_as_its_bkm(planning):
    kabupaten_bkm = {"id": "bkm-forum-lobar", "role": "bkm", "region": "52.01"}
    with proxy(planning) as bkm:
        attendance = upload(bkm, pdf("daftar hadir"), "attendance_list")
        bkm.draft_document(BAJUR, "aturan_bersama", {"content": samples.aturan_bersama(),
                                                     "drafted_on": "2024-08-01"})
        approve_with_meeting(bkm, "aturan_bersama", 1, attendance)
        head = bkm.status()["ledger_head"]
    with proxy(planning, kabupaten_bkm) as outsider:
        with pytest.raises(Forbidden, match="the bkm signs through an account scoped to the "
                                            "village itself") as refused:
            sign(outsider, "aturan_bersama", "submitted", person("x", "Koordinator BKM"),
                 "2024-08-11")
        assert refused.value.field == "step"
    with proxy(planning) as bkm:
        assert bkm.status()["ledger_head"] == head
        sign(bkm, "aturan_bersama", "submitted", person("H. Lalu Ahmad", "Koordinator BKM"),
             "2024-08-11")


def test_a_meeting_key_sent_again_with_another_meeting_is_refused_not_answered(planning):
    """A meeting's id comes from its idempotency key, so a retry lands on the meeting it
    recorded. The same key with another meeting (the ledger keeps keys for ever, the
    gateway for 24 hours) answered the earlier meeting as if this one were recorded, or,
    in another village, 404 'not recorded': the new meeting was lost either way."""
    with proxy(planning) as service, proxy(planning, FACILITATOR) as facilitator:
        attendance = upload(service, pdf("daftar hadir"), "attendance_list")
        first = service.record_meeting(BAJUR, samples.meeting(attendance), "rembug-1")
        assert service.record_meeting(BAJUR, samples.meeting(attendance), "rembug-1") == first
        head = service.status()["ledger_head"]
        other = samples.meeting(attendance, held_on="2024-09-09")
        with pytest.raises(CommandRejected, match="already used") as reused:
            service.record_meeting(BAJUR, other, "rembug-1")
        assert reused.value.field == "idempotency_key"
        neighbour_list = upload(facilitator, pdf("daftar hadir"), code="52.01.08.2001")
        with pytest.raises(CommandRejected, match="already used") as elsewhere:
            facilitator.record_meeting("52.01.08.2001", samples.meeting(neighbour_list),
                                       "rembug-1")
        assert elsewhere.value.field == "idempotency_key"
        assert facilitator.status()["ledger_head"] == head + 1   # the neighbour's upload
        assert service.get_meeting(first["meeting_id"])["held_on"] == "2024-08-10"


def test_a_draft_or_revision_key_sent_again_answers_the_version_it_recorded(planning):
    """A key the gateway no longer keeps (its answers last 24 hours, the ledger's keys for
    good: a key of the version before an upgrade, a day later) reaches the service again.
    It answered the document's latest version, so the retry of 'draft version 1' came
    back as version 3, as if the draft had been recorded as that."""
    with proxy(planning) as service:
        attendance_map = upload(service, pdf("peta"), "map")
        rplp = samples.content("rplp", attendance_map)
        draft = {"content": rplp, "drafted_on": "2024-08-01"}
        first = service.draft_document(BAJUR, "rplp", draft, idempotency_key="draft-1")
        revision = {"content": samples.changed(rplp, vision="Bajur hijau 2029"),
                    "drafted_on": "2024-08-05", "based_on": 1}
        second = service.revise_document(BAJUR, "rplp", revision, idempotency_key="rev-2")
        service.revise_document(BAJUR, "rplp", {
            "content": samples.changed(rplp, vision="Bajur tangguh 2030"),
            "drafted_on": "2024-08-06", "based_on": 2})
        head = service.status()["ledger_head"]
        again = service.draft_document(BAJUR, "rplp", draft, idempotency_key="draft-1")
        assert (again["version"], again["content"]) == (1, first["content"])
        again = service.revise_document(BAJUR, "rplp", revision, idempotency_key="rev-2")
        assert (again["version"], again["content"]) == (2, second["content"])
        assert service.status()["ledger_head"] == head
