"""plpbk audit ... and plpbk verify-bundle (plpbk rebuild: rebuild_command.py).

`plpbk audit` commands ask the running audit service over RabbitMQ (its index is warm);
what they print about proofs is verified here, on the auditor's machine, with the
auditor's public key. `verify-bundle` needs no service, store or network at all.
"""
import base64
import inspect
import json
from contextlib import contextmanager

import click
from rich.markup import escape
from rich.table import Table

from shared.chassis.errors import CommandRejected, Conflict, NotConfigured, StoreUnavailable
from shared.cli.backup import FORMAT as BACKUP_FORMAT
from shared.cli.common import (EXIT_PROBLEM, EXIT_UNREACHABLE, amqp_option, console, fail,
                               progress_bar)
from shared.cli.files import new_file, not_a_device, read_json_object, write_new
from shared.cli.files import public_key as read_public_key
from shared.cli.rpc import actor_options, service_proxy
from shared.ledger.verify import CHECKPOINT_FORMAT
from shared.regions import is_region_prefix, is_village_code

from . import merkle, schemas
from .bundle import bundle_bytes
from .treehead import TREE_HEAD_FORMAT, tree_head_problem


NEEDS_THE_SERVICE = ("Needs the audit service running (make run), asked over RabbitMQ "
                     "(--amqp); it records nothing.")


@click.group("audit")
def audit_group():
    """Replay decision histories, states as of a moment, and proofs (read-only).

    Needs the audit service running (make run); verify-bundle needs nothing but files.
    """


@contextmanager
def _audit_service(amqp_uri, actor, role, region):
    from nameko.exceptions import UnknownService
    with service_proxy(amqp_uri, actor, role, region) as cluster:
        try:
            yield cluster.audit
        except UnknownService:
            fail("the audit service is not running (make run)", EXIT_UNREACHABLE)
        except Conflict as exc:
            fail(str(exc), EXIT_PROBLEM)
        except NotConfigured as exc:   # the service's setup, not the command: exit 3
            fail(f"the audit service cannot do this: {exc}", EXIT_UNREACHABLE)
        except StoreUnavailable as exc:   # a store it reads is out of reach now: exit 3
            fail(f"the audit service cannot answer now: {exc}", EXIT_UNREACHABLE)
        except CommandRejected as exc:
            fail(_as_typed(exc, TYPED))


# The service's fields as the operator typed them. Not "region": the service says so of
# the actor's --region as well as of export's --prefix (checked here before asking).
TYPED = {"as_of": "--as-of", "code": "CODE", "event_id": "EVENT_ID", "ledger": "LEDGER"}


def _as_typed(exc, names):
    """A refusal "field: ..." worded "--option: ..." (or "ARGUMENT: ...") when the field
    is what one of the command's options or arguments gave."""
    said, typed = str(exc), names.get(exc.field)
    return f"{typed}{said[len(exc.field):]}" if typed and said.startswith(f"{exc.field}:") \
        else said


@contextmanager
def _working(what):
    """While the service works, a pulsing bar on a terminal: a region's bundle or a replay
    over a million events takes minutes, and one RPC reports nothing until it is done."""
    with progress_bar(f"{what} (the audit service is working)", None):
        yield


def read_tree_head(path, option):
    """A tree head the auditor kept. Another kind of file (a checkpoint, a bundle) is bad
    usage naming the option, as verify --checkpoint does for the converse: a failed proof
    (exit 1) would say the ledger failed. A tree head altered or forged is still exit 1."""
    head = read_json_object(path, option, "a tree head")
    if head.get("format") != TREE_HEAD_FORMAT:
        fail(f"{option} {path}: not a tree head (its format is {head.get('format')!r}, not "
             f"{TREE_HEAD_FORMAT}; `plpbk audit tree-head --out` writes them, and a "
             "checkpoint is checked by `plpbk verify --checkpoint`)")
    return head


def _trusted_head(head_path, public_key):
    """(head, key): a kept tree head and the public key, read, and the head's signature
    checked before anything is asked of the service (one the key did not sign: exit 1)."""
    head = read_tree_head(head_path, "--tree-head")
    key = read_public_key(public_key)
    problem = tree_head_problem(head, key)
    if problem:
        fail(f"{head_path}: {problem}", EXIT_PROBLEM)
    return head, key


def print_json(value):
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


# -- history, state, why -----------------------------------------------------------------------

@audit_group.command("history")
@click.argument("code")
@click.option("--html", "html_path", type=click.Path(dir_okay=False),
              help="Also write the printable HTML report to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
@amqp_option
@actor_options
def history_command(code, html_path, as_json, amqp_uri, actor, role, region):
    """Every event about village CODE in every service, in order, with who, rules, evidence
    and causes."""
    new_file(html_path, "--html", "a file")
    with _audit_service(amqp_uri, actor, role, region) as audit:
        entries = audit.history(code)
        if html_path:
            write_new(html_path, audit.history_html(code), "--html", "a file")
    if as_json:
        print_json(entries)
    else:
        console.print(history_table(code, entries))
    if html_path:
        console.print(f"report written to {escape(html_path)}")


def history_table(code, entries) -> Table:
    """Every cell escaped: recorded text (an actor id "ops[/x]") is shown as it is, never
    read as terminal markup."""
    table = Table("recorded", "ledger", "event", "actor (role)", "rule version", "evidence",
                  "caused by", "caused", title=f"history of {code}: {len(entries)} events",
                  show_lines=False)
    for e in entries:
        table.add_row(*map(escape, (
            e["recorded_at"].replace("T", " ")[:23], f"{e['ledger']} #{e['position']}",
            e["type"], f"{e['actor']['id']} ({e['actor']['role']})",
            ", ".join(f"{r['id']} v{r['version']}" for r in e["rule_versions"]),
            ", ".join(f"{v['type']} #{v['position']}" for v in e["evidence"]),
            f"{e['caused_by']['type']} ({e['caused_by']['ledger']} #"
            f"{e['caused_by']['position']})" if e["caused_by"] else "",
            ", ".join(f"{c['type']} ({c['ledger']})" for c in e["caused"]))))
    return table


@audit_group.command("state")
@click.argument("code")
@click.option("--as-of", "as_of", required=True,
              help="A date (its end, UTC) or a time with a zone: 2026-03-01T08:00:00+07:00.")
@amqp_option
@actor_options
def state_command(code, as_of, amqp_uri, actor, role, region):
    """The state of village CODE in every service as it was at a moment (JSON)."""
    with _audit_service(amqp_uri, actor, role, region) as audit, \
            _working(f"replaying {code} up to {as_of}"):
        state = audit.state_as_of(code, as_of)
    print_json(state)


@audit_group.command("why")
@click.argument("event_id")
@amqp_option
@actor_options
def why_command(event_id, amqp_uri, actor, role, region):
    """One decision: the evidence and rule results it rested on, its causes and effects."""
    with _audit_service(amqp_uri, actor, role, region) as audit:
        print_json(audit.why(event_id))


# -- tree heads and proofs -----------------------------------------------------------------------

@audit_group.command("tree-head")
@click.argument("ledger")
@click.option("--out", type=click.Path(dir_okay=False), help="Write it here (keep it).")
@amqp_option
@actor_options
def tree_head_command(ledger, out, amqp_uri, actor, role, region):
    """A signed tree head of LEDGER now: keep it to check later proofs against it."""
    new_file(out, "--out", "a kept tree head")
    with _audit_service(amqp_uri, actor, role, region) as audit:
        head = audit.tree_head(ledger)
    text = json.dumps(head, indent=2, sort_keys=True)
    if out is not None:
        write_new(out, text + "\n", "--out", "a kept tree head")
        console.print(f"tree head of {escape(ledger)} at {head['tree_size']} records written "
                      f"to {escape(out)}")
    else:
        click.echo(text)


@audit_group.command("prove")
@click.argument("event_id")
@click.option("--tree-head", "head_path", type=click.Path(exists=True, dir_okay=False),
              help="A tree head you kept: prove inclusion in that tree.")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False),
              help="The platform's public key (PEM), to check the tree head's signature.")
@amqp_option
@actor_options
def prove_command(event_id, head_path, public_key, amqp_uri, actor, role, region):
    """Prove that event EVENT_ID is in its ledger's tree, checked here against a kept head.

    Exit code 1 when the proof does not verify.
    """
    if bool(head_path) != bool(public_key):
        fail("--tree-head and --public-key go together")
    head, key = _trusted_head(head_path, public_key) if head_path else (None, None)
    with _audit_service(amqp_uri, actor, role, region) as audit:
        proof = audit.event_proof(event_id, head["tree_size"], head["ledger"]) if head \
            else audit.event_proof(event_id)
        if head is None:
            head = audit.tree_head(proof["ledger"])
    print_json(proof)
    if key is None:
        console.print("[yellow]not checked: give --tree-head and --public-key to check the "
                      "proof against a head you trust[/]")
        return
    problem = inclusion_problem(proof, head, event_id)
    if problem:
        fail(problem, EXIT_PROBLEM)
    console.print(f"[green]proven:[/] {escape(proof['ledger'])} #{proof['position']} is in the signed "
                  f"tree of {head['tree_size']} records")


def inclusion_problem(proof, head, event_id) -> str | None:
    """None when the service's answer proves that EVENT_ID, the record it sent, is in the
    trusted head's tree. Nothing the service says is taken on its word: the body must be
    that event at that position of that ledger, and the path is checked from the position
    the body states."""
    try:
        body = base64.b64decode(proof["body"], validate=True)
        record = json.loads(body)
        path = [bytes.fromhex(node) for node in proof["proof"]]
        where = f"record {record['ledger']} #{record['position']}"
    except (KeyError, TypeError, ValueError) as exc:
        return f"the service's answer is not a proof ({type(exc).__name__}: {exc})"
    if record.get("event_id") != event_id:
        return f"the service sent {where}, which is not event {event_id}"
    if (record["ledger"], record["position"]) != (proof.get("ledger"), proof.get("position")):
        return f"the service said {proof.get('ledger')} #{proof.get('position')} but sent {where}"
    if head["ledger"] != record["ledger"]:
        return f"the tree head is of ledger {head['ledger']}, the event of {record['ledger']}"
    if type(record["position"]) is not int or not merkle.verify_inclusion(
            merkle.leaf_hash(body), record["position"] - 1, head["tree_size"], path,
            bytes.fromhex(head["root_hash"])):
        return f"{where} is NOT in the signed tree: the record or the proof was altered"
    return None


def new_head_problem(old, new, key) -> str | None:
    """None when the service's head now is one to ask a proof against: signed by the
    trusted key, of the kept head's ledger, not smaller than it (checked in that order:
    a forged head proves no truncation)."""
    problem = tree_head_problem(new, key)
    if problem:
        return f"the service's {problem}"
    if new["ledger"] != old["ledger"]:
        return f"the service sent a tree head of ledger {new['ledger']}, not {old['ledger']}"
    if new["tree_size"] < old["tree_size"]:
        return (f"ledger {old['ledger']} now has {new['tree_size']} records, fewer than the "
                f"{old['tree_size']} of your tree head: it was truncated")
    return None


def extension_problem(old, new, proof) -> str | None:
    """None when proof shows that the signed head new extends the kept head old."""
    try:
        path = [bytes.fromhex(node) for node in proof["proof"]]
    except (KeyError, TypeError, ValueError) as exc:
        return f"the service's answer is not a proof ({type(exc).__name__}: {exc})"
    if not merkle.verify_consistency(old["tree_size"], new["tree_size"],
                                     bytes.fromhex(old["root_hash"]),
                                     bytes.fromhex(new["root_hash"]), path):
        return (f"ledger {old['ledger']} does NOT extend your tree head of "
                f"{old['tree_size']} records: its history was rewritten")
    return None


@audit_group.command("consistency")
@click.option("--tree-head", "head_path", required=True,
              type=click.Path(exists=True, dir_okay=False), help="A tree head you kept.")
@click.option("--public-key", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The platform's public key (PEM).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write the new tree head here, once proven (keep it for next time).")
@amqp_option
@actor_options
def consistency_command(head_path, public_key, out, amqp_uri, actor, role, region):
    """Prove that the ledger now extends a tree head you kept (nothing rewritten or cut).

    Exit code 1 when it does not.
    """
    new_file(out, "--out", "a kept tree head")
    old, key = _trusted_head(head_path, public_key)
    with _audit_service(amqp_uri, actor, role, region) as audit:
        new = audit.tree_head(old["ledger"])
        problem = new_head_problem(old, new, key)
        if problem is None:
            proof = audit.consistency_proof(old["ledger"], old["tree_size"], new["tree_size"])
            problem = extension_problem(old, new, proof)
    if problem:
        fail(problem, EXIT_PROBLEM)
    console.print(f"[green]consistent:[/] {escape(old['ledger'])} at {new['tree_size']} records extends "
                  f"your head of {old['tree_size']} ({len(proof['proof'])} proof hashes)")
    if out is not None:
        write_new(out, json.dumps(new, indent=2, sort_keys=True) + "\n", "--out",
                  "a kept tree head")
        console.print(f"new tree head of {escape(new['ledger'])} at {new['tree_size']} records "
                      f"written to {escape(out)}", highlight=False)


# -- bundles ---------------------------------------------------------------------------------------

SCOPE_OPTIONS = {"village": "CODE", "region": "--prefix", "from": "--from", "to": "--to"}


@audit_group.command("export")
@click.argument("code", required=False)
@click.option("--prefix", help="A region code prefix (PP, PP.KK, PP.KK.CC) instead of CODE.")
@click.option("--from", "since", help="Only events recorded from this moment.")
@click.option("--to", "until", help="Only events recorded up to this moment.")
@click.option("--since", "kept", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A tree head you kept (repeatable): the bundle proves it extends it.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Bundle file.")
@amqp_option
@actor_options
def export_command(code, prefix, since, until, kept, out, amqp_uri, actor, role, region):
    """Export an audit bundle of village CODE, or of a region (--prefix), for offline checks.

    --from/--to limit it to events recorded in a period.
    """
    if (code is None) == (prefix is None):
        fail("give either a village CODE or --prefix")
    if code and not is_village_code(code) and is_region_prefix(code):  # `export 52.01`
        fail(f"CODE: {code} is a region, not a village code: export it with --prefix {code}")
    # taken exactly: an empty --from is refused like any other bad moment, not dropped
    scope = {"village": code} if code is not None else {"region": prefix}
    scope.update({k: v for k, v in (("from", since), ("to", until)) if v is not None})
    try:  # the service's own check, before a file or a connection is made
        schemas.bundle_scope(scope)
    except CommandRejected as exc:   # named as typed: the scope's fields are options here
        fail(_as_typed(exc, SCOPE_OPTIONS))
    new_file(out, "--out", "a bundle")
    heads = [read_tree_head(path, "--since") for path in kept]
    with _audit_service(amqp_uri, actor, role, region) as audit, \
            _working(f"exporting {code or prefix}"):
        bundle = audit.export_bundle(scope, heads)
    write_new(out, bundle_bytes(bundle), "--out", "a bundle")
    console.print(f"{len(bundle['events'])} events of {escape(', '.join(bundle['tree_heads']))} "
                  f"with their proofs written to {escape(out)}")


for _command in audit_group.commands.values():   # one sentence for them all, new ones too
    _command.help = f"{inspect.cleandoc(_command.help)}\n\n{NEEDS_THE_SERVICE}"


# The other files the platform writes for keeping, and what checks them.
OTHER_KEPT_FILES = {
    CHECKPOINT_FORMAT: "a checkpoint, checked by `plpbk verify --checkpoint`",
    TREE_HEAD_FORMAT: "a tree head, given to verify-bundle with --tree-head",
    BACKUP_FORMAT: "a backup's manifest, checked by restoring it and `plpbk verify --all`",
}


@click.command("verify-bundle")
@click.argument("bundle_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--public-key", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The platform's public key (PEM) you trust.")
@click.option("--tree-head", "kept", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A tree head you kept (repeatable): the bundle must prove it extends it.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_bundle(bundle_path, public_key, kept, as_json):
    """Check an audit bundle offline: signatures, proofs, scope, attachments.

    Needs only the bundle and the public key. Exit code 0 when everything verifies,
    1 when anything does not (each problem is named), 2 when the files cannot be read or
    one is another kind of file (a checkpoint, a tree head, a backup's manifest).
    """
    from .bundle_verify import BundleReport, read_bundle
    from .bundle_verify import verify_bundle as verify
    key = read_public_key(public_key)
    heads = [read_tree_head(path, "--tree-head") for path in kept]
    not_a_device(bundle_path)
    try:
        with open(bundle_path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        fail(f"cannot read {bundle_path}: {exc}")
    report = BundleReport()
    bundle = read_bundle(data, report)
    kind = bundle.get("format") if bundle is not None else None
    if kind in OTHER_KEPT_FILES:   # a file the operator mixed up, not a bundle altered
        fail(f"{bundle_path}: not an audit bundle (its format is {kind!r}: "
             f"{OTHER_KEPT_FILES[kind]}); `plpbk audit export` writes bundles")
    if bundle is not None:
        events = bundle.get("events")
        with progress_bar(f"verifying {bundle_path}",
                          len(events) if isinstance(events, list) else 0) as show:
            verify(bundle, key, heads, report, show)
    if as_json:
        print_json(report.as_dict())
    elif report.ok:
        console.print(f"[green]verified:[/] {report.events} events proven against signed tree "
                      "heads of " + escape(", ".join(f"{name} ({size} records)" for name, size
                                                     in sorted(report.tree_heads.items()))))
    else:
        # what a tampered bundle holds is shown as it is, never read as terminal markup
        table = Table("where", "problem", title=f"{escape(bundle_path)}: "
                                                f"{len(report.problems)} problem(s)")
        for problem in report.problems:
            table.add_row(escape(problem["where"]), escape(problem["problem"]))
        console.print(table)
    if not report.ok:
        raise SystemExit(EXIT_PROBLEM)
