"""plpbk users / plpbk keys: who may use the HTTP API.

The commands write the gateway's ledger directly (an operator holding the store needs
no running platform and no credentials to create the first user); the running gateway
catches up at once (doorbell) and on its next lookup of an unknown principal. Every
change is recorded with the operator (--actor, --role) as actor. Secrets: a password
is read from a prompt or stdin and kept only as an argon2 hash; an API key is printed
once and kept only as its SHA-256.
"""
import getpass
import sys
import unicodedata
import uuid
from functools import partial
from types import SimpleNamespace

import click
from rich.markup import escape
from rich.table import Column, Table

from shared.chassis import commands
from shared.chassis.access import ROLES
from shared.chassis.errors import CommandRejected, load
from shared.cli.common import (EXIT_UNREACHABLE, console, fail, must_exist, state_option,
                               store_option, unreachable_is_an_error)
from shared.cli.state import refuse_ledgers
from shared.ledger import Actor, Metadata, ledger_names, open_ledger
from shared.views import ViewStoreError, open_view_store

from .accounts import Accounts, check_password
from .credentials import keep_private
from .schemas import NewApiKeySchema, NewUserSchema
from .views import IdentityBoard, api_keys, users

LEDGER = "gateway"
ROLE_HELP = "ministry, province, district, facilitator, bkm, auditor or integration."
REGION_HELP = "Region scope: a Kemendagri code prefix such as 52 or 52.01 (empty: national)."


def operator_option(function):
    """Who grants: recorded as the actor of every event, acting for the ministry
    (whoever holds the stores holds national authority over access)."""
    return click.option("--actor", envvar="PLPBK_ACTOR",
                        default=lambda: f"operator:{getpass.getuser()}",
                        show_default="operator:<user>",
                        help="Who is granting (recorded in every event).")(function)


def _accounts(store_uri, state_uri, actor, creating=False):
    state = open_view_store(state_uri, LEDGER)
    keep_private(state)   # before any hash is written to it
    if creating:   # a password or key the state store cannot keep: no new ledger either
        state.check_writable()
    ledger = open_ledger(store_uri, LEDGER)
    metadata = Metadata(Actor(actor, "ministry", ""), f"cli-{uuid.uuid4()}")
    return Accounts(ledger, partial(commands.execute, ledger), state, metadata)


def _run(store_uri, state_uri, actor, operation, existing=True):
    """operation(accounts); store errors exit 3, refusals exit 2 with their reason.

    existing: the operation changes a user or key, so the gateway ledger must be there
    already (a mistyped --store must not get a new, empty one)."""
    refuse_ledgers(state_uri, [LEDGER], store_uri)
    if existing:
        _must_have_ledger(store_uri)
    try:
        with unreachable_is_an_error():
            accounts = _accounts(store_uri, state_uri, actor, creating=not existing)
            try:
                return operation(accounts)
            finally:
                accounts.ledger.close()
    except CommandRejected as exc:
        fail(str(exc))
    except ViewStoreError as exc:
        fail(f"state store: {exc}", EXIT_UNREACHABLE)


def _must_have_ledger(store_uri):
    with unreachable_is_an_error():
        must_exist(store_uri, "--store")
        if LEDGER not in ledger_names(store_uri):
            fail(f"--store {store_uri}: there is no {LEDGER} ledger there: no one was ever "
                 "given access at this store (is it the right one?)")


def _checked(operation):
    """Input refused before any store is opened, so that a refusal creates nothing."""
    try:
        return operation()
    except CommandRejected as exc:
        fail(str(exc))


def _a_reason(_context, _parameter, value):
    """A reason is recorded for auditors: it must say something."""
    if not value.strip() or len(value) > 1000:
        raise click.BadParameter("give the reason in 1 to 1,000 characters")
    return value.strip()


def _scope(region):
    return f"region {region}" if region else "national"


def _password(from_stdin):
    """The password as typed: one line of UTF-8 on stdin, or asked for on the terminal."""
    if not from_stdin:
        if not sys.stdin.isatty():
            fail("no terminal to ask for the password on: give --password-stdin and the "
                 "password as one line on stdin")
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        line = click.get_binary_stream("stdin").readline()
        if not line:
            fail("--password-stdin: stdin is empty; give the password as one line")
        try:
            password = line.decode("utf-8")
        except UnicodeDecodeError:
            fail("--password-stdin: the password is not UTF-8 text")
        password = password.removesuffix("\n")   # the line end, once; nothing else
    # a line from a Windows file ends in \r: kept, it would be a password nobody can type
    if any(unicodedata.category(c) == "Cc" for c in password):
        fail(("--password-stdin" if from_stdin else "password") + ": the password contains a "
             "control character (a Windows line end \\r or a tab?); refused, not trimmed")
    _checked(lambda: check_password(password))
    return password


def identity_view(store_uri):
    """The identity read model folded from the ledger (listing needs no running gateway;
    it reads the ledger and never creates one)."""
    must_exist(store_uri)
    board = IdentityBoard(SimpleNamespace(views=open_view_store("memory://", LEDGER)))
    if LEDGER not in ledger_names(store_uri):
        return board.views   # no one was ever given access
    ledger = open_ledger(store_uri, LEDGER, read_only=True)
    handlers = board.handlers()
    try:
        for record in ledger.iter_records():
            if record.type in handlers:
                handlers[record.type](record)
    finally:
        ledger.close()
    return board.views


@click.group("users")
def users_group():
    """People who log in to the HTTP API (POST /api/v1/auth/login)."""


@users_group.command("create")
@click.argument("username")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--role", required=True, type=click.Choice(ROLES), help=ROLE_HELP)
@click.option("--region", default="", show_default="national", help=REGION_HELP)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@store_option
@state_option
@operator_option
def create_user(username, name, role, region, password_stdin, store_uri, state_uri, actor):
    """Create a user with a password (at least 12 characters)."""
    user = {"username": username, "name": name, "role": role, "region": region}
    _checked(lambda: load(NewUserSchema(), user))
    password = _password(password_stdin)
    _run(store_uri, state_uri, actor,
         lambda accounts: accounts.create_user(user, password), existing=False)
    console.print(f"user {username} created ({role}, {_scope(region)})")


@users_group.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@store_option
@state_option
@operator_option
def set_password(username, password_stdin, store_uri, state_uri, actor):
    """Set a user's password; the user's existing tokens stop working."""
    _must_have_ledger(store_uri)
    password = _password(password_stdin)
    _run(store_uri, state_uri, actor, lambda accounts: accounts.set_password(username, password))
    console.print(f"password of {username} set")


@users_group.command("disable")
@click.argument("username")
@click.option("--reason", required=True, callback=_a_reason, help="Why (recorded).")
@store_option
@state_option
@operator_option
def disable_user(username, reason, store_uri, state_uri, actor):
    """Disable a user: no login, and tokens already issued stop working."""
    _run(store_uri, state_uri, actor, lambda accounts: accounts.disable_user(username, reason))
    console.print(f"user {username} disabled")


@users_group.command("enable")
@click.argument("username")
@click.option("--reason", required=True, callback=_a_reason, help="Why (recorded).")
@store_option
@state_option
@operator_option
def enable_user(username, reason, store_uri, state_uri, actor):
    """Enable a disabled user again."""
    _run(store_uri, state_uri, actor, lambda accounts: accounts.enable_user(username, reason))
    console.print(f"user {username} enabled")


@users_group.command("list")
@store_option
def list_users(store_uri):
    """Every user with role, region and state."""
    with unreachable_is_an_error():
        view = identity_view(store_uri)
    table = Table("username", "name", "role", "region", "enabled", "created by", "created")
    for user in users(view):
        table.add_row(*map(escape, (  # recorded text, shown as it is: never markup
            user["username"], user["name"], user["role"], user["region"] or "national",
            "yes" if user["enabled"] else "NO", user["created_by"], user["created_at"])))
    console.print(table)


@click.group("keys")
def keys_group():
    """API keys for other systems (header X-API-Key)."""


@keys_group.command("issue")
@click.option("--name", required=True, help="Which system, e.g. 'SIPD Kemendagri'.")
@click.option("--role", default="integration", show_default=True, type=click.Choice(ROLES),
              help=ROLE_HELP)
@click.option("--region", default="", show_default="national", help=REGION_HELP)
@store_option
@state_option
@operator_option
def issue_key(name, role, region, store_uri, state_uri, actor):
    """Issue an API key. It is printed once (last line of stdout) and never again."""
    key = {"name": name, "role": role, "region": region}
    _checked(lambda: load(NewApiKeySchema(), key))
    record, plaintext = _run(store_uri, state_uri, actor,
                             lambda accounts: accounts.issue_key(key), existing=False)
    console.print(f"key {record['key_id']} issued to {escape(name)} ({role}, "
                  f"{_scope(region)}); "
                  "keep it now, it is not shown again:", highlight=False)
    click.echo(plaintext)


@keys_group.command("revoke")
@click.argument("key_id")
@click.option("--reason", required=True, callback=_a_reason, help="Why (recorded).")
@store_option
@state_option
@operator_option
def revoke_key(key_id, reason, store_uri, state_uri, actor):
    """Revoke an API key at once."""
    _run(store_uri, state_uri, actor, lambda accounts: accounts.revoke_key(key_id, reason))
    console.print(f"key {key_id} revoked")


@keys_group.command("list")
@store_option
def list_keys(store_uri):
    """Every API key (id, system, role, region, state); never the keys themselves."""
    with unreachable_is_an_error():
        view = identity_view(store_uri)
    table = Table(Column("key id", no_wrap=True), "name", "role", "region", "state",
                  "issued by", "issued")  # the whole id: `keys revoke` needs it
    for key in api_keys(view):
        table.add_row(*map(escape, (
            key["key_id"], key["name"], key["role"], key["region"] or "national",
            "REVOKED" if key["revoked"] else "active", key["issued_by"], key["issued_at"])))
    console.print(table)
