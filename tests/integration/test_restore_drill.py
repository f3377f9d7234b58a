"""The restore drill of the README's "Backups": a backup taken while registration, cycle,
planning and audit run on the real RabbitMQ, more recorded after it, the services stopped, the
backup's folders put in place of the live ones, verified, and the services started again
on them. The platform then answers what the restored ledgers hold, once each."""
import json
import shutil

import kombu
import pytest

from services.audit.service import AuditService
from services.cycle.service import CycleService
from services.planning.service import PlanningService
from services.registration.service import RegistrationService
from shared.chassis.errors import NotFound
from shared.cli import backup as backup_module
from shared.ledger import open_ledger
from shared.ledger.verify import generate_key, public_key_pem
from shared.views import open_view_store
from tests.samples import BAJUR, ELIGIBLE, MINISTRY
from tests.unit.cli_support import run

from .conftest import wait_for
from .cycle.conftest import FASKEL, activity, call, cycle_of, stream, wait_open
from .planning.conftest import BKM, pdf, upload

SERVICES = (RegistrationService, CycleService, PlanningService, AuditService)
LEDGERS = ("cycle", "planning", "registration")
FIRST = ["52.01.08.2001", "52.01.08.2002", BAJUR]   # selected before the backup
DURING = "52.02.01.1001"       # selected while the backup runs (between its snapshots)
AFTER = "52.01.08.2003"        # registered after the backup: lost by the restore
LOST_KEY = "activity-after-the-backup"
CONTENT = {"before": "minutes before the backup", "during": "uploaded while the backup runs",
           "unrecorded": "uploaded after the ledgers' copy", "after": "minutes after the backup"}


@pytest.fixture(params=["memory", "sqlite"])
def config(request, platform_config, tmp_path):
    """The platform as `make run` has it: attachments in a folder, the safety net on (the
    cycle reads planning's approvals, whose doorbells ring only for some types); read
    models in memory, or durable ones (which a backup does not copy)."""
    views = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/views"
    key = generate_key()   # the audit's tree-head key, kept apart from any backup
    (tmp_path / "tree-head.pem").write_bytes(key)
    (tmp_path / "tree-head.pem.pub").write_bytes(public_key_pem(key))
    return {**platform_config, "ATTACHMENT_URI": f"file:///{tmp_path}/attachments",
            "CATCH_UP_INTERVAL": 1, "VIEW_URI": views,
            "TREE_HEAD_KEY": str(tmp_path / "tree-head.pem")}


def start(container_factory, config, services=SERVICES):
    containers = [container_factory(service, config) for service in services]
    for container in containers:
        container.start()
    return containers


def select(config, codes, quota):
    """Register, eligible evidence, a quota for their kabupaten, select them all."""
    with call(config, "registration") as registration:
        for code in codes:
            registration.register_village({"code": code})
            registration.record_indicators(code, ELIGIBLE)
        kabupaten = codes[0][:5]
        registration.set_quota({"kabupaten": kabupaten, "quota": quota,
                                "decree_reference": "KepMen 12/2026"})
        chosen = registration.select_villages(kabupaten)["selected"][kabupaten]
    assert sorted(chosen) == sorted(codes)
    for code in codes:
        wait_open(config, code)


def records(config, name, store=None):
    ledger = open_ledger(store or config["STORE_URI"], name, read_only=True)
    try:
        return ledger.read(0)
    finally:
        ledger.close()


def state_of(config, service, collection, key, state_uri=None):
    state = open_view_store(state_uri or config["STATE_URI"], service)
    try:
        return state.collection(collection).get(key)
    finally:
        state.close()


def relayed(config, name):
    found = state_of(config, name, "relay_positions", name)
    return found["position"] if found else 0


def caught_up(config):
    """Every service's relay and subscriptions at their ledgers' heads, the audit's too."""
    for name in LEDGERS + ("audit",):
        with call(config, name) as service:
            status = service.status()
        if name != "audit" and relayed(config, name) != status["ledger_head"]:
            return False
        if any(s["position"] != s["source_head"] for s in status["subscriptions"].values()):
            return False
    return True


def folder(uri):
    return uri.split(":///", 1)[1]


def restore(config, backup, aside):
    """The README's procedure: the live folders moved aside, the backup's copied in."""
    for part, uri in (("ledgers", config["STORE_URI"]), ("state", config["STATE_URI"]),
                      ("attachments", config["ATTACHMENT_URI"])):
        shutil.move(folder(uri), aside / part)
        shutil.copytree(backup / part, folder(uri))


def probe(config):
    """A queue bound to every ledger's exchange: what the relays publish from now on."""
    connection = kombu.Connection(config["AMQP_URI"])
    channel = connection.channel()
    channel.queue_declare("restore-drill-probe", durable=False, auto_delete=False)
    for name in LEDGERS:
        channel.exchange_declare(f"{name}.events", "topic", durable=True, auto_delete=False)
        channel.queue_bind("restore-drill-probe", f"{name}.events", "#")
    return connection, channel


def published(channel):
    """(ledger, position, event id) of every message in the probe's queue."""
    found = []
    while (message := channel.basic_get("restore-drill-probe", no_ack=True)) is not None:
        body = json.loads(message.body)
        found.append((body["ledger"], body["position"], body["event_id"]))
    return found


def backup_while_running(config, out, monkeypatch, files):
    """plpbk backup while the platform goes on between its steps: after the state
    snapshots a selection is recorded, relayed and reacted to (the copied state is then
    behind the copied ledgers), and a file is uploaded; after the ledger snapshots another
    file is uploaded (copied without its event)."""
    pause, copy_attachments = backup_module._writes_paused, backup_module._copy_attachments

    def after_the_state(paths):
        select(config, [DURING], quota=1)
        with call(config, "cycle", FASKEL) as cycle:
            cycle.record_activity(BAJUR, activity("lokakarya_kelurahan"))
        with call(config, "planning", BKM) as planning:
            files["during"] = upload(planning, pdf(CONTENT["during"]))
        wait_for(lambda: caught_up(config), what="relays and subscribers to catch up")
        return pause(paths)

    def after_the_ledgers(root, into):
        with call(config, "planning", BKM) as planning:
            files["unrecorded"] = upload(planning, pdf(CONTENT["unrecorded"]))
        return copy_attachments(root, into)

    monkeypatch.setattr(backup_module, "_writes_paused", after_the_state)
    monkeypatch.setattr(backup_module, "_copy_attachments", after_the_ledgers)
    taken = run("backup", "--out", str(out), "--store", config["STORE_URI"],
                "--state", config["STATE_URI"], "--attachments", config["ATTACHMENT_URI"])
    monkeypatch.undo()
    assert taken.exit_code == 0, taken.output
    return json.loads((out / "manifest.json").read_text())


def test_a_restore_drill_with_the_services_running(container_factory, config, tmp_path,
                                                   monkeypatch):
    running = start(container_factory, config)
    select(config, FIRST, quota=3)
    with call(config, "cycle", FASKEL) as cycle:
        cycle.record_activity(BAJUR, activity("lokakarya_kota"), idempotency_key="kota")
    files = {}
    with call(config, "planning", BKM) as planning:
        files["before"] = upload(planning, pdf(CONTENT["before"]))

    backup = tmp_path / "backup"
    manifest = backup_while_running(config, backup, monkeypatch, files)
    heads = {name: manifest["ledgers"][name]["head_position"] for name in LEDGERS}
    copied_state = f"sqlite:///{backup / 'state'}"
    copied_relay = {name: (state_of(config, name, "relay_positions", name, copied_state)
                           or {"position": 0})["position"] for name in LEDGERS}
    reacted = state_of(config, "cycle", "tracking",
                       "cycle.open_cycle_on_selection:registration", copied_state)
    # behind the copied ledgers: the restored platform redoes what follows
    assert copied_relay["registration"] < heads["registration"]
    assert reacted["position"] < heads["registration"]
    assert files["unrecorded"] in manifest["attachments"]   # copied, its event not

    # recorded after the backup: the restore loses it all
    with call(config, "registration") as registration:
        registration.register_village({"code": AFTER})
    with call(config, "cycle", FASKEL) as cycle:
        cycle.record_activity(BAJUR, activity("sosialisasi_massal"),
                              idempotency_key=LOST_KEY)
    with call(config, "planning", BKM) as planning:
        files["after"] = upload(planning, pdf(CONTENT["after"]))
    key = tmp_path / "checkpoint.pem"
    assert run("keygen", "--out", str(key)).exit_code == 0
    assert run("checkpoint", "cycle", "--key", str(key), "--out", str(tmp_path / "cycle.ckpt"),
               "--store", config["STORE_URI"]).exit_code == 0
    kept_head = tmp_path / "cycle.head"   # an auditor's signed tree head, kept
    signed = run("audit", "tree-head", "cycle", "--out", str(kept_head),
                 "--amqp", config["AMQP_URI"])
    assert signed.exit_code == 0, signed.output

    for container in running:
        container.stop()
    aside = tmp_path / "aside"
    aside.mkdir()
    restore(config, backup, aside)
    verified = run("verify", "--all", "--store", config["STORE_URI"])
    assert verified.exit_code == 0, verified.output
    lost = run("verify", "cycle", "--checkpoint", str(tmp_path / "cycle.ckpt"),
               "--public-key", f"{key}.pub", "--store", config["STORE_URI"])
    assert lost.exit_code == 1 and "truncated" in lost.text, lost.output
    if not config["VIEW_URI"].startswith("memory://"):   # durable views: rebuilt first
        rebuilt = run("rebuild", "--store", config["STORE_URI"], "--views", config["VIEW_URI"])
        assert rebuilt.exit_code == 0, rebuilt.output

    connection, channel = probe(config)
    try:
        # the readers of other ledgers first: they open the restored files (no WAL yet)
        start(container_factory, config, SERVICES[::-1])
        wait_for(lambda: caught_up(config), what="relays and subscribers to catch up")
        # the relays republish what followed their copied positions, each record once
        held = {name: records(config, name) for name in LEDGERS}
        assert {name: held[name][-1].position for name in LEDGERS} == heads
        again = published(channel)
        assert sorted(again) == sorted(
            (name, record.position, record.event_id) for name in LEDGERS
            for record in held[name][copied_relay[name]:])
    finally:
        connection.release()

    # nothing applied twice: one cycle opened per selected village, nothing parked
    opened = [r.stream_id for r in held["cycle"] if r.type == "CycleOpened"]
    assert sorted(opened) == sorted(f"cycle-{code}" for code in FIRST + [DURING])
    for name in LEDGERS + ("audit",):
        with call(config, name) as service:
            assert service.parked() == []
    # the tree head kept after the backup: what the restore lost is named
    consistent = run("audit", "consistency", "--tree-head", str(kept_head), "--public-key",
                     f"{config['TREE_HEAD_KEY']}.pub", "--amqp", config["AMQP_URI"])
    assert consistent.exit_code == 1 and "truncated" in consistent.text, consistent.output
    with call(config, "audit") as audit:
        trees = audit.status()["trees"]
    assert {name: (trees[name]["size"], trees[name]["broken"]) for name in LEDGERS} == \
        {name: (head, None) for name, head in heads.items()}   # None: not broken
    # every view answers what the restored ledgers hold, nothing from after the backup
    for name in LEDGERS + ("audit",):
        checked = run("rebuild", name, "--check", "--json", "--store", config["STORE_URI"],
                      "--views", config["VIEW_URI"], "--amqp", config["AMQP_URI"])
        assert checked.exit_code == 0, checked.output
        assert [r["differences"] for r in json.loads(checked.output)["checked"]] == [[]]
    with call(config, "registration") as registration:
        with pytest.raises(NotFound):
            registration.get_village(AFTER)
        listed = registration.list_villages({"page_size": 100})["items"]
    assert sorted(v["code"] for v in listed) == sorted(FIRST + [DURING])
    for code in FIRST + [DURING]:
        assert cycle_of(config, code)["opened_on"]
    timeline = [a["activity"] for a in cycle_of(config, BAJUR)["timeline"]]
    assert timeline == ["lokakarya_kota", "lokakarya_kelurahan"]
    with call(config, "planning", BKM) as planning:
        listed = [a["sha256"] for a in planning.list_attachments(BAJUR)["items"]]
        assert listed == [files["before"], files["during"]]
        for name in ("before", "during"):
            assert planning.get_attachment(BAJUR, files[name])["sha256"] == files[name]
        for name in ("unrecorded", "after"):
            with pytest.raises(NotFound):
                planning.get_attachment(BAJUR, files[name])
    with call(config, "planning", MINISTRY) as planning:
        checked = planning.verify_attachments()
        assert checked["problems"] == [] and checked["checked"] == 2, checked

    # new commands are recorded and answered; the key used after the backup is new again
    with call(config, "cycle", FASKEL) as cycle:
        for _ in range(2):
            answered = cycle.record_activity(BAJUR, activity("sosialisasi_massal"),
                                             idempotency_key=LOST_KEY)
            assert [a["activity"] for a in answered["timeline"]] == [
                "lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal"]
        cycle.record_activity(BAJUR, activity("lokakarya_kota"), idempotency_key="kota")
    assert [r.type for r in stream(config)].count("ActivityRecorded") == 3
    with call(config, "registration") as registration:
        assert registration.register_village({"code": AFTER})["code"] == AFTER
    with call(config, "planning", BKM) as planning:
        for name in ("unrecorded", "after"):   # uploaded again: recorded now
            assert upload(planning, pdf(CONTENT[name])) == files[name]
        assert [a["sha256"] for a in planning.list_attachments(BAJUR)["items"]] == \
            [files[name] for name in ("before", "during", "unrecorded", "after")]
    wait_for(lambda: caught_up(config), what="relays and subscribers to catch up")
    assert [r.stream_id for r in records(config, "cycle") if r.type == "CycleOpened"] \
        == opened
    consistent = run("audit", "consistency", "--tree-head", str(kept_head), "--public-key",
                     f"{config['TREE_HEAD_KEY']}.pub", "--amqp", config["AMQP_URI"])
    assert consistent.exit_code == 1 and "rewritten" in consistent.text, consistent.output
    lost = run("verify", "cycle", "--checkpoint", str(tmp_path / "cycle.ckpt"),
               "--public-key", f"{key}.pub", "--store", config["STORE_URI"])
    assert lost.exit_code == 1 and "rewritten" in lost.text, lost.output
