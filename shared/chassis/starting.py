"""A service's start: a setting or store it cannot use is one line, exit 1, no service.

nameko prints a traceback for whatever a dependency's setup raises, then exits 0 after
its own ConfigurationError; a SystemExit (CannotStart) is one line and exit 1.
"""
from contextlib import contextmanager

from nameko.constants import MAX_WORKERS_CONFIG_KEY
from nameko.containers import ServiceContainer
from nameko.exceptions import ConfigurationError

from ..ledger import LedgerError
from ..views import ViewStoreError
from .errors import CannotStart


@contextmanager
def starting(service_name):
    """Around what a dependency's setup reads and opens."""
    try:
        yield
    except (ConfigurationError, LedgerError, ViewStoreError) as exc:
        raise CannotStart(f"the {service_name} service cannot start: {exc}") from None


class Container(ServiceContainer):
    """nameko's container (config.yml SERVICE_CONTAINER_CLS) with its worker pool size
    checked first: nameko hands MAX_WORKERS to eventlet as it is (a traceback for
    'abc'), and takes 0 for its default of 10."""

    def __init__(self, service_cls, config):
        workers = config.get(MAX_WORKERS_CONFIG_KEY)
        if workers is not None and (type(workers) is not int or workers < 1):
            raise CannotStart(f"the {getattr(service_cls, 'name', service_cls.__name__)} "
                              f"service cannot start: MAX_WORKERS={workers!r}: must be a "
                              "whole number from 1, written in 0-9")
        super().__init__(service_cls, config)
