"""Tests of registry.checks: one example per rule, boundaries, and hypothesis properties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.checks import (
    UsageLogContext,
    UsageLogRow,
    check_usage_log,
    find_overbooked_unit_days,
    normalise_energy_unit,
    normalise_fuel_unit,
)

TODAY = date(2024, 6, 30)
DIESEL_100KW = UsageLogContext(
    today=TODAY,
    rated_power_kw=100,
    drive="diesel",
    project_start=date(2024, 1, 1),
    project_end=date(2024, 12, 31),
    previous_hour_meter_end=1000,
)
ELECTRIC_100KW = UsageLogContext(today=TODAY, rated_power_kw=100, drive="battery_electric")


def fields(problems: list[tuple[str, str]]) -> list[str]:
    return [field for field, _ in problems]


def test_plausible_row_has_no_problems() -> None:
    row = UsageLogRow(
        log_date=date(2024, 6, 3),
        runtime_h=8,
        hour_meter_start=1000,
        hour_meter_end=1008,
        fuel_litres=120,
        fuel_unit="litre",
    )
    assert check_usage_log(row, DIESEL_100KW) == []


@pytest.mark.parametrize(("runtime_h", "expected"), [(24, []), (24.01, ["runtime_h"])])
def test_runtime_at_most_24_hours(runtime_h: float, expected: list[str]) -> None:
    row = UsageLogRow(log_date=date(2024, 6, 3), runtime_h=runtime_h)
    assert fields(check_usage_log(row, DIESEL_100KW)) == expected


def test_negative_values_are_named() -> None:
    row = UsageLogRow(log_date=date(2024, 6, 3), runtime_h=-1, fuel_litres=-5, kwh=-2)
    assert fields(check_usage_log(row, DIESEL_100KW)) == ["runtime_h", "fuel_litres", "kwh"]


def test_hour_meter_going_backwards() -> None:
    # start 990 is below the previous end 1000; end 980 is below start 990
    row = UsageLogRow(log_date=date(2024, 6, 3), hour_meter_start=990, hour_meter_end=980)
    assert fields(check_usage_log(row, DIESEL_100KW)) == ["hour_meter_start", "hour_meter_end"]


def test_fuel_burn_limit_boundary() -> None:
    # 100 kW × 0.30 L/kWh = 30 L/h at most; 8 h -> 240 L allowed, 241 L not
    ok = UsageLogRow(log_date=date(2024, 6, 3), runtime_h=8, fuel_litres=240)
    too_much = UsageLogRow(log_date=date(2024, 6, 3), runtime_h=8, fuel_litres=241)
    assert check_usage_log(ok, DIESEL_100KW) == []
    problems = check_usage_log(too_much, DIESEL_100KW)
    assert fields(problems) == ["fuel_litres"]
    assert "30.0 L/h" in problems[0][1]


def test_electricity_limit_boundary() -> None:
    # 100 kW × 1.15 (losses) = 115 kW; 8 h -> 920 kWh allowed, 921 kWh not
    ok = UsageLogRow(log_date=date(2024, 6, 3), runtime_h=8, kwh=920, energy_unit="kWh")
    too_much = UsageLogRow(log_date=date(2024, 6, 3), runtime_h=8, kwh=921, energy_unit="kwh")
    assert check_usage_log(ok, ELECTRIC_100KW) == []
    assert fields(check_usage_log(too_much, ELECTRIC_100KW)) == ["kwh"]


def test_usage_with_zero_runtime() -> None:
    row = UsageLogRow(log_date=date(2024, 6, 3), runtime_h=0, fuel_litres=3, kwh=1)
    assert fields(check_usage_log(row, DIESEL_100KW)) == ["fuel_litres", "kwh"]


def test_fuel_on_battery_electric_machine() -> None:
    row = UsageLogRow(log_date=date(2024, 6, 3), runtime_h=8, fuel_litres=10, kwh=300)
    assert fields(check_usage_log(row, ELECTRIC_100KW)) == ["fuel_litres"]


def test_dates_future_and_outside_project() -> None:
    future = UsageLogRow(log_date=date(2024, 7, 1), runtime_h=1)
    assert [m for _, m in check_usage_log(future, DIESEL_100KW)] == ["date 2024-07-01 is in the future"]
    before = UsageLogRow(log_date=date(2023, 12, 31), runtime_h=1)
    assert fields(check_usage_log(before, DIESEL_100KW)) == ["log_date"]
    late_project = UsageLogContext(today=TODAY, project_end=date(2024, 3, 31))
    after = UsageLogRow(log_date=date(2024, 4, 1), runtime_h=1)
    assert "after the project end" in check_usage_log(after, late_project)[0][1]
    # both ends are inclusive
    first_day = UsageLogRow(log_date=date(2024, 1, 1), runtime_h=1)
    assert check_usage_log(first_day, DIESEL_100KW) == []


@pytest.mark.parametrize("unit", ["L", "l", "litre", "Liter", " litres "])
def test_fuel_unit_aliases(unit: str) -> None:
    assert normalise_fuel_unit(unit) == "L"


@pytest.mark.parametrize("unit", ["kWh", "kwh", "KWH"])
def test_energy_unit_aliases(unit: str) -> None:
    assert normalise_energy_unit(unit) == "kWh"


def test_unit_mismatch() -> None:
    row = UsageLogRow(
        log_date=date(2024, 6, 3), runtime_h=8, fuel_litres=10, fuel_unit="gal", energy_unit="MJ"
    )
    assert fields(check_usage_log(row, DIESEL_100KW)) == ["fuel_unit", "energy_unit"]


def test_decimal_inputs() -> None:
    row = UsageLogRow(
        log_date=date(2024, 6, 3),
        runtime_h=Decimal("8.0"),
        fuel_litres=Decimal("241.0"),
        hour_meter_start=Decimal("1000.0"),
    )
    context = UsageLogContext(today=TODAY, rated_power_kw=Decimal("100"), previous_hour_meter_end=1000)
    assert fields(check_usage_log(row, context)) == ["fuel_litres"]


# --- runtime per unit per day across logs ------------------------------------------------------


def test_overbooked_unit_days() -> None:
    logs = pd.DataFrame(
        {
            "machine_unit_id": [1, 1, 1, 2, 1, 1],
            "log_date": [
                date(2024, 6, 3),
                date(2024, 6, 3),
                date(2024, 6, 4),
                date(2024, 6, 3),
                date(2024, 6, 5),
                date(2024, 6, 5),
            ],
            # unit 1 on 06-03: 10 + 15 = 25 h > 24 -> both rows; 06-04: 24 h exactly -> fine;
            # unit 2 on 06-03: 8 h; unit 1 on 06-05: 8.1 + 15.9 = 24.0 (float noise) -> fine
            "runtime_h": [10.0, 15.0, 24.0, 8.0, 8.1, 15.9],
        },
        index=[2, 3, 4, 5, 6, 7],  # e.g. spreadsheet row numbers
    )
    assert list(find_overbooked_unit_days(logs)) == [2, 3]


def test_overbooked_ignores_missing_runtime() -> None:
    logs = pd.DataFrame(
        {
            "machine_unit_id": [1, 1],
            "log_date": ["2024-06-03", "2024-06-03"],
            "runtime_h": [20.0, None],
        }
    )
    assert list(find_overbooked_unit_days(logs)) == []


day_logs = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=3),
        st.dates(min_value=date(2024, 6, 1), max_value=date(2024, 6, 4)),
        st.floats(min_value=0, max_value=24, allow_nan=False),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=100, deadline=None)
@given(day_logs, st.randoms(use_true_random=False))
def test_overbooked_rows_are_exactly_the_groups_over_24h(rows: list, rnd) -> None:
    logs = pd.DataFrame(rows, columns=["machine_unit_id", "log_date", "runtime_h"])
    flagged = set(find_overbooked_unit_days(logs))

    totals: dict[tuple[int, date], float] = {}
    for unit, day, hours in rows:
        totals[(unit, day)] = totals.get((unit, day), 0.0) + hours
    expected = {i for i, (unit, day, _) in enumerate(rows) if totals[(unit, day)] > 24 + 1e-9}
    assert flagged == expected

    order = list(range(len(rows)))
    rnd.shuffle(order)
    assert set(find_overbooked_unit_days(logs.loc[order])) == flagged
