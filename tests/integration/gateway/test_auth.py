"""Identity and access over HTTP: tokens for people, keys for systems, slowed guessing."""
import threading
import time

import requests

from .conftest import PASSWORD, Client, login, start_gateway

BAJUR = "52.01.08.2006"


def test_a_person_logs_in_and_the_token_names_them(gateway, operator):
    operator.user("siti", "district", "52.01")
    answer = requests.post(f"{gateway}/api/v1/auth/login",
                           json={"username": "siti", "password": PASSWORD})
    assert answer.status_code == 200
    token = answer.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 900
    assert token["principal"] == {"id": "user:siti", "kind": "user", "name": "Siti",
                                  "role": "district", "region": "52.01"}
    me = Client(gateway, {"Authorization": f"Bearer {token['access_token']}"}).get(
        "/api/v1/auth/me")
    assert me.json()["id"] == "user:siti"


def test_a_system_uses_its_api_key_until_revoked(gateway, operator):
    record, key = operator.key(region="52")
    system = Client(gateway, {"X-API-Key": key})
    assert system.get("/api/v1/auth/me").json() == {
        "id": f"key:{record['key_id']}", "kind": "key", "name": "SIPD",
        "role": "integration", "region": "52"}
    assert system.get("/api/v1/villages").status_code == 200
    operator.accounts().revoke_key(record["key_id"], "leaked")
    time.sleep(0.15)   # the identity view follows the ledger within 0.1 s
    refused = system.get("/api/v1/auth/me")
    assert refused.status_code == 401 and refused.json()["field"] == "X-API-Key"


def test_missing_malformed_or_forged_credentials_are_401(gateway, operator):
    operator.user("siti", "district", "52.01")
    token = login(gateway, "siti").headers["Authorization"]
    cases = [({}, "Authorization"), ({"Authorization": "Basic abc"}, "Authorization"),
             ({"Authorization": "Bearer not-a-jwt"}, "Authorization"),
             ({"Authorization": token[:-4] + "AAAA"}, "Authorization"),
             ({"X-API-Key": "plpbk_000000000000_guess"}, "X-API-Key"),
             ({"X-API-Key": "nonsense"}, "X-API-Key"),
             ({"Authorization": token, "X-API-Key": "x"}, "Authorization")]
    for headers, field in cases:
        answer = Client(gateway, headers).get("/api/v1/villages")
        assert answer.status_code == 401, headers
        assert answer.json()["field"] == field and answer.json()["error"] == "Unauthorized"
        assert "Bearer" in answer.headers["WWW-Authenticate"]


def test_wrong_passwords_are_slowed_down_per_user(gateway, operator):
    operator.user("siti", "district", "52.01")

    def attempt(password, username="siti"):
        return requests.post(f"{gateway}/api/v1/auth/login",
                             json={"username": username, "password": password})
    for _ in range(3):   # LOGIN_USER_FREE_FAILURES = 3 in these tests
        wrong = attempt("guess")
        assert wrong.status_code == 401 and wrong.json()["message"] == \
            "wrong username or password"
    assert attempt("guess").status_code == 401          # the 4th locks for 1 s
    locked = attempt(PASSWORD)                           # even the right one waits
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "1"
    assert locked.json()["field"] == "username"
    unknown = attempt("guess", "nobody")                 # same answer as a wrong password
    assert unknown.status_code == 401 and unknown.json() == wrong.json()
    time.sleep(1.1)
    assert attempt(PASSWORD).status_code == 200          # and success clears the count
    assert attempt("guess").status_code == 401
    assert attempt(PASSWORD).status_code == 200


def test_wrong_passwords_are_slowed_down_per_client_address(gateway, operator):
    operator.user("siti", "district", "52.01")
    for number in range(9):   # LOGIN_ADDRESS_FREE_FAILURES = 8: the 9th locks the address
        answer = requests.post(f"{gateway}/api/v1/auth/login",
                               json={"username": f"guess{number}", "password": "x"})
        assert answer.status_code == 401
    locked = requests.post(f"{gateway}/api/v1/auth/login",
                           json={"username": "siti", "password": PASSWORD})
    assert locked.status_code == 429 and locked.json()["field"] == "address"


def test_changing_the_password_ends_older_tokens(gateway, operator):
    operator.user("siti", "district", "52.01")
    old = login(gateway, "siti")
    wrong = old.post("/api/v1/auth/password", json={
        "current_password": "not it", "new_password": "a brand new passphrase"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "current_password"
    short = old.post("/api/v1/auth/password", json={
        "current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 400 and short.json()["field"] == "new_password"
    same = old.post("/api/v1/auth/password", json={
        "current_password": PASSWORD, "new_password": PASSWORD})
    assert same.status_code == 422 and same.json()["field"] == "new_password"
    assert old.get("/api/v1/auth/me").status_code == 200   # nothing changed
    changed = old.post("/api/v1/auth/password", json={
        "current_password": PASSWORD, "new_password": "a brand new passphrase"})
    assert changed.status_code == 200, changed.text
    stale = old.get("/api/v1/auth/me")
    assert stale.status_code == 401 and "password changed" in stale.json()["message"]
    fresh = Client(gateway, {"Authorization": f"Bearer {changed.json()['access_token']}"})
    assert fresh.get("/api/v1/auth/me").status_code == 200
    assert login(gateway, "siti", "a brand new passphrase").get(
        "/api/v1/auth/me").status_code == 200


def test_logging_out_ends_that_token_alone_and_is_in_the_ledger(
        gateway, operator, gateway_config):
    """Someone leaving a shared office computer could not end their session: the token
    stayed good for its 15 minutes, to whoever sat down next."""
    from shared.ledger import open_ledger
    operator.user("siti", "district", "52.01")
    office, phone = login(gateway, "siti"), login(gateway, "siti")
    out = office.post("/api/v1/auth/logout")
    assert out.status_code == 200, out.text
    assert out.json() == {"logged_out": "user:siti"}
    ended = office.get("/api/v1/auth/me")
    assert ended.status_code == 401 and "logged out" in ended.json()["message"]
    assert office.post("/api/v1/auth/logout").status_code == 401
    assert phone.get("/api/v1/auth/me").status_code == 200   # her other session goes on
    assert login(gateway, "siti").get("/api/v1/auth/me").status_code == 200
    ledger = open_ledger(gateway_config["STORE_URI"], "gateway")
    logged_out = [r for r in ledger.read(0) if r.type == "LoggedOut"]
    assert [(r.payload["username"], r.actor["id"]) for r in logged_out] == [
        ("siti", "user:siti")]
    _record, key = operator.key()
    system = Client(gateway, {"X-API-Key": key})
    refused = system.post("/api/v1/auth/logout")
    assert refused.status_code == 403 and refused.json()["field"] == "X-API-Key"


def test_a_disabled_user_is_locked_out_at_once(gateway, operator):
    operator.user("siti", "district", "52.01")
    siti = login(gateway, "siti")
    operator.accounts().disable_user("siti", "left the office")
    time.sleep(0.15)
    assert siti.get("/api/v1/auth/me").status_code == 401
    answer = requests.post(f"{gateway}/api/v1/auth/login",
                           json={"username": "siti", "password": PASSWORD})
    assert answer.status_code == 401


def test_the_auditor_reads_but_never_writes(gateway, as_user):
    auditor = as_user("auditor")
    assert auditor.get("/api/v1/villages").status_code == 200
    refused = auditor.post("/api/v1/villages", json={"code": BAJUR})
    assert refused.status_code == 403 and refused.json() == {
        "error": "Forbidden", "message": "role auditor is read-only", "field": "role"}


def test_grants_are_in_the_gateways_ledger_for_the_audit(gateway, operator, gateway_config):
    from shared.ledger import open_ledger
    operator.user("siti", "district", "52.01")
    record, _key = operator.key()
    ledger = open_ledger(gateway_config["STORE_URI"], "gateway")
    events = [(r.type, r.actor["id"]) for r in ledger.iter_records()]
    ledger.close()
    assert events == [("UserCreated", "operator:test"), ("PasswordChanged", "operator:test"),
                      ("ApiKeyIssued", "operator:test")]


def test_a_password_change_keeps_no_answer_for_retries(gateway, operator, gateway_config):
    """An Idempotency-Key would keep the answer (a live token) and a SHA-256 of the body
    (both passwords: fast to guess, unlike argon2) in the state store for 24 hours. A
    retry could never use them: the old token is stale once the change is recorded."""
    from shared.views import open_view_store
    operator.user("siti", "district", "52.01")
    siti = login(gateway, "siti")
    changed = siti.post("/api/v1/auth/password", headers={"Idempotency-Key": "change-1"},
                        json={"current_password": PASSWORD,
                              "new_password": "a brand new passphrase"})
    assert changed.status_code == 200, changed.text
    state = open_view_store(gateway_config["STATE_URI"], "gateway")
    try:
        assert state.collection("idempotency").count() == 0
    finally:
        state.close()
    retry = siti.post("/api/v1/auth/password", headers={"Idempotency-Key": "change-1"},
                      json={"current_password": PASSWORD,
                            "new_password": "a brand new passphrase"})
    assert retry.status_code == 401 and "password changed" in retry.json()["message"]


def test_stale_credentials_sent_along_do_not_stop_a_login(gateway, operator):
    """A client that sends its last token with every request (an expired one, or one
    the password change ended) was told at the login itself to 'log in again'."""
    from services.gateway import tokens
    from .conftest import SECRET
    operator.user("siti", "district", "52.01")
    expired = tokens.issue(SECRET, {"username": "siti", "password_version": 1}, 60,
                           now=time.time() - 3600)
    for stale in ({"Authorization": f"Bearer {expired}"},
                  {"X-API-Key": "plpbk_000000000000_revoked"}):
        answer = requests.post(f"{gateway}/api/v1/auth/login", headers=stale,
                               json={"username": "siti", "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        assert answer.json()["principal"]["id"] == "user:siti"


def test_a_system_asking_to_change_a_password_is_forbidden_not_unauthenticated(
        gateway, operator):
    """Its key is good: a 401 would tell its client to drop the key and ask again."""
    _record, key = operator.key()
    system = Client(gateway, {"X-API-Key": key})
    answer = system.post("/api/v1/auth/password", json={
        "current_password": "whatever it is", "new_password": "a brand new passphrase"})
    assert answer.status_code == 403, answer.text
    assert answer.json()["field"] == "X-API-Key" and "WWW-Authenticate" not in answer.headers
    assert system.get("/api/v1/auth/me").status_code == 200


def test_lookalike_usernames_and_huge_passwords_are_refused_before_any_check(
        gateway, operator):
    """'Siti', a Cyrillic 'ѕiti' or a full-width one are no user (400 naming the field,
    not one more failure of siti's), and a password beyond 256 characters costs no
    argon2 work."""
    operator.user("siti", "district", "52.01")
    for username in ("Siti", "\u0455iti", "ｓｉｔｉ", "siti\n", " siti"):
        for _ in range(4):   # more than LOGIN_USER_FREE_FAILURES: still no lock
            answer = requests.post(f"{gateway}/api/v1/auth/login",
                                   json={"username": username, "password": PASSWORD})
            assert answer.status_code == 400 and answer.json()["field"] == "username"
    long = requests.post(f"{gateway}/api/v1/auth/login",
                         json={"username": "siti", "password": "x" * 257})
    assert long.status_code == 400 and long.json()["field"] == "password"
    huge = requests.post(f"{gateway}/api/v1/auth/login",   # not even read
                         json={"username": "siti", "password": "x" * 100_000})
    assert huge.status_code == 413 and huge.json()["field"] == "body"
    assert login(gateway, "siti").get("/api/v1/auth/me").status_code == 200


def test_the_gateways_state_store_is_its_owners_alone(gateway, operator, gateway_config):
    """The gateway's state holds password hashes and, when GATEWAY_SECRET is not set, the
    token secret itself: readable by others, any account on the machine could forge a
    ministry token. Kept owner-only however it was made (an older file is narrowed)."""
    import pathlib
    folder = pathlib.Path(gateway_config["STATE_URI"].removeprefix("sqlite:///"))
    files = list(folder.glob("gateway.db*"))
    assert files
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path


def failed_logins(base, count, forwarded_for):
    for number in range(count):
        answer = requests.post(f"{base}/api/v1/auth/login",
                               headers={"X-Forwarded-For": forwarded_for(number)},
                               json={"username": f"guess{number}", "password": "x" * 12})
        assert answer.status_code == 401, answer.text


def test_behind_a_trusted_proxy_each_client_is_slowed_down_alone(
        container_factory, gateway_config, operator):
    """Behind a reverse proxy every client has the proxy's address: 9 wrong passwords
    from anyone locked every login of everyone, for up to 15 minutes at a time. With the
    proxy named in GATEWAY_TRUSTED_PROXIES, the client is the address it forwards."""
    base = start_gateway(container_factory,
                         {**gateway_config, "GATEWAY_TRUSTED_PROXIES": "10.9.0.0/16, 127.0.0.1"})
    operator.user("siti", "district", "52.01")
    failed_logins(base, 9, lambda _: "203.0.113.7")   # the 9th locks that client
    for client, status in (("203.0.113.7", 429), ("198.51.100.9", 200),
                           ("203.0.113.7, 198.51.100.9", 200),   # what the client sent,
                           ("198.51.100.9, 203.0.113.7", 429),   # then who it is
                           ("203.0.113.7, 10.9.3.4", 429)):      # through two proxies
        answer = requests.post(f"{base}/api/v1/auth/login",
                               headers={"X-Forwarded-For": client},
                               json={"username": "siti", "password": PASSWORD})
        assert answer.status_code == status, (client, answer.text)


def test_a_forwarded_address_is_not_believed_from_anyone_else(gateway, operator):
    """Without GATEWAY_TRUSTED_PROXIES (or from a peer not named there), X-Forwarded-For
    is the client's own word: believed, a guesser would name a new address each time."""
    operator.user("siti", "district", "52.01")
    failed_logins(gateway, 9, lambda number: f"203.0.113.{number}")
    locked = requests.post(f"{gateway}/api/v1/auth/login",
                           headers={"X-Forwarded-For": "198.51.100.9"},
                           json={"username": "siti", "password": PASSWORD})
    assert locked.status_code == 429 and locked.json()["field"] == "address"


def test_logins_at_once_beyond_the_limit_are_503_and_leave_workers_for_the_rest(
        container_factory, gateway_config, operator):
    """A password check is argon2: ~0.1 s of CPU and 64 MiB. Logins from everywhere at
    once (a flood, from addresses the throttle has not met yet) held every worker, and
    the API stopped for everyone: only GATEWAY_LOGIN_CONCURRENCY checks run at once in a
    process, and a login beyond them is told at once to come back in a second."""
    base = start_gateway(container_factory, {**gateway_config, "GATEWAY_LOGIN_CONCURRENCY": 1,
                                             "LOGIN_ADDRESS_FREE_FAILURES": 100})
    operator.user("siti", "district", "52.01")
    siti = login(base, "siti")
    answers, barrier = [], threading.Barrier(8)

    def attempt(number):
        barrier.wait()
        answers.append(requests.post(f"{base}/api/v1/auth/login", timeout=30, json={
            "username": f"guess{number}", "password": "x" * 12}))
    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    busy = [answer for answer in answers if answer.status_code == 503]
    assert busy and {answer.status_code for answer in answers} == {401, 503}, answers
    assert busy[0].headers["Retry-After"] == "1"
    assert busy[0].json()["error"] == "ServiceUnavailable"
    assert siti.get("/api/v1/auth/me").status_code == 200
