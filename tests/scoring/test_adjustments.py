"""Tender price-adjustment settings (scoring.adjustments): worked examples and properties."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.adjustments import adjust_price, ladder_level, validate_price_adjustment
from scoring.methods import ScoringRuleError

LADDER = {"kind": "ladder"}
scores = st.decimals(min_value=0, max_value=100, places=2)


def test_default_bands_worked_example():
    # S 50 reaches the level-2 band (S >= 40) -> 2 % off: 10,000,000 -> 9,800,000, advantage 200,000
    out = adjust_price(LADDER, "10000000", "50")
    assert ladder_level(LADDER, "50") == 2
    assert Decimal(out["evaluated_price"]) == Decimal(9800000)
    assert Decimal(out["advantage"]) == Decimal(200000)
    assert ladder_level(LADDER, "19.99") == 0 and ladder_level(LADDER, "90") == 5


def test_shadow_carbon_worked_example():
    # 120,000 kg projected = 120 t × 1,500 per t = 180,000 added: 5,000,000 -> 5,180,000
    bid = SimpleNamespace(projected_co2_kg=Decimal(120000))
    out = adjust_price({"kind": "shadow_carbon", "carbon_price_per_t": "1500"}, "5000000", "40", bid)
    assert Decimal(out["evaluated_price"]) == Decimal(5180000)


def test_bad_settings_name_the_field():
    with pytest.raises(ScoringRuleError) as err:
        validate_price_adjustment(
            {"kind": "ladder", "bands": [{"level": 1, "min_carbon_score": 20, "discount": 1.5}]}
        )
    assert err.value.field == "bands.0.discount"
    with pytest.raises(ScoringRuleError) as err:
        validate_price_adjustment({"kind": "rebate"})
    assert err.value.field == "kind"
    assert adjust_price(None, "100", "50") is None


@settings(max_examples=100)
@given(a=scores, b=scores)
def test_ladder_level_is_monotone(a, b):
    low, high = sorted((a, b))
    assert ladder_level(LADDER, low) <= ladder_level(LADDER, high)


@settings(max_examples=100)
@given(s=scores, price=st.integers(min_value=1, max_value=10**10))
def test_ladder_never_raises_the_price_and_advantage_adds_up(s, price):
    out = adjust_price(LADDER, price, s)
    assert Decimal(out["evaluated_price"]) <= price
    assert Decimal(out["evaluated_price"]) + Decimal(out["advantage"]) == price
