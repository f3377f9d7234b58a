"""An auditor's routine with the commands: keep a tree head, later prove the ledger only
grew and that an event is in it, all checked locally with the auditor's public key."""
import json

from click.testing import CliRunner

from services.cli import cli

from .conftest import AUDITOR, BAJUR, NEIGHBOUR, proxy, run_registration_flows

BKM = {"name": "BKM Maju", "formed_on": "2020-01-01",
       "members": [{"name": "Ani", "sex": "P", "role": "koordinator"}]}


def plpbk(config, *args):
    return CliRunner(env={"COLUMNS": "200"}).invoke(
        cli, [*args, "--amqp", config["AMQP_URI"], "--role", "auditor"])


def test_keep_a_head_then_prove_growth_and_inclusion(registration, audit, keys, tmp_path):
    run_registration_flows(registration)
    kept, later = tmp_path / "registration-1.sth", tmp_path / "registration-2.sth"
    result = plpbk(audit, "audit", "tree-head", "registration", "--out", str(kept))
    assert result.exit_code == 0, result.output
    first = json.loads(kept.read_text())
    with proxy(registration, "registration") as ministry:
        ministry.record_bkm(NEIGHBOUR, BKM)
    result = plpbk(audit, "audit", "consistency", "--tree-head", str(kept), "--public-key",
                   keys["public"], "--out", str(later))
    assert result.exit_code == 0, result.output
    assert "consistent" in result.output
    assert json.loads(later.read_text())["tree_size"] == first["tree_size"] + 1
    # said, as tree-head says it: the auditor keeps that file for next time
    assert f"new tree head of registration at {first['tree_size'] + 1} records written to " \
           f"{later}" in result.output

    with proxy(audit, "audit", AUDITOR) as auditor:
        decided = auditor.history(BAJUR)[2]["event_id"]
    result = plpbk(audit, "audit", "prove", decided, "--tree-head", str(kept),
                   "--public-key", keys["public"])
    assert result.exit_code == 0, result.output
    assert "proven" in result.output

    forged = dict(first, root_hash="ab" * 32)
    (tmp_path / "forged.sth").write_text(json.dumps(forged))
    for command in (["consistency"], ["prove", decided]):   # checked before anything is asked
        result = plpbk(audit, "audit", *command, "--tree-head", str(tmp_path / "forged.sth"),
                       "--public-key", keys["public"])
        assert result.exit_code == 1 and "forged.sth" in result.output and \
            "signature" in result.output, result.output


def test_an_exported_region_bundle_checks_against_kept_heads(registration, audit, keys,
                                                            tmp_path):
    run_registration_flows(registration)
    kept = tmp_path / "kept.sth"
    assert plpbk(audit, "audit", "tree-head", "registration", "--out", str(kept)).exit_code == 0
    before = kept.read_text()
    again = plpbk(audit, "audit", "tree-head", "registration", "--out", str(kept))
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    assert kept.read_text() == before   # a kept head is evidence: never written over
    with proxy(registration, "registration") as ministry:
        ministry.record_bkm(NEIGHBOUR, BKM)
    bundle = tmp_path / "region.json"
    result = plpbk(audit, "audit", "export", "--prefix", "52.01", "--since", str(kept),
                   "--out", str(bundle))
    assert result.exit_code == 0, result.output
    checked = CliRunner(env={"COLUMNS": "200"}).invoke(cli, [
        "verify-bundle", str(bundle), "--public-key", keys["public"], "--tree-head", str(kept)])
    assert checked.exit_code == 0, checked.output
    plain = tmp_path / "plain.json"
    assert plpbk(audit, "audit", "export", "--prefix", "52.01", "--out",
                 str(plain)).exit_code == 0
    checked = CliRunner(env={"COLUMNS": "200"}).invoke(cli, [
        "verify-bundle", str(plain), "--public-key", keys["public"], "--tree-head", str(kept),
        "--json"])
    assert checked.exit_code == 1
    assert "--since" in json.loads(checked.output)["problems"][0]["problem"]
    both = plpbk(audit, "audit", "export", BAJUR, "--prefix", "52", "--out", str(plain))
    assert both.exit_code == 2 and "either" in both.output


def on_a_terminal(*args, timeout=120):
    """What plpbk writes to stderr when it is a terminal (a pseudo-terminal here, read as
    it is written so the command never waits on a full buffer)."""
    import os
    import pty
    import subprocess
    import sys
    import time
    master, terminal = pty.openpty()
    env = {key: value for key, value in os.environ.items() if key != "PLPBK_NO_PROGRESS"}
    command = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "plpbk"),
                                *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=terminal, env={**env, "COLUMNS": "200"})
    os.close(terminal)
    written, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the command closed the terminal: it has ended
            break
        if not chunk:
            break
        written += chunk
    os.close(master)
    command.wait(timeout=max(1, deadline - time.monotonic()))
    command.stdout.close()
    return command.returncode, written.decode(errors="replace")


def test_an_export_and_a_replay_say_the_service_is_working(registration, audit, tmp_path):
    """One RPC reports nothing until it is done, and a region's bundle or a replay over a
    million events takes minutes: on a terminal a bar says the service is at it."""
    run_registration_flows(registration)
    options = ["--amqp", audit["AMQP_URI"], "--role", "auditor"]
    code, shown = on_a_terminal("audit", "export", "--prefix", "52.01", "--out",
                                str(tmp_path / "region.json"), *options)
    assert code == 0, shown
    assert "exporting 52.01 (the audit service is working)" in shown
    code, shown = on_a_terminal("audit", "state", BAJUR, "--as-of", "2026-01-01", *options)
    assert code == 0, shown
    assert f"replaying {BAJUR} up to 2026-01-01 (the audit service is working)" in shown


def test_an_audit_service_without_a_signing_key_is_the_platform_s_fault_not_the_command_s(
        container_factory, platform_config, tmp_path):
    from services.audit.service import AuditService
    from shared.ledger import NewEvent, open_ledger
    open_ledger(platform_config["STORE_URI"], "registration").append(
        "village-1", 0, [NewEvent("VillageRegistered", {"code": "1"})])
    container_factory(AuditService, platform_config).start()   # no TREE_HEAD_KEY
    result = plpbk(platform_config, "audit", "tree-head", "registration",
                   "--out", str(tmp_path / "kept.sth"))
    assert result.exit_code == 3, result.output   # was 2: "bad usage or input"
    assert "the audit service cannot do this" in result.output
    assert "TREE_HEAD_KEY" in result.output


def test_a_tree_head_of_another_ledger_is_named_not_taken_for_a_short_tree(
        registration, audit, keys, tmp_path):
    """`prove` of a registration event against a kept head of the cycle ledger: the
    answer depended on the sizes: "no record 9 in a tree of 3" (as if the ledger had
    been cut), or the proof fetched and failed (exit 1, "a proof failed")."""
    from shared.ledger import NewEvent, open_ledger
    run_registration_flows(registration)
    other = open_ledger(audit["STORE_URI"], "cycle")
    for number in range(3):
        other.append(f"cycle-{number}", 0, [NewEvent("Recorded", {"n": number})])
    other.close()
    kept = tmp_path / "cycle.sth"
    assert plpbk(audit, "audit", "tree-head", "cycle", "--out", str(kept)).exit_code == 0
    with proxy(audit, "audit", AUDITOR) as auditor:
        events = {e["position"]: e["event_id"] for e in auditor.history(BAJUR)
                  if e["ledger"] == "registration"}
    for position in (min(events), max(events)):   # inside and beyond the cycle's 3
        result = plpbk(audit, "audit", "prove", events[position], "--tree-head", str(kept),
                       "--public-key", keys["public"])
        text = " ".join(result.output.split())
        assert result.exit_code == 2, result.output
        assert "ledger registration" in text and "cycle" in text, text
        assert "no record" not in text and "beyond" not in text


def test_a_refusal_names_the_option_or_argument_the_operator_typed(audit):
    # the service's field names ("as_of: must not be in the future") are not what the
    # operator typed (--as-of)
    for args, said in (
            (["state", "52.01.08.2006", "--as-of", "2999-01-01"],
             "error: --as-of: must not be in the future"),
            (["why", "not-an-id"], "error: EVENT_ID: must be an event id"),
            (["history", "99"], "error: CODE: must be a Kemendagri village code"),
            (["tree-head", "nosuch"], "error: LEDGER: there is no ledger named 'nosuch'")):
        result = plpbk(audit, "audit", *args)
        assert result.exit_code == 2 and said in result.output, result.output
