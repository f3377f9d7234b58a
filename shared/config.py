"""Settings every process reads: nameko config first, then the environment, then these.

The defaults are the embedded platform: SQLite ledgers and state under ./var, read
models in memory, the local RabbitMQ.
"""
import os

DEFAULTS = {"STORE_URI": "sqlite:///var/ledgers", "STATE_URI": "sqlite:///var/state",
            "VIEW_URI": "memory://", "AMQP_URI": "amqp://guest:guest@localhost:5672/",
            "CATCH_UP_INTERVAL": "2",
            # embedded: each service publishes its own ledger (a thread of the service);
            # external: `plpbk relay` publishes from its own process (a second CPU core).
            "RELAY": "embedded",
            # planning attachments: a folder, or mongodb://host/db for GridFS
            "ATTACHMENT_URI": "file:///var/attachments"}


def setting(config, key):
    return str((config or {}).get(key) or os.environ.get(key) or DEFAULTS[key])


# For child processes: nameko imports eventlet, which warns that it is in maintenance mode
# (the stack is chosen); keep that out of every log. Passed as PYTHONWARNINGS.
QUIET_EVENTLET = "ignore:::nameko.cli.commands,ignore:::nameko.containers"
