"""The platform's JSON logging, captured: what `nameko run` with config.yml writes."""
import io
import json
import logging
from contextlib import contextmanager

from shared.chassis.logging import configure_logging


@contextmanager
def captured(level):
    """lines() -> every line written so far, each a dict (all must be JSON)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    written = io.StringIO()
    configure_logging(level, stream=written)
    try:
        yield lambda: [json.loads(line) for line in written.getvalue().splitlines()]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
