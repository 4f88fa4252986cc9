"""Tests of registry.carbon: worked examples by hand plus hypothesis properties."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry import carbon
from registry.carbon import (
    EmissionFactor,
    FactorNotFoundError,
    ReferenceRate,
    UsageLogInput,
    actual_co2_kg,
    add_fulfilment,
    commitment_fulfilment,
    compute_log_co2,
    default_reference_rate_l_per_kwh,
    history_by_year,
    ipcc_diesel_co2_kg_per_litre,
    load_emission_factors,
    load_reference_rates,
    reference_co2_kg,
    rolling_window_summary,
    select_factor,
    select_reference_rate,
)

JP_DIESEL = EmissionFactor(1, "diesel", "JP", 2006, 2.58, "kgCO2/L", "温対法施行令")
TW_GRID_2023 = EmissionFactor(2, "grid_electricity", "TW", 2023, 0.494, "kgCO2e/kWh", "能源署")
DEFAULT_RATE = ReferenceRate(9, "*", 0.158, "EPA NONROAD default", is_default=True)


# --- seed data and constants -----------------------------------------------------------------


def test_default_reference_rate_rounds_to_design_value() -> None:
    # 0.367 lb/hp·h × 0.45359237 / 0.745699872 = 0.22324 kg/kWh; / 0.8325 kg/L = 0.26815 L/kWh;
    # × 0.59 = 0.15821 L/kW·h -> 0.158 (DESIGN.md).
    rate = default_reference_rate_l_per_kwh()
    assert rate == pytest.approx(0.15821, abs=1e-5)
    assert round(rate, 3) == 0.158


def test_default_rate_depends_on_density_as_documented() -> None:
    # With 0.84 kg/L the same chain gives 0.22324 / 0.84 × 0.59 = 0.15680 -> 0.157.
    dense = carbon.SourcedConstant(0.84, "kg/L", "test")
    assert round(default_reference_rate_l_per_kwh(diesel_density_kg_per_l=dense), 3) == 0.157


def test_ipcc_diesel_factor_per_litre() -> None:
    # 74,100 kgCO2/TJ × 43.0 TJ/Gg = 3.1863 kgCO2/kg; × 0.8325 kg/L = 2.65259 kgCO2/L.
    assert ipcc_diesel_co2_kg_per_litre() == pytest.approx(2.65259, abs=1e-5)


def test_seed_factors_match_their_derivations() -> None:
    factors = {f.id: f for f in load_emission_factors()}
    assert all(f.source for f in factors.values())
    assert factors["diesel:TW:2006"].value == round(ipcc_diesel_co2_kg_per_litre(), 4)
    assert factors["diesel:JP:2006"].value == 2.58
    for jurisdiction in ("TW", "JP"):
        diesel = factors[f"diesel:{jurisdiction}:2006"].value
        b20 = factors[f"B20:{jurisdiction}:2006"].value
        assert b20 == round(carbon.B20_FOSSIL_SHARE.value * diesel, 4)
        assert factors[f"HVO:{jurisdiction}:2006"].value == 0
    tw_grid = {
        f.year: f.value
        for f in factors.values()
        if f.carrier == "grid_electricity" and f.jurisdiction == "TW"
    }
    assert tw_grid == {
        2017: 0.554,
        2018: 0.533,
        2019: 0.509,
        2020: 0.502,
        2021: 0.509,
        2022: 0.495,
        2023: 0.494,
    }


def test_seed_reference_rates() -> None:
    rates = load_reference_rates()
    defaults = [r for r in rates if r.is_default]
    assert [r.category for r in defaults] == ["*"]
    assert defaults[0].litres_per_kwh == round(default_reference_rate_l_per_kwh(), 3)
    by_category = {r.category: r.litres_per_kwh for r in rates}
    assert by_category["hydraulic_excavator"] == 0.175
    assert all(0.15 <= r.litres_per_kwh <= 0.18 for r in rates)
    assert all(r.source for r in rates)


# --- lookups -----------------------------------------------------------------------------------


def test_select_factor_exact_year_then_latest_before() -> None:
    factors = load_emission_factors()
    assert select_factor(factors, "grid_electricity", "TW", 2020).value == 0.502
    # 2025 has no published factor: the latest before it (2023) applies.
    assert select_factor(factors, "grid_electricity", "tw", 2025).id == "grid_electricity:TW:2023"
    assert select_factor(factors, "DIESEL", "JP", 2024).value == 2.58


def test_select_factor_never_uses_a_later_year() -> None:
    with pytest.raises(FactorNotFoundError, match="2016"):
        select_factor(load_emission_factors(), "grid_electricity", "TW", 2016)


def test_select_factor_refuses_ambiguous_versions() -> None:
    twin = EmissionFactor(3, "diesel", "JP", 2006, 2.62, "kgCO2/L", "算定省令")
    with pytest.raises(ValueError, match="ambiguous"):
        select_factor([JP_DIESEL, twin], "diesel", "JP", 2024)


def test_select_reference_rate_falls_back_to_default() -> None:
    rates = load_reference_rates()
    assert select_reference_rate(rates, "bulldozer").litres_per_kwh == 0.175
    assert select_reference_rate(rates, "wheel_crane").category == "*"
    with pytest.raises(FactorNotFoundError):
        select_reference_rate([r for r in rates if not r.is_default], "wheel_crane")


# --- per-log CO2: worked examples ------------------------------------------------------------


def test_actual_co2_worked_example() -> None:
    # 100 L diesel × 2.58 + 50 kWh × 0.494 = 258 + 24.7 = 282.7 kg
    actual = actual_co2_kg({"diesel": 100}, 50, {"diesel": JP_DIESEL}, TW_GRID_2023)
    assert actual == pytest.approx(282.7)


def test_reference_co2_worked_example() -> None:
    # 8 h × 100 kW × 0.158 L/kW·h × 2.58 kg/L = 126.4 L × 2.58 = 326.112 kg
    assert reference_co2_kg(8, 100, DEFAULT_RATE, JP_DIESEL) == pytest.approx(326.112)


def test_decimal_inputs_are_accepted() -> None:
    actual = actual_co2_kg({"diesel": Decimal("100")}, Decimal("50"), {"diesel": JP_DIESEL}, TW_GRID_2023)
    assert actual == pytest.approx(282.7)


def test_factor_with_wrong_unit_is_refused() -> None:
    per_tj = EmissionFactor(4, "diesel", "TW", 2006, 74_100, "kgCO2/TJ", "IPCC")
    with pytest.raises(ValueError, match="per L"):
        actual_co2_kg({"diesel": 10}, 0, {"diesel": per_tj}, None)


def test_missing_grid_factor_when_kwh_logged() -> None:
    with pytest.raises(FactorNotFoundError):
        actual_co2_kg({}, 5, {}, None)


def test_negative_quantities_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        actual_co2_kg({"diesel": -1}, 0, {"diesel": JP_DIESEL}, None)
    with pytest.raises(ValueError, match="runtime_h"):
        reference_co2_kg(-1, 100, DEFAULT_RATE, JP_DIESEL)


def test_compute_log_co2_battery_electric_with_seed_data() -> None:
    # TW, 2024 (grid factor: latest before = 2023, 0.494), excavator rate 0.175, TW diesel 2.6526
    # actual    = 400 kWh × 0.494                        = 197.6 kg
    # reference = 8 h × 100 kW × 0.175 × 2.6526           = 371.364 kg
    # reduction = 371.364 − 197.6 = 173.764 kg; ratio = 173.764 / 371.364 = 0.467907
    usage = UsageLogInput(
        log_date=date(2024, 3, 5),
        jurisdiction="TW",
        category="hydraulic_excavator",
        rated_power_kw=100,
        runtime_h=8,
        kwh=400,
        certified=True,
    )
    result = compute_log_co2(usage, load_emission_factors(), load_reference_rates())
    assert result.actual_co2_kg == pytest.approx(197.6)
    assert result.reference_co2_kg == pytest.approx(371.364)
    assert result.reduction_co2_kg == pytest.approx(173.764)
    assert result.reduction_ratio == pytest.approx(0.467907, abs=1e-6)
    assert result.certified is True
    assert result.grid_factor_id == "grid_electricity:TW:2023"
    assert result.fuel_factor_ids == ()
    assert result.reference_diesel_factor_id == "diesel:TW:2006"
    assert result.reference_rate_id == "rate:hydraulic_excavator"
    assert result.reference_rate_is_default is False


def test_compute_log_co2_mixed_fuels_default_rate() -> None:
    # JP 2024, unknown category -> default 0.158. 60 L diesel + 40 L B20, no kWh.
    # actual    = 60 × 2.58 + 40 × 2.064 = 154.8 + 82.56 = 237.36 kg
    # reference = 6 h × 120 kW × 0.158 × 2.58 = 113.76 L × 2.58 = 293.5008 kg
    usage = UsageLogInput(
        log_date=date(2024, 7, 1),
        jurisdiction="JP",
        category="wheel_crane",
        rated_power_kw=120,
        runtime_h=6,
        fuel_litres={"diesel": 60, "B20": 40, "HVO": 0},
    )
    result = compute_log_co2(usage, load_emission_factors(), load_reference_rates())
    assert result.actual_co2_kg == pytest.approx(237.36)
    assert result.reference_co2_kg == pytest.approx(293.5008)
    assert result.fuel_factor_ids == (("B20", "B20:JP:2006"), ("diesel", "diesel:JP:2006"))
    assert result.grid_factor_id is None
    assert result.reference_rate_is_default is True


def test_zero_reference_gives_zero_ratio() -> None:
    usage = UsageLogInput(date(2024, 1, 1), "JP", "bulldozer", rated_power_kw=100, runtime_h=0)
    result = compute_log_co2(usage, load_emission_factors(), load_reference_rates())
    assert result.reference_co2_kg == 0
    assert result.reduction_ratio == 0


quantity = st.floats(min_value=0, max_value=1e5, allow_nan=False)


@settings(max_examples=150)
@given(quantity, quantity, quantity, quantity)
def test_actual_co2_is_monotone_in_fuel_and_kwh(
    fuel_a: float, fuel_extra: float, kwh_a: float, kwh_extra: float
) -> None:
    factors = {"diesel": JP_DIESEL}
    low = actual_co2_kg({"diesel": fuel_a}, kwh_a, factors, TW_GRID_2023)
    more_fuel = actual_co2_kg({"diesel": fuel_a + fuel_extra}, kwh_a, factors, TW_GRID_2023)
    more_both = actual_co2_kg({"diesel": fuel_a + fuel_extra}, kwh_a + kwh_extra, factors, TW_GRID_2023)
    assert low <= more_fuel <= more_both
    assert low >= 0


# --- history ---------------------------------------------------------------------------------


def _logs() -> pd.DataFrame:
    rows = [
        # contractor, project, date, runtime_h, certified, actual, reference
        ("A", "P1", date(2023, 3, 1), 8.0, True, 100.0, 300.0),
        ("A", "P1", date(2023, 3, 2), 4.0, False, 150.0, 150.0),
        ("A", "P1", date(2024, 1, 10), 10.0, True, 50.0, 200.0),
        ("A", "P2", date(2023, 6, 1), 6.0, False, 120.0, 100.0),
        ("B", "P1", date(2023, 7, 1), 0.0, False, 0.0, 0.0),
    ]
    return pd.DataFrame(rows, columns=list(carbon.LOG_COLUMNS))


def test_history_by_year_worked_example() -> None:
    history = history_by_year(_logs())
    # A/P1/2023: hours 8+4 = 12, certified 8, share 8/12; actual 100+150 = 250,
    #            reference 300+150 = 450, reduction 200, ratio 200/450
    # A/P1/2024: 10 h all certified; 50 vs 200 -> reduction 150, ratio 0.75
    # A/P2/2023: 6 h uncertified; 120 vs 100 -> reduction −20, ratio −0.2 (worse than reference)
    # B/P1/2023: nothing logged -> shares and ratio 0, not NaN
    expected = pd.DataFrame(
        {
            "contractor_id": ["A", "A", "A", "B"],
            "project_id": ["P1", "P1", "P2", "P1"],
            "year": [2023, 2024, 2023, 2023],
            "hours": [12.0, 10.0, 6.0, 0.0],
            "certified_hours": [8.0, 10.0, 0.0, 0.0],
            "certified_share": [8 / 12, 1.0, 0.0, 0.0],
            "actual_co2_kg": [250.0, 50.0, 120.0, 0.0],
            "reference_co2_kg": [450.0, 200.0, 100.0, 0.0],
            "reduction_co2_kg": [200.0, 150.0, -20.0, 0.0],
            "reduction_ratio": [200 / 450, 0.75, -0.2, 0.0],
        }
    )
    pd.testing.assert_frame_equal(history, expected, check_dtype=False)


def test_history_of_empty_frame_is_empty() -> None:
    history = history_by_year(_logs().iloc[0:0])
    assert list(history.columns) == list(carbon.HISTORY_COLUMNS)
    assert history.empty


def test_history_refuses_missing_certified_flag() -> None:
    logs = _logs().astype({"certified": object})
    logs.loc[0, "certified"] = None
    with pytest.raises(ValueError, match="certified"):
        history_by_year(logs)


def test_commitment_fulfilment_clamps_and_handles_zero() -> None:
    assert commitment_fulfilment(0.3, 0.5) == pytest.approx(0.6)
    assert commitment_fulfilment(0.8, 0.5) == 1.0  # over-fulfilment is capped at 1
    assert commitment_fulfilment(0.0, 0.0) == 1.0  # nothing promised -> fulfilled
    with pytest.raises(ValueError):
        commitment_fulfilment(1.5, 0.5)


def test_add_fulfilment_worked_example() -> None:
    commitments = pd.DataFrame(
        {"contractor_id": ["A", "A"], "project_id": ["P1", "P2"], "committed_share": [0.9, 0.0]}
    )
    result = add_fulfilment(history_by_year(_logs()), commitments)
    # A/P1/2023: (8/12) / 0.9 = 0.740741; A/P1/2024: 1.0 / 0.9 -> capped 1.0;
    # A/P2: committed 0 -> 1.0; B/P1: no commitment -> NaN
    assert result["fulfilment"].iloc[0] == pytest.approx(0.740741, abs=1e-6)
    assert result["fulfilment"].iloc[1] == 1.0
    assert result["fulfilment"].iloc[2] == 1.0
    assert math.isnan(result["fulfilment"].iloc[3])


def test_rolling_window_summary_worked_example() -> None:
    commitments = pd.DataFrame(
        {"contractor_id": ["A", "A"], "project_id": ["P1", "P2"], "committed_share": [0.9, 0.0]}
    )
    summary = rolling_window_summary(_logs(), date(2024, 6, 30), commitments=commitments)
    a = summary.set_index("contractor_id").loc["A"]
    # 36 months back from 2024-06-30 = 2021-06-30 (exclusive): all of A's logs count.
    # hours 8+4+10+6 = 28; certified 18; share 18/28; actual 420; reference 750; ratio 330/750
    assert a["window_start"] == date(2021, 6, 30)
    assert a["hours"] == 28
    assert a["certified_share"] == pytest.approx(18 / 28)
    assert a["reduction_co2_kg"] == 330
    assert a["reduction_ratio"] == pytest.approx(0.44)
    # fulfilment per project in the window: P1 (18/22)/0.9 = 0.909091, P2 committed 0 -> 1.0;
    # unweighted mean = 0.954545
    assert a["average_fulfilment"] == pytest.approx(0.954545, abs=1e-6)
    assert math.isnan(summary.set_index("contractor_id").loc["B", "average_fulfilment"])


def test_rolling_window_is_half_open() -> None:
    logs = _logs()
    # 12 months before 2024-01-10 is 2023-01-10: a log on that day is outside, one on as_of in.
    boundary = pd.DataFrame(
        [("A", "P1", date(2023, 1, 10), 5.0, True, 1.0, 2.0)], columns=list(carbon.LOG_COLUMNS)
    )
    summary = rolling_window_summary(
        pd.concat([logs, boundary], ignore_index=True), date(2024, 1, 10), window_months=12
    )
    a = summary.set_index("contractor_id").loc["A"]
    assert a["hours"] == 8 + 4 + 10 + 6  # the 5 h on 2023-01-10 are not counted
    short = rolling_window_summary(logs, date(2024, 6, 30), window_months=6)
    assert list(short["contractor_id"]) == ["A"]
    assert short["hours"].iloc[0] == 10


log_rows = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from(["P1", "P2"]),
        st.dates(min_value=date(2021, 1, 1), max_value=date(2025, 12, 31)),
        st.floats(min_value=0, max_value=24, allow_nan=False),
        st.booleans(),
        st.floats(min_value=0, max_value=5_000, allow_nan=False),
        st.floats(min_value=0, max_value=5_000, allow_nan=False),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(log_rows, st.randoms(use_true_random=False))
def test_history_invariant_to_row_order_and_sums_per_log(rows: list, rnd) -> None:
    frame = pd.DataFrame(rows, columns=list(carbon.LOG_COLUMNS))
    shuffled_rows = list(rows)
    rnd.shuffle(shuffled_rows)
    shuffled = pd.DataFrame(shuffled_rows, columns=list(carbon.LOG_COLUMNS))

    history = history_by_year(frame)
    pd.testing.assert_frame_equal(history, history_by_year(shuffled), rtol=1e-9, atol=1e-9)

    assert history["hours"].sum() == pytest.approx(frame["runtime_h"].sum())
    assert history["actual_co2_kg"].sum() == pytest.approx(frame["actual_co2_kg"].sum())
    assert history["reference_co2_kg"].sum() == pytest.approx(frame["reference_co2_kg"].sum())
    certified = frame.loc[frame["certified"], "runtime_h"].sum()
    assert history["certified_hours"].sum() == pytest.approx(certified)
    assert history["certified_share"].between(0, 1 + 1e-12).all()


@settings(max_examples=60, deadline=None)
@given(log_rows, st.floats(min_value=0, max_value=1))
def test_vectorised_fulfilment_matches_scalar_rule(rows: list, committed: float) -> None:
    history = history_by_year(pd.DataFrame(rows, columns=list(carbon.LOG_COLUMNS)))
    pairs = history.loc[:, ["contractor_id", "project_id"]].drop_duplicates()
    result = add_fulfilment(history, pairs.assign(committed_share=committed))
    for share, fulfilment in zip(result["certified_share"], result["fulfilment"], strict=True):
        assert fulfilment == pytest.approx(commitment_fulfilment(min(share, 1.0), committed))
        assert 0 <= fulfilment <= 1
