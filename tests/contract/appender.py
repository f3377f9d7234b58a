"""A separate process appending to a shared ledger (used by the multi-process test).

usage: python appender.py STORE_URI LEDGER WORKER COUNT
Prints the positions it got, one per line, in the order its appends committed.
"""
import sys

from shared.ledger import Actor, ConcurrencyError, Metadata, NewEvent, open_ledger


def main(uri, name, worker, count):
    ledger = open_ledger(uri, name)
    meta = Metadata(Actor(f"worker-{worker}", "system"))
    for number in range(count):
        if number % 4 == 0:  # every fourth append fights over one shared stream
            while True:
                version = ledger.stream_version("village-shared")
                try:
                    result = ledger.append("village-shared", version,
                                           [NewEvent("Contended", {"w": worker})], meta)
                    break
                except ConcurrencyError:
                    continue
        else:
            result = ledger.append(f"village-w{worker}-{number}", 0,
                                   [NewEvent("Registered", {"w": worker, "n": number}),
                                    NewEvent("Decided", {"w": worker})], meta)
        print(result.first_position, result.last_position, flush=True)
    ledger.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
