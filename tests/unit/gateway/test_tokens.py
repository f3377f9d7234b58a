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


def claims(**changes):
    now = int(time.time())
    base = {"iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "sub": "siti", "ver": 2, "dis": 0,
            "iat": now, "exp": now + 60}
    return {key: value for key, value in {**base, **changes}.items() if value is not None}


def signed_with_an_empty_secret(payload):
    """HS256 over an empty key, made by hand: PyJWT refuses to sign with one."""
    import base64
    import hashlib
    import hmac
    import json

    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    head = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}"
    mac = hmac.new(b"", head.encode(), hashlib.sha256).digest()
    return f"{head}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


@pytest.mark.parametrize("token, reason", [
    (lambda: jwt.encode(claims(exp=int(time.time()) - 1), SECRET, "HS256"), "expired"),
    (lambda: jwt.encode(claims(iat=int(time.time()) + 60), SECRET, "HS256"), "not yet"),
    (lambda: jwt.encode(claims(nbf=int(time.time()) + 60), SECRET, "HS256"), "not yet"),
    *[(lambda name=name: jwt.encode(claims(**{name: None}), SECRET, "HS256"), name)
      for name in ("exp", "iat", "sub", "ver", "iss", "aud")],
    (lambda: jwt.encode(claims(), None, "none"), "not valid"),
    (lambda: signed_with_an_empty_secret(claims()), "Signature"),
        (lambda: jwt.encode(claims(aud="another-api"), SECRET, "HS256"), "not valid"),
], ids=["expired-1s", "iat-future", "nbf-future", "no-exp", "no-iat", "no-sub", "no-ver",
        "no-iss", "no-aud", "alg-none", "empty-secret", "other-audience"])
def test_hostile_tokens_are_refused_saying_why(token, reason):
    with pytest.raises(Unauthorized, match=reason) as refused:
        tokens.read(SECRET, token())
    assert refused.value.field == "Authorization"

