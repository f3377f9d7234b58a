"""Short-lived signed tokens for people (JWT, HS256 with the gateway's secret).

A token names the user, the password_version it was issued under and how many times
the user had been disabled then ("dis"); changing the password, disabling the user (for
good: enabling them again does not revive it) or the token's expiry ends it. Role and region are read
from the identity view on every request, not trusted from the token.
"""
import time
import uuid

import jwt

from .errors import Unauthorized

ISSUER, AUDIENCE, ALGORITHM = "plpbk-gateway", "plpbk-api", "HS256"
MIN_SECRET_BYTES = 32


def issue(secret: str, user: dict, ttl_seconds: int, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    return jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": user["username"],
                       "ver": user["password_version"],
                       "dis": user.get("disabled_times", 0), "iat": issued,
                       "exp": issued + ttl_seconds, "jti": uuid.uuid4().hex},
                      secret, algorithm=ALGORITHM)


def read(secret: str, token: str) -> dict:
    """The verified claims, or Unauthorized saying why (expired, bad signature, ...)."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                            issuer=ISSUER, options={"require": ["exp", "iat", "sub", "ver"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired; log in again", "Authorization") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"the token is not valid ({exc})", "Authorization") from None
    if type(claims["ver"]) is not int:   # compared with the user's: a "2" is no version
        raise Unauthorized("the token is not valid (its password version is no whole "
                           "number)", "Authorization")
    claims.setdefault("dis", 0)   # issued before tokens counted disablings
    if type(claims["dis"]) is not int:
        raise Unauthorized("the token is not valid (its count of disablings is no whole "
                           "number)", "Authorization")
    return claims
