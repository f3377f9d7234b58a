"""shared/money.py: whole Rupiah for every service that records money."""
from decimal import Decimal

import pytest
from marshmallow import Schema, ValidationError, validate

from shared.money import MAX_RUPIAH, Rupiah, whole_rupiah


class Tranche(Schema):
    amount = Rupiah(required=True, validate=validate.Range(min=1))   # a payment: Rp 1 up
    budget = Rupiah()


def test_rupiah_takes_whole_non_negative_integers_up_to_the_maximum():
    assert Tranche().load({"amount": 1, "budget": MAX_RUPIAH}) == {"amount": 1,
                                                                    "budget": MAX_RUPIAH}
    for bad in (-1, MAX_RUPIAH + 1, 1.0, "1", True):
        with pytest.raises(ValidationError) as refused:
            Tranche().load({"amount": 1, "budget": bad})
        assert "budget" in refused.value.messages


def test_a_field_with_its_own_validator_keeps_the_rupiah_range_too():
    with pytest.raises(ValidationError) as refused:
        Tranche().load({"amount": 0})
    assert "amount" in refused.value.messages
    with pytest.raises(ValidationError):
        Tranche().load({"amount": MAX_RUPIAH + 1})


def test_computed_amounts_round_half_up():
    assert [whole_rupiah(Decimal(v)) for v in ("2.5", "3.49", "0.5")] == [3, 3, 1]
