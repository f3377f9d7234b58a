"""Runs a relay in its own process; optionally dies hard after publishing batch N,
before saving its position (the worst moment). usage:
python relay_process.py STORE STATE AMQP LEDGER BATCH_SIZE CRASH_AFTER_BATCH(0=never) ONCE"""
import os
import sys

from shared.ledger import open_ledger
from shared.messaging.relay import Relay
from shared.views import open_view_store


def main(store, state, amqp, name, batch_size, crash_after, once):
    relay = Relay(open_ledger(store, name), amqp, open_view_store(state, name),
                  batch_size=batch_size)
    batches = []

    def maybe_die(records):
        batches.append(records)
        if len(batches) == crash_after:
            os._exit(9)  # confirmed by RabbitMQ, position not saved

    if once:
        relay.publish_pending(on_batch=maybe_die)
    else:
        relay.run(poll_interval=0.05)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], args[1], args[2], args[3], int(args[4]), int(args[5]), args[6] == "1")
