"""Logging in and one's own account."""
from shared.chassis.errors import CommandRejected, Conflict, Forbidden

from ..errors import Unauthorized
from ..login import WRONG, client_address, log_in
from ..routing import Route
from ..schemas import (LoggedOutSchema, LoginSchema, PasswordChangeSchema,
                       PrincipalSchema, TokenSchema)

# Anyone may send a login: its body holds a username (64) and a password (256 characters,
# 12 bytes each escaped as a JSON surrogate pair), and no more is read
LOGIN_BODY = 8 * 1024


def login(call):
    return log_in(call.tools, call.loaded["username"], call.loaded["password"], _address(call))


def _address(call):
    return client_address(call.request, call.tools.settings.trusted_proxies)


def me(call):
    return call.principal.as_dict()


def _a_person(call, refusal):
    """The username of a person's token; a system's key is refused (403: the key is
    good, and a 401 tells a client to drop its credentials)."""
    if call.principal.kind != "user":
        raise Forbidden(refusal, "X-API-Key")
    return call.principal.id.removeprefix("user:")


def log_out(call):
    username = _a_person(call, "API keys do not log in or out: an operator revokes a "
                               "key (plpbk keys revoke)")
    if not call.principal.token["id"]:
        raise Forbidden("this token cannot be logged out (it has no id); log in again",
                        "Authorization")
    call.tools.accounts().log_out(username, call.principal.token)
    return {"logged_out": call.principal.id}


def change_password(call):
    username = _a_person(call, "only people have passwords; API keys are reissued "
                               "(plpbk keys issue, then revoke the old one)")
    # the current password again: a stolen token alone cannot take over the account
    try:
        log_in(call.tools, username, call.loaded["current_password"],
               _address(call))
    except Unauthorized:
        raise CommandRejected("the current password is wrong", "current_password") from None
    if call.loaded["new_password"] == call.loaded["current_password"]:
        raise CommandRejected("the new password must differ from the current one",
                              "new_password")
    try:
        call.tools.accounts().set_password(username, call.loaded["new_password"], "changed")
    except Conflict as exc:   # another change (a second click, an operator) came first
        raise Conflict(exc.message, "new_password") from None
    return log_in(call.tools, username, call.loaded["new_password"],
                  _address(call))


ROUTES = [
    Route("POST", "/api/v1/auth/login", "login", "Log in: a password for a token", "auth",
          login, body=LoginSchema, response=TokenSchema, public=True, credentials=False,
          errors=(429,), max_body=LOGIN_BODY,
          description=f"Answers 401 '{WRONG}' for either mistake. After a few failures "
                      "per username (and more per client address) attempts are refused "
                      "with 429 for 1 s, 2 s, 4 s, ... (Retry-After)."),
    Route("GET", "/api/v1/auth/me", "whoami", "Who the credentials belong to", "auth", me,
          response=PrincipalSchema),
    Route("POST", "/api/v1/auth/logout", "log_out", "End this token's session", "auth",
          log_out, response=LoggedOutSchema, any_role=True, replayable=False,
          description="The token sent stops working at once, in every gateway process; "
                      "the person's other tokens go on. Recorded (LoggedOut) in the "
                      "gateway's ledger. Sent again with the same token: 401."),
    Route("POST", "/api/v1/auth/password", "change_password", "Change one's own password",
          "auth", change_password, body=PasswordChangeSchema, response=TokenSchema,
          any_role=True, errors=(429,), replayable=False,
          description="Tokens issued before stop working; the answer is a new token. "
                      "No Idempotency-Key: the answer (a token) and the body (passwords) "
                      "are never kept, and a retry's token is stale anyway."),
]
