"""Runs the ticking Consumer service in its own process, as `nameko run` would.
usage: python -m tests.integration.consumer_process CONFIG_JSON"""
import eventlet

eventlet.monkey_patch()

import json  # noqa: E402  (after monkey-patching, as nameko run does)
import sys  # noqa: E402

from nameko.containers import ServiceContainer  # noqa: E402

from tests.integration.ticking import Consumer  # noqa: E402

if __name__ == "__main__":
    container = ServiceContainer(Consumer, json.loads(sys.argv[1]))
    container.start()
    container.wait()
