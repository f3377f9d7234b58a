"""The URIs of --store, --state, --views and --amqp, checked before a command starts.

A URI that no store or broker can take is bad usage (exit 2) naming the option, not a
store "unreachable" (exit 3) or an unforeseen failure found half-way through the work.
Nothing here connects anywhere.
"""
from urllib.parse import parse_qsl, urlsplit

import click

from ..mongo_connection import database_name, redacted

MONGO = ("mongodb://", "mongodb+srv://")
# pymongo waits 30 s for a server by default; an operator at a prompt should hear at once
# that MongoDB is not there. A serverSelectionTimeoutMS in the URI wins.
MONGO_TIMEOUT_MS = 5000


def _mongo(value):
    """A MongoDB URI pymongo can parse, naming a database, with a short server wait."""
    if value.startswith("mongodb://"):  # +srv would resolve DNS to parse: left to connecting
        from pymongo import uri_parser
        from pymongo.errors import ConfigurationError, InvalidURI
        try:
            uri_parser.parse_uri(value)
        except (ValueError, InvalidURI, ConfigurationError) as exc:
            raise click.BadParameter(f"{redacted(value)!r}: {exc}") from None
    if not database_name(value):
        raise click.BadParameter(
            f"{redacted(value)!r} names no database: use mongodb://<host>/<database>")
    options = {key.lower() for key, _ in parse_qsl(urlsplit(value).query)}
    if "serverselectiontimeoutms" in options:
        return value
    return f"{value}{'&' if urlsplit(value).query else '?'}" \
           f"serverSelectionTimeoutMS={MONGO_TIMEOUT_MS}"


def _checked(value, schemes, expected):
    if not value.startswith(schemes):
        raise click.BadParameter(f"{redacted(value)!r}: expected {expected}")
    return _mongo(value) if value.startswith(MONGO) else value


def ledger_store_uri(_context, _parameter, value):
    return _checked(value, ("sqlite:///",) + MONGO,
                    "sqlite:///<folder> or mongodb://<host>/<database>")


def view_store_uri(_context, _parameter, value):
    return _checked(value, ("memory://", "sqlite:///") + MONGO,
                    "memory://, sqlite:///<folder> or mongodb://<host>/<database>")


def attachment_uri(_context, _parameter, value):
    return _checked(value, ("file:///",) + MONGO,
                    "file:///<folder> or mongodb://<host>/<database>")


def broker_uri(_context, _parameter, value):
    """An AMQP URI with a host; kombu would read "" as localhost and fail on other schemes
    only when it first connects."""
    if not value.startswith(("amqp://", "amqps://", "pyamqp://")):
        raise click.BadParameter(
            f"{redacted(value)!r}: expected amqp://<user>:<password>@<host>:<port>/")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise click.BadParameter(f"{redacted(value)!r}: {exc}") from None
    if not parts.hostname:
        raise click.BadParameter(f"{redacted(value)!r} names no host")
    return value

