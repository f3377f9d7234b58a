"""The chassis Platform for the gateway: its sessions also reach the durable state store,
where the gateway keeps idempotent answers, login failures and password hashes."""
import gc

from shared.chassis.platform import Platform

from .credentials import keep_private


class GatewayPlatform(Platform):
    def setup(self):
        super().setup()
        # The chassis raises the collector's first threshold to 100,000 for services that
        # hold millions of view objects. The gateway holds few, but every request leaves
        # some cyclic garbage: collected 100,000 at a time it paused all requests for
        # ~60 ms every few seconds (the read p99). Small collections, often, instead;
        # and the objects of start-up (imports, schemas) are frozen out of every scan.
        gc.collect()
        gc.freeze()
        gc.set_threshold(5_000, 50, 1000)
        keep_private(self.state)

    def get_dependency(self, worker_ctx):
        session = super().get_dependency(worker_ctx)
        session.state = self.state
        return session
