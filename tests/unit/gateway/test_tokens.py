"""People's tokens: signed, short-lived, bound to the password version."""
import time

import jwt
import pytest

from services.gateway import tokens
from services.gateway.errors import Unauthorized

SECRET = "s" * 40
SITI = {"username": "siti", "password_version": 2}


def test_a_token_names_the_user_and_password_version():
    claims = tokens.read(SECRET, tokens.issue(SECRET, SITI, 900))
    assert (claims["sub"], claims["ver"]) == ("siti", 2)
    assert claims["exp"] - claims["iat"] == 900


def test_expired_forged_and_foreign_tokens_are_refused():
    expired = tokens.issue(SECRET, SITI, 60, now=time.time() - 3600)
    with pytest.raises(Unauthorized, match="expired"):
        tokens.read(SECRET, expired)
    with pytest.raises(Unauthorized, match="not valid"):
        tokens.read("x" * 40, tokens.issue(SECRET, SITI, 900))
    unsigned = jwt.encode({"sub": "siti", "ver": 2, "iat": 1, "exp": 2**40}, None,
                          algorithm="none")
    with pytest.raises(Unauthorized):
        tokens.read(SECRET, unsigned)
    foreign = jwt.encode({"sub": "siti", "ver": 2, "iat": int(time.time()),
                          "exp": int(time.time()) + 60, "iss": "someone-else",
                          "aud": tokens.AUDIENCE}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized):
        tokens.read(SECRET, foreign)
    with pytest.raises(Unauthorized):
        tokens.read(SECRET, "not.a.token")
