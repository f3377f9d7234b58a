"""Pausing Python's cyclic garbage collector around long passes over many records."""
import gc
from contextlib import contextmanager


@contextmanager
def quiet_collector():
    """No cyclic garbage collection inside the block.

    A fold or a verify walk creates millions of objects and no reference cycles; with
    the default thresholds the collector would rescan the long-lived ones again and
    again (the services raise its thresholds for the same reason, shared.chassis.platform).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
