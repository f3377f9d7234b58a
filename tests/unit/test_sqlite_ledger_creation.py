"""A new SQLite ledger appears whole: a process listing the folder (a subscription, the
audit, `plpbk verify --all`) never opens a file that has no tables yet, which it would
take for a damaged ledger (135 of 200 new ledgers were, before it was built aside)."""
import multiprocessing

from shared.ledger import LedgerDamaged, ledger_names, open_ledger

NEW_LEDGERS = 100


def _watch(store, ready, stop, damaged, opened):
    seen = set()
    ready.set()
    while not stop.is_set():
        for name in set(ledger_names(store)) - seen:
            seen.add(name)
            try:
                open_ledger(store, name, read_only=True).close()
                opened.value += 1
            except LedgerDamaged:
                damaged.value += 1


def test_a_reader_never_finds_a_half_made_ledger(tmp_path):
    store = f"sqlite:///{tmp_path}"
    context = multiprocessing.get_context("spawn")   # no eventlet or threads inherited
    ready, stop = context.Event(), context.Event()
    damaged, opened = context.Value("i", 0), context.Value("i", 0)
    watcher = context.Process(target=_watch, args=(store, ready, stop, damaged, opened))
    watcher.start()
    try:
        assert ready.wait(timeout=60)
        for number in range(NEW_LEDGERS):
            open_ledger(store, f"ledger_{number}").close()
        while opened.value + damaged.value < NEW_LEDGERS and watcher.is_alive():
            pass
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert (damaged.value, opened.value) == (0, NEW_LEDGERS)
    assert sorted(ledger_names(store)) == sorted(f"ledger_{n}" for n in range(NEW_LEDGERS))
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".new")] == []
