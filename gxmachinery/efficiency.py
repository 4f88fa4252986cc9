"""Certification calculations: evaluation value, achievement, grade, size class, GX electric CO2e,
competition check and baseline review.

Pure module: no Flask, no database session. Certification figures are `Decimal` (they decide a
legal status and are rounded by a stated rule, see `gxmachinery.rules.ACHIEVEMENT_ROUNDING`);
the market statistics of the baseline review are `float` (they are proposals for a committee,
not decisions), computed with pandas per class.

Rules implemented (sources in `gxmachinery.rules`):

* 燃費基準達成建設機械の認定に関する規程 第三条 — evaluation ≤ baseline → the baseline set's full
  grade; evaluation ≤ baseline ÷ 0.85 → ★★; otherwise not certifiable.
* 燃料消費量評価値算定要領 (規程 別紙一) with JCMAS H020/H021/H022 work modes — the evaluation value
  is the weighted sum of the measured mode values.
* GX建設機械認定制度 — electric machines: electricity evaluation value plus a reported
  CO2-equivalent achievement.
* Competition check (≥ 3 makers) and baseline review (top runner, 30th/50th percentile).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation, localcontext

import numpy as np
import pandas as pd

from gxmachinery.rules import (
    ACHIEVEMENT_ROUNDING,
    BASELINE_REVIEW_RULE,
    COMPETITION_RULE,
    DRIVE_PATHS,
    GRADE_RULE,
    TOP_RUNNER_PROPOSAL,
    BaselineReviewRule,
    CompetitionRule,
    DrivePaths,
    GradeRule,
    RoundingRule,
)

__all__ = [
    "Assessment",
    "BaselineProposal",
    "CertificationRuleError",
    "EmissionFactorRef",
    "SizeClass",
    "achievement",
    "assess_diesel",
    "assess_electric",
    "competition",
    "evaluation_value",
    "find_size_class",
    "grade_for",
    "grade_for_evaluation",
    "is_designatable",
    "propose_class_baselines",
    "review_baselines",
    "validate_mode_weights",
]

# Enough digits that products and sums of measured values (a few significant digits each) are
# exact, and independent of whatever decimal context the caller has set.
_DECIMAL_CONTEXT = Context(prec=34)

NumberLike = Decimal | int | str | float


class CertificationRuleError(ValueError):
    """An input breaks a certification rule; `field` names the offending input field.

    Field names are dotted paths (e.g. ``size_value``, ``measurements.digging_loading``,
    ``weights.idling``, ``rows.maker_id``) so the API layer can report a 422 naming the field.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _to_decimal(value: object, field_name: str) -> Decimal:
    """Convert a number-like input to a finite Decimal, or raise naming the field."""
    # bool is an int subclass; True as a measured value is always a mistake.
    if isinstance(value, bool):
        raise CertificationRuleError(field_name, f"{field_name}: expected a number, got {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, numbers.Integral):  # int, numpy integers
        number = Decimal(int(value))
    elif isinstance(value, numbers.Real):  # float, numpy floats
        # repr() is the shortest string that round-trips, so 0.1 becomes Decimal("0.1"),
        # not the binary expansion 0.1000000000000000055…
        number = Decimal(repr(float(value)))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise CertificationRuleError(field_name, f"{field_name}: {value!r} is not a number") from None
    else:
        raise CertificationRuleError(field_name, f"{field_name}: expected a number, got {value!r}")
    if not number.is_finite():
        raise CertificationRuleError(field_name, f"{field_name}: {value!r} is not a finite number")
    return number


def _positive(value: object, field_name: str) -> Decimal:
    number = _to_decimal(value, field_name)
    if number <= 0:
        raise CertificationRuleError(field_name, f"{field_name}: must be > 0, got {number}")
    return number


# --------------------------------------------------------------------------------------------
# Size classes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SizeClass:
    """One row of a baseline set (燃費基準値 per 機種 and 区分): size range [lower, upper).

    `upper` None means the class is open above. `baseline_value` is in `unit`, which for the
    fuel path is diesel litres per work unit (e.g. ``L/h``).
    """

    id: Hashable
    lower: Decimal
    upper: Decimal | None
    baseline_value: Decimal
    unit: str

    def __post_init__(self) -> None:
        prefix = f"size_class.{self.id}"
        lower = _to_decimal(self.lower, f"{prefix}.lower")
        upper = None if self.upper is None else _to_decimal(self.upper, f"{prefix}.upper")
        if upper is not None and upper <= lower:
            raise CertificationRuleError(
                f"{prefix}.upper", f"{prefix}: upper {upper} must be greater than lower {lower}"
            )
        baseline = _positive(self.baseline_value, f"{prefix}.baseline_value")
        if not self.unit:
            raise CertificationRuleError(f"{prefix}.unit", f"{prefix}: unit is required")
        # Normalise to Decimal so a class built from JSON floats/strings compares exactly.
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        object.__setattr__(self, "baseline_value", baseline)

    def contains(self, size_value: Decimal) -> bool:
        """True if lower ≤ size_value < upper (half-open, as the MLIT 区分 'X以上Y未満')."""
        return self.lower <= size_value and (self.upper is None or size_value < self.upper)

    def describe(self) -> str:
        upper = "∞" if self.upper is None else str(self.upper)
        return f"[{self.lower}, {upper})"


def find_size_class(classes: Sequence[SizeClass], size_value: NumberLike) -> SizeClass:
    """Return the class whose [lower, upper) holds `size_value` (規程 別表一 区分: X以上Y未満).

    Raises CertificationRuleError(field="size_value") when the size lies outside every class —
    such a model cannot be certified against this baseline set — and field="classes" when the
    classes overlap at that size (a data error in the baseline set).
    """
    size = _to_decimal(size_value, "size_value")
    matches = [size_class for size_class in classes if size_class.contains(size)]
    if not matches:
        ranges = ", ".join(size_class.describe() for size_class in classes) or "none"
        raise CertificationRuleError(
            "size_value",
            f"size_value {size} is outside every size class of this baseline set ({ranges}); "
            "the model cannot be certified against it",
        )
    if len(matches) > 1:
        ids = ", ".join(str(size_class.id) for size_class in matches)
        raise CertificationRuleError("classes", f"size classes {ids} overlap at size_value {size}")
    return matches[0]


# --------------------------------------------------------------------------------------------
# Evaluation value, achievement, grade
# --------------------------------------------------------------------------------------------


def validate_mode_weights(weights: Mapping[str, NumberLike]) -> dict[str, Decimal]:
    """Check a test method's mode weights: at least one mode, each > 0, summing to exactly 1.

    The weights are the shares of each work mode in the representative work cycle of the test
    method (JCMAS H020 / H021 / H022, 燃料消費量評価値算定要領), so they must add up to one.
    Call this when a test method is stored; `evaluation_value` itself only needs them > 0.
    """
    checked = _checked_weights(weights)
    total = sum(checked.values(), Decimal(0))
    if total != 1:
        raise CertificationRuleError("weights", f"weights must sum to 1, they sum to {total}")
    return checked


def _checked_weights(weights: Mapping[str, NumberLike]) -> dict[str, Decimal]:
    if not weights:
        raise CertificationRuleError("weights", "the test method has no work modes")
    return {mode: _positive(weight, f"weights.{mode}") for mode, weight in weights.items()}


def evaluation_value(measurements: Mapping[str, NumberLike], weights: Mapping[str, NumberLike]) -> Decimal:
    """Evaluation value = Σ weight_mode × measured_mode (燃料消費量評価値算定要領, 規程 別紙一).

    `weights` is the test method's mode set; `measurements` must hold exactly those modes, each
    > 0. A missing or extra mode raises CertificationRuleError naming
    ``measurements.<mode>``. The result is exact (no rounding): it is compared with the baseline
    as it stands.
    """
    checked_weights = _checked_weights(weights)
    for mode in checked_weights:
        if mode not in measurements:
            raise CertificationRuleError(
                f"measurements.{mode}",
                f"missing measured value for work mode {mode!r} "
                f"(the test method's modes are {sorted(checked_weights)})",
            )
    for mode in measurements:
        if mode not in checked_weights:
            raise CertificationRuleError(
                f"measurements.{mode}",
                f"{mode!r} is not a work mode of this test method (its modes are {sorted(checked_weights)})",
            )
    with localcontext(_DECIMAL_CONTEXT):
        total = Decimal(0)
        for mode, weight in checked_weights.items():
            total += weight * _positive(measurements[mode], f"measurements.{mode}")
    return total


def achievement(
    baseline_value: NumberLike,
    evaluation: NumberLike,
    rounding: RoundingRule = ACHIEVEMENT_ROUNDING,
) -> Decimal:
    """Achievement (燃費基準達成率) = baseline ÷ evaluation, rounded by `rounding` (4 dp, 四捨五入).

    Lower evaluation = less fuel per work unit = better, so achievement ≥ 1 means the baseline
    is met. This rounded figure is for reporting; grades come from `grade_for_evaluation`,
    which applies 第三条 exactly.
    """
    baseline = _positive(baseline_value, "baseline_value")
    value = _positive(evaluation, "evaluation_value")
    with localcontext(_DECIMAL_CONTEXT):
        return (baseline / value).quantize(rounding.quantum, rounding=rounding.rounding)


def _check_label(full_label: str) -> None:
    if not isinstance(full_label, str) or not full_label.strip():
        raise CertificationRuleError("full_grade_label", "the baseline set's full grade label is required")


def grade_for(achievement_ratio: NumberLike, full_label: str, rule: GradeRule = GRADE_RULE) -> str | None:
    """Grade for an achievement ratio (規程 第三条): ≥ 1.00 → `full_label`; ≥ 0.85 → ★★; else None.

    `full_label` is the baseline set's label (★★★ for the 2020 set, ★★★★ for the 2030 set).
    Pass the exact ratio: a ratio rounded to 4 dp can cross a threshold (0.849996 → 0.8500).
    `grade_for_evaluation` avoids the division altogether.
    """
    _check_label(full_label)
    ratio = _to_decimal(achievement_ratio, "achievement")
    if ratio >= rule.full_threshold:
        return full_label
    if ratio >= rule.partial_threshold:
        return rule.partial_label
    return None


def grade_for_evaluation(
    baseline_value: NumberLike,
    evaluation: NumberLike,
    full_label: str,
    rule: GradeRule = GRADE_RULE,
) -> str | None:
    """Grade by 第三条 as written: evaluation ≤ baseline → full grade; evaluation ≤ baseline ÷ 0.85
    → ★★; otherwise None (not certifiable).

    Compared as evaluation × threshold ≤ baseline, which is exact in Decimal (no division), so a
    value exactly at baseline ÷ 0.85 gets ★★ and anything above it does not.
    """
    _check_label(full_label)
    baseline = _positive(baseline_value, "baseline_value")
    value = _positive(evaluation, "evaluation_value")
    with localcontext(_DECIMAL_CONTEXT):
        if value * rule.full_threshold <= baseline:
            return full_label
        if value * rule.partial_threshold <= baseline:
            return rule.partial_label
    return None


# --------------------------------------------------------------------------------------------
# Assessments (one application)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmissionFactorRef:
    """An emission factor as used in a calculation: its id and label travel with the result.

    Diesel: kgCO2 per litre (unit ending in ``/L``); grid electricity: kgCO2e per kWh (unit
    ending in ``/kWh``).
    """

    id: Hashable
    label: str
    value: Decimal
    unit: str


@dataclass(frozen=True)
class Assessment:
    """The outcome of assessing one model against one baseline set.

    Fuel path: `achievement` and `grade` per 第三条; `certifiable` is False below 85 %.
    Electric path (GX): `grade` is the GX label, `achievement` is None, `co2e_achievement` is
    the reported CO2-equivalent achievement and `factors_used` names the factors behind it.
    """

    drive: str
    evaluation_value: Decimal
    evaluation_unit: str
    size_class: SizeClass
    achievement: Decimal | None
    grade: str | None
    certifiable: bool
    co2e_achievement: Decimal | None = None
    factors_used: dict[str, EmissionFactorRef] = field(default_factory=dict)

    @property
    def baseline_value(self) -> Decimal:
        return self.size_class.baseline_value


def assess_diesel(
    *,
    size_value: NumberLike,
    classes: Sequence[SizeClass],
    measurements: Mapping[str, NumberLike],
    weights: Mapping[str, NumberLike],
    full_label: str,
    drive: str = "diesel",
    grade_rule: GradeRule = GRADE_RULE,
    rounding: RoundingRule = ACHIEVEMENT_ROUNDING,
    drive_paths: DrivePaths = DRIVE_PATHS,
) -> Assessment:
    """Assess a fuel-driven (diesel / hybrid) model: size class, evaluation value (別紙一),
    achievement and grade (規程 第三条)."""
    if drive not in drive_paths.fuel_drives:
        raise CertificationRuleError(
            "drive",
            f"drive {drive!r} is not assessed on fuel (fuel drives: "
            f"{sorted(drive_paths.fuel_drives)}; electric drives use assess_electric)",
        )
    _check_label(full_label)
    size_class = find_size_class(classes, size_value)
    value = evaluation_value(measurements, weights)
    grade = grade_for_evaluation(size_class.baseline_value, value, full_label, grade_rule)
    return Assessment(
        drive=drive,
        evaluation_value=value,
        evaluation_unit=size_class.unit,
        size_class=size_class,
        achievement=achievement(size_class.baseline_value, value, rounding),
        grade=grade,
        certifiable=grade is not None,
    )


def _work_unit(size_class: SizeClass) -> str:
    """'L/h' → 'h': the work unit shared by the diesel baseline and the kWh evaluation."""
    numerator, slash, work_unit = size_class.unit.partition("/")
    if numerator != "L" or not slash or not work_unit:
        raise CertificationRuleError(
            f"size_class.{size_class.id}.unit",
            f"the CO2-equivalent comparison needs a baseline in diesel litres per work unit "
            f"(e.g. 'L/h'), got {size_class.unit!r}",
        )
    return work_unit


def _check_factor(factor: EmissionFactorRef, field_name: str, per_unit: str) -> Decimal:
    value = _positive(factor.value, f"{field_name}.value")
    if not factor.unit.endswith(f"/{per_unit}"):
        raise CertificationRuleError(
            f"{field_name}.unit",
            f"{field_name} must be per {per_unit} (e.g. 'kgCO2/{per_unit}'), got {factor.unit!r}",
        )
    return value


def assess_electric(
    *,
    size_value: NumberLike,
    classes: Sequence[SizeClass],
    kwh_measurements: Mapping[str, NumberLike],
    weights: Mapping[str, NumberLike],
    diesel_factor: EmissionFactorRef,
    grid_factor: EmissionFactorRef,
    drive: str = "battery_electric",
    rounding: RoundingRule = ACHIEVEMENT_ROUNDING,
    drive_paths: DrivePaths = DRIVE_PATHS,
) -> Assessment:
    """Assess a battery / cable electric model (GX建設機械認定制度).

    Eligibility is the drive; the electricity evaluation value is Σ weight × kWh per work unit of
    the same test method. MLIT has no electricity baseline, so the CO2-equivalent achievement is
    reported: (baseline L × diesel kgCO2/L) ÷ (evaluation kWh × grid kgCO2e/kWh), rounded like
    `achievement`. `certifiable` is True: no calculation rule blocks a GX certificate (the
    reviewer still checks the documents).
    """
    if drive not in drive_paths.electric_drives:
        raise CertificationRuleError(
            "drive",
            f"drive {drive!r} is not an electric drive "
            f"({sorted(drive_paths.electric_drives)}); fuel drives use assess_diesel",
        )
    size_class = find_size_class(classes, size_value)
    work_unit = _work_unit(size_class)
    diesel_kg_per_litre = _check_factor(diesel_factor, "diesel_factor", "L")
    grid_kg_per_kwh = _check_factor(grid_factor, "grid_factor", "kWh")
    kwh_value = evaluation_value(kwh_measurements, weights)
    with localcontext(_DECIMAL_CONTEXT):
        baseline_co2_kg = size_class.baseline_value * diesel_kg_per_litre
        electric_co2_kg = kwh_value * grid_kg_per_kwh
        co2e = (baseline_co2_kg / electric_co2_kg).quantize(rounding.quantum, rounding=rounding.rounding)
    return Assessment(
        drive=drive,
        evaluation_value=kwh_value,
        evaluation_unit=f"kWh/{work_unit}",
        size_class=size_class,
        achievement=None,
        grade=drive_paths.electric_label,
        certifiable=True,
        co2e_achievement=co2e,
        factors_used={"diesel": diesel_factor, "grid": grid_factor},
    )


# --------------------------------------------------------------------------------------------
# Competition check
# --------------------------------------------------------------------------------------------

COMPETITION_COLUMNS = ("category", "class_id", "maker_id")


def is_designatable(maker_ids: Iterable[Hashable], rule: CompetitionRule = COMPETITION_RULE) -> bool:
    """True if at least `rule.min_makers` (3) distinct makers hold active certificates in one
    category/class (Taiwan 綠色採購績效評核方法: ≥ 3 vendors → designated item)."""
    return len(set(maker_ids)) >= rule.min_makers


def _require_columns(rows: pd.DataFrame, columns: Sequence[str]) -> None:
    for column in columns:
        if column not in rows.columns:
            raise CertificationRuleError(f"rows.{column}", f"column {column!r} is required")
        if rows[column].isna().any():
            raise CertificationRuleError(f"rows.{column}", f"column {column!r} has empty values")


def competition(rows: pd.DataFrame, rule: CompetitionRule = COMPETITION_RULE) -> pd.DataFrame:
    """Distinct makers per category/class among ACTIVE certificates, and whether the class is
    designatable (makers ≥ 3; seeds/001 績效評核方法, seeds/000 §3.3).

    `rows`: one row per active certificate with columns category, class_id, maker_id (the caller
    filters on status). Returns columns category, class_id, makers, designatable, sorted by
    category and class_id.
    """
    _require_columns(rows, COMPETITION_COLUMNS)
    counts = (
        rows.groupby(["category", "class_id"], sort=True)["maker_id"].nunique().rename("makers").reset_index()
    )
    counts["makers"] = counts["makers"].astype("int64")
    counts["designatable"] = counts["makers"] >= rule.min_makers
    return counts[["category", "class_id", "makers", "designatable"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Baseline review
# --------------------------------------------------------------------------------------------

REVIEW_COLUMNS = (
    "class_id",
    "n_models",
    "n_makers",
    "proposal",
    "value",
    "models_passing",
    "makers_passing",
)


@dataclass(frozen=True)
class BaselineProposal:
    """One proposed next baseline for one class and what it would let through."""

    proposal: str
    value: float
    models_passing: int
    makers_passing: int


def _linear_percentile(sorted_values: Sequence[float], q: float) -> float:
    """Percentile with linear interpolation between order statistics (PERCENTILE.INC).

    Written with the same float operations as pandas' groupby quantile, so the per-class and the
    vectorised review agree to the last bit.
    """
    position = q * (len(sorted_values) - 1)
    index = int(position)
    fraction = position % 1
    value = sorted_values[index]
    if fraction == 0.0:
        return value
    return value + (sorted_values[index + 1] - value) * fraction


def _review_series(values: pd.Series, field_name: str) -> pd.Series:
    """Evaluation values as float64, checked > 0 and finite (vectorised for numeric columns)."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        floats = values.astype("float64").reset_index(drop=True)
        bad = ~(np.isfinite(floats) & (floats > 0))
        if bad.any():
            raw = floats[bad].iloc[0]
            raise CertificationRuleError(field_name, f"{field_name}: must be > 0, got {raw!r}")
        return floats
    return pd.Series(_review_floats(values, field_name), dtype="float64")


def _review_floats(values: Iterable[object], field_name: str) -> list[float]:
    floats: list[float] = []
    for raw in values:
        number = float(_positive(raw, field_name))
        if not math.isfinite(number):
            raise CertificationRuleError(field_name, f"{field_name}: {raw!r} is out of range")
        floats.append(number)
    return floats


def propose_class_baselines(
    evaluation_values: Sequence[NumberLike],
    maker_ids: Sequence[Hashable],
    rule: BaselineReviewRule = BASELINE_REVIEW_RULE,
) -> list[BaselineProposal]:
    """Next-baseline proposals for ONE class from its active certificates' evaluation values.

    Proposals: the top-runner value (lowest evaluation value, as MLIT set the 2020 baselines) and
    the 30th / 50th percentiles (the eco-label committee's 前30% gold / 前50% silver). For each,
    the number of models and of distinct makers with evaluation ≤ proposal. Lower is better.
    """
    if len(evaluation_values) != len(maker_ids):
        raise CertificationRuleError("maker_ids", "evaluation_values and maker_ids must have the same length")
    if not evaluation_values:
        raise CertificationRuleError("evaluation_values", "no evaluation values for the class")
    if rule.interpolation != "linear":
        raise CertificationRuleError(
            "rule.interpolation", "the per-class review implements linear interpolation only"
        )
    values = _review_floats(evaluation_values, "evaluation_values")
    ordered = sorted(values)
    candidates = [(TOP_RUNNER_PROPOSAL, ordered[0])] + [
        (name, _linear_percentile(ordered, q)) for name, q in rule.percentiles
    ]
    proposals = []
    for name, threshold in candidates:
        passing_makers = {maker for value, maker in zip(values, maker_ids, strict=True) if value <= threshold}
        proposals.append(
            BaselineProposal(
                proposal=name,
                value=threshold,
                models_passing=sum(1 for value in values if value <= threshold),
                makers_passing=len(passing_makers),
            )
        )
    return proposals


def review_baselines(rows: pd.DataFrame, rule: BaselineReviewRule = BASELINE_REVIEW_RULE) -> pd.DataFrame:
    """Vectorised baseline review over all classes (same rule as `propose_class_baselines`).

    `rows`: one row per actively certified model with columns class_id, evaluation_value (> 0,
    Decimal or float), maker_id. Returns one row per class and proposal with columns class_id,
    n_models, n_makers, proposal (top_runner, p30, p50), value, models_passing, makers_passing,
    sorted by class_id then proposal; values are float.
    """
    _require_columns(rows, ("class_id", "evaluation_value", "maker_id"))
    data = pd.DataFrame(
        {
            "class_id": rows["class_id"].to_numpy(),
            "evaluation_value": _review_series(rows["evaluation_value"], "rows.evaluation_value").to_numpy(),
            "maker_id": rows["maker_id"].to_numpy(),
        }
    )
    proposal_names = [TOP_RUNNER_PROPOSAL] + [name for name, _ in rule.percentiles]
    if data.empty:
        return pd.DataFrame({column: [] for column in REVIEW_COLUMNS})

    grouped = data.groupby("class_id", sort=True)
    stats = grouped.agg(
        n_models=("evaluation_value", "size"),
        n_makers=("maker_id", "nunique"),
        **{TOP_RUNNER_PROPOSAL: ("evaluation_value", "min")},
    )
    for name, q in rule.percentiles:
        stats[name] = grouped["evaluation_value"].quantile(q, interpolation=rule.interpolation)
    proposals = stats.reset_index().melt(
        id_vars=["class_id", "n_models", "n_makers"],
        value_vars=proposal_names,
        var_name="proposal",
        value_name="value",
    )

    # Every model of a class against every proposal of that class: rows × 3, fine at the scale
    # of a certificate register (thousands of models).
    paired = data.merge(proposals[["class_id", "proposal", "value"]], on="class_id")
    passing = paired[paired["evaluation_value"] <= paired["value"]]
    counts = passing.groupby(["class_id", "proposal"]).agg(
        models_passing=("evaluation_value", "size"),
        makers_passing=("maker_id", "nunique"),
    )
    result = proposals.merge(counts.reset_index(), on=["class_id", "proposal"], how="left")
    for column in ("n_models", "n_makers", "models_passing", "makers_passing"):
        result[column] = result[column].fillna(0).astype("int64")
    order = {name: position for position, name in enumerate(proposal_names)}
    result["_order"] = result["proposal"].map(order)
    result = result.sort_values(["class_id", "_order"], kind="stable")
    return result[list(REVIEW_COLUMNS)].reset_index(drop=True)
