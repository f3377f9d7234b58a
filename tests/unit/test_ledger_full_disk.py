"""A ledger whose disk fills up while appending: the append fails with a clear ledger
error (never a raw sqlite3 error), nothing of it is recorded, the group-commit leader
takes the next appends once there is space again, and the chain has no gap.

Two honest ways to fill it: SQLite's own size limit on the writer connection
(SQLITE_FULL), and a file-size limit on a process (the kernel refuses the write)."""
import os
import subprocess
import sys
import threading

import pytest

from shared.ledger import Actor, LedgerUnavailable, Metadata, NewEvent, open_ledger
from shared.ledger.verify import verify_ledger

META = Metadata(Actor("officer-1", "district", "52.01"), "corr-full")
BIG = "x" * 3000   # a record larger than a page: each append needs new pages


def append(ledger, stream, size=10):
    return ledger.append(stream, ledger.stream_version(stream),
                         [NewEvent("IndicatorRecorded", {"value": BIG[:size]})], META)


def assert_whole(ledger, count):
    report = verify_ledger(ledger)
    assert report.ok and report.count == count, report
    assert [r.position for r in ledger.iter_records()] == list(range(1, count + 1))


def test_a_full_disk_refuses_the_appends_clearly_and_the_leader_recovers(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path}", "registration")
    for n in range(5):
        append(ledger, f"village-{n}")
    pages = ledger._writer.execute("PRAGMA page_count").fetchone()[0]
    ledger._writer.execute(f"PRAGMA max_page_count = {pages}")   # the disk is now full

    failures = []

    def writer(n):   # several at once: they share the group commit that fails
        try:
            append(ledger, f"crowd-{n}", size=len(BIG))
        except Exception as exc:   # noqa: BLE001 - the test looks at what came back
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(failures) == 8
    for exc in failures:
        assert isinstance(exc, LedgerUnavailable), repr(exc)
        assert "ledger 'registration'" in str(exc) and "disk is full" in str(exc)
        assert "nothing of this append was recorded" in str(exc)
    assert ledger.head().position == 5

    ledger._writer.execute("PRAGMA max_page_count = 1073741823")   # space again
    results = [append(ledger, f"after-{n}", size=len(BIG)) for n in range(3)]
    assert [r.first_position for r in results] == [6, 7, 8]   # no position skipped
    assert_whole(ledger, 8)
    ledger.close()


FILL_UNDER_A_FILE_SIZE_LIMIT = """
import resource, sys
from shared.ledger import Actor, Metadata, NewEvent, open_ledger
meta = Metadata(Actor("officer-1", "district", "52.01"), "corr-full")
ledger = open_ledger(sys.argv[1], "registration")
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), hard))   # the disk, nearly full
appended = 0
try:
    for n in range(1000):
        ledger.append(f"v-{n}", 0, [NewEvent("IndicatorRecorded", {"value": "x" * 3000})], meta)
        appended += 1
except Exception as exc:
    print(f"{appended} {type(exc).__name__}: {exc}")
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))               # space again
print(ledger.append("v-after", 0, [NewEvent("IndicatorRecorded", {})], meta).first_position)
"""


def test_a_file_size_limit_reached_while_appending_is_a_clear_ledger_error(tmp_path):
    """The kernel refuses to grow the file (EFBIG, as a full disk refuses with ENOSPC);
    Python ignores SIGXFSZ, so the write fails instead of killing the process."""
    store = f"sqlite:///{tmp_path}"
    append(open_ledger(store, "registration"), "village-0")
    done = subprocess.run(
        [sys.executable, "-c", FILL_UNDER_A_FILE_SIZE_LIMIT, store, str(256 * 1024)],
        capture_output=True, text=True, timeout=60, env=dict(os.environ,
                                                             PYTHONPATH=os.getcwd()))
    assert done.returncode == 0, done.stderr
    failure, after = done.stdout.strip().splitlines()
    appended, message = failure.split(" ", 1)
    assert message.startswith("LedgerUnavailable: ledger 'registration' at "), message
    assert "nothing of this append was recorded" in message
    assert int(after) == int(appended) + 2   # the next position, none skipped
    assert_whole(open_ledger(store, "registration"), int(after))


@pytest.mark.parametrize("limit", [0, 1])
def test_a_read_only_writer_is_refused_when_checked_and_when_appending(tmp_path, limit):
    """query_only is SQLite's read-only switch (what a write-protected file gives too)."""
    ledger = open_ledger(f"sqlite:///{tmp_path}", "registration")
    append(ledger, "village-0")
    ledger._writer.execute("PRAGMA query_only = 1")
    check = ledger.check_writable if limit else lambda: append(ledger, "village-1")
    with pytest.raises(LedgerUnavailable, match="ledger 'registration' .*it is read-only"):
        check()
    ledger._writer.execute("PRAGMA query_only = 0")
    ledger.check_writable()
    append(ledger, "village-1")
    assert_whole(ledger, 2)
