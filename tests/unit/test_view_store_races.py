"""The view stores' atomic steps hold across processes on one SQLite file: processes
started together each try to keep their own secret and to take one lease."""
import multiprocessing
import time

from shared.views import open_view_store

PROCESSES = 6


def _contend(uri, number, start, answers):
    store = open_view_store(uri, "gateway")
    while time.time() < start:   # all at once
        pass
    kept = store.collection("secrets").keep_first("token_signing", {"secret": f"s{number}"})
    held = store.collection("leases").claim("folding", f"p{number}", start + 30, time.time())
    answers.put((kept["secret"], held))
    store.close()


def test_processes_at_once_keep_one_secret_and_one_lease_holder(tmp_path):
    uri = f"sqlite:///{tmp_path}"
    open_view_store(uri, "gateway").close()   # the file exists, as at a service's start
    context = multiprocessing.get_context("spawn")
    answers, start = context.Queue(), time.time() + 2.0
    workers = [context.Process(target=_contend, args=(uri, n, start, answers))
               for n in range(PROCESSES)]
    for worker in workers:
        worker.start()
    results = [answers.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert len({secret for secret, _ in results}) == 1
    assert sum(held for _, held in results) == 1
