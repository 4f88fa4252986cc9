"""A tender's optional carbon price adjustment, as stored settings (pure; no Flask, no session).

Two kinds (DESIGN.md "Price adjustments by carbon"), computed by :mod:`scoring.methods`:

* ``{"kind": "ladder", "bands": [{"level": 1, "min_carbon_score": "20", "discount": "0.01"}, ...]}``
  — CO2-ladder-style notional discount. The ProRail ladder certifies a level by audit; a tender here
  reads the level from the bid's carbon score S: the highest band whose ``min_carbon_score`` ≤ S.
  Discount per level: :func:`scoring.methods.ladder_evaluated_price`.
* ``{"kind": "shadow_carbon", "carbon_price_per_t": "1500"}`` — evaluated price = price + projected
  tCO2 × carbon price (:func:`scoring.methods.shadow_carbon_evaluated_price`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from scoring import defaults as d
from scoring.defaults import Default
from scoring.methods import (
    Number,
    ScoringRuleError,
    ladder_evaluated_price,
    shadow_carbon_evaluated_price,
    to_decimal,
)

#: Carbon score S needed for each ladder level when a tender gives levels without thresholds.
LADDER_MIN_CARBON_SCORE = Default(
    {1: Decimal(20), 2: Decimal(40), 3: Decimal(60), 4: Decimal(80), 5: Decimal(90)},
    "project default: the CO2-Prestatieladder's five levels mapped onto bands of the carbon "
    "score S (0–100); a tender states its own bands",
)

KINDS = ("ladder", "shadow_carbon")


def default_ladder_bands() -> list[dict[str, str]]:
    """Default bands: level thresholds above, discounts from scoring.defaults (1 %..5 %)."""
    return [
        {
            "level": str(level),
            "min_carbon_score": str(LADDER_MIN_CARBON_SCORE.value[level]),
            "discount": str(discount),
        }
        for level, discount in sorted(d.CO2_LADDER_DISCOUNTS.value.items())
    ]


def _bands(settings: Mapping[str, Any]) -> list[tuple[int, Decimal, Decimal]]:
    raw = settings.get("bands") or default_ladder_bands()
    bands = []
    for i, band in enumerate(raw):
        level = int(band["level"])
        min_score = to_decimal(band["min_carbon_score"], f"bands.{i}.min_carbon_score")
        discount = to_decimal(band["discount"], f"bands.{i}.discount")
        if not Decimal(0) <= min_score <= Decimal(100):
            raise ScoringRuleError("must be within [0, 100]", f"bands.{i}.min_carbon_score")
        if not Decimal(0) <= discount < Decimal(1):
            raise ScoringRuleError("discount must be within [0, 1)", f"bands.{i}.discount")
        bands.append((level, min_score, discount))
    return sorted(bands, key=lambda b: b[1])


def validate_price_adjustment(settings: Mapping[str, Any] | None) -> None:
    """Check stored settings; errors name the field (``kind``, ``bands.<i>.<f>``, ...)."""
    if settings is None:
        return
    kind = settings.get("kind")
    if kind not in KINDS:
        raise ScoringRuleError(f"kind must be one of {KINDS}, got {kind!r}", "kind")
    if kind == "ladder":
        _bands(settings)
    else:
        price = to_decimal(settings.get("carbon_price_per_t"), "carbon_price_per_t")
        if price < 0:
            raise ScoringRuleError("carbon price must be >= 0", "carbon_price_per_t")


def ladder_level(settings: Mapping[str, Any], carbon_score: Number) -> int:
    """The highest band level whose minimum carbon score the bid reaches (0 = none)."""
    s = to_decimal(carbon_score, "carbon_score")
    level = 0
    for lvl, min_score, _discount in _bands(settings):
        if s >= min_score:
            level = lvl
    return level


def adjust_price(
    settings: Mapping[str, Any] | None, price: Number, carbon_score: Number, bid: Any = None
) -> dict[str, Any] | None:
    """The bid's evaluated price under the tender's adjustment (``PriceAdjustment.to_dict()``),
    or None without one. ``bid`` supplies ``projected_co2_kg`` for the shadow carbon price."""
    if settings is None:
        return None
    if settings["kind"] == "ladder":
        level = ladder_level(settings, carbon_score)
        table = {lvl: disc for lvl, _m, disc in _bands(settings)}
        return ladder_evaluated_price(price, level, table).to_dict()
    projected_t = to_decimal(getattr(bid, "projected_co2_kg", 0), "projected_co2_kg") / 1000
    return shadow_carbon_evaluated_price(
        price, projected_t, to_decimal(settings["carbon_price_per_t"], "carbon_price_per_t")
    ).to_dict()
