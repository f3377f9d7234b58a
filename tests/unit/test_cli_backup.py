"""plpbk backup copies the embedded default (ledgers, state, attachments) into a folder
whose ledgers verify and whose manifest says what was copied, also while others write."""
import fcntl
import hashlib
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from shared.attachments import stored_event
from shared.attachments.stores import FolderStore
from shared.cli import backup as backup_module
from shared.ledger import NewEvent, open_ledger
from shared.views import open_view_store
from tests.unit.cli_support import ledgers, run

PLPBK = os.path.join(os.path.dirname(sys.executable), "plpbk")


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def platform(tmp_path):
    """A stopped embedded default: two ledgers, two services' state, two attachments."""
    store = ledgers(tmp_path / "ledgers", "registration", "cycle")
    state = f"sqlite:///{tmp_path / 'state'}"
    for name in ("registration", "gateway"):
        kept = open_view_store(state, name)
        kept.collection("positions").put("registration", {"position": 1})
        kept.collection("leases").claim("folding", f"{name}-1", until=time.time() + 30,
                                        now=time.time())   # a service running
        kept.close()
    files = FolderStore(str(tmp_path / "attachments"))
    uploaded = [files.put(b"a map of the village"), files.put(b"minutes of the meeting")]
    return {"args": ["--store", store, "--state", state,
                     "--attachments", f"file:///{tmp_path / 'attachments'}"],
            "store": store, "uploaded": uploaded, "root": tmp_path}


def test_a_backup_holds_copies_that_verify_and_a_manifest_that_names_them(platform, tmp_path):
    out = tmp_path / "backup"
    result = run("backup", "--out", str(out), *platform["args"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["ok"] and manifest["created_at"].endswith("Z")
    assert sorted(manifest["ledgers"]) == ["cycle", "registration"]
    for name, entry in manifest["ledgers"].items():
        copy = out / "ledgers" / f"{name}.db"
        live = open_ledger(platform["store"], name, read_only=True)
        assert (entry["head_position"], entry["head_hash"]) == \
            (live.head().position, live.head().hash) == (1, entry["head_hash"])
        live.close()
        assert entry["verified"] and entry["sha256"] == sha256(copy)
    assert sorted(manifest["state"]) == ["gateway", "registration"]
    for name, entry in manifest["state"].items():
        copy = out / "state" / f"{name}.db"
        assert entry["sha256"] == sha256(copy)
        kept = open_view_store(f"sqlite:///{out / 'state'}", name)
        assert kept.collection("positions").get("registration")["position"] == 1
        # who held a lease is not restored: it would keep the restored service waiting
        assert kept.collection("leases").find() == []
        kept.close()
    assert sorted(manifest["attachments"]) == sorted(platform["uploaded"])
    for digest, entry in manifest["attachments"].items():
        assert entry["file"] == f"attachments/{digest[:2]}/{digest}"
        assert sha256(out / entry["file"]) == digest
    # each copy is one file: nothing half-checkpointed beside it
    assert not [name for name in os.listdir(out / "ledgers") if not name.endswith(".db")]
    assert run("verify", "--all", "--store", f"sqlite:///{out / 'ledgers'}").exit_code == 0
    assert "registration" in result.text and "verified" in result.text


def test_a_backup_taken_while_a_ledger_grows_verifies(tmp_path):
    store = ledgers(tmp_path / "ledgers", "registration")
    writer = open_ledger(store, "registration")
    big = {"note": "x" * 2000}   # enough pages that the copy takes many steps
    for batch in range(30):
        writer.append(f"bulk-{batch}", 0,
                      [NewEvent("VillageRegistered", big) for _ in range(100)])
    before = writer.head().position
    stop, failures = threading.Event(), []

    def keep_appending():
        stream = 0
        try:
            while not stop.is_set():
                stream += 1
                writer.append(f"busy-{stream}", 0,
                              [NewEvent("VillageRegistered", big) for _ in range(5)])
        except Exception as exc:  # noqa: BLE001 - said by the assertion below
            failures.append(exc)

    thread = threading.Thread(target=keep_appending)
    thread.start()
    try:
        result = run("backup", "--out", str(tmp_path / "backup"), "--store", store,
                     "--state", "memory://")
    finally:
        stop.set()
        thread.join()
    after = writer.head().position
    writer.close()
    assert result.exit_code == 0, result.output
    assert not failures and after > before   # the ledger grew while it was copied
    entry = json.loads((tmp_path / "backup" / "manifest.json").read_text())["ledgers"][
        "registration"]
    assert before <= entry["head_position"] <= after and entry["verified"]
    live = open_ledger(store, "registration", read_only=True)   # a prefix of the live one
    assert live.read(entry["head_position"] - 1, limit=1)[0].hash == entry["head_hash"]
    live.close()


def test_a_folder_that_is_not_empty_is_refused_and_nothing_is_written(platform, tmp_path):
    out = tmp_path / "kept"
    out.mkdir()
    (out / "last-week.txt").write_text("an older backup")
    result = run("backup", "--out", str(out), *platform["args"])
    assert result.exit_code == 2 and str(out) in result.text and "not empty" in result.text
    assert os.listdir(out) == ["last-week.txt"]
    inside = run("backup", "--out", str(tmp_path / "ledgers" / "bk"), *platform["args"])
    assert inside.exit_code == 2 and not (tmp_path / "ledgers" / "bk").exists()


def test_an_out_in_a_folder_that_is_not_there_is_bad_usage_naming_it(platform, tmp_path):
    out = tmp_path / "nowhere" / "kept"
    result = run("backup", "--out", str(out), *platform["args"])
    assert result.exit_code == 2, result.output
    assert f"--out {out}: there is no folder {tmp_path / 'nowhere'}" in result.text
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("option, setting", [("--store", "STORE_URI"), ("--state", "STATE_URI"),
                                             ("--attachments", "ATTACHMENT_URI")])
def test_a_mongodb_store_is_pointed_to_its_own_tooling(platform, tmp_path, option, setting):
    args = list(platform["args"])
    args[args.index(option) + 1] = "mongodb://localhost/plpbk"
    result = run("backup", "--out", str(tmp_path / "backup"), *args)
    assert result.exit_code == 2 and "mongodump" in result.text and setting in result.text
    assert result.text.count("error:") == 1   # one message (rich wraps it to the terminal)
    assert not (tmp_path / "backup").exists()


def test_a_copy_that_does_not_verify_is_a_problem_naming_the_ledger(platform, tmp_path):
    with sqlite3.connect(platform["root"] / "ledgers" / "cycle.db") as db:   # an intruder
        db.execute("DROP TRIGGER records_no_update")
        db.execute("UPDATE records SET body = replace(body, '\"1\"', '\"2\"')")
    result = run("backup", "--out", str(tmp_path / "backup"), *platform["args"])
    assert result.exit_code == 1 and "the copy of ledger cycle does not verify" in result.text
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert not manifest["ok"] and not manifest["ledgers"]["cycle"]["verified"]
    assert manifest["ledgers"]["registration"]["verified"]


def test_a_restored_copy_opens_and_its_head_is_the_manifests(platform, tmp_path):
    out = tmp_path / "backup"
    assert run("backup", "--out", str(out), *platform["args"]).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    restored = tmp_path / "restored"
    for part in ("ledgers", "state", "attachments"):   # the documented restore
        shutil.copytree(out / part, restored / part)
    store = f"sqlite:///{restored / 'ledgers'}"
    assert run("verify", "--all", "--store", store).exit_code == 0
    for name, entry in manifest["ledgers"].items():
        ledger = open_ledger(store, name)   # as a service opens it: writable again
        head = ledger.head()
        assert (head.position, head.hash) == (entry["head_position"], entry["head_hash"])
        ledger.append("village-2", 0, [NewEvent("VillageRegistered", {"code": "2"})])
        ledger.close()
    files = FolderStore(str(restored / "attachments"))
    assert all(files.digest(digest) == digest for digest in platform["uploaded"])


def test_a_swapped_attachment_is_named_and_not_copied(platform, tmp_path):
    good, swapped = platform["uploaded"]
    (platform["root"] / "attachments" / swapped[:2] / swapped).write_bytes(b"other bytes")
    result = run("backup", "--out", str(tmp_path / "backup"), *platform["args"])
    assert result.exit_code == 1 and f"attachment {swapped} does not match" in result.text
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert list(manifest["attachments"]) == [good]
    assert manifest["mismatched_attachments"] == [swapped] and not manifest["ok"]
    assert not (tmp_path / "backup" / "attachments" / swapped[:2] / swapped).exists()


def test_a_recorded_file_missing_from_the_store_is_named_and_the_backup_not_ok(
        platform, tmp_path):
    """A file some ledger's AttachmentStored names (any service's: decision 20) that the
    attachment folder lacks: the backup was 'ok' and its restore lost the file for good
    without a word. Files no event names (an upload that died) are no problem."""
    good, unrecorded = platform["uploaded"]
    lost = hashlib.sha256(b"a site photo").hexdigest()
    swapped = FolderStore(str(platform["root"] / "attachments")).put(b"signed agreement")
    (platform["root"] / "attachments" / swapped[:2] / swapped).write_bytes(b"other bytes")
    photos = open_ledger(platform["store"], "site_photos")
    for number, sha in enumerate((good, lost, swapped)):
        photos.append(f"photos-{number}", 0, [stored_event("52.01.08.2006", sha, 10, "f.jpg")])
    photos.close()
    result = run("backup", "--out", str(tmp_path / "backup"), *platform["args"])
    assert result.exit_code == 1, result.output
    assert f"attachment {lost} is recorded" in result.text
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert sorted(manifest["attachments"]) == sorted([good, unrecorded])
    assert manifest["missing_attachments"] == [lost]   # the swapped one: mismatched, once
    assert manifest["mismatched_attachments"] == [swapped] and not manifest["ok"]


def test_a_file_that_is_not_sqlite_is_named_and_nothing_is_written(platform, tmp_path):
    (platform["root"] / "ledgers" / "audit.db").write_bytes(os.urandom(3000))
    result = run("backup", "--out", str(tmp_path / "backup"), *platform["args"])
    assert result.exit_code == 1 and "audit.db is not a readable PLPBK ledger" in result.text
    assert not (tmp_path / "backup").exists()


def test_an_entry_named_like_a_ledger_that_is_no_file_is_named_and_nothing_is_written(
        platform, tmp_path):
    """A folder "audit.db" in the ledger folder stopped the backup as a disk I/O error
    (exit 3, "the disk failed"): it is a damaged entry, named, exit 1, as verify says."""
    (platform["root"] / "ledgers" / "audit.db").mkdir()
    result = run("backup", "--out", str(tmp_path / "backup"), *platform["args"])
    assert result.exit_code == 1, result.text
    assert "audit" in result.text and "a folder, not a file" in result.text
    assert not (tmp_path / "backup").exists()


def test_a_checkpoint_signed_after_the_backup_reports_what_a_restore_lost(platform, tmp_path):
    out = tmp_path / "backup"
    assert run("backup", "--out", str(out), *platform["args"]).exit_code == 0
    live = open_ledger(platform["store"], "cycle")
    live.append("village-9", 0, [NewEvent("VillageRegistered", {"code": "9"})])
    live.close()
    key, kept = tmp_path / "k.pem", tmp_path / "cycle.ckpt"
    assert run("keygen", "--out", str(key)).exit_code == 0
    assert run("checkpoint", "cycle", "--key", str(key), "--out", str(kept),
               "--store", platform["store"]).exit_code == 0
    restored = run("verify", "--checkpoint", str(kept), "--public-key", f"{key}.pub",
                   "--store", f"sqlite:///{out / 'ledgers'}")
    assert restored.exit_code == 1 and "BROKEN" in restored.text



def _cause_and_react(store, started, stop):
    """cycle records a stage; planning then records what follows from it (another
    process, as the services are)."""
    causes, reactions = open_ledger(store, "cycle"), open_ledger(store, "planning")
    number = 0
    while not stop.is_set():
        number += 1
        cause = causes.append(f"cycle-{number}", 0, [NewEvent("StageCompleted", {"n": number})])
        reactions.append(f"document-{number}", 0, [NewEvent(
            "DocumentApproved", {"cause": cause.last_position})])
        started.set()


def test_the_ledgers_copies_are_one_instant_of_them_all(tmp_path, monkeypatch):
    # in every backup a cause is copied whenever what follows from it is, as if both
    # ledgers were copied at one instant (cycle is snapshotted first: names in order).
    # Each snapshot takes 50 ms here, as many ledgers on a slow disk would.
    snapshot = backup_module._snapshot

    def slow_snapshot(path):
        held = snapshot(path)
        time.sleep(0.05)
        return held
    monkeypatch.setattr(backup_module, "_snapshot", slow_snapshot)
    store = ledgers(tmp_path / "ledgers", "cycle", "planning")
    context = multiprocessing.get_context("spawn")
    started, stop = context.Event(), context.Event()
    writer = context.Process(target=_cause_and_react, args=(store, started, stop))
    writer.start()
    try:
        assert started.wait(timeout=60)
        outs = [tmp_path / f"backup-{number}" for number in range(5)]
        results = [run("backup", "--out", str(out), "--store", store, "--state", "memory://")
                   for out in outs]
        assert writer.is_alive()
    finally:
        stop.set()
        writer.join(timeout=60)
    assert [result.exit_code for result in results] == [0] * len(outs)
    for out in outs:
        copied = f"sqlite:///{out / 'ledgers'}"
        head = open_ledger(copied, "cycle", read_only=True).head().position
        planning = open_ledger(copied, "planning", read_only=True)
        late = [r.payload["cause"] for r in planning.iter_records()
                if r.payload.get("cause", 0) > head]
        assert late == [], f"{out.name}: records follow causes past the copied head {head}"


@pytest.mark.parametrize("made", [False, True], ids=["new folder", "empty folder"])
def test_a_backup_stopped_half_way_leaves_no_half_backup(platform, tmp_path, monkeypatch, made):
    # Ctrl-C while the attachments are copied, the ledgers and state already written: the
    # folder kept a ledger copy and no manifest, and the next backup into it was refused
    def interrupted(root, out):
        assert os.listdir(os.path.join(out, "ledgers"))   # half-way indeed
        raise KeyboardInterrupt
    monkeypatch.setattr(backup_module, "_copy_attachments", interrupted)
    out = tmp_path / "backup"
    if made:
        out.mkdir()
    result = run("backup", "--out", str(out), *platform["args"])
    assert result.exit_code == 130, result.output
    assert "interrupted" in result.text and "removed" in result.text
    assert (os.listdir(out) == []) if made else not out.exists()
    monkeypatch.undo()
    again = run("backup", "--out", str(out), *platform["args"])
    assert again.exit_code == 0, again.output


def test_a_second_backup_into_the_same_folder_at_once_is_refused(platform, tmp_path):
    out = tmp_path / "backup"
    out.mkdir()
    first = os.open(out, os.O_RDONLY | os.O_DIRECTORY)   # as a running backup holds it
    try:
        fcntl.flock(first, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run("backup", "--out", str(out), *platform["args"])
    finally:
        os.close(first)
    assert result.exit_code == 3, result.output
    assert "another plpbk backup" in result.text and str(out) in result.text
    assert os.listdir(out) == []


def test_attachments_that_name_a_file_are_bad_usage(platform, tmp_path):
    args = list(platform["args"])
    args[args.index("--attachments") + 1] = f"file:///{tmp_path / 'ledgers' / 'cycle.db'}"
    result = run("backup", "--out", str(tmp_path / "backup"), *args)
    assert result.exit_code == 2, result.output   # was 0: "no attachments under …"
    assert "--attachments" in result.text and "not a folder" in result.text
    assert not (tmp_path / "backup").exists()


def test_an_empty_out_folder_that_cannot_be_written_is_refused_before_any_copy(platform,
                                                                              tmp_path):
    """OUT there and empty but not writable (a read-only mount, another's folder): only
    the folder above it was checked, and the backup stopped at its first copy with exit 3
    "cannot reach a store, broker or file", as if a store were out of reach."""
    import subprocess
    out = tmp_path / "backup"
    out.mkdir()
    if subprocess.run(["chattr", "+i", str(out)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here (it makes a folder unwritable to root)")
    try:
        result = run("backup", "--out", str(out), *platform["args"])
    finally:
        subprocess.run(["chattr", "-i", str(out)], check=True)
    assert result.exit_code == 2, result.output
    assert f"--out {out}" in result.text and "not writable" in result.text
    assert os.listdir(out) == []


def test_a_backup_stopped_by_sigterm_leaves_no_half_backup_and_says_so(platform, tmp_path):
    # `timeout`, systemd or a container stop sends SIGTERM: the process died at once,
    # silently (exit 143), leaving ledger copies without a manifest that the next backup
    # into the folder refused. Sent as the attachments are copied (a sitecustomize).
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(
        "import os, shutil, signal\n"
        "copy = shutil.copyfile\n"
        "def stopped(*args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    return copy(*args, **kwargs)\n"
        "shutil.copyfile = stopped\n")
    out = tmp_path / "backup"
    done = subprocess.run([PLPBK, "backup", "--out", str(out), *platform["args"]],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(tmp_path / "hook")))
    assert done.returncode == 143, done.stderr
    assert not out.exists()
    said = " ".join(done.stderr.split())
    assert "removed" in said and "error: stopped (SIGTERM) before the command finished" in said
    assert "Traceback" not in said


def test_a_backup_the_out_disk_cannot_take_names_out_not_a_store(platform, tmp_path):
    # the disk of --out full (here a file size limit, as `ulimit -f` sets): the backup
    # said "a store cannot be used now: ...", sending the operator to the stores, which
    # it only reads
    ledger = open_ledger(platform["store"], "registration")
    for number in range(200):
        ledger.append(f"big-{number}", 0, [NewEvent("VillageRegistered",
                                                        {"code": str(number), "x": "y" * 1000})])
    ledger.close()
    out = tmp_path / "backup"

    def limited():
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
    done = subprocess.run([PLPBK, "backup", "--out", str(out), *platform["args"]],
                          capture_output=True, text=True, timeout=120, preexec_fn=limited,
                          env=dict(os.environ, COLUMNS="500"))
    assert done.returncode == 3, done.stderr
    assert f"error: --out {out}: cannot write the copy of ledgers/registration.db" \
           in done.stderr
    assert "a store cannot be used" not in done.stderr and not out.exists()


def test_a_backup_whose_terminal_closes_leaves_no_half_backup_unless_nohup(platform,
                                                                          tmp_path):
    # an ssh session that drops sends SIGHUP: the backup died on the spot and left its
    # half copy; under nohup (SIGHUP ignored) it must go on to the end
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(
        "import os, shutil, signal\n"
        "copy = shutil.copyfile\n"
        "def stopped(*args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGHUP)\n"
        "    return copy(*args, **kwargs)\n"
        "shutil.copyfile = stopped\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "hook"))
    out = tmp_path / "backup"
    done = subprocess.run([PLPBK, "backup", "--out", str(out), *platform["args"]],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 129, done.stderr
    assert not out.exists()
    assert "error: stopped (SIGHUP: the terminal closed) before the command finished" in \
        " ".join(done.stderr.split())
    kept = subprocess.run(["nohup", PLPBK, "backup", "--out", str(out), *platform["args"]],
                          capture_output=True, text=True, timeout=120, env=env)
    assert kept.returncode == 0, kept.stderr
    assert (out / "manifest.json").exists()
