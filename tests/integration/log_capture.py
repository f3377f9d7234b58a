"""The platform's JSON logging, captured: what `nameko run` with config.yml writes."""
import io
import json
import logging
from contextlib import contextmanager

from shared.chassis.logging import json_formatter


@contextmanager
def captured(level):
    """lines() -> every line written so far, each a dict (all must be JSON)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(json_formatter())   # as config.yml's LOGGING has nameko set it
    root.handlers[:] = [handler]
    root.setLevel(level)
    try:
        yield lambda: [json.loads(line) for line in written.getvalue().splitlines()]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
