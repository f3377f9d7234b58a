"""Quotas and selections sent again with their idempotency key (the gateway passes an
Idempotency-Key down): a retry whose answer was lost, or a request RabbitMQ redelivers
after the process that took it was killed (found by tests/e2e/test_crash_recovery.py)."""

from services.registration import views
from shared.ledger import open_ledger
from tests.samples import BAJUR, ELIGIBLE

from .support import proxy, selections_recorded

SECOND = "52.01.08.2002"
QUOTA = {"kabupaten": "52.01", "quota": 2, "decree_reference": "KepMen 7"}






def eligible(service, *codes):
    for code in codes:
        service.register_village({"code": code})
        service.record_indicators(code, ELIGIBLE)


def quotas_set(config):
    ledger = open_ledger(config["STORE_URI"], "registration")
    try:
        return [r.payload["quota"] for r in ledger.iter_records(types=["QuotaSet"])]
    finally:
        ledger.close()


def test_a_quota_sent_again_with_its_key_is_set_once(registration):
    with proxy(registration) as ministry:
        first = ministry.set_quota(QUOTA, idempotency_key="quota-52.01")
        assert ministry.set_quota(QUOTA, idempotency_key="quota-52.01") == first
    assert quotas_set(registration) == [2]


def test_a_selection_sent_again_with_its_key_is_answered_as_it_was_recorded(registration):
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR)
        ministry.set_quota(QUOTA)
        first = ministry.select_villages("52.01", idempotency_key="select-52.01")
        assert first["selected"] == {"52.01": [BAJUR]} and first["unfilled"]["52.01"]
        # was {"52.01": []}: the quota's open place was found empty again
        assert ministry.select_villages("52.01", idempotency_key="select-52.01") == first
        eligible(ministry, SECOND)
        assert ministry.select_villages("52.01", idempotency_key="select-again")[
            "selected"] == {"52.01": [SECOND]}
        assert ministry.select_villages("52.01", idempotency_key="select-52.01") == first
    assert selections_recorded(registration) == [(1, 1, BAJUR), (2, 1, SECOND)]   # ties: by code


def test_a_selection_racing_one_with_its_own_key_never_exceeds_the_quota(
        registration, monkeypatch):
    """The same key in two requests at once (a redelivered request and the caller's
    retry): the other one records BAJUR after this one found the key unused; this one,
    reading the quota from before, passes BAJUR over and chooses SECOND. Its append is
    refused at the quota's version and it answers the other's round."""
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR)
        ministry.register_village({"code": SECOND})
        ministry.record_indicators(SECOND, {**ELIGIBLE, "indicators": {
            **ELIGIBLE["indicators"], "poverty_rate": "26"}})
        ministry.set_quota({**QUOTA, "quota": 1})
    eligible_in, raced = views.eligible_in, []

    def ranked_after_the_other(store, kabupaten):
        if not raced:
            raced.append(True)
            with proxy(registration) as other:
                assert other.select_villages("52.01", idempotency_key="k")["selected"] == {
                    "52.01": [BAJUR]}
        return eligible_in(store, kabupaten)

    monkeypatch.setattr(views, "eligible_in", ranked_after_the_other)
    with proxy(registration) as ministry:
        assert ministry.select_villages("52.01", idempotency_key="k")["selected"] == {
            "52.01": [BAJUR]}
    assert selections_recorded(registration) == [(1, 1, BAJUR)]


def test_a_rule_set_sent_again_with_its_key_does_not_bring_it_back(registration):
    """A publication whose answer was lost, sent again after another version followed
    (or redelivered after a crash): without the key it was recorded again, as a newer
    version that silently undid the one published in between."""
    def rule_set(threshold):
        return {"id": "plpbk-2027", "criteria": [
            {"criterion": "poverty_rate", "indicator": "poverty_rate", "operator": ">=",
             "threshold": threshold}]}

    with proxy(registration) as ministry:
        first = ministry.publish_rule_set(rule_set("25"), idempotency_key="rules-25")
        ministry.publish_rule_set(rule_set("30"), idempotency_key="rules-30")
        again = ministry.publish_rule_set(rule_set("25"), idempotency_key="rules-25")
    assert first["version"] == 1 and again["version"] == 2   # the ledger's: 30 stands
    assert again["criteria"][0]["threshold"] == "30"


def test_publishing_the_active_rule_set_again_finishes_its_re_decisions(registration):
    """A publication whose re-decisions stopped part-way (its process killed after the
    new version was recorded): sending it again, with its key or without, recorded
    nothing and re-decided nothing, so villages kept decisions of the replaced version.
    Now it re-decides every village under the version the ledger holds."""
    from shared.ledger import Actor, Metadata, NewEvent

    with proxy(registration) as ministry:
        eligible(ministry, BAJUR)
        active = ministry.rule_set()
        assert ministry.get_village(BAJUR)["decision"]["rule_set"]["version"] == 1
        stricter = {k: v for k, v in active.items() if k != "version"}
        stricter["note"] = "stricter"
        ledger = open_ledger(registration["STORE_URI"], "registration")
        try:   # recorded, and then the process died before any village was re-decided
            ledger.append(f"ruleset-{active['id']}", 1,
                          [NewEvent("RuleSetPublished", {**stricter, "version": 2})],
                          Metadata(Actor("kemen-1", "ministry"), "corr-cut"))
        finally:
            ledger.close()
        again = ministry.publish_rule_set(stricter, idempotency_key="rules-stricter")
        assert again["version"] == 2
        assert ministry.get_village(BAJUR)["decision"]["rule_set"]["version"] == 2
