"""Registration's event payload schemas (services/registration/schemas.py, EVENTS): each
type the domain records has its schema, each schema a type the domain records, and a
payload its schema does not describe is refused before anything is recorded."""
import pytest

from services.registration import domain, rules, schemas
from shared.chassis.payloads import PayloadMismatch
from shared.ledger import NewEvent

from ..streams import Stream
from .test_domain import GOOD, OFFICIAL, evidence, kotaku, with_value

BKM = {"name": "BKM Bajur Sejahtera", "formed_on": "2019-03-01",
       "members": [{"name": "Siti", "sex": "P", "role": "koordinator"},
                   {"name": "Ahmad", "sex": "L", "role": "anggota"}]}
WHY = "Verifikasi lapangan menunjukkan data BPS keliru"


def every_event_type():
    """Events of each type the registration domain records, each checked by its
    decider's catalog on the way (Stream decides as the platform does)."""
    village = Stream(domain.VILLAGE)
    village.do(domain.RegisterVillage(OFFICIAL, BKM),
               evidence(GOOD + [kotaku(genangan=5)]),
               domain.Override(False, WHY),
               evidence(with_value("poverty_rate", "33.00"), correction_reason=WHY),
               domain.Select(1, 2, 1))
    quota = Stream(domain.QUOTA)
    quota.do(domain.SetQuota({"code": "52.01", "name": "Kabupaten Lombok Barat"}, 2, "KM 7"),
             domain.RecordSelectionRound([{"code": OFFICIAL["code"], "rank": 1,
                                           "score": "30.00"}]))
    rule_set = Stream(domain.RULE_SET)
    rule_set.do(domain.PublishRuleSet({k: v for k, v in rules.SEED_RULE_SET.items()
                                       if k != "version"}))
    return village.events + quota.events + rule_set.events


def test_every_type_the_domain_records_has_a_schema_and_every_schema_is_recorded():
    recorded = {event.type for event in every_event_type()}
    assert recorded == set(schemas.EVENTS.schemas)


def test_each_decider_names_the_catalog_of_its_streams():
    assert domain.VILLAGE.payloads is schemas.VILLAGE_EVENTS
    assert domain.QUOTA.payloads is schemas.QUOTA_EVENTS
    assert domain.RULE_SET.payloads is schemas.RULE_SET_EVENTS
    with pytest.raises(PayloadMismatch, match="not in the catalog"):
        schemas.VILLAGE_EVENTS.check(NewEvent("QuotaSet", {}))


def recorded(event_type):
    return next(e for e in every_event_type() if e.type == event_type)


@pytest.mark.parametrize("event_type, change, named", [
    ("EligibilityDecided", {"score": 24.15}, "score"),           # a decimal as a number
    ("EligibilityDecided", {"eligible": 1}, "eligible"),         # 1 is not true
    ("VillageSelected", {"rank": "1"}, "rank"),
    ("BkmRecorded", {"women_percent": "30,5"}, "women_percent"),  # not a decimal string
    ("SelectionRoundRecorded", {"selected": [{"code": "a", "rank": 1, "score": "1.00"}]},
     "code"),
])
def test_a_payload_its_schema_does_not_describe_is_refused(event_type, change, named):
    event = recorded(event_type)
    schemas.EVENTS.check(event)
    with pytest.raises(PayloadMismatch, match=named):
        schemas.EVENTS.check(NewEvent(event_type, {**event.payload, **change}))


def test_a_reading_names_an_indicator_and_its_unit():
    """Readings are checked as readings, their values not per indicator (schemas.py)."""
    event = recorded("IndicatorsRecorded")
    for change in ({"indicator": "rainfall"}, {"unit": "furlong"}):
        readings = [{**event.payload["readings"][0], **change}]
        with pytest.raises(PayloadMismatch, match=r"readings\[0\]"):
            schemas.EVENTS.check(NewEvent("IndicatorsRecorded", {**event.payload,
                                                                 "readings": readings}))


def test_a_malformed_event_decided_records_nothing():
    """The chassis refuses the whole decision (PayloadMismatch), not just the event."""
    village = Stream(domain.VILLAGE)
    broken = {**OFFICIAL, "kecamatan": "Labuapi"}   # the official record, not as recorded
    with pytest.raises(PayloadMismatch, match="kecamatan"):
        village.do(domain.RegisterVillage(broken))
    assert village.events == []
