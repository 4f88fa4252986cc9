"""Parameter defaults for carbon scores and tender evaluation, each with its source.

Every number the scoring package uses by default lives here as data (``Default(value, source)``),
so a report can print where a figure came from and a tender can override it. Numbers are
``Decimal`` because evaluations are stored as snapshots and recomputed to prove reproducibility:
decimal arithmetic makes ties exact and results independent of the platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Default(Generic[T]):
    """A default parameter value and where it comes from."""

    value: T
    source: str


_DESIGN_CARBON = "DESIGN.md 'Carbon score of a bid' (project default; set per tender)"

#: Carbon score of a bid (DESIGN.md): S = α·S_commit + (1−α)·S_history.
CARBON_W_SHARE = Default(
    Decimal("0.5"),
    _DESIGN_CARBON + "; equal weight of certified-machine share and CO2 reduction",
)
CARBON_W_RED = Default(
    Decimal("0.5"),
    _DESIGN_CARBON + "; equal weight of certified-machine share and CO2 reduction",
)
CARBON_TARGET_REDUCTION_RATIO = Default(
    Decimal("0.20"),
    _DESIGN_CARBON + "; a 20 % reduction against the reference consumption earns full "
    "reduction points (no official target exists yet; the tender states its own)",
)
CARBON_ALPHA = Default(
    Decimal("0.5"),
    _DESIGN_CARBON + "; commitment and verified history weigh equally",
)
CARBON_WINDOW_MONTHS = Default(
    36,
    "DESIGN.md 'Contractor history (履歷)': rolling window, default 36 months",
)
CARBON_NO_HISTORY_POLICY = Default(
    "commitment_only",
    _DESIGN_CARBON + "; 'a tender states its policy for bidders with no history'; scoring "
    "the commitment alone neither rewards nor punishes a newcomer",
)
CARBON_NEUTRAL_HISTORY_SCORE = Default(
    Decimal("50"),
    _DESIGN_CARBON + "; mid-scale history score used by the 'neutral' policy",
)

#: All carbon-score defaults by parameter name (for README / UI listings).
CARBON_SCORE_DEFAULTS: dict[str, Default[Any]] = {
    "w_share": CARBON_W_SHARE,
    "w_red": CARBON_W_RED,
    "target_reduction_ratio": CARBON_TARGET_REDUCTION_RATIO,
    "alpha": CARBON_ALPHA,
    "window_months": CARBON_WINDOW_MONTHS,
    "no_history_policy": CARBON_NO_HISTORY_POLICY,
    "neutral_history_score": CARBON_NEUTRAL_HISTORY_SCORE,
}

#: Numeric tolerance when checking that weights sum to 1 (weights entered as 1/3 etc.).
WEIGHT_SUM_TOLERANCE = Default(
    Decimal("1E-9"),
    "project numeric tolerance for weight sums (weights are otherwise exact decimals)",
)

#: 及格分數 for 總評分法 / 序位法 / 評分單價法.
PASS_MARK = Default(
    Decimal("70"),
    "最有利標評選辦法 §16 (招標文件載明及格分數); 70 of a 100-point 總滿分 is the usual "
    "value in 工程會 最有利標 tender templates; DESIGN.md 'pass mark (default 70)'",
)

#: Member-difference flag threshold (points of a member's total away from the other members' mean).
DIVERGENCE_THRESHOLD_POINTS = Default(
    Decimal("20"),
    "採購評選委員會審議規則 §6 ¶2: when members' results differ markedly (明顯差異) the convener "
    "puts it to the committee or orders a re-scoring (複評); the rule sets no number, so 20 points "
    "(one fifth of a 100-point 總滿分) is a project default, set per tender",
)

#: 除算方式 (MLIT 総合評価落札方式).
JP_STANDARD_POINTS = Default(
    Decimal("100"),
    "国土交通省 公共工事における総合評価方式活用ガイドライン: 標準点 100 points for a proposal "
    "meeting the minimum requirements; 技術評価点 = 標準点 + 加算点 (+ 施工体制評価点)",
)
JP_VALUE_SCALE = Default(
    Decimal("100000000"),
    "MLIT 除算方式 評価値 = 技術評価点 / 入札価格, conventionally shown × 10^8 so values read as "
    "two-digit numbers; 基準評価値 = 標準点 / 予定価格 on the same scale",
)

#: meat_weighted price score scale: price_score = w_price × lowest / price × 100.
MEAT_SCORE_SCALE = Default(
    Decimal("100"),
    "EU Directive 2014/24/EU Art. 67 MEAT (price-quality ratio); points on a 0–100 scale, "
    "price scored lowest-price ÷ price (the common proportional formula)",
)

#: CO2-Prestatieladder notional discount (fictieve korting) by certificate level.
CO2_LADDER_DISCOUNTS = Default(
    {
        1: Decimal("0.01"),
        2: Decimal("0.02"),
        3: Decimal("0.03"),
        4: Decimal("0.04"),
        5: Decimal("0.05"),
    },
    "ProRail CO2-Prestatieladder gunningsvoordeel: notional discount on the bid price by "
    "ladder level 1..5 (1 %..5 %); a tender may set its own table",
)

#: Sanction factor when an awarded carbon commitment is missed.
COMMITMENT_SANCTION_FACTOR = Default(
    Decimal("1.5"),
    "Rijkswaterstaat / ProRail CO2-Prestatieladder practice: a contractor that does not deliver "
    "the promised level pays 1.5 × the award advantage it received",
)

#: Seed for a recorded draw (抽籤) when every other tie-break fails; a tender stores its own.
DRAW_SEED = Default(
    0,
    "最有利標評選辦法 §14, §15-1 (抽籤決定之); the seed is stored with the result so the draw "
    "is reproducible",
)
