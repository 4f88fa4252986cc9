"""Tests of the pure certification calculations (gxmachinery.efficiency).

Worked examples are computed by hand in the comments; hypothesis properties check monotonicity,
bounds and invariance to row order.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from gxmachinery import efficiency
from gxmachinery.efficiency import (
    CertificationRuleError,
    EmissionFactorRef,
    SizeClass,
    achievement,
    assess_diesel,
    assess_electric,
    competition,
    evaluation_value,
    find_size_class,
    grade_for,
    grade_for_evaluation,
    is_designatable,
    propose_class_baselines,
    review_baselines,
    validate_mode_weights,
)
from gxmachinery.rules import (
    ACHIEVEMENT_ROUNDING,
    BASELINE_REVIEW_RULE,
    COMPETITION_RULE,
    DRIVE_PATHS,
    GRADE_RULE,
)

D = Decimal
FULL_2020 = "★★★"
FULL_2030 = "★★★★"
WEIGHTS = {"digging_loading": D("0.5"), "leveling": D("0.3"), "idling": D("0.2")}
EXCAVATOR_CLASSES = [
    SizeClass("small", D("0.25"), D("0.47"), D("6.9"), "L/h"),
    SizeClass("medium", D("0.47"), D("1.05"), D("14.2"), "L/h"),
    SizeClass("large", D("1.05"), None, D("20.5"), "L/h"),
]
DIESEL_JP = EmissionFactorRef("ef-diesel-jp", "Japan diesel (温対法施行令)", D("2.58"), "kgCO2/L")
GRID_TW_2023 = EmissionFactorRef("ef-grid-tw-2023", "Taiwan grid 2023", D("0.494"), "kgCO2e/kWh")

SEED_PATH = Path(efficiency.__file__).parent / "data" / "reference_seed.json"


# ---------------------------------------------------------------------------------------------
# Evaluation value
# ---------------------------------------------------------------------------------------------


def test_evaluation_value_worked_example() -> None:
    # 0.5 × 20 + 0.3 × 10 + 0.2 × 4 = 10 + 3 + 0.8 = 13.8 L/h
    measured = {"digging_loading": D("20"), "leveling": D("10"), "idling": D("4")}
    assert evaluation_value(measured, WEIGHTS) == D("13.8")


def test_evaluation_value_accepts_strings_and_floats_without_binary_noise() -> None:
    # 0.5 × 0.1 + 0.3 × 0.2 + 0.2 × 0.3 = 0.05 + 0.06 + 0.06 = 0.17 exactly
    measured = {"digging_loading": 0.1, "leveling": "0.2", "idling": D("0.3")}
    assert evaluation_value(measured, WEIGHTS) == D("0.17")


def test_missing_mode_is_named() -> None:
    with pytest.raises(CertificationRuleError) as caught:
        evaluation_value({"digging_loading": D(20), "leveling": D(10)}, WEIGHTS)
    assert caught.value.field == "measurements.idling"
    assert "idling" in str(caught.value)


def test_extra_mode_is_named() -> None:
    measured = {"digging_loading": D(20), "leveling": D(10), "idling": D(4), "travel": D(9)}
    with pytest.raises(CertificationRuleError) as caught:
        evaluation_value(measured, WEIGHTS)
    assert caught.value.field == "measurements.travel"


@pytest.mark.parametrize("bad", [D(0), D("-1.5"), D("NaN"), D("Infinity"), "abc", True, None])
def test_measured_value_must_be_positive_finite_number(bad: object) -> None:
    measured = {"digging_loading": D(20), "leveling": bad, "idling": D(4)}
    with pytest.raises(CertificationRuleError) as caught:
        evaluation_value(measured, WEIGHTS)  # type: ignore[arg-type]
    assert caught.value.field == "measurements.leveling"


def test_weights_must_be_positive_and_present() -> None:
    with pytest.raises(CertificationRuleError) as caught:
        evaluation_value({"a": D(1)}, {"a": D(0)})
    assert caught.value.field == "weights.a"
    with pytest.raises(CertificationRuleError) as caught:
        evaluation_value({}, {})
    assert caught.value.field == "weights"


def test_validate_mode_weights_requires_unit_sum() -> None:
    assert validate_mode_weights(WEIGHTS) == WEIGHTS
    with pytest.raises(CertificationRuleError) as caught:
        validate_mode_weights({"a": D("0.5"), "b": D("0.49")})
    assert caught.value.field == "weights"


# ---------------------------------------------------------------------------------------------
# Achievement and grade (規程 第三条)
# ---------------------------------------------------------------------------------------------


def test_achievement_worked_example() -> None:
    # 14.2 / 13.8 = 1.028985507… → 4 dp half-up → 1.0290
    assert achievement(D("14.2"), D("13.8")) == D("1.0290")
    # 17 / 20 = 0.85 exactly
    assert achievement(D(17), D(20)) == D("0.8500")
    # half-up at the 5th decimal: 1 / 0.8 = 1.25; 0.12345 / 1 → 0.1235 (not banker's 0.1234)
    assert achievement(D("0.12345"), D(1)) == D("0.1235")


def test_grade_at_and_around_the_baseline() -> None:
    baseline = D("14.2")
    # evaluation = baseline → full grade
    assert grade_for_evaluation(baseline, D("14.2"), FULL_2020) == FULL_2020
    assert grade_for_evaluation(baseline, D("14.2001"), FULL_2020) == "★★"
    assert grade_for_evaluation(baseline, D("13.8"), FULL_2030) == FULL_2030  # label is an input


def test_grade_at_the_85_percent_boundary() -> None:
    # baseline 17 → baseline / 0.85 = 20 exactly
    assert grade_for_evaluation(D(17), D(20), FULL_2020) == "★★"
    assert grade_for_evaluation(D(17), D("20.0001"), FULL_2020) is None
    assert grade_for_evaluation(D(17), D("19.9999"), FULL_2020) == "★★"


def test_rounded_achievement_can_read_0_85_while_grade_is_decided_exactly() -> None:
    # 17 / 20.0001 = 0.849995750… → reported 0.8500, but 20.0001 > 17 / 0.85 = 20 → no grade.
    assert achievement(D(17), D("20.0001")) == D("0.8500")
    assert grade_for_evaluation(D(17), D("20.0001"), FULL_2020) is None
    assert grade_for(D(17) / D("20.0001"), FULL_2020) is None


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (D("1.2"), FULL_2020),
        (D("1.00"), FULL_2020),
        (D("0.9999"), "★★"),
        (D("0.85"), "★★"),
        (D("0.8499"), None),
        (D("0.1"), None),
    ],
)
def test_grade_for_ratio(ratio: Decimal, expected: str | None) -> None:
    assert grade_for(ratio, FULL_2020) == expected


def test_grade_needs_a_label() -> None:
    with pytest.raises(CertificationRuleError) as caught:
        grade_for(D(1), "")
    assert caught.value.field == "full_grade_label"


# ---------------------------------------------------------------------------------------------
# Size classes [lower, upper)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "class_id"),
    [
        (D("0.25"), "small"),
        (D("0.4699"), "small"),
        (D("0.47"), "medium"),
        (D("1.0499"), "medium"),
        (D("1.05"), "large"),
        (D("40"), "large"),
        ("0.8", "medium"),
    ],
)
def test_find_size_class_half_open(size: Decimal, class_id: str) -> None:
    assert find_size_class(EXCAVATOR_CLASSES, size).id == class_id


@pytest.mark.parametrize("size", [D("0.2499"), D(0), D(-1)])
def test_size_outside_every_class_is_a_domain_error(size: Decimal) -> None:
    with pytest.raises(CertificationRuleError) as caught:
        find_size_class(EXCAVATOR_CLASSES, size)
    assert caught.value.field == "size_value"
    assert "outside every size class" in str(caught.value)


def test_upper_bound_of_closed_class_is_excluded() -> None:
    classes = [SizeClass(1, D(40), D(56), D("7.2"), "L/h")]
    with pytest.raises(CertificationRuleError):
        find_size_class(classes, D(56))


def test_overlapping_classes_are_reported() -> None:
    classes = [SizeClass("a", D(0), D(10), D(1), "L/h"), SizeClass("b", D(5), None, D(2), "L/h")]
    with pytest.raises(CertificationRuleError) as caught:
        find_size_class(classes, D(7))
    assert caught.value.field == "classes"


def test_size_class_validates_itself() -> None:
    with pytest.raises(CertificationRuleError) as caught:
        SizeClass("x", D(5), D(5), D(1), "L/h")
    assert caught.value.field == "size_class.x.upper"
    with pytest.raises(CertificationRuleError) as caught:
        SizeClass("x", D(0), None, D(0), "L/h")
    assert caught.value.field == "size_class.x.baseline_value"
    # numbers from JSON (floats) are normalised to Decimal
    built = SizeClass("x", 0.47, 1.05, 14.2, "L/h")  # type: ignore[arg-type]
    assert (built.lower, built.upper, built.baseline_value) == (D("0.47"), D("1.05"), D("14.2"))


# ---------------------------------------------------------------------------------------------
# Assessments
# ---------------------------------------------------------------------------------------------


def test_assess_diesel_worked_example() -> None:
    # bucket 0.8 m3 → class "medium" (baseline 14.2 L/h); evaluation 13.8 → 1.0290 → ★★★
    result = assess_diesel(
        size_value=D("0.8"),
        classes=EXCAVATOR_CLASSES,
        measurements={"digging_loading": D(20), "leveling": D(10), "idling": D(4)},
        weights=WEIGHTS,
        full_label=FULL_2020,
    )
    assert result.size_class.id == "medium"
    assert result.baseline_value == D("14.2")
    assert result.evaluation_value == D("13.8")
    assert result.evaluation_unit == "L/h"
    assert result.achievement == D("1.0290")
    assert result.grade == FULL_2020
    assert result.certifiable is True
    assert result.co2e_achievement is None
    assert result.factors_used == {}


def test_assess_diesel_not_certifiable_below_85_percent() -> None:
    # evaluation 0.5 × 40 + 0.3 × 20 + 0.2 × 10 = 28 L/h; 14.2 / 28 = 0.50714… → 0.5071
    result = assess_diesel(
        size_value=D("0.8"),
        classes=EXCAVATOR_CLASSES,
        measurements={"digging_loading": D(40), "leveling": D(20), "idling": D(10)},
        weights=WEIGHTS,
        full_label=FULL_2020,
        drive="hybrid",
    )
    assert result.achievement == D("0.5071")
    assert result.grade is None
    assert result.certifiable is False


def test_assess_diesel_rejects_electric_drive() -> None:
    with pytest.raises(CertificationRuleError) as caught:
        assess_diesel(
            size_value=D("0.8"),
            classes=EXCAVATOR_CLASSES,
            measurements={"digging_loading": D(20), "leveling": D(10), "idling": D(4)},
            weights=WEIGHTS,
            full_label=FULL_2020,
            drive="battery_electric",
        )
    assert caught.value.field == "drive"


def test_assess_electric_co2e_worked_example() -> None:
    # kWh evaluation: 0.5 × 60 + 0.3 × 30 + 0.2 × 12 = 30 + 9 + 2.4 = 41.4 kWh/h
    # baseline CO2: 14.2 L/h × 2.58 kgCO2/L = 36.636 kgCO2/h
    # electric CO2: 41.4 kWh/h × 0.494 kgCO2e/kWh = 20.4516 kgCO2e/h
    # CO2e achievement = 36.636 / 20.4516 = 1.791351… → 1.7914
    result = assess_electric(
        size_value=D("0.8"),
        classes=EXCAVATOR_CLASSES,
        kwh_measurements={"digging_loading": D(60), "leveling": D(30), "idling": D(12)},
        weights=WEIGHTS,
        diesel_factor=DIESEL_JP,
        grid_factor=GRID_TW_2023,
        drive="cable_electric",
    )
    assert result.evaluation_value == D("41.4")
    assert result.evaluation_unit == "kWh/h"
    assert result.co2e_achievement == D("1.7914")
    assert result.achievement is None
    assert result.grade == DRIVE_PATHS.electric_label
    assert result.certifiable is True
    assert result.factors_used == {"diesel": DIESEL_JP, "grid": GRID_TW_2023}
    assert result.factors_used["grid"].id == "ef-grid-tw-2023"


def test_assess_electric_rejects_fuel_drive_and_wrong_factor_units() -> None:
    kwargs = dict(
        size_value=D("0.8"),
        classes=EXCAVATOR_CLASSES,
        kwh_measurements={"digging_loading": D(60), "leveling": D(30), "idling": D(12)},
        weights=WEIGHTS,
        diesel_factor=DIESEL_JP,
        grid_factor=GRID_TW_2023,
    )
    with pytest.raises(CertificationRuleError) as caught:
        assess_electric(**{**kwargs, "drive": "diesel"})  # type: ignore[arg-type]
    assert caught.value.field == "drive"
    with pytest.raises(CertificationRuleError) as caught:
        assess_electric(**{**kwargs, "grid_factor": DIESEL_JP})  # type: ignore[arg-type]
    assert caught.value.field == "grid_factor.unit"
    zero = EmissionFactorRef("z", "zero", D(0), "kgCO2/L")
    with pytest.raises(CertificationRuleError) as caught:
        assess_electric(**{**kwargs, "diesel_factor": zero})  # type: ignore[arg-type]
    assert caught.value.field == "diesel_factor.value"


def test_assess_electric_needs_litre_baseline() -> None:
    classes = [SizeClass("kg", D(0), None, D(10), "kg/h")]
    with pytest.raises(CertificationRuleError) as caught:
        assess_electric(
            size_value=D(1),
            classes=classes,
            kwh_measurements={"a": D(1)},
            weights={"a": D(1)},
            diesel_factor=DIESEL_JP,
            grid_factor=GRID_TW_2023,
        )
    assert caught.value.field == "size_class.kg.unit"


# ---------------------------------------------------------------------------------------------
# Competition check
# ---------------------------------------------------------------------------------------------


def test_competition_two_versus_three_makers() -> None:
    rows = pd.DataFrame(
        {
            "category": ["hydraulic_excavator"] * 4 + ["wheel_loader"] * 3,
            "class_id": ["medium"] * 4 + ["wl-75"] * 3,
            # excavator/medium: m1 (twice), m2, m3 → 3 makers; loader: m1, m2, m2 → 2 makers
            "maker_id": ["m1", "m1", "m2", "m3", "m1", "m2", "m2"],
        }
    )
    result = competition(rows)
    expected = pd.DataFrame(
        {
            "category": ["hydraulic_excavator", "wheel_loader"],
            "class_id": ["medium", "wl-75"],
            "makers": pd.Series([3, 2], dtype="int64"),
            "designatable": [True, False],
        }
    )
    assert_frame_equal(result, expected, check_dtype=False)
    assert result["makers"].dtype == "int64"
    assert result["designatable"].dtype == bool
    assert is_designatable(["m1", "m2", "m3"]) and not is_designatable(["m1", "m2", "m2"])


def test_competition_requires_columns_and_values() -> None:
    with pytest.raises(CertificationRuleError) as caught:
        competition(pd.DataFrame({"category": ["x"], "class_id": [1]}))
    assert caught.value.field == "rows.maker_id"
    with pytest.raises(CertificationRuleError) as caught:
        competition(pd.DataFrame({"category": ["x"], "class_id": [1], "maker_id": [None]}))
    assert caught.value.field == "rows.maker_id"


def test_competition_of_no_rows_is_empty() -> None:
    empty = pd.DataFrame({"category": [], "class_id": [], "maker_id": []})
    result = competition(empty)
    assert list(result.columns) == ["category", "class_id", "makers", "designatable"]
    assert result.empty


# ---------------------------------------------------------------------------------------------
# Baseline review
# ---------------------------------------------------------------------------------------------


def _review_example() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "class_id": ["A"] * 5 + ["B"],
            "evaluation_value": [D(16), D(10), D(14), D(12), D(18), D("8.0")],
            "maker_id": ["m3", "m1", "m2", "m1", "m3", "m4"],
        }
    )


def test_review_baselines_worked_example() -> None:
    # Class A sorted: 10 (m1), 12 (m1), 14 (m2), 16 (m3), 18 (m3); n = 5, makers 3.
    # top runner = 10 → passes 10 → 1 model, makers {m1} = 1
    # p30: position 0.3 × 4 = 1.2 → 12 + 0.2 × (14 − 12) = 12.4 → passes 10, 12 → 2, {m1} = 1
    # p50: position 0.5 × 4 = 2 → 14 → passes 10, 12, 14 → 3, {m1, m2} = 2
    # Class B: one model 8.0 (m4) → every proposal 8.0, 1 model, 1 maker.
    result = review_baselines(_review_example())
    assert list(result.columns) == [
        "class_id",
        "n_models",
        "n_makers",
        "proposal",
        "value",
        "models_passing",
        "makers_passing",
    ]
    assert result["class_id"].tolist() == ["A", "A", "A", "B", "B", "B"]
    assert result["proposal"].tolist() == ["top_runner", "p30", "p50"] * 2
    assert result["value"].tolist() == pytest.approx([10.0, 12.4, 14.0, 8.0, 8.0, 8.0])
    assert result["models_passing"].tolist() == [1, 2, 3, 1, 1, 1]
    assert result["makers_passing"].tolist() == [1, 1, 2, 1, 1, 1]
    assert result["n_models"].tolist() == [5, 5, 5, 1, 1, 1]
    assert result["n_makers"].tolist() == [3, 3, 3, 1, 1, 1]


def test_propose_class_baselines_worked_example() -> None:
    proposals = propose_class_baselines([D(16), D(10), D(14), D(12), D(18)], ["m3", "m1", "m2", "m1", "m3"])
    assert [p.proposal for p in proposals] == ["top_runner", "p30", "p50"]
    assert [p.value for p in proposals] == pytest.approx([10.0, 12.4, 14.0])
    assert [p.models_passing for p in proposals] == [1, 2, 3]
    assert [p.makers_passing for p in proposals] == [1, 1, 2]


def test_review_rejects_non_positive_values() -> None:
    rows = pd.DataFrame({"class_id": ["A"], "evaluation_value": [0.0], "maker_id": ["m1"]})
    with pytest.raises(CertificationRuleError) as caught:
        review_baselines(rows)
    assert caught.value.field == "rows.evaluation_value"
    with pytest.raises(CertificationRuleError):
        propose_class_baselines([], [])


def test_review_of_no_rows_is_empty() -> None:
    rows = pd.DataFrame({"class_id": [], "evaluation_value": [], "maker_id": []})
    result = review_baselines(rows)
    assert result.empty
    assert "proposal" in result.columns


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

positive_decimals = st.decimals(
    min_value=D("0.01"), max_value=D("1000"), places=2, allow_nan=False, allow_infinity=False
)
review_values = st.floats(min_value=0.1, max_value=500.0, allow_nan=False, allow_infinity=False)
makers = st.sampled_from(["m1", "m2", "m3", "m4", "m5"])
classes_ids = st.sampled_from(["A", "B", "C"])
GRADE_RANK = {FULL_2020: 2, "★★": 1, None: 0}


@settings(max_examples=150, deadline=None)
@given(
    measured=st.fixed_dictionaries({mode: positive_decimals for mode in WEIGHTS}),
    mode=st.sampled_from(sorted(WEIGHTS)),
    increase=positive_decimals,
    baseline=positive_decimals,
)
def test_achievement_falls_as_any_measured_value_grows(
    measured: dict[str, Decimal], mode: str, increase: Decimal, baseline: Decimal
) -> None:
    worse = {**measured, mode: measured[mode] + increase}
    before, after = evaluation_value(measured, WEIGHTS), evaluation_value(worse, WEIGHTS)
    assert after > before
    assert achievement(baseline, after) <= achievement(baseline, before)
    assert (
        GRADE_RANK[grade_for_evaluation(baseline, after, FULL_2020)]
        <= GRADE_RANK[grade_for_evaluation(baseline, before, FULL_2020)]
    )


@settings(max_examples=150, deadline=None)
@given(baseline=positive_decimals, first=positive_decimals, second=positive_decimals)
def test_grade_is_monotone_and_agrees_with_reported_achievement(
    baseline: Decimal, first: Decimal, second: Decimal
) -> None:
    better, worse = sorted([first, second])
    assert (
        GRADE_RANK[grade_for_evaluation(baseline, worse, FULL_2020)]
        <= GRADE_RANK[grade_for_evaluation(baseline, better, FULL_2020)]
    )
    grade = grade_for_evaluation(baseline, worse, FULL_2020)
    reported = achievement(baseline, worse)
    if grade == FULL_2020:
        assert reported >= GRADE_RULE.full_threshold
    elif grade == "★★":
        assert reported >= GRADE_RULE.partial_threshold
    else:
        # Exactly below 0.85 can be reported as 0.8500 at most (4 dp), never above.
        assert reported <= GRADE_RULE.partial_threshold
    # The exact ratio graded by grade_for agrees with the division-free comparison.
    assert grade_for(baseline / worse, FULL_2020) == grade


@settings(max_examples=100, deadline=None)
@given(
    widths=st.lists(positive_decimals, min_size=1, max_size=5),
    start=positive_decimals,
    open_top=st.booleans(),
    data=st.data(),
)
def test_find_size_class_returns_the_class_holding_the_value(
    widths: list[Decimal], start: Decimal, open_top: bool, data: st.DataObject
) -> None:
    bounds = [start]
    for width in widths:
        bounds.append(bounds[-1] + width)
    last = len(widths) - 1
    classes = [
        SizeClass(index, lower, None if open_top and index == last else upper, D(1), "L/h")
        for index, (lower, upper) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]
    size = data.draw(st.decimals(min_value=start, max_value=bounds[-1] - D("0.01"), places=2))
    found = find_size_class(classes, size)
    assert found.lower <= size and (found.upper is None or size < found.upper)
    with pytest.raises(CertificationRuleError):
        find_size_class(classes, start - D("0.01"))


review_rows = st.lists(st.tuples(classes_ids, review_values, makers), min_size=1, max_size=30)


def _frame(rows: list[tuple[str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["class_id", "evaluation_value", "maker_id"])


@settings(max_examples=100, deadline=None)
@given(rows=review_rows, data=st.data())
def test_review_is_invariant_to_row_order(rows: list[tuple[str, float, str]], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(rows))
    assert_frame_equal(review_baselines(_frame(rows)), review_baselines(_frame(shuffled)))


@settings(max_examples=100, deadline=None)
@given(rows=review_rows)
def test_review_proposals_are_ordered_and_counts_monotone(
    rows: list[tuple[str, float, str]],
) -> None:
    result = review_baselines(_frame(rows))
    for class_id, group in result.groupby("class_id"):
        values = group["value"].tolist()
        assert group["proposal"].tolist() == ["top_runner", "p30", "p50"]
        assert values[0] <= values[1] <= values[2]
        assert values[0] == min(v for c, v, _ in rows if c == class_id)
        models = group["models_passing"].tolist()
        makers_passing = group["makers_passing"].tolist()
        assert 1 <= models[0] <= models[1] <= models[2] <= group["n_models"].iloc[0]
        assert 1 <= makers_passing[0] <= makers_passing[1] <= makers_passing[2]
        assert makers_passing[2] <= group["n_makers"].iloc[0]


@settings(max_examples=100, deadline=None)
@given(rows=review_rows)
def test_vectorised_review_matches_per_class_function(rows: list[tuple[str, float, str]]) -> None:
    result = review_baselines(_frame(rows))
    for class_id, group in result.groupby("class_id"):
        members = [(v, m) for c, v, m in rows if c == class_id]
        proposals = propose_class_baselines([v for v, _ in members], [m for _, m in members])
        assert [p.proposal for p in proposals] == group["proposal"].tolist()
        assert [p.value for p in proposals] == group["value"].tolist()
        assert [p.models_passing for p in proposals] == group["models_passing"].tolist()
        assert [p.makers_passing for p in proposals] == group["makers_passing"].tolist()


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(st.tuples(st.sampled_from(["exc", "wl"]), classes_ids, makers), min_size=1, max_size=30),
    data=st.data(),
)
def test_competition_counts_distinct_makers_in_any_order(
    rows: list[tuple[str, str, str]], data: st.DataObject
) -> None:
    frame = pd.DataFrame(rows, columns=["category", "class_id", "maker_id"])
    shuffled = pd.DataFrame(data.draw(st.permutations(rows)), columns=["category", "class_id", "maker_id"])
    result = competition(frame)
    assert_frame_equal(result, competition(shuffled))
    for record in result.itertuples():
        expected = {m for c, k, m in rows if (c, k) == (record.category, record.class_id)}
        assert record.makers == len(expected)
        assert record.designatable == (len(expected) >= COMPETITION_RULE.min_makers)


# ---------------------------------------------------------------------------------------------
# Rules and reference seed data
# ---------------------------------------------------------------------------------------------


def test_rules_carry_sources() -> None:
    for rule in (GRADE_RULE, ACHIEVEMENT_ROUNDING, COMPETITION_RULE, BASELINE_REVIEW_RULE, DRIVE_PATHS):
        assert rule.source.strip()
    assert GRADE_RULE.full_threshold == D("1.00") and GRADE_RULE.partial_threshold == D("0.85")
    assert COMPETITION_RULE.min_makers == 3
    assert dict(BASELINE_REVIEW_RULE.percentiles) == {"p30": 0.30, "p50": 0.50}


def _seed() -> dict:
    with SEED_PATH.open(encoding="utf-8") as handle:
        return json.load(handle, parse_float=Decimal)


def test_reference_seed_structure_and_sources() -> None:
    seed = _seed()
    categories = {row["code"]: row for row in seed["categories"]}
    assert set(categories) == {"hydraulic_excavator", "wheel_loader", "bulldozer", "wheel_crane"}
    for row in seed["categories"]:
        assert row["source"] and row["size_attribute"] and row["size_unit"]
    methods = {row["category"]: row for row in seed["test_methods"]}
    assert set(methods) == set(categories)
    for method in seed["test_methods"]:
        assert method["source"]
        assert all(mode["source"] for mode in method["modes"])
        validate_mode_weights({mode["code"]: mode["weight"] for mode in method["modes"]})
    labels = {row["code"]: row["full_grade_label"] for row in seed["baseline_sets"]}
    assert labels == {"MLIT_2020": FULL_2020, "MLIT_2030": FULL_2030}


def test_reference_seed_classes_are_contiguous_and_valid() -> None:
    seed = _seed()
    units = {method["category"]: method["unit"] for method in seed["test_methods"]}
    for baseline_set in seed["baseline_sets"]:
        assert baseline_set["source"] and baseline_set["effective_from"]
        by_category: dict[str, list[SizeClass]] = {}
        for index, row in enumerate(baseline_set["classes"]):
            assert row["source"]
            assert row["unit"] == units[row["category"]]
            by_category.setdefault(row["category"], []).append(
                SizeClass(index, row["lower"], row["upper"], row["baseline_value"], row["unit"])
            )
        for classes in by_category.values():
            ordered = sorted(classes, key=lambda size_class: size_class.lower)
            for below, above in zip(ordered, ordered[1:], strict=False):
                assert below.upper == above.lower  # no gap, no overlap
            for size_class in ordered:
                assert find_size_class(ordered, size_class.lower) is size_class


def test_2030_baselines_are_not_looser_than_2020() -> None:
    seed = _seed()
    sets = {row["code"]: row for row in seed["baseline_sets"]}
    old = {(r["category"], r["lower"]): r["baseline_value"] for r in sets["MLIT_2020"]["classes"]}
    for row in sets["MLIT_2030"]["classes"]:
        assert row["baseline_value"] <= old[(row["category"], row["lower"])]
