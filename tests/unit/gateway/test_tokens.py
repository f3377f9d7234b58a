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


@pytest.mark.parametrize("version", ["2", 2.0, True, [2]])
def test_a_signed_token_whose_password_version_is_no_whole_number_is_refused(version):
    """Compared with the user's version as it was, a "2" was a TypeError: 503 instead of
    401 (a token signed with the secret by another tool or an older gateway)."""
    now = int(time.time())
    odd = jwt.encode({"sub": "siti", "ver": version, "iat": now, "exp": now + 60,
                      "iss": tokens.ISSUER, "aud": tokens.AUDIENCE}, SECRET,
                     algorithm="HS256")
    with pytest.raises(Unauthorized, match="password version"):
        tokens.read(SECRET, odd)


@pytest.mark.parametrize("count", ["1", 1.0, None])
def test_a_signed_token_whose_count_of_disablings_is_no_whole_number_is_refused(count):
    now = int(time.time())
    odd = jwt.encode({"sub": "siti", "ver": 2, "dis": count, "iat": now, "exp": now + 60,
                      "iss": tokens.ISSUER, "aud": tokens.AUDIENCE}, SECRET,
                     algorithm="HS256")
    with pytest.raises(Unauthorized, match="disablings"):
        tokens.read(SECRET, odd)
