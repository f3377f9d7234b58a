"""The in-process view store at national scale (100,000 village documents).

Documents have the shape the registration projection keeps (identity, region names,
status, score as a fixed-width decimal string, indicators, decision). Operations: put
one at a time (the initial load), get, update (a projection's hot path), the village list
of a kabupaten/kota and of a province filtered by status (count + first page of 50, as
list_villages does), a national status count, a national name search (a folded-name
prefix, as ?name= asks) and a ranking (region prefix, status in eligible/selected,
sorted by score, first 50). Latencies are median and 95th percentile
over many random regions.

Baseline in the same run: the SQLite view store (shared/views/sqlite.py, WAL,
synchronous=FULL as STATE_URI opens it) with the same documents and the same operations.
Its single puts and updates (one transaction each) are timed on a sample; the rest of its
documents are loaded with put_many (1,000 per transaction), also timed. Its writes are
timed again as VIEW_URI opens it (synchronous=NORMAL, decision 23).
usage: python -m tests.bench views
"""
import random

from services.registration.views import name_key
from shared.views.memory import MemoryViewStore
from shared.views.sqlite import SqliteViewStore

from .common import (SEED, Stopwatch, current_rss_mb, heading, latencies_ms, ms, note,
                     peak_rss_mb, rate, summary_ms, table, temp_folder, times, village_workload)

DOCUMENTS = 100_000
GETS = 20_000
UPDATES = 20_000
SQLITE_SINGLE_PUTS = 1_000     # durable transactions, one per put
SQLITE_UPDATES = 1_000
QUERY_SAMPLES = {"memory": 60, "sqlite": 8}
NATIONAL_SAMPLES = {"memory": 60, "sqlite": 8}
PAGE = 50


def _documents(count):
    """(key, document) pairs shaped like the registration projection's village view."""
    chance = random.Random(SEED + 1)
    docs = []
    for _stream, registered, decided in village_workload(count):
        roll = chance.random()
        status = ("registered" if roll < 0.1 else
                  "selected" if roll < 0.13 and decided["status"] == "eligible" else
                  decided["status"])
        decision = None if status == "registered" else {
            "status": decided["status"], "rule_set": decided["rule_set"],
            "criteria": decided["criteria"], "score": decided["score"],
            "trigger": decided["trigger"], "decided_at": "2026-11-28T08:00:00.000000Z",
            "decided_by": "bench"}
        indicators = {name: {"value": value, "unit": "%" if name != "slum_hectares" else "ha",
                             "source_document": decided["evidence"],
                             "observed_on": "2024-06-30", "recorded_by": "bench"}
                      for name, value in decided["criteria"].items()
                      if name in ("poverty_rate", "slum_hectares", "voter_turnout")}
        docs.append((registered["code"], {
            "code": registered["code"], "name": registered["name"], "kind": registered["kind"],
            "name_key": name_key(registered["name"]),
            "kecamatan": registered["kecamatan"], "kabupaten": registered["kabupaten"],
            "province": registered["province"], "status": status,
            "score": decided["score"] if decision else "00.00", "indicators": indicators,
            "bkm": None, "decision": decision, "override": None,
            "selected": {"rank": 1, "quota": 5, "round": 1} if status == "selected" else None,
            "registered_at": "2026-11-28T07:00:00.000000Z"}))
    return docs


def _list_page(collection, region, status):
    """What registration's list_villages asks: no key prefix at the national level."""
    query = {"_id": {"$prefix": region}} if region else {}
    query["status"] = status
    return collection.count(query), collection.find(query, skip=0, limit=PAGE)


def _name_search(collection, prefix):
    """list_villages' ?name= for the whole country: a folded-name prefix."""
    query = {"name_key": {"$prefix": prefix}}
    return collection.count(query), collection.find(query, skip=0, limit=PAGE)


def _declare_indexes(villages):
    """The fields the registration projection declares (services/registration/views.py)."""
    villages.ensure_index("status")
    villages.ensure_index("name_key")


def _ranking(collection, region):
    return collection.find({"_id": {"$prefix": region},
                            "status": {"$in": ["eligible", "selected"]}},
                           sort=[("score", -1)], limit=PAGE)


def _operations(docs, kind, chance):
    """(label, argument list, function) of every latency-measured query."""
    kabupaten = sorted({key[:5] for key, _ in docs})
    provinces = sorted({key[:2] for key, _ in docs})
    samples = QUERY_SAMPLES[kind]
    kab = [chance.choice(kabupaten) for _ in range(samples)]
    prov = [chance.choice(provinces) for _ in range(samples)]
    statuses = ["eligible", "ineligible", "selected", "registered"]
    names = [doc["name_key"][:4] for _key, doc in chance.sample(docs, samples)]
    return [
        ("list kabupaten/kota: prefix + status, count + page of 50",
         kab, lambda collection, region: _list_page(collection, region, "eligible")),
        ("list province: prefix + status, count + page of 50",
         prov, lambda collection, region: _list_page(collection, region, "eligible")),
        ("list national: status only, count + page of 50",
         [None] * samples, lambda collection, _: _list_page(collection, "", "eligible")),
        ("national status count",
         [statuses[i % 4] for i in range(NATIONAL_SAMPLES[kind])],
         lambda collection, status: collection.count({"status": status})),
        ("national name search: name prefix, count + page of 50", names, _name_search),
        ("ranking kabupaten/kota: prefix + status, sort by score, 50",
         kab, _ranking),
        ("ranking province: prefix + status, sort by score, 50", prov, _ranking),
    ]


def _bump(doc):
    doc["score"] = f"{min(99.99, float(doc['score']) + 0.01):05.2f}"
    doc["status"] = "eligible" if doc["status"] == "ineligible" else doc["status"]


def _measure_memory(docs, chance):
    store = MemoryViewStore("bench")
    villages = store.collection("villages")
    _declare_indexes(villages)
    rss_before = current_rss_mb()
    with Stopwatch() as load:
        for key, doc in docs:
            villages.put(key, doc)
    rss_growth = current_rss_mb() - rss_before
    get_rate, update_rate = _gets_and_updates(villages, docs, chance, UPDATES)
    figures = {"put_per_s": len(docs) / load.seconds, "get_per_s": get_rate,
               "update_per_s": update_rate, "rss_growth_mb": rss_growth,
               "documents": len(docs)}
    figures["queries"] = _queries(villages, docs, "memory", chance)
    store.close()
    return figures


def _measure_sqlite(docs, chance, folder, rebuildable=False):
    """rebuildable: as VIEW_URI opens it (synchronous=NORMAL, decision 23); its queries
    are the same SQL over the same file format, so only its writes are measured."""
    store = SqliteViewStore(f"{folder}/{'views' if rebuildable else 'state'}.db", "bench",
                            rebuildable)
    villages = store.collection("villages")
    _declare_indexes(villages)   # before the load, as a projection's start does
    try:
        single = docs[:SQLITE_SINGLE_PUTS]
        with Stopwatch() as singles:
            for key, doc in single:
                villages.put(key, doc)
        rest = docs[SQLITE_SINGLE_PUTS:]
        with Stopwatch() as bulk:
            for start in range(0, len(rest), 1000):
                villages.put_many(rest[start:start + 1000])
        get_rate, update_rate = _gets_and_updates(villages, docs, chance, SQLITE_UPDATES)
        figures = {"put_per_s": len(single) / singles.seconds,
                   "put_many_per_s": len(rest) / bulk.seconds,
                   "get_per_s": get_rate, "update_per_s": update_rate, "documents": len(docs)}
        if not rebuildable:
            figures["queries"] = _queries(villages, docs, "sqlite", chance)
    finally:
        store.close()
    return figures


def _gets_and_updates(villages, docs, chance, updates):
    """(gets/s, updates/s) over random keys: GETS gets, then `updates` projection folds."""
    keys = [key for key, _ in docs]
    get_keys = [chance.choice(keys) for _ in range(GETS)]
    with Stopwatch() as gets:
        for key in get_keys:
            villages.get(key)
    update_keys = [chance.choice(keys) for _ in range(updates)]
    with Stopwatch() as folds:
        for key in update_keys:
            villages.update(key, _bump)
    return GETS / gets.seconds, updates / folds.seconds


def _queries(collection, docs, kind, chance):
    found = {}
    for label, arguments, function in _operations(docs, kind, chance):
        function(collection, arguments[0])  # warm (lazy key sort, SQLite page cache)
        found[label] = summary_ms(latencies_ms(lambda a: function(collection, a), arguments))
    return found


def _check_same_answers(memory_docs, folder):
    """Both stores must answer the benchmark queries alike, or the comparison is void."""
    memory, sqlite = MemoryViewStore("check"), SqliteViewStore(f"{folder}/check.db", "check")
    try:
        a, b = memory.collection("villages"), sqlite.collection("villages")
        _declare_indexes(a)
        _declare_indexes(b)
        for key, doc in memory_docs:
            a.put(key, doc)
        b.put_many(memory_docs)
        region = memory_docs[len(memory_docs) // 2][0][:5]
        for query in (lambda c: _list_page(c, region, "eligible"),
                      lambda c: _ranking(c, region[:2]),
                      lambda c: c.count({"status": "selected"}),
                      lambda c: _name_search(c, memory_docs[7][1]["name_key"][:3])):
            if query(a) != query(b):
                raise RuntimeError("memory and SQLite view stores answer a benchmark query "
                                   "differently")
    finally:
        memory.close()
        sqlite.close()


def run():
    heading(f"View stores at {DOCUMENTS:,} village documents")
    docs = _documents(DOCUMENTS)
    with temp_folder("views") as folder:
        _check_same_answers(docs[:5000], folder)
        memory = _measure_memory(docs, random.Random(SEED + 2))
        sqlite = _measure_sqlite(docs, random.Random(SEED + 2), folder)
        views = _measure_sqlite(docs, random.Random(SEED + 2), folder, rebuildable=True)

    rows = [[label, rate(memory[key]) if key in memory else "-", rate(sqlite[key]),
             rate(views[key]), times((memory.get(key) or memory["put_per_s"]) / sqlite[key]),
             times(views[key] / sqlite[key])]
            for label, key in (("put, one document at a time", "put_per_s"),
                               ("put_many, 1,000 per transaction (SQLite load)",
                                "put_many_per_s"),
                               ("get", "get_per_s"),
                               ("update (projection fold)", "update_per_s"))]
    table(f"Writes and reads at {DOCUMENTS:,} documents, operations/s",
          ["operation", "memory", "SQLite FULL (state)", "SQLite NORMAL (views)",
           "memory/SQLite FULL", "NORMAL/FULL"], rows,
          caption=f"SQLite: single puts timed on the first {SQLITE_SINGLE_PUTS:,} documents (one "
                  f"transaction each), updates on {SQLITE_UPDATES:,}; gets on {GETS:,} random "
                  "keys for all; FULL waits for the disk on each commit (STATE_URI), NORMAL "
                  "does not (VIEW_URI, decision 23); put_many's ratio is against memory's "
                  f"single put; memory store grew the process by "
                  f"{memory['rss_growth_mb']:,.0f} MB")
    rows = []
    for label, mem in memory["queries"].items():
        sql = sqlite["queries"][label]
        rows.append([label, ms(mem["median_ms"]), ms(mem["p95_ms"]), ms(sql["median_ms"]),
                     ms(sql["p95_ms"]), times(sql["median_ms"] / mem["median_ms"])])
    table(f"Queries at {DOCUMENTS:,} documents, latency in ms",
          ["query", "memory median", "memory p95", "SQLite median", "SQLite p95",
           "SQLite/memory (median)"], rows,
          caption=f"random kabupaten/kota and provinces; samples per query: memory "
                  f"{QUERY_SAMPLES['memory']}, SQLite {QUERY_SAMPLES['sqlite']}; both stores "
                  "hold the same documents and give the same answers (checked)")
    note("score is a fixed-width decimal string (\"NN.NN\"), as in the registration view, so "
         "sorting it as text sorts it by value in both stores.")
    return {"documents": DOCUMENTS, "memory": memory, "sqlite": sqlite, "sqlite_views": views,
            "targets": [], "peak_rss_mb": peak_rss_mb()}


if __name__ == "__main__":
    run()
