"""The registration service on the real RabbitMQ, for every test of this folder."""
import pytest

from services.registration.service import RegistrationService


@pytest.fixture
def registration(container_factory, platform_config):
    container_factory(RegistrationService, platform_config).start()
    return platform_config
