"""Ledger appends with the hash chain, events/s, against baselines in the same run.

Workload: villages as aggregates (stream village-<code>), each recorded by one command of
two events, VillageRegistered and EligibilityDecided, ~300 bytes of payload each
(indicator values as decimal strings), actor Actor("bench", "system").

Modes: one command per transaction from a single caller; one command per call from 8 and
32 concurrent threads (our group commit shares the fsync of one transaction); batched,
500 commands per transaction. Baselines: the `eventsourcing` library's SQLite
persistence (its Application with PERSISTENCE_MODULE=eventsourcing.sqlite, one aggregate
per village, saved one aggregate per transaction, or 500 per app.save call), and raw
sqlite3 inserts of the same payloads (the floor of what SQLite itself costs). All three
use WAL with synchronous=FULL (SQLite's default, which eventsourcing keeps); the run reads
the pragmas back and prints them.

The disk's fsync time drifts during a run, so the systems take turns: each mode runs in
rounds, every round gives each system the same villages in a rotated order, and the
figure is the median round.
usage: python -m tests.bench ledger
"""
import statistics
import threading
import time
import uuid

import orjson

from .common import (Stopwatch, append_requests, bench_metadata, chunks, heading, met,
                     note, payload_bytes, peak_rss_mb, rate, ratio, split, table,
                     temp_folder, times, unique_name, village_events, village_workload)

TARGET = 2.0           # the issue: at least 2x the eventsourcing library, events/s
WARM_UP = 100          # villages per system before anything is timed
SINGLE = (8, 300)      # rounds, villages per round (2 events each)
THREADED = (5, 1500)
THREAD_COUNTS = (8, 32)
BATCHED = (3, 10000)
BATCH_SIZE = 500       # commands per transaction


# -- the three systems ---------------------------------------------------------------------

class Ours:
    label = "ours (shared.ledger, SQLite)"

    def __init__(self, folder):
        from shared.ledger import open_ledger
        self.ledger = open_ledger(f"sqlite:///{folder}", unique_name("ledger"))
        self.metadata = bench_metadata()
        self.transactions = 0
        committer = self.ledger._committer  # count transactions; the commit itself unchanged
        commit_units = committer._commit_units

        def counted(units):
            self.transactions += 1
            return commit_units(units)
        committer._commit_units = counted

    def one(self, item):
        self.ledger.append(item[0], 0, village_events(item), self.metadata)

    def many(self, items):
        self.ledger.append_batch(append_requests(items, self.metadata))

    def pragmas(self):
        db = self.ledger._writer
        return (db.execute("PRAGMA journal_mode").fetchone()[0],
                _synchronous(db.execute("PRAGMA synchronous").fetchone()[0]))

    def stored_bytes(self):
        return self.ledger._query("SELECT avg(length(body)) FROM records")[0][0]

    def close(self):
        self.ledger.close()


class EventSourcing:
    label = "eventsourcing 9.5 (SQLite)"

    def __init__(self, folder):
        from eventsourcing.application import Application
        from eventsourcing.domain import Aggregate, event

        namespace = uuid.UUID("5c6b0e0e-8f3a-4a57-9d43-6a1c1f0b2c11")

        class Village(Aggregate):
            @staticmethod
            def create_id(code, registration):
                return uuid.uuid5(namespace, code)  # one aggregate per village code

            @event("Registered")
            def __init__(self, code, registration):
                self.code, self.registration = code, registration

            @event("EligibilityDecided")
            def decide(self, decision):
                self.decision = decision

        class VillageRegistry(Application):
            pass

        self.village = Village
        self.app = VillageRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                        "SQLITE_DBNAME": f"{folder}/eventsourcing.db",
                                        "SQLITE_LOCK_TIMEOUT": "60"})

    def _aggregate(self, item):
        village = self.village(code=item[1]["code"], registration=item[1])
        village.decide(decision=item[2])
        return village

    def one(self, item):
        self.app.save(self._aggregate(item))

    def many(self, items):
        self.app.save(*[self._aggregate(item) for item in items])

    def _query(self, sql):
        with self.app.factory.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]

    def pragmas(self):
        return self._query("PRAGMA journal_mode"), _synchronous(self._query("PRAGMA synchronous"))

    def stored_bytes(self):
        return self._query("SELECT avg(length(state)) FROM stored_events")

    def close(self):
        self.app.close()


class RawSqlite:
    label = "raw sqlite3 (floor)"

    def __init__(self, folder):
        import sqlite3
        self.db = sqlite3.connect(f"{folder}/raw.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE events (position INTEGER PRIMARY KEY, stream_id TEXT,"
                        " stream_version INTEGER, body BLOB)")
        self.sql = "INSERT INTO events (stream_id, stream_version, body) VALUES (?, ?, ?)"

    @staticmethod
    def _rows(item):
        return [(item[0], 1, orjson.dumps(item[1])), (item[0], 2, orjson.dumps(item[2]))]

    def one(self, item):
        self.db.execute("BEGIN")
        self.db.executemany(self.sql, self._rows(item))
        self.db.execute("COMMIT")

    def many(self, items):
        self.db.execute("BEGIN")
        self.db.executemany(self.sql, [row for item in items for row in self._rows(item)])
        self.db.execute("COMMIT")

    def pragmas(self):
        return (self.db.execute("PRAGMA journal_mode").fetchone()[0],
                _synchronous(self.db.execute("PRAGMA synchronous").fetchone()[0]))

    def stored_bytes(self):
        return self.db.execute("SELECT avg(length(body)) FROM events").fetchone()[0]

    def close(self):
        self.db.close()


def _synchronous(value):
    return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(value, str(value))


# -- timing ------------------------------------------------------------------------------------

def _sequential(system, items):
    with Stopwatch() as watch:
        for item in items:
            system.one(item)
    return watch.seconds


def _batched(system, items):
    with Stopwatch() as watch:
        for batch in chunks(items, BATCH_SIZE):
            system.many(batch)
    return watch.seconds


def _threaded(count):
    def run(system, items):
        parts, failures = split(items, count), []
        start = threading.Barrier(count + 1)

        def caller(part):
            start.wait()
            try:
                for item in part:
                    system.one(item)
            except Exception as exc:  # reported below: a failed caller spoils the figure
                failures.append(exc)

        threads = [threading.Thread(target=caller, args=(part,)) for part in parts]
        for thread in threads:
            thread.start()
        start.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        if failures:
            raise RuntimeError(f"{len(failures)} callers failed: {failures[0]!r}")
        return time.perf_counter() - started
    return run


def _rounds(systems, runner, rounds, size, offset):
    """events/s per round for each system; every system records the same villages."""
    items = village_workload(offset + rounds * size)
    found = {name: [] for name in systems}
    before = {name: getattr(system, "transactions", 0) for name, system in systems.items()}
    names = list(systems)
    for round_ in range(rounds):
        part = items[offset + round_ * size: offset + (round_ + 1) * size]
        turn = round_ % len(names)
        for name in names[turn:] + names[:turn]:
            seconds = runner(systems[name], part)
            found[name].append(2 * len(part) / seconds)
    commits = {name: getattr(system, "transactions", 0) - before[name]
               for name, system in systems.items()}
    return found, commits, offset + rounds * size


def run():
    heading("Ledger: append with the hash chain (events/s)")
    total = (WARM_UP + SINGLE[0] * SINGLE[1] + len(THREAD_COUNTS) * THREADED[0] * THREADED[1]
             + BATCHED[0] * BATCHED[1])
    items = village_workload(total)
    with temp_folder("ledger") as folder:
        systems = {"ours": Ours(folder), "eventsourcing": EventSourcing(folder),
                   "raw": RawSqlite(folder)}
        try:
            for system in systems.values():
                _sequential(system, items[:WARM_UP])
            offset, results = WARM_UP, {}
            modes = [("single caller, 1 command/transaction", _sequential, SINGLE, systems)]
            for count in THREAD_COUNTS:
                modes.append((f"{count} threads, 1 command/call", _threaded(count), THREADED,
                              {k: v for k, v in systems.items() if k != "raw"}))
            modes.append((f"batched, {BATCH_SIZE} commands/transaction", _batched, BATCHED,
                          systems))
            for mode, runner, (rounds, size), taking_part in modes:
                found, commits, offset = _rounds(taking_part, runner, rounds, size, offset)
                results[mode] = {"rates": found, "commits": commits, "events": 2 * rounds * size}
            settings = [(systems[k].label, *systems[k].pragmas(), f"{systems[k].stored_bytes():,.0f}")
                        for k in systems]
        finally:
            for system in systems.values():
                system.close()

    table("Storage settings read back from each database",
          ["system", "journal_mode", "synchronous", "stored bytes/event"], settings,
          caption=f"payload: {payload_bytes(items):,.0f} bytes/event on average (compact JSON);"
                  " ours stores the whole canonical envelope with its hash")
    rows, figures = [], {"modes": {}, "targets": []}
    for mode, result in results.items():
        medians = {name: statistics.median(values) for name, values in result["rates"].items()}
        ours, baseline = medians["ours"], medians["eventsourcing"]
        raw = medians.get("raw")
        factor = ratio(ours, baseline)
        per_commit = result["events"] / result["commits"]["ours"]
        spread = min(result["rates"]["ours"]), max(result["rates"]["ours"])
        rows.append([mode, rate(ours), f"{rate(spread[0])}-{rate(spread[1])}", rate(baseline),
                     rate(raw) if raw else "-", times(factor), met(factor, TARGET),
                     f"{per_commit:,.1f}"])
        figures["modes"][mode] = {"ours": ours, "eventsourcing": baseline, "raw_sqlite": raw,
                                  "ratio": factor, "ours_events_per_transaction": per_commit,
                                  "ours_rounds": result["rates"]["ours"]}
        figures["targets"].append({"name": f"ledger append, {mode}", "value": factor,
                                   "unit": "x eventsourcing", "target": TARGET,
                                   "met": factor >= TARGET})
    table("Append throughput, events/s (median of rounds; 2 events per command)",
          ["mode", "ours", "ours min-max", "eventsourcing", "raw sqlite3", "ours/es",
           f"target >= {TARGET:g}x", "ours events/txn"], rows,
          caption="Same villages, same machine, same run; systems take turns each round. "
                  "All three: WAL + synchronous=FULL (eventsourcing's default, read back above). "
                  "Raw sqlite3 has no threads row: without group commit it is the single row.")
    note("A single caller with one command per transaction waits for one fsync per command "
         "in every system: SQLite's own share for our schema (two B-trees, the head and "
         "version reads, the durable commit) is most of that row, and our Python around it "
         "the rest (docs/performance.md). Group commit (threads) and batching are where the "
         "ledger pulls ahead.")
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


if __name__ == "__main__":
    run()
