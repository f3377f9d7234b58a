"""Several real processes appending to one ledger at once (backends shared across processes).

mongomock lives inside one process, so this runs on SQLite and, when MONGO_URI is set,
on a real MongoDB.
"""
import os
import subprocess
import sys
import time

import pytest

from shared.ledger.verify import verify_ledger

WORKERS, APPENDS = 4, 60


def test_positions_stay_gapless_and_in_commit_order_across_processes(open_store):
    if open_store.backend == "mongomock":
        pytest.skip("mongomock is private to one process")
    reader = open_store("shared")
    script = os.path.join(os.path.dirname(__file__), "appender.py")
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    processes = [subprocess.Popen([sys.executable, script, open_store.uri, "shared", str(w),
                                   str(APPENDS)], stdout=subprocess.PIPE, text=True, env=env)
                 for w in range(WORKERS)]
    seen, last = [], 0
    while any(p.poll() is None for p in processes) or last < reader.head().position:
        batch = reader.read(last, limit=500)  # a reader following the ledger as it grows
        seen.extend(record.position for record in batch)
        last = batch[-1].position if batch else last
        time.sleep(0.005)
    outputs = [p.communicate()[0] for p in processes]
    assert all(p.returncode == 0 for p in processes)

    total = reader.head().position
    assert seen == list(range(1, total + 1)), "a following reader skipped or repeated"
    for output in outputs:  # each process saw its own appends commit in position order
        firsts = [int(line.split()[0]) for line in output.split()[::2]]
        assert len(firsts) == APPENDS and firsts == sorted(firsts)
    contended = reader.read_stream("village-shared")
    assert [r.stream_version for r in contended] == list(range(1, len(contended) + 1))
    assert len(contended) == WORKERS * APPENDS // 4
    assert verify_ledger(reader).ok
