"""The gateway's settings: a value that cannot work stops it at start, naming it."""
import pytest
from nameko.exceptions import ConfigurationError

from services.gateway.runtime import read_settings


@pytest.mark.parametrize("key, value", [("GATEWAY_TOKEN_TTL", 0),
                                        ("GATEWAY_TOKEN_TTL", 86401),
                                        ("GATEWAY_RPC_TIMEOUT", 0),
                                        ("GATEWAY_RPC_TIMEOUT", "0.0"),
                                        ("GATEWAY_SECRET", "short"),
                                        ("GATEWAY_TRUSTED_PROXIES", "10.0.0.1, proxy.local"),
                                        ("GATEWAY_TRUSTED_PROXIES", "10.0.0.0/33")])
def test_a_setting_that_cannot_work_is_refused_by_name(key, value):
    """A token that lives 0 s made every login useless (each request then a 401 'expired'),
    an RPC timeout of 0 every request a 503; a token of a week (a typo of 900) would keep
    a stolen login good for a week."""
    with pytest.raises(ConfigurationError, match=key):
        read_settings({key: value})


def test_a_token_may_live_a_day_at_most():
    assert read_settings({"GATEWAY_TOKEN_TTL": 86400}).token_ttl == 86400


def test_the_defaults_work():
    settings = read_settings({})
    assert (settings.token_ttl, settings.rpc_timeout) == (900, 60.0)
    assert settings.trusted_proxies == ()   # X-Forwarded-For believed from nobody
