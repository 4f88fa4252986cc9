"""Plausibility checks for usage logs (pure; no Flask, no session).

Each row check returns a list of ``(field, message)`` problems — empty when the row is
plausible — so forms, CSV/XLSX imports and the JSON API can all name the offending field
(DESIGN.md "Interfaces": 422 names the field; an import names row and column). The checks only
flag what is physically or administratively impossible; they do not judge efficiency.

Cross-row check: :func:`find_overbooked_unit_days` (vectorised over a DataFrame) finds unit-days
whose logged runtime adds up to more than 24 h.

Numbers may arrive as ``float``, ``int`` or ``Decimal`` (database ``Numeric``); they are compared
as ``float``. Missing values (``None``) are not problems here — which fields are required is
the schema's job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd

Problem = tuple[str, str]
Number = float | int | Decimal


@dataclass(frozen=True)
class Limit:
    """A plausibility bound kept as data with its reason/source."""

    value: float
    unit: str
    source: str


MAX_RUNTIME_H_PER_DAY = Limit(24.0, "h/day", "a day has 24 hours")
MAX_FUEL_L_PER_KWH = Limit(
    0.30,
    "L per kW rated power per hour",
    "full-load brake-specific fuel consumption of non-road diesel engines is about 200-250 g/kWh "
    "(EPA NONROAD NR-009d BSFC 0.367-0.408 lb/hp·h = 223-248 g/kWh); 250 g/kWh / 0.8325 kg/L = "
    "0.30 L/kWh, so a machine cannot burn more than rated_kW × 0.30 L per operating hour",
)
MAX_ELECTRIC_POWER_FACTOR = Limit(
    1.15,
    "× rated power",
    "an electric machine cannot draw more than its rated power continuously; kWh are usually "
    "metered at the charger or site connection, so up to 15 % charging and battery losses are "
    "allowed on top of rated_kW × runtime_h",
)
# Decimal figures in binary floating point (8.1 + 15.9, 100 × 1.15) miss the exact bound by ~1e-14.
FLOAT_TOLERANCE = 1e-9

#: Accepted spellings of the canonical units (compared case-insensitively after stripping).
FUEL_UNIT_ALIASES = frozenset({"l", "litre", "liter", "litres", "liters"})
ENERGY_UNIT_ALIASES = frozenset({"kwh", "kw·h", "kw-h", "kw h"})
FUEL_UNIT = "L"
ENERGY_UNIT = "kWh"
BATTERY_ELECTRIC = "battery_electric"


@dataclass(frozen=True)
class UsageLogRow:
    """The fields of one usage log that the row checks look at."""

    log_date: date
    runtime_h: Number | None = None
    hour_meter_start: Number | None = None
    hour_meter_end: Number | None = None
    fuel_litres: Number | None = None
    fuel_unit: str | None = None
    kwh: Number | None = None
    energy_unit: str | None = None


@dataclass(frozen=True)
class UsageLogContext:
    """What a row is checked against: the machine unit, the project and the previous reading."""

    today: date
    rated_power_kw: Number | None = None
    drive: str | None = None
    project_start: date | None = None
    project_end: date | None = None
    previous_hour_meter_end: Number | None = None


def _num(value: Number | None) -> float | None:
    return None if value is None else float(value)


def normalise_fuel_unit(unit: str | None) -> str | None:
    """``'L'`` for any accepted spelling of litres, else ``None``."""
    if unit is None:
        return None
    return FUEL_UNIT if unit.strip().casefold() in FUEL_UNIT_ALIASES else None


def normalise_energy_unit(unit: str | None) -> str | None:
    """``'kWh'`` for any accepted spelling of kilowatt-hours, else ``None``."""
    if unit is None:
        return None
    return ENERGY_UNIT if unit.strip().casefold() in ENERGY_UNIT_ALIASES else None


def check_negative_values(row: UsageLogRow) -> list[Problem]:
    """No measured quantity can be negative (or NaN)."""
    problems = []
    for name in ("runtime_h", "hour_meter_start", "hour_meter_end", "fuel_litres", "kwh"):
        value = _num(getattr(row, name))
        if value is not None and (math.isnan(value) or value < 0):
            problems.append((name, "must not be negative"))
    return problems


def check_runtime(row: UsageLogRow) -> list[Problem]:
    """Runtime of one log lies in [0, 24] h (negative values are reported by
    :func:`check_negative_values`)."""
    runtime = _num(row.runtime_h)
    limit = MAX_RUNTIME_H_PER_DAY.value
    if runtime is not None and runtime > limit:
        return [("runtime_h", f"runtime {runtime:g} h exceeds {limit:g} h in one day")]
    return []


def check_hour_meter(row: UsageLogRow, context: UsageLogContext) -> list[Problem]:
    """An hour meter only counts up: start ≥ previous end, end ≥ start."""
    problems = []
    start = _num(row.hour_meter_start)
    end = _num(row.hour_meter_end)
    previous_end = _num(context.previous_hour_meter_end)
    if start is not None and previous_end is not None and start < previous_end:
        problems.append(
            (
                "hour_meter_start",
                f"hour meter start {start:g} is below the previous reading {previous_end:g}",
            )
        )
    if start is not None and end is not None and end < start:
        problems.append(("hour_meter_end", f"hour meter end {end:g} is below the start {start:g}"))
    return problems


def check_units(row: UsageLogRow) -> list[Problem]:
    """Fuel must be given in litres and electricity in kWh (common spellings accepted)."""
    problems = []
    if row.fuel_unit is not None and normalise_fuel_unit(row.fuel_unit) is None:
        problems.append(("fuel_unit", f"unit {row.fuel_unit!r} is not litres (L)"))
    if row.energy_unit is not None and normalise_energy_unit(row.energy_unit) is None:
        problems.append(("energy_unit", f"unit {row.energy_unit!r} is not kWh"))
    return problems


def check_energy_rates(row: UsageLogRow, context: UsageLogContext) -> list[Problem]:
    """Fuel and electricity per operating hour stay within what the rated power allows.

    * fuel_litres / runtime_h ≤ rated_kW × :data:`MAX_FUEL_L_PER_KWH`
    * kwh / runtime_h ≤ rated_kW × :data:`MAX_ELECTRIC_POWER_FACTOR`
    * fuel or electricity with zero runtime is impossible (an engine off burns nothing).
    """
    problems: list[Problem] = []
    runtime = _num(row.runtime_h)
    fuel = _num(row.fuel_litres)
    energy = _num(row.kwh)
    rated = _num(context.rated_power_kw)
    if runtime is None or runtime < 0:
        return problems
    if runtime == 0:
        if fuel:
            problems.append(("fuel_litres", "fuel used with zero runtime"))
        if energy:
            problems.append(("kwh", "electricity used with zero runtime"))
        return problems
    if rated is None or rated <= 0:
        return problems
    max_fuel_l_per_h = rated * MAX_FUEL_L_PER_KWH.value
    if fuel is not None and fuel / runtime > max_fuel_l_per_h + FLOAT_TOLERANCE:
        problems.append(
            (
                "fuel_litres",
                f"{fuel / runtime:.1f} L/h exceeds the maximum burn of {max_fuel_l_per_h:.1f} L/h "
                f"for {rated:g} kW",
            )
        )
    max_power_kw = rated * MAX_ELECTRIC_POWER_FACTOR.value
    if energy is not None and energy / runtime > max_power_kw + FLOAT_TOLERANCE:
        problems.append(
            (
                "kwh",
                f"{energy / runtime:.1f} kW average exceeds {max_power_kw:.1f} kW "
                f"(rated {rated:g} kW plus losses)",
            )
        )
    return problems


def check_drive(row: UsageLogRow, context: UsageLogContext) -> list[Problem]:
    """A battery-electric machine burns no fuel."""
    fuel = _num(row.fuel_litres)
    if context.drive == BATTERY_ELECTRIC and fuel:
        return [("fuel_litres", "fuel logged for a battery-electric machine")]
    return []


def check_dates(row: UsageLogRow, context: UsageLogContext) -> list[Problem]:
    """The log date is not in the future and lies within the project period (inclusive)."""
    problems = []
    if row.log_date > context.today:
        problems.append(("log_date", f"date {row.log_date.isoformat()} is in the future"))
    if context.project_start is not None and row.log_date < context.project_start:
        problems.append(
            (
                "log_date",
                f"date {row.log_date.isoformat()} is before the project start "
                f"{context.project_start.isoformat()}",
            )
        )
    if context.project_end is not None and row.log_date > context.project_end:
        problems.append(
            (
                "log_date",
                f"date {row.log_date.isoformat()} is after the project end {context.project_end.isoformat()}",
            )
        )
    return problems


def check_usage_log(row: UsageLogRow, context: UsageLogContext) -> list[Problem]:
    """All row-level plausibility checks of one usage log, in a stable order."""
    return [
        *check_negative_values(row),
        *check_runtime(row),
        *check_hour_meter(row, context),
        *check_units(row),
        *check_energy_rates(row, context),
        *check_drive(row, context),
        *check_dates(row, context),
    ]


def find_overbooked_unit_days(
    logs: pd.DataFrame,
    unit_column: str = "machine_unit_id",
    date_column: str = "log_date",
    runtime_column: str = "runtime_h",
) -> pd.Index:
    """Index labels of rows whose machine unit logs more than 24 h on their date in total.

    Vectorised (groupby-transform); every row of an overbooked unit-day is returned, because
    which of them is wrong cannot be told. Include the already stored logs of the same units
    and days in ``logs`` to catch overbooking across separate submissions. Rows with no runtime
    count as 0 h.
    """
    runtime = pd.to_numeric(logs[runtime_column]).astype("float64").fillna(0.0)
    day = pd.to_datetime(logs[date_column]).dt.normalize()
    totals = runtime.groupby([logs[unit_column], day]).transform("sum")
    over = totals > MAX_RUNTIME_H_PER_DAY.value + FLOAT_TOLERANCE
    return logs.index[over.to_numpy()]
