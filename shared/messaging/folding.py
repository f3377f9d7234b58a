"""Which instance of a service folds its views: one at a time (decision 24).

Two instances of a service on one durable view store (VIEW_URI sqlite:/// on a shared
disk, or mongodb://) each folded every event into the same documents. Each reads a
document, changes it and writes it back, so the slower one's write of an older state
could land after the other's newer one and outlive it once the tracked position had
passed. Now the instances share a lease in the view store (collection `leases`, key
`folding`): its holder folds; the others serve queries and commands from the same views,
wait for the holder to fold what they need (shared.messaging.subscription), and stand
by. One takes over when the holder's lease runs out (SECONDS after it last renewed), at
once when the holder stops, or, on the same machine, when the holder's process is gone.
With memory:// views every instance has a store of its own, and so a lease of its own.

A holder renews its lease when less than half of it is left, on its next catch-up (every
CATCH_UP_INTERVAL at least): one write per 15 s. One paused past its whole lease (30 s)
may finish the batch it was applying after another took over; views are folds that take
an event again unharmed (decision 23), not two writers at once, so keep the catch-up
interval well under the lease.
"""
import logging
import os
import socket
import time
import uuid

log = logging.getLogger(__name__)

KEY = "folding"
SECONDS = 30.0


class FoldingLease:
    def __init__(self, views, service, seconds=SECONDS, clock=time.time):
        self.leases, self.service = views.collection("leases"), service
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.seconds, self.clock = seconds, clock
        self._until = 0.0
        self.holding = None   # not asked yet
        self.taken = []       # called with no argument each time this instance takes it

    def held(self) -> bool:
        """Whether this instance folds now (renewing or taking the lease as needed)."""
        now = self.clock()
        if self._until - now > self.seconds / 2:
            return True
        holding = self.leases.claim(KEY, self.holder, now + self.seconds, now)
        if not holding and self._holder_died():   # killed on this machine: no need to
            holding = self.leases.claim(KEY, self.holder, now + self.seconds, now)  # wait
        self._until = now + self.seconds if holding else 0.0
        if holding != self.holding:
            self._said(holding)
            self.holding = holding
            if holding:
                for then in self.taken:
                    then()
        return holding

    def holder_now(self) -> str:
        """Who holds (or last held) the lease: host:pid:tag."""
        return (self.leases.get(KEY) or {}).get("holder", "")

    def _holder_died(self) -> bool:
        """The holder was a process on this machine that is gone (a restart after a
        kill): its lease is released (only if it is still that holder's)."""
        holder = self.holder_now()
        host, _, rest = holder.partition(":")
        pid = rest.partition(":")[0]
        if host != socket.gethostname() or not pid.isdigit() or _alive(int(pid)):
            return False
        self.leases.release(KEY, holder)
        return True

    def _said(self, holding):
        if holding and self.holding is False:
            log.info("%s: the other instance stopped folding the views; this one folds them",
                     self.service)
        elif not holding:
            log.info("%s: %s folds the views; this instance serves from them and stands by",
                     self.service, self.holder_now() or "another instance")

    def release(self):
        if self.holding:
            self.leases.release(KEY, self.holder)
        self.holding, self._until = False, 0.0


def _alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # another user's process: alive
        return True
    return True
