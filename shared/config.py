"""Settings every process reads: nameko config first, then the environment, then these.

The defaults are the embedded platform: SQLite ledgers and state under ./var, read
models in memory, the local RabbitMQ.
"""
import os
import re

DEFAULTS = {"STORE_URI": "sqlite:///var/ledgers", "STATE_URI": "sqlite:///var/state",
            "VIEW_URI": "memory://", "AMQP_URI": "amqp://guest:guest@localhost:5672/",
            "CATCH_UP_INTERVAL": "2",
            # embedded: each service publishes its own ledger (a thread of the service);
            # external: `plpbk relay` publishes from its own process (a second CPU core).
            "RELAY": "embedded",
            # every service's attachments (shared/attachments): a folder, or
            # mongodb://host/db for GridFS
            "ATTACHMENT_URI": "file:///var/attachments"}


def setting(config, key):
    return str((config or {}).get(key) or os.environ.get(key) or DEFAULTS[key])


def number_setting(config, key, default=None, whole=True):
    """A number from config.yml or the environment, written in the digits 0-9 (a whole
    number, or with whole=False also a decimal such as 0.5): anything else stops the
    service at start-up naming the setting, as input is taken exactly (decision 13)."""
    value = (config or {}).get(key)
    value = os.environ.get(key, "") if value in (None, "") else value
    if value in (None, ""):
        value = DEFAULTS[key] if default is None else default
    text = str(value)
    if type(value) is bool or not re.fullmatch(r"[0-9]+" if whole else r"[0-9]+(\.[0-9]+)?",
                                               text):
        from nameko.exceptions import ConfigurationError   # here: the CLI needs no nameko
        raise ConfigurationError(f"{key}={text!r}: must be a "
                                 f"{'whole number' if whole else 'number'} written in 0-9")
    return int(text) if whole else float(text)


# For child processes: nameko imports eventlet, which warns that it is in maintenance mode
# (the stack is chosen); keep that out of every log. Passed as PYTHONWARNINGS.
QUIET_EVENTLET = "ignore:::nameko.cli.commands,ignore:::nameko.containers"
