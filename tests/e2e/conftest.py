"""End-to-end tests start the whole platform (`plpbk run`) and speak HTTP to it only."""
import pytest

from .running import RunningPlatform


@pytest.fixture(scope="module")
def platform():
    with RunningPlatform() as running:
        yield running
