"""Run tests as if it were another time of day (UTC), to catch 'today' taken from the
server's date: between 15:00 and 24:00 UTC it is already tomorrow in Papua (UTC+9).

    PLPBK_TEST_UTC_TIME=20:00 .venv/bin/python -m pytest -p tests.clock tests/unit/cycle

Every clock the platform reads is moved by one fixed offset, so that the session starts
at that time of today's UTC date and time still passes: shared.schemas.utc_now (every
'today' and 'now' judged by the services) and the ledger's now_iso (recorded_at), so
records and judgements stay consistent. Tests that take 'now' or 'today' from
shared.schemas (utc_now(), indonesia_today()) see the same time. Without the variable
this plugin does nothing.

The clocks are moved in pytest_configure, after the initial conftest.py files (which
monkey-patch eventlet before anything imports socket) and before test modules are
imported, so module-level constants such as TODAY are computed on the moved clock.
"""
import os
from datetime import UTC, datetime, time

VARIABLE = "PLPBK_TEST_UTC_TIME"
_restore = []


def pytest_configure(config):
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    import shared.ledger.base
    import shared.ledger.envelope
    import shared.schemas

    real_utc_now = shared.schemas.utc_now
    start = real_utc_now()
    offset = datetime.combine(start.date(), time.fromisoformat(wanted), UTC) - start

    def utc_now():
        return real_utc_now() + offset

    def now_iso():
        return utc_now().isoformat(timespec="microseconds")[:-6] + "Z"

    for module, name, moved in ((shared.schemas, "utc_now", utc_now),
                                (shared.ledger.envelope, "now_iso", now_iso),
                                (shared.ledger.base, "now_iso", now_iso)):
        _restore.append((module, name, getattr(module, name)))
        setattr(module, name, moved)


def pytest_report_header(config):
    wanted = os.environ.get(VARIABLE)
    if wanted:
        return f"clock moved to {wanted} UTC today ({VARIABLE}, tests/clock.py)"


def pytest_unconfigure(config):
    while _restore:
        module, name, original = _restore.pop()
        setattr(module, name, original)
