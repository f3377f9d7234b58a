"""The folding lease (decision 24): renewed only when half of it is left, taken over
when it runs out, said once per change."""
import logging

from shared.messaging.folding import FoldingLease, log
from shared.views import open_view_store


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


def test_a_holder_renews_when_half_is_left_and_another_takes_over_when_it_runs_out(caplog):
    views, clock = open_view_store("memory://", "svc"), Clock()
    claims = []
    leases = views.collection("leases")
    claim = leases.claim
    leases.claim = lambda *args: claims.append(args[1]) or claim(*args)
    first, second = FoldingLease(views, "svc", clock=clock), FoldingLease(views, "svc",
                                                                          clock=clock)
    taken = []
    second.taken.append(lambda: taken.append(clock.now))
    with caplog.at_level(logging.INFO, logger=log.name):
        assert first.held() and not second.held()
        clock.now += 14
        assert first.held() and not second.held()      # no claim of first's: 16 s left
        assert claims.count(first.holder) == 1
        clock.now += 2
        assert first.held()                             # 14 s left: renewed
        assert claims.count(first.holder) == 2
        clock.now += 31                                 # first stalled past its lease
        assert second.held() and taken == [clock.now]
        assert not first.held()
    said = [r.getMessage() for r in caplog.records]
    assert sum("folds the views; this instance serves" in line for line in said) == 2
    assert sum("this one folds them" in line for line in said) == 1
