"""A running service commits its read models (VIEW_URI) without waiting for the disk and
its operator state (STATE_URI) waiting for it: views fold again from the ledgers after a
power cut, tracking of reactions and parked events would be lost (decision 0023)."""
import pytest

from services.audit.dependency import AuditPlatform
from services.audit.service import AuditService
from shared.chassis.platform import Platform

from .ticking import Consumer

FULL, NORMAL = 2, 1


@pytest.mark.parametrize("service, provider", [(Consumer, Platform),
                                               (AuditService, AuditPlatform)])
def test_views_skip_the_flush_and_state_does_not(service, provider, container_factory,
                                                  platform_config, tmp_path):
    config = {**platform_config, "VIEW_URI": f"sqlite:///{tmp_path}/views",
              "TREE_HEAD_KEY": str(tmp_path / "tree-head.pem")}
    if service is AuditService:
        from shared.ledger.verify import generate_key
        (tmp_path / "tree-head.pem").write_bytes(generate_key())
    container = container_factory(service, config)
    container.start()
    platform = next(e for e in container.extensions if isinstance(e, provider))
    assert platform.views.execute("PRAGMA synchronous") == [(NORMAL,)]
    assert platform.state.execute("PRAGMA synchronous") == [(FULL,)]
