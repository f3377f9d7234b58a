"""`plpbk run` with one service (--only audit, and the relay): a process that stops by
itself, during start-up or later, however it exits, stops the platform; plpbk run names
it and why in one line and exits 1. Ctrl-C still stops everything with exit 0."""
import os
import signal
import time
import urllib.request

import pytest

from services import RELAY_METRICS_PORT, SERVICES

from .running import RunningPlatform

AUDIT = f"http://127.0.0.1:{SERVICES['audit'][1]}/metrics"


@pytest.fixture
def platform(request):
    running = RunningPlatform(extra_env=dict(COLUMNS="500", **getattr(request, "param", {})))
    yield running
    running.__exit__(None, None, None)


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_until_audit_answers(platform, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert platform.process.poll() is None, platform.logs()
        try:
            urllib.request.urlopen(AUDIT, timeout=5).read()
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"audit did not answer:\n{platform.logs()}")


@pytest.mark.parametrize("platform", [{"CATCH_UP_INTERVAL": "abc"}], indirect=True)
def test_a_service_that_stops_at_start_up_stops_the_platform_and_is_named(platform):
    platform.start("--only", "audit")
    assert platform.process.wait(timeout=60) == 1, platform.logs()   # was 0: "stopped"
    assert platform.logs().splitlines()[-1] == (
        "error: audit stopped by itself (exit code 1): the audit service cannot start: "
        "CATCH_UP_INTERVAL='abc': must be a number written in 0-9; the platform was stopped")
    assert "Traceback" not in platform.logs()
    assert all(gone(pid) for pid in platform.children().values())   # the relay too


def test_a_service_that_dies_while_running_stops_the_platform_and_is_named(platform):
    platform.start("--only", "audit")
    wait_until_audit_answers(platform)
    started = platform.children()
    assert set(started) == {"relay", "audit"}
    os.kill(started["audit"], signal.SIGKILL)   # as the kernel's OOM killer would
    assert platform.process.wait(timeout=60) == 1, platform.logs()
    assert platform.logs().splitlines()[-1] == (
        "error: audit stopped by itself (killed by signal 9); the platform was stopped")
    assert gone(started["relay"])


def test_ctrl_c_stops_one_service_and_the_relay_with_exit_0(platform):
    platform.start("--only", "audit")
    wait_until_audit_answers(platform)
    assert platform.interrupt() == 0, platform.logs()
    assert all(gone(pid) for pid in platform.children().values())
    assert f":{RELAY_METRICS_PORT}/metrics" in platform.logs()
