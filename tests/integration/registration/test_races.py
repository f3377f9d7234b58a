"""Selection under a quota, raced by the other writes of the registration service, as
real RPC calls over RabbitMQ. Either at once (every call sent before any answer is
awaited) or "meanwhile": one request is paused where it has read the state and the other
request is sent and recorded then (from inside the first one's worker, over RabbitMQ),
so the interleaving the guard must catch happens on every run.

Whatever the order: a quota is never exceeded, a village is selected once, a selected
village's eligibility is final, the loser is refused naming its field (or answered as the
state then is), and the ledger, the views and the parked events agree afterwards."""
import pytest

from services.registration import domain, views
from services.registration.service import RegistrationService
from shared.chassis.commands import Decider
from shared.chassis.errors import CommandRejected, Conflict
from shared.ledger import open_ledger
from tests.samples import BAJUR, ELIGIBLE

from ..conftest import answers
from .support import proxy, selections_recorded

SECOND, THIRD, FOURTH = "52.01.08.2002", "52.01.08.2003", "52.01.08.2004"
LOMBOK_TENGAH = "52.02.02.2001"
ROUNDS = 3






def with_poverty(rate):
    return {**ELIGIBLE, "indicators": {**ELIGIBLE["indicators"], "poverty_rate": rate}}


def eligible(service, *codes):
    """Register villages, eligible, ranked in the order given (best first)."""
    for place, code in enumerate(codes):
        service.register_village({"code": code})
        service.record_indicators(code, with_poverty(str(60 - place)))


def quota(service, kabupaten, places):
    return service.set_quota({"kabupaten": kabupaten, "quota": places,
                              "decree_reference": f"KepMen {places}"})


def at_once(config, *calls):
    """Send every (method, args, kwargs) before awaiting any answer, each on its own
    connection: the answers, or the refusals, in the order given."""
    proxies = [proxy(config) for _call in calls]
    try:
        services = [each.start() for each in proxies]
        return answers([getattr(service, method).call_async(*args, **kwargs)
                        for service, (method, args, kwargs) in zip(services, calls)])
    finally:
        for each in proxies:
            each.stop()


def meanwhile_after_ranking(monkeypatch, config, method, *args, **kwargs):
    """The first selection to rank has read its quota from the ledger; before it goes on,
    `method` is sent and answered. Returns the answers the other request got."""
    eligible_in, answers = views.eligible_in, []

    def ranked_after_the_other(store, kabupaten):
        if not answers:
            answers.append(None)
            with proxy(config) as other:
                answers[0] = _outcome(getattr(other, method), *args, **kwargs)
        return eligible_in(store, kabupaten)

    monkeypatch.setattr(views, "eligible_in", ranked_after_the_other)
    return answers


def meanwhile_deciding(monkeypatch, config, decider_name, command_type, method, *args,
                       **kwargs):
    """The first command of command_type is decided on its stream as read; before it is
    appended, `method` is sent and answered."""
    decider, answers = getattr(domain, decider_name), []

    def decide(state, command):
        if isinstance(command, command_type) and not answers:
            answers.append(None)
            with proxy(config) as other:
                answers[0] = _outcome(getattr(other, method), *args, **kwargs)
        return decider.decide(state, command)

    monkeypatch.setattr(domain, decider_name, Decider(decider.initial, decider.evolve, decide))
    return answers


def meanwhile_selecting(point, monkeypatch, config, method, *args, **kwargs):
    """`method` sent and answered while the first selection has read its quota
    ("ranking": before it reads the chosen villages' records) or a chosen village's record
    too ("confirming": before it appends its round)."""
    if point == "ranking":
        return meanwhile_after_ranking(monkeypatch, config, method, *args, **kwargs)
    return meanwhile_deciding(monkeypatch, config, "VILLAGE", domain.Select, method, *args,
                              **kwargs)


SELECTING = pytest.mark.parametrize("point", ["ranking", "confirming"])


def _outcome(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except CommandRejected as refused:
        return refused


def ledger_records(config, *types):
    ledger = open_ledger(config["STORE_URI"], "registration")
    try:
        return list(ledger.iter_records(types=list(types)))
    finally:
        ledger.close()


def consistent(config, service):
    """The ledger and the views agree, every quota holds, nothing is parked: the codes
    selected per kabupaten, from the ledger."""
    selections_recorded(config)
    chosen = [r.payload["code"] for r in ledger_records(config, "VillageSelected")]
    assert len(chosen) == len(set(chosen)), f"a village selected twice: {chosen}"
    quotas = {}
    for record in ledger_records(config, "QuotaSet"):
        quotas[record.payload["kabupaten"]["code"]] = record.payload["quota"]
    per_kabupaten = {}
    for code in chosen:
        per_kabupaten.setdefault(code[:5], []).append(code)
    for kabupaten, codes in per_kabupaten.items():
        assert len(codes) <= quotas[kabupaten], (kabupaten, codes, quotas[kabupaten])
        assert service.ranking(kabupaten) is not None
    listed = service.list_villages({"status": "selected", "page_size": 100})["items"]
    assert sorted(v["code"] for v in listed) == sorted(chosen)
    for kabupaten, places in quotas.items():
        rounds = [r.payload for r in ledger_records(config, "SelectionRoundRecorded")
                  if r.payload["kabupaten"]["code"] == kabupaten]
        assert len(per_kabupaten.get(kabupaten, [])) == sum(len(r["selected"]) for r in rounds)
    assert service.parked() == []
    return per_kabupaten


# -- two selections -------------------------------------------------------------------

@pytest.mark.parametrize("keys", [("select-a", "select-b"), (None, None)])
def test_two_selections_at_once_fill_the_quota_once(registration, keys):
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR, SECOND, THIRD, FOURTH)
        for round_ in range(ROUNDS):   # each round opens one more place
            quota(ministry, "52.01", round_ + 1)
            outcomes = at_once(registration, *[
                ("select_villages", ("52.01",),
                 {"idempotency_key": key and f"{key}-{round_}"}) for key in keys])
            assert not any(isinstance(o, Exception) for o in outcomes), outcomes
            now = sorted(code for o in outcomes for code in o["selected"]["52.01"])
            assert now == [(BAJUR, SECOND, THIRD)[round_]]
        assert consistent(registration, ministry) == {"52.01": [BAJUR, SECOND, THIRD]}


@pytest.mark.parametrize("keys", [("select-a", "select-b"), (None, None)])
def test_a_selection_overtaken_by_another_answers_the_quota_as_it_is(
        registration, monkeypatch, keys):
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR, SECOND, THIRD)
        quota(ministry, "52.01", 2)
    other = meanwhile_after_ranking(monkeypatch, registration, "select_villages", "52.01",
                                    idempotency_key=keys[1])
    with proxy(registration) as ministry:
        answer = ministry.select_villages("52.01", idempotency_key=keys[0])
        assert other[0]["selected"] == {"52.01": [BAJUR, SECOND]}
        assert answer == {"selected": {"52.01": []}, "unfilled": {}}
        assert consistent(registration, ministry) == {"52.01": [BAJUR, SECOND]}


def test_a_national_selection_racing_one_kabupaten(registration, monkeypatch):
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR, SECOND, THIRD, LOMBOK_TENGAH)
        quota(ministry, "52.01", 2)
        quota(ministry, "52.02", 1)
    other = meanwhile_after_ranking(monkeypatch, registration, "select_villages", "52.01")
    with proxy(registration) as ministry:
        national = ministry.select_villages()
        assert other[0]["selected"] == {"52.01": [BAJUR, SECOND]}
        assert national["selected"] == {"52.01": [], "52.02": [LOMBOK_TENGAH]}
        assert consistent(registration, ministry) == {
            "52.01": [BAJUR, SECOND], "52.02": [LOMBOK_TENGAH]}


def test_a_national_selection_at_once_with_one_kabupaten(registration):
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR, SECOND, THIRD, LOMBOK_TENGAH)
        quota(ministry, "52.01", 2)
        quota(ministry, "52.02", 1)
        outcomes = at_once(registration, ("select_villages", (), {}),
                           ("select_villages", ("52.01",), {}))
        assert not any(isinstance(o, Exception) for o in outcomes), outcomes
        assert consistent(registration, ministry) == {
            "52.01": [BAJUR, SECOND], "52.02": [LOMBOK_TENGAH]}


# -- a selection and a quota change ---------------------------------------------------

@SELECTING
@pytest.mark.parametrize("before, after, selected", [(1, 3, [BAJUR, SECOND, THIRD]),
                                                     (3, 1, [BAJUR])])
def test_a_quota_changed_while_selecting_is_the_one_selected_under(
        registration, monkeypatch, point, before, after, selected):
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR, SECOND, THIRD)
        quota(ministry, "52.01", before)
    other = meanwhile_selecting(point, monkeypatch, registration, "set_quota", {
        "kabupaten": "52.01", "quota": after, "decree_reference": f"KepMen {after}"})
    with proxy(registration) as ministry:
        answer = ministry.select_villages("52.01")
        assert other[0]["quota"] == after
        assert answer == {"selected": {"52.01": selected}, "unfilled": {}}
        assert consistent(registration, ministry) == {"52.01": selected}


def test_a_quota_lowered_below_a_selection_recorded_meanwhile_is_refused(
        registration, monkeypatch):
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR, SECOND, THIRD)
        quota(ministry, "52.01", 3)
    other = meanwhile_deciding(monkeypatch, registration, "QUOTA", domain.SetQuota,
                               "select_villages", "52.01")
    with proxy(registration) as ministry:
        with pytest.raises(CommandRejected) as refused:
            quota(ministry, "52.01", 2)
        assert refused.value.field == "quota" and "3 villages are already selected" in str(
            refused.value)
        assert other[0]["selected"] == {"52.01": [BAJUR, SECOND, THIRD]}
        assert [r.payload["quota"] for r in ledger_records(registration, "QuotaSet")] == [3]
        assert consistent(registration, ministry) == {"52.01": [BAJUR, SECOND, THIRD]}


def test_quota_changes_at_once_with_selections(registration):
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR, SECOND, THIRD, FOURTH)
        quota(ministry, "52.01", 2)
        for places in (1, 4, 2):
            outcomes = at_once(registration, ("select_villages", ("52.01",), {}), (
                "set_quota", ({"kabupaten": "52.01", "quota": places,
                               "decree_reference": "KepMen"},), {}))
            refused = [o for o in outcomes if isinstance(o, Exception)]
            assert all(o.field == "quota" for o in refused), refused
            consistent(registration, ministry)


# -- a selection and a village's eligibility ------------------------------------------

MADE_INELIGIBLE = {   # what another request records about BAJUR, and its answer
    "override": ("override_eligibility", (BAJUR, {
        "eligible": False, "justification": "Dana BLM disalahgunakan menurut inspektorat"}),
        lambda answer: answer["status"] == "ineligible"),
    "evidence": ("record_indicators", (BAJUR, {
        "indicators": {"fund_misuse_cases": 2}, "source_document": "LHP Inspektorat",
        "observed_on": "2024-07-01"}), lambda answer: answer["status"] == "ineligible"),
    "import": ("import_rows", ([
        {"code": BAJUR, "source_document": "LHP Inspektorat", "observed_on": "2024-07-01",
         "fund_misuse_cases": "2", "line": 2},
        {"code": THIRD, "source_document": "BPS", "observed_on": "2024-07-01",
         "poverty_rate": "70", "line": 3}],),
        lambda answer: answer == {"recorded": 2, "unchanged": 0, "errors": []}),
}


@SELECTING
@pytest.mark.parametrize("what", sorted(MADE_INELIGIBLE))
def test_a_village_made_ineligible_while_selecting_is_passed_over(
        registration, monkeypatch, point, what):
    method, args, answered = MADE_INELIGIBLE[what]
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR, SECOND)
        quota(ministry, "52.01", 1)
    other = meanwhile_selecting(point, monkeypatch, registration, method, *args)
    with proxy(registration) as ministry:
        answer = ministry.select_villages("52.01")
        assert answered(other[0]), other
        assert answer["selected"] == {"52.01": [SECOND]}
        assert consistent(registration, ministry) == {"52.01": [SECOND]}


def test_an_override_of_a_village_selected_meanwhile_is_refused(registration, monkeypatch):
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR, SECOND)
        quota(ministry, "52.01", 1)
    other = meanwhile_deciding(monkeypatch, registration, "VILLAGE", domain.Override,
                               "select_villages", "52.01")
    with proxy(registration) as ministry:
        with pytest.raises(Conflict) as refused:
            ministry.override_eligibility(BAJUR, {
                "eligible": False, "justification": "Dana BLM disalahgunakan menurut BPK"})
        assert refused.value.field == "code" and "already selected" in str(refused.value)
        assert other[0]["selected"] == {"52.01": [BAJUR]}
        assert ledger_records(registration, "EligibilityOverridden") == []
        assert ministry.get_village(BAJUR)["status"] == "selected"
        assert consistent(registration, ministry) == {"52.01": [BAJUR]}


def test_evidence_after_a_selection_leaves_the_village_selected_and_says_why(
        registration, monkeypatch):
    """The evidence decided on the village as read; the selection was recorded before its
    append: it is decided again and recorded after, the village stays selected and its
    history shows the decision after the selection."""
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR)
        quota(ministry, "52.01", 1)
    other = meanwhile_deciding(monkeypatch, registration, "VILLAGE", domain.RecordIndicators,
                               "select_villages", "52.01")
    with proxy(registration) as ministry:
        village = ministry.record_indicators(BAJUR, {
            "indicators": {"fund_misuse_cases": 2}, "source_document": "LHP Inspektorat",
            "observed_on": "2024-07-01"})
        assert other[0]["selected"] == {"52.01": [BAJUR]}
        assert village["status"] == "selected" and village["decision"]["status"] == "ineligible"
        history = [h["type"] for h in ministry.eligibility_history(BAJUR)]
        assert history[-3:] == ["VillageSelected", "IndicatorsRecorded", "EligibilityDecided"]
        assert consistent(registration, ministry) == {"52.01": [BAJUR]}


def test_two_overrides_of_one_village_at_once_record_one(registration, monkeypatch):
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR)
    override = {"eligible": False, "justification": "Dana BLM disalahgunakan menurut BPK"}
    other = meanwhile_deciding(monkeypatch, registration, "VILLAGE", domain.Override,
                               "override_eligibility", BAJUR, override)
    with proxy(registration) as ministry:
        with pytest.raises(CommandRejected) as refused:
            ministry.override_eligibility(BAJUR, override)
        assert refused.value.field == "eligible"
        assert other[0]["status"] == "ineligible"
        assert len(ledger_records(registration, "EligibilityOverridden")) == 1
        consistent(registration, ministry)


def test_two_overrides_at_once(registration):
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR)
        for _round in range(ROUNDS):
            override = {"eligible": False, "justification": "Dana BLM disalahgunakan BPK"}
            outcomes = at_once(registration, *[("override_eligibility", (BAJUR, override), {})
                                               for _call in range(2)])
            refused = [o for o in outcomes if isinstance(o, Exception)]
            assert len(refused) == 1 and refused[0].field == "eligible", outcomes
            ministry.override_eligibility(BAJUR, {**override, "eligible": True})
        assert len(ledger_records(registration, "EligibilityOverridden")) == 2 * ROUNDS
        assert ministry.get_village(BAJUR)["status"] == "eligible"
        consistent(registration, ministry)


# -- a selection and a rule-set publication -------------------------------------------

def stricter_rules(service, poverty):
    seed = service.rule_set()
    return {"id": seed["id"], "note": seed.get("note"), "criteria": [
        {**c, "threshold": poverty} if c["criterion"] == "poverty_rate" else c
        for c in seed["criteria"]]}


@SELECTING
def test_a_rule_set_published_while_selecting_passes_the_village_over(
        registration, monkeypatch, point):
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR, SECOND)
        ministry.record_indicators(BAJUR, with_poverty("29"))
        ministry.record_indicators(SECOND, with_poverty("26"))
        quota(ministry, "52.01", 1)
        rules = stricter_rules(ministry, "30")
    other = meanwhile_selecting(point, monkeypatch, registration, "publish_rule_set", rules)
    with proxy(registration) as ministry:
        answer = ministry.select_villages("52.01")
        assert other[0]["version"] == 2
        assert answer["selected"] == {"52.01": []}   # neither passes poverty >= 30
        assert ministry.get_village(SECOND)["status"] == "ineligible"
        assert consistent(registration, ministry) == {}


def test_a_rule_set_re_deciding_a_village_selected_meanwhile(registration, monkeypatch):
    """The selection read the rule set before it was published, and recorded the
    village while the publication was re-deciding it: re-decided after, it stays
    selected, the decision after its selection in its history."""
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR)
        ministry.record_indicators(BAJUR, with_poverty("26"))
        quota(ministry, "52.01", 1)
        replaced = ministry.rule_set()
        rules = stricter_rules(ministry, "30")
    monkeypatch.setattr(RegistrationService, "_active_rule_set", lambda _service: replaced)
    other = meanwhile_deciding(monkeypatch, registration, "VILLAGE", domain.Evaluate,
                               "select_villages", "52.01")
    with proxy(registration) as ministry:
        assert ministry.publish_rule_set(rules)["version"] == 2
        assert other[0]["selected"] == {"52.01": [BAJUR]}
        village = ministry.get_village(BAJUR)
        assert village["status"] == "selected"
        assert village["decision"]["rule_set"]["version"] == 2
        assert village["decision"]["status"] == "ineligible"
        assert consistent(registration, ministry) == {"52.01": [BAJUR]}


def test_a_selection_between_a_publication_and_its_re_decisions_selects_by_the_new_rules(
        registration, monkeypatch):
    """The rule set is recorded, its re-decisions not yet: a selection then must not take
    a village only the version the ministry replaced finds eligible."""
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR, SECOND)
        ministry.record_indicators(BAJUR, with_poverty("26"))
        ministry.record_indicators(SECOND, with_poverty("25"))
        quota(ministry, "52.01", 1)
        rules = stricter_rules(ministry, "30")
    reevaluate, answers = RegistrationService._reevaluate_all, []

    def select_first(service, rule_set):
        with proxy(registration) as other:
            answers.append(_outcome(other.select_villages, "52.01"))
        return reevaluate(service, rule_set)

    monkeypatch.setattr(RegistrationService, "_reevaluate_all", select_first)
    with proxy(registration) as ministry:
        ministry.publish_rule_set(rules)
        assert answers[0]["selected"] == {"52.01": []}, answers
        assert consistent(registration, ministry) == {}


def test_two_publications_at_once_leave_every_village_decided_by_the_later(
        registration, monkeypatch):
    """v2's re-decision of a village was overtaken by v3's (published meanwhile): decided
    again, it recorded v2's decision over v3's, and the village, eligible by the active
    rules, was missing from the ranking a selection chooses from."""
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR)
        ministry.record_indicators(BAJUR, with_poverty("28"))
        quota(ministry, "52.01", 1)
        v2, v3 = stricter_rules(ministry, "30"), stricter_rules(ministry, "27")
    other = meanwhile_deciding(monkeypatch, registration, "VILLAGE", domain.Evaluate,
                               "publish_rule_set", v3)
    with proxy(registration) as ministry:
        assert ministry.publish_rule_set(v2)["version"] == 2
        assert other[0]["version"] == 3
        village = ministry.get_village(BAJUR)
        assert village["decision"]["rule_set"]["version"] == 3
        assert village["status"] == "eligible"
        assert ministry.select_villages("52.01")["selected"] == {"52.01": [BAJUR]}
        assert consistent(registration, ministry) == {"52.01": [BAJUR]}


def test_evidence_decided_by_a_rule_set_replaced_meanwhile_is_refused(
        registration, monkeypatch):
    """The evidence was decided by v1; v2 was published and re-decided the village before
    it was appended: decided again by v1, it was recorded over v2's decision."""
    with proxy(registration) as ministry:
        eligible(ministry, BAJUR)
        quota(ministry, "52.01", 1)
        v2 = stricter_rules(ministry, "30")
    other = meanwhile_deciding(monkeypatch, registration, "VILLAGE", domain.RecordIndicators,
                               "publish_rule_set", v2)
    with proxy(registration) as ministry:
        with pytest.raises(Conflict) as refused:
            ministry.record_indicators(BAJUR, with_poverty("28"))
        assert "version 2 of rule set plpbk-seed" in str(refused.value)
        assert other[0]["version"] == 2
        village = ministry.get_village(BAJUR)
        assert village["decision"]["rule_set"]["version"] == 2
        assert village["indicators"]["poverty_rate"]["value"] == "60.00"   # nothing recorded
        village = ministry.record_indicators(BAJUR, with_poverty("28"))   # sent again
        assert village["decision"]["rule_set"]["version"] == 2
        assert village["status"] == "ineligible"
        assert ministry.select_villages("52.01")["selected"] == {"52.01": []}
        assert consistent(registration, ministry) == {}
