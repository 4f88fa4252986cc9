"""Certification rule constants, each a data record with its source.

Pure data: no Flask, no database. `gxmachinery.efficiency` reads these as defaults; callers may pass
other records (e.g. loaded from the database) to the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MLIT_RULE_SOURCE = (
    "MLIT 燃費基準達成建設機械の認定に関する規程 (平成25年3月22日 国総環リ第151号, "
    "amended 2014-10-01 and 2022-02) 第三条: 燃費評価値 ≤ 燃費基準値 → 燃費基準達成; "
    "燃費評価値 ≤ 燃費基準値 ÷ 0.85 → 燃費基準85%達成 (★★)"
)


@dataclass(frozen=True)
class GradeRule:
    """Achievement thresholds of 第三条 and the label of the partial (85%) grade.

    The full grade's label is not here: it belongs to the baseline set (★★★ for the 2020 set,
    ★★★★ for the 2030 set) and is passed in by the caller.
    """

    full_threshold: Decimal
    partial_threshold: Decimal
    partial_label: str
    source: str


GRADE_RULE = GradeRule(
    full_threshold=Decimal("1.00"),
    partial_threshold=Decimal("0.85"),
    partial_label="★★",
    source=MLIT_RULE_SOURCE
    + "; labels: 達成率100%以上 三つ星, 85%以上 二つ星 (MLIT press release 2013, reported by "
    "建通新聞); 2030年基準 → 四つ星, 2020年基準 → 三つ星 (MLIT 2021-03 分科会, reported 2021-03-23)",
)


@dataclass(frozen=True)
class RoundingRule:
    """How a reported ratio is rounded (Decimal places and rounding mode)."""

    places: int
    rounding: str
    source: str

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.places)


ACHIEVEMENT_ROUNDING = RoundingRule(
    places=4,
    rounding=ROUND_HALF_UP,
    source=(
        "project convention (DESIGN.md 'Certification'): achievement ratios are reported to 4 dp "
        "(0.01 %) with 四捨五入 (ROUND_HALF_UP). The grade itself is decided on the exact "
        "comparison of 第三条 (evaluation × threshold ≤ baseline), never on the rounded figure"
    ),
)


@dataclass(frozen=True)
class CompetitionRule:
    """Minimum number of distinct makers for a category/class to be designatable in tenders."""

    min_makers: int
    source: str


COMPETITION_RULE = CompetitionRule(
    min_makers=3,
    source=(
        "Taiwan 《115年機關綠色採購績效評核方法》: an item becomes a designated green-procurement "
        "item once ≥ 3 vendors hold the eco-label (seeds/001, 電動小汽車 proposal, item 五); Japan "
        "excludes 特定調達品目 without enough makers to ensure competition (seeds/000 §3.3, §4.3, "
        "§5.1)"
    ),
)


@dataclass(frozen=True)
class BaselineReviewRule:
    """Which market percentiles are proposed as next baselines, and how they are interpolated.

    Lower evaluation value = better, so "the best 30 %" of models is the 30th percentile.
    """

    percentiles: tuple[tuple[str, float], ...]
    interpolation: str
    source: str


BASELINE_REVIEW_RULE = BaselineReviewRule(
    percentiles=(("p30", 0.30), ("p50", 0.50)),
    interpolation="linear",
    source=(
        "Taiwan eco-label committee, 電動小汽車 規格標準: 市售產品前30%能耗 → 金級, 前50% → 銀級 "
        "(seeds/001); MLIT 2020 baselines are top-runner values (燃費が最も優れた建設機械, 規程 "
        "第一条). Interpolation: linear between order statistics (numpy/pandas default, "
        "Excel PERCENTILE.INC)"
    ),
)

TOP_RUNNER_PROPOSAL = "top_runner"


@dataclass(frozen=True)
class DrivePaths:
    """Which machine drives are assessed on fuel and which on electricity."""

    fuel_drives: frozenset[str]
    electric_drives: frozenset[str]
    electric_label: str
    source: str


DRIVE_PATHS = DrivePaths(
    fuel_drives=frozenset({"diesel", "hybrid"}),
    electric_drives=frozenset({"battery_electric", "cable_electric"}),
    electric_label="GX",
    source=(
        "MLIT GX建設機械認定制度 (2023): battery/cable electric machines are certified on "
        "eligibility and an electricity evaluation value (電力消費量評価値); MLIT has no electricity "
        "baseline yet, so the CO2-equivalent achievement is reported, not graded (DESIGN.md)"
    ),
)
