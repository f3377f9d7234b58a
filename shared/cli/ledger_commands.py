"""plpbk ledgers / verify / checkpoint / keygen / relay."""
import errno
import json
import os
import signal
from contextlib import closing

import click
from kombu.utils.url import sanitize_url
from rich.markup import escape
from rich.table import Table

from ..ledger import LedgerDamaged, ledger_names, open_ledger
from ..ledger.envelope import Head
from ..ledger.verify import (CHECKPOINT_FORMAT, VerifyReport, checkpoint_signature_problem,
                             generate_key, make_checkpoint, public_key_pem, signing_key,
                             verify_ledger)
from ..messaging.relay import PublishFailed, Relay, RelayStandby
from ..views import open_view_store
from .common import (EXIT_PROBLEM, EXIT_UNREACHABLE, Seconds, WholeNumber, amqp_option,
                     console, errors, fail, must_exist, names_or_all, progress_bar, state_option,
                     store_option, unreachable_is_an_error)
from .files import (first_sentence, new_file, public_key as trusted_key, read_json_object,
                    read_key, write_new)
from .state import refuse_ledgers

MAX_WORKERS = 64   # verify --workers: the default is the CPUs, up to this


def default_workers():
    return min(os.cpu_count() or 1, MAX_WORKERS)


def head_of(store_uri, name):
    """The head of ledger NAME, opened read-only for that alone."""
    with closing(open_ledger(store_uri, name, read_only=True)) as ledger:
        return ledger.head()


@click.command()
@store_option
def ledgers(store_uri):
    """List the ledgers at the store with their heads."""
    with unreachable_is_an_error():
        must_exist(store_uri)
        table = Table("ledger", "head position", "head hash", "last recorded")
        damaged = []
        for name in ledger_names(store_uri):
            try:   # one damaged file is named; the others are still listed
                head = head_of(store_uri, name)
            except LedgerDamaged as exc:
                damaged.append(str(exc))
                table.add_row(name, "-", "[red]damaged[/]", "")
                continue
            table.add_row(name, str(head.position), head.hash[:16] + "…", head.recorded_at or "")
        console.print(table)
    if damaged:
        fail("; ".join(damaged), EXIT_PROBLEM)


@click.command()
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Verify every ledger at the store.")
@click.option("--checkpoint", "checkpoints", multiple=True, type=click.Path(dir_okay=False),
              help="A signed checkpoint the auditor kept (repeatable, one per ledger).")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False),
              help="Trusted public key (PEM) the checkpoints must be signed with.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--workers", type=WholeNumber(1, MAX_WORKERS),
              default=default_workers,
              show_default="the number of CPUs",
              help="Processes that walk a ledger of 50,000 records or more side by side.")
@store_option
def verify(names, all_, checkpoints, public_key, as_json, workers, store_uri):
    """Check ledgers' hash chains (and kept checkpoints); name the first bad record.

    Exit code 0 when every ledger verifies, 1 when any is broken.
    """
    names_or_all(names, all_)
    kept = {}
    for path in checkpoints:
        kept_one = read_json_object(path, "--checkpoint", "a checkpoint")
        if kept_one.get("format") != CHECKPOINT_FORMAT:   # another file, not a broken ledger
            fail(f"--checkpoint {path}: not a checkpoint (its format is "
                 f"{kept_one.get('format')!r}, not {CHECKPOINT_FORMAT}; `plpbk checkpoint` "
                 "writes them, and a tree head is checked by `plpbk audit consistency`)")
        name = kept_one.get("ledger")
        if not isinstance(name, str):
            fail(f"--checkpoint {path}: the checkpoint names no ledger")
        if name in kept:
            fail(f"--checkpoint {path}: a second checkpoint for ledger {name}")
        if names and name not in names:   # it would go unchecked, and "none kept" shown
            fail(f"--checkpoint {path}: it is a checkpoint of ledger {name}, which is not "
                 f"among the ledgers to verify ({' '.join(names)}); name it too, or --all")
        kept[name] = kept_one
    trusted = trusted_key(public_key) if public_key else None
    with unreachable_is_an_error():
        # a mistyped folder: not "no ledgers", nor a kept checkpoint's ledger "missing"
        must_exist(store_uri, "--store")
        available = ledger_names(store_uri)
        if all_ or not (names or kept):
            chosen = available + sorted(set(kept) - set(available))
        else:
            chosen = list(dict.fromkeys(list(names) or list(kept)))
        if not chosen:
            fail(f"no ledgers at {store_uri}")
        # A ledger the auditor holds a checkpoint for must exist: its absence is a break.
        unknown = [name for name in chosen if name not in available and name not in kept]
        if unknown:
            fail(f"no ledger named {', '.join(sorted(set(unknown)))} at {store_uri}")
        reports = [verify_one(store_uri, name, kept.get(name), trusted, workers)
                   if name in available else _missing(name, kept[name], trusted)
                   for name in chosen]
    if as_json:
        console.print_json(json.dumps([r.as_dict() for r in reports]))
    else:
        table = Table("ledger", "verified records", "verified head", "checkpoint", "result")
        for r in reports:
            checkpoint = ("none kept" if kept else "—") if r.checkpoint is None else (
                f"#{r.checkpoint['position']} " + ("ok" if r.checkpoint["ok"] else "FAILED"))
            result = "[green]ok[/]" if r.ok else f"[red]BROKEN at {r.first_bad_position}[/]"
            table.add_row(r.ledger, str(r.count), f"#{r.head_position} {r.head_hash[:16]}…",
                          checkpoint, result)
        console.print(table)
        for r in reports:   # whole, below: a table cell of 80 columns cut it with "…"
            if not r.ok:
                errors.print(f"[bold red]error:[/] {escape(r.ledger)}: BROKEN at "
                             f"{r.first_bad_position}: {escape(r.problem)}", highlight=False)
    if kept and trusted is None:
        errors.print("note: checkpoints were checked only against the key each one carries, "
                     "so a checkpoint forged with another key passes; give --public-key with "
                     "the key you trust", highlight=False)
    if not all(r.ok for r in reports):
        raise SystemExit(EXIT_PROBLEM)


def _missing(name, checkpoint, trusted):
    """The report of a ledger that is gone although the auditor kept a checkpoint of it."""
    problem = checkpoint_signature_problem(checkpoint, trusted) or (
        f"the ledger is missing from the store: the checkpoint covers position "
        f"{checkpoint.get('position')}")
    return VerifyReport(name, first_bad_position=1, problem=problem,
                        checkpoint={"position": checkpoint.get("position"),
                                    "hash": checkpoint.get("hash"), "ok": False})


def verify_one(store_uri, name, checkpoint, trusted, workers):
    try:
        ledger = open_ledger(store_uri, name, read_only=True)
    except LedgerDamaged as exc:
        return VerifyReport(name, first_bad_position=1, problem=str(exc))
    try:
        with progress_bar(f"verifying {name}", ledger.head().position) as show:
            return verify_ledger(ledger, checkpoint, trusted, progress=show, workers=workers,
                                 store_uri=store_uri)
    except LedgerDamaged as exc:
        return VerifyReport(name, first_bad_position=1, problem=str(exc))
    finally:
        ledger.close()


@click.command()
@click.argument("name")
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Ed25519 private key (PEM) from `plpbk keygen`, readable by you alone "
                   "(mode 600).")
@click.option("--out", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@store_option
def checkpoint(name, key_path, out, store_uri):
    """Verify ledger NAME's chain and sign the head it verified; keep the output away from
    the database.

    Exit code 1 when the chain is broken: nothing is signed.
    """
    new_file(out, "--out", "a kept checkpoint")
    key = read_key(key_path, "--key", private=True)
    try:   # before the chain is walked: a national ledger takes minutes to verify
        signing_key(key)
    except (ValueError, TypeError) as exc:  # TypeError: a key locked with a passphrase
        fail(f"--key {key_path}: not an Ed25519 private key in PEM form without a "
             f"passphrase, such as one from `plpbk keygen` ({first_sentence(exc)})")
    with unreachable_is_an_error():
        must_exist(store_uri, "--store")
        if name not in ledger_names(store_uri):
            fail(f"no ledger named {name} at {store_uri}")
        # only a chain that verifies is signed, and the head it verified up to: a
        # checkpoint vouches for that history (docs/ledger-format.md section 5)
        report = verify_one(store_uri, name, None, None, default_workers())
        if not report.ok:
            fail(f"ledger {name} is BROKEN at {report.first_bad_position}: {report.problem}; "
                 "not signed (`plpbk verify` names what is wrong)", EXIT_PROBLEM)
        ledger = open_ledger(store_uri, name, read_only=True)
        try:
            signed = make_checkpoint(_Verified(ledger, report), key)
        finally:
            ledger.close()
    text = json.dumps(signed, indent=2, sort_keys=True)
    if out is not None:
        write_new(out, text + "\n", "--out", "a kept checkpoint")
        console.print(f"checkpoint of {name} at position {signed['position']} written to "
                      f"{escape(out)}")
    else:
        click.echo(text)


class _Verified:
    """The ledger as far as verify_one walked it: records appended since were not
    checked, so the checkpoint is of the head it verified."""

    def __init__(self, ledger, report):
        self.name = ledger.name
        self._head = Head(report.head_position, report.head_hash,
                          ledger.recorded_at(report.head_position))

    def head(self):
        return self._head


@click.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Private key file to create (PEM).")
@click.option("--public-out", type=click.Path(dir_okay=False),
              help="Public key file (PEM); default: OUT with .pub.")
def keygen(out, public_out):
    """Create an Ed25519 key pair for signing checkpoints and tree heads."""
    new_file(out, "--out", "a key")
    public_out = out + ".pub" if public_out is None else public_out
    new_file(public_out, "--public-out", "a key")
    if os.path.abspath(public_out) == os.path.abspath(out):
        fail("--out and --public-out name the same file")
    private = generate_key()
    write_new(out, private, "--out", "a key", mode=0o600)
    try:
        write_new(public_out, public_key_pem(private), "--public-out", "a key")
    except BaseException:   # never half a pair (a failed write, Ctrl-C): a private key
        os.unlink(out)      # whose public half is nowhere
        raise
    console.print(f"private key: {escape(out)} (keep it secret)\npublic key:  {escape(public_out)} "
                  "(give it to auditors)")


def _serve_metrics(port, address):
    """Prometheus metrics at address:port, or one line naming the option: a taken port
    (another process: exit 3) or an address that is not this machine's (bad usage) was
    "cannot reach a store, broker or file"."""
    from prometheus_client import start_http_server
    try:
        start_http_server(port, addr=address)
    except OSError as exc:
        where = f"--metrics-port {port} at {address}"
        if exc.errno == errno.EADDRINUSE:
            fail(f"{where}: the port is taken by another process (another relay?); choose "
                 "another port", EXIT_UNREACHABLE)
        fail(f"{where}: cannot serve metrics there ({exc.strerror or exc}): "
             "--metrics-address is not an address of this machine?")


def _relay_of(name, all_, damaged, store_uri, amqp_uri, state_uri):
    """The ledger's relay. With --all, a file in the ledger folder that is no ledger is
    named once (in damaged) and skipped, None: one stray file must not stop every
    ledger's publishing, and with it `plpbk run`. A ledger asked for by name is refused."""
    try:
        return Relay(open_ledger(store_uri, name), amqp_uri, open_view_store(state_uri, name))
    except LedgerDamaged as exc:
        if not all_:
            raise
        if name not in damaged:
            errors.print(f"[bold red]error:[/] not relaying {escape(name)}: {escape(str(exc))}",
                         highlight=False)
        damaged.add(name)
        return None


@click.command()
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every ledger at the store (also new ones).")
@click.option("--once", is_flag=True, help="Publish what is pending, then exit.")
@click.option("--poll", type=Seconds(), default=0.05, show_default=True,
              help="Seconds between head checks.")
@click.option("--metrics-port", type=WholeNumber(1, 65535), default=None,
              help="Serve Prometheus metrics (relay lag, published) on this port.")
@click.option("--metrics-address", default="127.0.0.1", show_default=True,
              help="Address of the metrics port (0.0.0.0 in a container).")
@store_option
@state_option
@amqp_option
def relay(names, all_, once, poll, metrics_port, metrics_address, store_uri, state_uri, amqp_uri):
    """Publish ledgers' records to RabbitMQ (services run with RELAY=external).

    One thread per ledger; each resumes from its last confirmed position.
    """
    import threading

    names_or_all(names, all_)
    with unreachable_is_an_error():
        if once:   # a running relay waits for the first ledger; one pass has nothing to wait for
            must_exist(store_uri, "--store")
        available = ledger_names(store_uri)
        unknown = [name for name in names if name not in available]
        if unknown:
            fail(f"no ledger named {', '.join(unknown)} at {store_uri}")
        if not names and not all_:
            fail("name the ledgers to relay, or --all")
        chosen = available if all_ else list(names)
        refuse_ledgers(state_uri, chosen, store_uri)
        damaged = set()   # --all: files no ledger (named once; the others go on)
        relays = {name: runner for name in chosen
                  if (runner := _relay_of(name, all_, damaged, store_uri, amqp_uri,
                                          state_uri))}
    if once:
        if not relays and not damaged:
            console.print(f"no ledgers at {escape(store_uri)}: nothing to publish",
                          highlight=False)
        for name, runner in relays.items():
            try:
                published = runner.publish_pending()
            except RelayStandby as exc:   # its events are that relay's to publish
                console.print(f"not publishing {escape(name)}: {escape(str(exc))}",
                              highlight=False)
                continue
            except (OSError, PublishFailed) as exc:
                fail(f"cannot publish {name} to RabbitMQ at {sanitize_url(amqp_uri)}: {exc}",
                     EXIT_UNREACHABLE)
            console.print(f"published {published} events of {name}")
        if damaged:
            fail(f"not published: {', '.join(sorted(damaged))} (no readable ledger)",
                 EXIT_PROBLEM)
        return
    if metrics_port:
        _serve_metrics(metrics_port, metrics_address)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = [threading.Thread(target=runner.run, kwargs={"poll_interval": poll}, daemon=True)
               for runner in relays.values()]
    for thread in threads:
        thread.start()
    console.print(f"relaying {', '.join(relays) or 'nothing yet'}")
    try:
        while not stop.wait(2.0):
            if all_:  # a service started later brings a new ledger: relay it too
                for name in set(ledger_names(store_uri)) - set(relays):
                    runner = _relay_of(name, all_, damaged, store_uri, amqp_uri, state_uri)
                    if runner is not None:   # new, or a damaged file replaced by a ledger
                        relays[name] = runner
                        threading.Thread(target=runner.run, daemon=True,
                                         kwargs={"poll_interval": poll}).start()
    except KeyboardInterrupt:
        pass
    for runner in relays.values():
        runner.stop()
