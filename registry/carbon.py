"""CO2 accounting for usage logs and contractor history (pure; no Flask, no session).

Rules implemented (DESIGN.md "CO2 accounting" and "Contractor history"):

* ``actual_co2_kg = Σ fuel_litres × EF(fuel, jurisdiction, year) + kWh × EF(grid, jurisdiction, year)``
* ``reference_co2_kg = runtime_h × rated_kW × ReferenceRate(category) × EF(diesel, jurisdiction,
  year)`` — the form of Japan's estimating standard (請負工事機械経費積算要領 / 建設機械等損料表:
  fuel per operating hour = engine output kW × fuel consumption rate L/kW·h).
* ``reduction = reference − actual``; ``reduction_ratio = reduction / reference`` (0 when the
  reference is 0).
* History per contractor × project × year, a rolling window per contractor and commitment
  fulfilment ``min(1, actual certified share / committed share)``.

Number type: CO2 figures are ``float`` kilograms. They are estimates built from factors with 3–4
significant figures and are aggregated with pandas, so exact decimal arithmetic buys nothing here;
inputs that arrive as ``Decimal`` (database ``Numeric`` columns) are converted with ``float()``.
The storage layer rounds when it persists (e.g. to grams). Measured quantities parsed from
telematics keep ``Decimal`` (see ``registry.iso15143``).

Every result records the ids of the emission factors and the reference rate it used, so a figure
can be reproduced after factors are revised.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).parent / "data"
EMISSION_FACTORS_CSV = DATA_DIR / "emission_factors.csv"
REFERENCE_RATES_CSV = DATA_DIR / "reference_rates.csv"

#: Carrier names used in factor tables and in ``UsageLogInput.fuel_litres`` (DESIGN.md domain
#: model: "carrier: diesel / B20 / HVO / grid_electricity").
DIESEL = "diesel"
GRID_ELECTRICITY = "grid_electricity"
#: Category key of the fallback reference-rate row (reference_rates.csv).
DEFAULT_CATEGORY = "*"

FactorId = int | str | None
Number = float | int | Decimal


# --------------------------------------------------------------------------------------------
# Inputs: factors and rates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmissionFactor:
    """One emission factor version: kg CO2 per unit of an energy carrier in a jurisdiction/year."""

    id: FactorId
    carrier: str
    jurisdiction: str
    year: int
    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class ReferenceRate:
    """Diesel litres per kW of rated power per operating hour for a machine category."""

    id: FactorId
    category: str
    litres_per_kwh: float
    source: str
    is_default: bool = False


@dataclass(frozen=True)
class SourcedConstant:
    """A physical or policy constant kept as data with its source (CONVENTIONS: no bare literals)."""

    value: float
    unit: str
    source: str


class FactorNotFoundError(LookupError):
    """No emission factor or reference rate applies to the requested key."""


# --- constants behind the default reference rate and the IPCC diesel factor -----------------

NONROAD_LOAD_FACTOR = SourcedConstant(
    0.59,
    "1",
    "US EPA NONROAD, 'Median Life, Annual Activity, and Load Factor Values for Nonroad Engine "
    "Emissions Modeling', report NR-005d (EPA-420-R-10-016): load factor of diesel excavators, "
    "crawler dozers and rubber-tired loaders (value as given in DESIGN.md)",
)
TIER4_BSFC_LB_PER_HP_H = SourcedConstant(
    0.367,
    "lb/hp·h",
    "US EPA NONROAD, 'Exhaust and Crankcase Emission Factors for Nonroad Engine Modeling - "
    "Compression-Ignition', report NR-009d (EPA-420-R-10-018): steady-state brake-specific fuel "
    "consumption of Tier 4 engines (value as given in DESIGN.md)",
)
KG_PER_LB = SourcedConstant(
    0.45359237, "kg/lb", "International yard and pound agreement (1959): 1 lb = 0.45359237 kg"
)
KW_PER_HP = SourcedConstant(
    0.745699872,
    "kW/hp",
    "NIST SP 811 (2008) Appendix B: 1 hp (550 ft·lbf/s) = 745.6999 W",
)
DIESEL_DENSITY_KG_PER_L = SourcedConstant(
    0.8325,
    "kg/L",
    "EN 590 automotive diesel, density at 15 °C 820-845 kg/m3: midpoint 832.5 kg/m3. Chosen so "
    "that one density is used for every litre<->kg conversion in this module; with 0.84 kg/L "
    "the default reference rate would be 0.157 instead of DESIGN.md's 0.158 L/kW·h",
)
IPCC_DIESEL_CO2_KG_PER_TJ = SourcedConstant(
    74_100.0,
    "kgCO2/TJ",
    "2006 IPCC Guidelines for National GHG Inventories, Vol. 2 Ch. 1, Table 1.4: default CO2 "
    "emission factor, gas/diesel oil",
)
IPCC_DIESEL_NCV_TJ_PER_GG = SourcedConstant(
    43.0,
    "TJ/Gg",
    "2006 IPCC Guidelines for National GHG Inventories, Vol. 2 Ch. 1, Table 1.2: default net "
    "calorific value, gas/diesel oil",
)
B20_FOSSIL_SHARE = SourcedConstant(
    0.8,
    "1",
    "B20 = 20 % biodiesel by volume; the biogenic share is reported outside direct CO2 (IPCC "
    "2006 Vol. 2 Ch. 1 §1.4.1.2), so B20 direct CO2 = 0.8 × the diesel factor (illustrative: "
    "ignores the small difference in carbon content per litre)",
)


def default_reference_rate_l_per_kwh(
    load_factor: SourcedConstant = NONROAD_LOAD_FACTOR,
    bsfc_lb_per_hp_h: SourcedConstant = TIER4_BSFC_LB_PER_HP_H,
    diesel_density_kg_per_l: SourcedConstant = DIESEL_DENSITY_KG_PER_L,
) -> float:
    """Default reference rate (L diesel per kW rated power per operating hour).

    DESIGN.md: "EPA NONROAD load factor 0.59 × Tier 4 BSFC 0.367 lb/hp·h ≈ 0.158 L/kW·h", used
    where no official category table is loaded::

        0.367 lb/hp·h × 0.45359237 kg/lb ÷ 0.745699872 kW/hp = 0.22324 kg/kWh (full load)
        0.22324 kg/kWh ÷ 0.8325 kg/L                          = 0.26815 L/kWh
        0.26815 L/kWh × 0.59 (load factor)                    = 0.15821 L/kW·h ≈ 0.158
    """
    bsfc_kg_per_kwh = bsfc_lb_per_hp_h.value * KG_PER_LB.value / KW_PER_HP.value
    bsfc_l_per_kwh = bsfc_kg_per_kwh / diesel_density_kg_per_l.value
    return bsfc_l_per_kwh * load_factor.value


def ipcc_diesel_co2_kg_per_litre(
    diesel_density_kg_per_l: SourcedConstant = DIESEL_DENSITY_KG_PER_L,
) -> float:
    """IPCC 2006 default diesel CO2 factor per litre (the TW diesel row of emission_factors.csv).

    74,100 kgCO2/TJ × 43.0 TJ/Gg = 3.1863 kgCO2/kg fuel; × 0.8325 kg/L = 2.6526 kgCO2/L.
    """
    kg_co2_per_kg_fuel = IPCC_DIESEL_CO2_KG_PER_TJ.value * IPCC_DIESEL_NCV_TJ_PER_GG.value / 1e6
    return kg_co2_per_kg_fuel * diesel_density_kg_per_l.value


# --------------------------------------------------------------------------------------------
# Seed data loaders
# --------------------------------------------------------------------------------------------


def load_emission_factors(path: Path = EMISSION_FACTORS_CSV) -> list[EmissionFactor]:
    """Read factor rows (carrier,jurisdiction,year,value,unit,source) from a CSV.

    Rows from a file have no database id; the id is the natural key ``carrier:jurisdiction:year``
    so results computed from seed data still name the factor they used.
    """
    factors = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            carrier = row["carrier"].strip()
            jurisdiction = row["jurisdiction"].strip().upper()
            year = int(row["year"])
            factors.append(
                EmissionFactor(
                    id=f"{carrier}:{jurisdiction}:{year}",
                    carrier=carrier,
                    jurisdiction=jurisdiction,
                    year=year,
                    value=float(row["value"]),
                    unit=row["unit"].strip(),
                    source=row["source"].strip(),
                )
            )
    return factors


def load_reference_rates(path: Path = REFERENCE_RATES_CSV) -> list[ReferenceRate]:
    """Read reference rates (category,litres_per_kwh,source,is_default) from a CSV."""
    rates = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            category = row["category"].strip()
            rates.append(
                ReferenceRate(
                    id=f"rate:{category}",
                    category=category,
                    litres_per_kwh=float(row["litres_per_kwh"]),
                    source=row["source"].strip(),
                    is_default=row["is_default"].strip().lower() in {"1", "true", "yes"},
                )
            )
    return rates


# --------------------------------------------------------------------------------------------
# Lookups
# --------------------------------------------------------------------------------------------


def select_factor(
    factors: Iterable[EmissionFactor], carrier: str, jurisdiction: str, year: int
) -> EmissionFactor:
    """Pick the factor in force for (carrier, jurisdiction, year).

    Rule: the factor published for that year; if there is none, the latest year *before* it
    (a grid factor is published a year or more after the fact, so the newest known value is
    the best estimate). A factor from a later year is never used for an earlier log. Carrier
    and jurisdiction compare case-insensitively. Raises ``FactorNotFoundError`` if nothing
    applies and ``ValueError`` if two factors claim the same year (the caller must pass only
    current versions).
    """
    carrier_key = carrier.casefold()
    jurisdiction_key = jurisdiction.upper()
    candidates = [
        f
        for f in factors
        if f.carrier.casefold() == carrier_key
        and f.jurisdiction.upper() == jurisdiction_key
        and f.year <= year
    ]
    if not candidates:
        raise FactorNotFoundError(
            f"no emission factor for {carrier} in {jurisdiction} for {year} or any earlier year"
        )
    best_year = max(f.year for f in candidates)
    best = [f for f in candidates if f.year == best_year]
    if len(best) > 1:
        ids = ", ".join(str(f.id) for f in best)
        raise ValueError(f"ambiguous emission factors for {carrier}/{jurisdiction}/{best_year}: {ids}")
    return best[0]


def select_reference_rate(rates: Iterable[ReferenceRate], category: str) -> ReferenceRate:
    """Reference rate of the machine category, else the default row (DESIGN.md: default where
    no official table is loaded). Raises ``FactorNotFoundError`` if neither exists."""
    rate_list = list(rates)
    for rate in rate_list:
        if rate.category == category and not rate.is_default:
            return rate
    for rate in rate_list:
        if rate.is_default or rate.category == DEFAULT_CATEGORY:
            return rate
    raise FactorNotFoundError(f"no reference rate for category {category!r} and no default rate")


# --------------------------------------------------------------------------------------------
# Per-log CO2
# --------------------------------------------------------------------------------------------


def _non_negative(name: str, value: Number) -> float:
    number = float(value)
    if math.isnan(number) or number < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return number


def _require_unit(factor: EmissionFactor, per: str) -> None:
    # A factor per TJ or per kg multiplied by litres would be silently wrong by orders of
    # magnitude, so the unit's denominator is checked before use.
    if factor.unit.replace(" ", "").split("/")[-1].casefold() != per.casefold():
        raise ValueError(f"factor {factor.id} has unit {factor.unit!r}, expected per {per}")


def actual_co2_kg(
    fuel_litres: Mapping[str, Number],
    kwh: Number,
    fuel_factors: Mapping[str, EmissionFactor],
    grid_factor: EmissionFactor | None,
) -> float:
    """``Σ fuel_litres × EF(fuel) + kWh × EF(grid)`` (DESIGN.md "CO2 accounting").

    ``fuel_factors`` maps each carrier in ``fuel_litres`` to its factor (kg CO2 per litre);
    ``grid_factor`` (kg CO2 per kWh) may be ``None`` only when ``kwh`` is 0.
    """
    total = 0.0
    for carrier, litres in fuel_litres.items():
        amount = _non_negative(f"fuel_litres[{carrier}]", litres)
        if amount == 0:
            continue
        factor = fuel_factors.get(carrier)
        if factor is None:
            raise FactorNotFoundError(f"no emission factor given for fuel {carrier!r}")
        _require_unit(factor, "L")
        total += amount * factor.value
    energy = _non_negative("kwh", kwh)
    if energy:
        if grid_factor is None:
            raise FactorNotFoundError("kWh logged but no grid emission factor given")
        _require_unit(grid_factor, "kWh")
        total += energy * grid_factor.value
    return total


def reference_co2_kg(
    runtime_h: Number,
    rated_power_kw: Number,
    rate: ReferenceRate,
    diesel_factor: EmissionFactor,
) -> float:
    """``runtime_h × rated_kW × ReferenceRate × EF(diesel)``: CO2 a conventional diesel machine
    of the same rated power would have emitted (Japan 建設機械等損料表 fuel-rate form)."""
    _require_unit(diesel_factor, "L")
    return (
        _non_negative("runtime_h", runtime_h)
        * _non_negative("rated_power_kw", rated_power_kw)
        * rate.litres_per_kwh
        * diesel_factor.value
    )


def reduction_ratio(reference_kg: float, actual_kg: float) -> float:
    """``(reference − actual) / reference``; 0 when the reference is 0 (nothing to reduce)."""
    if reference_kg == 0:
        return 0.0
    return (reference_kg - actual_kg) / reference_kg


@dataclass(frozen=True)
class UsageLogInput:
    """What the CO2 calculation needs from one effective usage log.

    ``fuel_litres`` maps carrier (``diesel``, ``B20``, ``HVO`` …) to litres; ``certified`` is
    decided by the caller from certificate history (active on ``log_date``).
    """

    log_date: date
    jurisdiction: str
    category: str
    rated_power_kw: Number
    runtime_h: Number
    fuel_litres: Mapping[str, Number] = field(default_factory=dict)
    kwh: Number = 0.0
    certified: bool = False


@dataclass(frozen=True)
class LogCo2:
    """CO2 figures of one log plus the factor/rate ids they were computed with."""

    actual_co2_kg: float
    reference_co2_kg: float
    reduction_co2_kg: float
    reduction_ratio: float
    certified: bool
    fuel_factor_ids: tuple[tuple[str, FactorId], ...]
    grid_factor_id: FactorId
    reference_diesel_factor_id: FactorId
    reference_rate_id: FactorId
    reference_rate_is_default: bool


def compute_log_co2(
    usage: UsageLogInput,
    factors: Sequence[EmissionFactor],
    rates: Sequence[ReferenceRate],
) -> LogCo2:
    """Actual, reference and reduction CO2 of one usage log (DESIGN.md "CO2 accounting").

    Factors are chosen with :func:`select_factor` for the log's jurisdiction and calendar year;
    a factor is looked up only for carriers actually used (quantity > 0), plus diesel for the
    reference. The reference rate comes from :func:`select_reference_rate`.
    """
    year = usage.log_date.year
    fuel_factors = {
        carrier: select_factor(factors, carrier, usage.jurisdiction, year)
        for carrier, litres in usage.fuel_litres.items()
        if _non_negative(f"fuel_litres[{carrier}]", litres) > 0
    }
    grid_factor = (
        select_factor(factors, GRID_ELECTRICITY, usage.jurisdiction, year)
        if _non_negative("kwh", usage.kwh) > 0
        else None
    )
    diesel_factor = select_factor(factors, DIESEL, usage.jurisdiction, year)
    rate = select_reference_rate(rates, usage.category)

    actual = actual_co2_kg(usage.fuel_litres, usage.kwh, fuel_factors, grid_factor)
    reference = reference_co2_kg(usage.runtime_h, usage.rated_power_kw, rate, diesel_factor)
    return LogCo2(
        actual_co2_kg=actual,
        reference_co2_kg=reference,
        reduction_co2_kg=reference - actual,
        reduction_ratio=reduction_ratio(reference, actual),
        certified=usage.certified,
        fuel_factor_ids=tuple(sorted((c, f.id) for c, f in fuel_factors.items())),
        grid_factor_id=grid_factor.id if grid_factor else None,
        reference_diesel_factor_id=diesel_factor.id,
        reference_rate_id=rate.id,
        reference_rate_is_default=rate.is_default or rate.category == DEFAULT_CATEGORY,
    )


# --------------------------------------------------------------------------------------------
# Contractor history (pandas, vectorised)
# --------------------------------------------------------------------------------------------

#: Columns expected in the effective-logs frame given to the history functions.
LOG_COLUMNS = (
    "contractor_id",
    "project_id",
    "log_date",
    "runtime_h",
    "certified",
    "actual_co2_kg",
    "reference_co2_kg",
)
_SUM_COLUMNS = ["hours", "certified_hours", "actual_co2_kg", "reference_co2_kg"]
HISTORY_COLUMNS = (
    "contractor_id",
    "project_id",
    "year",
    "hours",
    "certified_hours",
    "certified_share",
    "actual_co2_kg",
    "reference_co2_kg",
    "reduction_co2_kg",
    "reduction_ratio",
)


def _prepare_logs(logs: pd.DataFrame) -> pd.DataFrame:
    """Validate the effective-logs frame and derive the summable columns."""
    missing = [c for c in LOG_COLUMNS if c not in logs.columns]
    if missing:
        raise ValueError(f"logs frame lacks columns: {', '.join(missing)}")
    numeric = {
        c: pd.to_numeric(logs[c]).astype("float64")
        for c in ("runtime_h", "actual_co2_kg", "reference_co2_kg")
    }
    for name, series in numeric.items():
        if series.isna().any():
            raise ValueError(f"logs frame has empty values in {name}")
    if logs["certified"].isna().any():
        # astype(bool) would turn a missing flag into True and overstate certified hours.
        raise ValueError("logs frame has empty values in certified")
    certified = logs["certified"].astype(bool)
    log_ts = pd.to_datetime(logs["log_date"]).dt.normalize()
    return pd.DataFrame(
        {
            "contractor_id": logs["contractor_id"],
            "project_id": logs["project_id"],
            "log_ts": log_ts,
            "hours": numeric["runtime_h"],
            "certified_hours": numeric["runtime_h"].where(certified, 0.0),
            "actual_co2_kg": numeric["actual_co2_kg"],
            "reference_co2_kg": numeric["reference_co2_kg"],
        },
        index=logs.index,
    )


def _add_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Add certified_share, reduction_co2_kg and reduction_ratio (0 where the base is 0)."""
    hours = frame["hours"]
    reference = frame["reference_co2_kg"]
    frame["certified_share"] = (frame["certified_hours"] / hours.where(hours != 0)).fillna(0.0)
    frame["reduction_co2_kg"] = reference - frame["actual_co2_kg"]
    frame["reduction_ratio"] = (frame["reduction_co2_kg"] / reference.where(reference != 0)).fillna(0.0)
    return frame


def history_by_year(logs: pd.DataFrame) -> pd.DataFrame:
    """Contractor history (履歷) per contractor × project × calendar year (DESIGN.md).

    Input: effective logs (corrections already applied) with :data:`LOG_COLUMNS`. Output
    columns :data:`HISTORY_COLUMNS`: hours, certified hours, certified share (= certified hours /
    hours, 0 when no hours), actual / reference / reduction CO2 (kg) and reduction ratio
    (reduction / reference, 0 when the reference is 0). Sorted by the group keys.
    """
    prepared = _prepare_logs(logs)
    prepared["year"] = prepared["log_ts"].dt.year.astype("int64")
    grouped = prepared.groupby(["contractor_id", "project_id", "year"], as_index=False, sort=True)[
        _SUM_COLUMNS
    ].sum()
    return _add_ratios(grouped).loc[:, list(HISTORY_COLUMNS)].reset_index(drop=True)


def commitment_fulfilment(actual_certified_share: float, committed_share: float) -> float:
    """``min(1, actual certified share / committed share)`` (DESIGN.md "Contractor history").

    A commitment of 0 is fulfilled by anything, so it gives 1.0 (also avoids dividing by 0).
    """
    if not 0 <= actual_certified_share <= 1 or not 0 <= committed_share <= 1:
        raise ValueError("shares must lie in [0, 1]")
    if committed_share == 0:
        return 1.0
    return min(1.0, actual_certified_share / committed_share)


def add_fulfilment(history: pd.DataFrame, commitments: pd.DataFrame) -> pd.DataFrame:
    """Add a ``fulfilment`` column to a history frame, vectorised form of
    :func:`commitment_fulfilment`.

    ``commitments`` has contractor_id, project_id, committed_share (the awarded bid's planned
    certified share). Rows without a commitment get NaN (not applicable), not 1.0.
    """
    needed = ("contractor_id", "project_id", "committed_share")
    missing = [c for c in needed if c not in commitments.columns]
    if missing:
        raise ValueError(f"commitments frame lacks columns: {', '.join(missing)}")
    if commitments.duplicated(["contractor_id", "project_id"]).any():
        raise ValueError("commitments frame has more than one row per contractor × project")
    committed = pd.to_numeric(commitments["committed_share"]).astype("float64")
    if ((committed < 0) | (committed > 1)).any():
        raise ValueError("committed_share must lie in [0, 1]")
    merged = history.merge(
        commitments.loc[:, ["contractor_id", "project_id"]].assign(committed_share=committed),
        on=["contractor_id", "project_id"],
        how="left",
        validate="many_to_one",
    )
    share = merged["certified_share"]
    ratio = (share / merged["committed_share"].where(merged["committed_share"] != 0)).clip(upper=1.0)
    # committed 0 -> 1.0; no commitment row -> NaN (the mask keeps NaN where committed is NaN).
    merged["fulfilment"] = ratio.mask(merged["committed_share"] == 0, 1.0)
    return merged.drop(columns=["committed_share"])


def rolling_window_summary(
    logs: pd.DataFrame,
    as_of: date,
    window_months: int = 36,
    commitments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """History of each contractor over a rolling window (DESIGN.md: default 36 months).

    The window holds logs dated after ``as_of − window_months`` and on or before ``as_of``
    (half-open, so consecutive windows never count a day twice). Output per contractor:
    window_start (exclusive), window_end (inclusive), the summed figures and ratios of
    :func:`history_by_year`, and — when ``commitments`` is given — ``average_fulfilment``: the
    unweighted mean, over the contractor's projects with a commitment, of the fulfilment of
    each project's certified share within the window (NaN if none).
    """
    if window_months <= 0:
        raise ValueError("window_months must be positive")
    prepared = _prepare_logs(logs)
    window_end = pd.Timestamp(as_of)
    window_start = window_end - pd.DateOffset(months=window_months)
    in_window = prepared[(prepared["log_ts"] > window_start) & (prepared["log_ts"] <= window_end)]
    summary = in_window.groupby("contractor_id", as_index=False, sort=True)[_SUM_COLUMNS].sum()
    summary = _add_ratios(summary)
    summary.insert(1, "window_start", window_start.date())
    summary.insert(2, "window_end", window_end.date())
    columns = ["contractor_id", "window_start", "window_end", *HISTORY_COLUMNS[3:]]
    if commitments is not None:
        per_project = in_window.groupby(["contractor_id", "project_id"], as_index=False)[_SUM_COLUMNS].sum()
        per_project = add_fulfilment(_add_ratios(per_project), commitments)
        average = per_project.groupby("contractor_id")["fulfilment"].mean().rename("average_fulfilment")
        summary = summary.merge(average, left_on="contractor_id", right_index=True, how="left")
        columns.append("average_fulfilment")
    return summary.loc[:, columns].reset_index(drop=True)
