"""Filing usage logs: ONE vectorised validation path for the web form, CSV/XLSX upload, the JSON
batch API and ISO 15143-3 snapshots (issue 4 "Filing logs", "Validation with a report").

Pipeline per chunk (pandas, no per-row Python in the checks):

1. parse raw text cells (``TEMPLATE_COLUMNS``) -> typed columns; unparsable cells are errors;
2. resolve machine (serial/PIN or id) and project (contract number or id) within the
   contractor's own fleet and projects (a foreign one is reported as unknown: never revealed);
3. row checks (the rules and limits of ``registry.checks``, vectorised): negatives, runtime ≤ 24 h,
   hour meter end ≥ start, units are L / kWh, fuel and kWh per hour within rated power, no fuel
   on a battery machine, no fuel/kWh with zero runtime, date not in the future and within the
   project;
4. cross-row checks against the stored logs AND the rows earlier in the same file: runtime per
   unit per day ≤ 24 h across all logs; hour meter never below an earlier reading;
5. idempotency: a ``source_ref`` already stored (or repeated in the file) is skipped as a
   duplicate, never stored twice;
6. CO2 per log (``registry.carbon`` formulas, vectorised) with the ids of the factor and rate
   versions used; certified = the unit's certificate active on the log date
   (``certified_intervals``, one query per import);
7. bulk insert (executemany on SQLite, COPY on PostgreSQL) inside the caller's transaction.

Row numbers in reports: CSV/XLSX = the spreadsheet row (the header is row 1, so the first data
row is row 2); JSON API and form = the 1-based position of the record.

Modes: ``all_or_nothing`` stores nothing if any row is rejected (the whole import is one
transaction, so a killed import leaves nothing either); ``accept_valid`` stores the valid rows.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select

from gxmachinery.accounts.models import User
from gxmachinery.audit.services import record_event
from gxmachinery.certification.models import Category
from gxmachinery.db import utcnow
from gxmachinery.errors import InvalidInput
from gxmachinery.extensions import db
from registry import carbon, checks, iso15143
from registry.models import (
    ImportBatch,
    ImportKind,
    ImportMode,
    ImportRowError,
    ImportStatus,
    LogSource,
    MachineUnit,
    Project,
    UsageLog,
)

__all__ = ["ImportMode", "TEMPLATE_COLUMNS", "FileResult", "file_records", "run_import"]

CHUNK_ROWS = 20_000
MAX_REPORT_IN_BATCH = 200  # errors copied into ImportBatch.error_report (all are in ImportRowError)
MAX_ERRORS_STORED = 100_000  # a file with more bad cells than this is reported as truncated

#: CSV/XLSX template: (column, required, meaning). Documented in README and the upload page.
TEMPLATE_COLUMNS: tuple[tuple[str, bool, str], ...] = (
    ("contract_number", True, "Contract number of one of your projects"),
    ("serial_or_pin", True, "Serial number or PIN of one of your registered machines"),
    ("log_date", True, "Date worked, YYYY-MM-DD"),
    ("runtime_h", False, "Operating hours that day (or give both hour meter readings)"),
    ("hour_meter_start", False, "Hour meter at the start of the day"),
    ("hour_meter_end", False, "Hour meter at the end of the day"),
    ("fuel_type", False, "diesel (default), B20 or HVO"),
    ("fuel_litres", False, "Fuel used"),
    ("fuel_unit", False, "L (default)"),
    ("kwh", False, "Electricity used"),
    ("energy_unit", False, "kWh (default)"),
    ("source_ref", False, "Your unique id of the row; re-sending it never duplicates"),
)
REQUIRED_COLUMNS = tuple(name for name, required, _ in TEMPLATE_COLUMNS if required)
NUMBER_COLUMNS = ("runtime_h", "hour_meter_start", "hour_meter_end", "fuel_litres", "kwh")
XLSX_SHEET = "usage_logs"
TOL = checks.FLOAT_TOLERANCE

#: Progress of imports running in this process: batch id -> (rows done, rows expected or 0).
PROGRESS: dict[int, tuple[int, int]] = {}
_PROGRESS_LOCK = threading.Lock()


class FileFormatError(Exception):
    """The file as a whole cannot be read (encoding, header, XML, sheet): one clear message."""


@dataclass
class FileResult:
    rows_total: int = 0
    rows_ok: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    log_ids: list[int] = field(default_factory=list)
    errors_truncated: bool = False


def errors_to_invalid(errors: Sequence[tuple[int, str, str]], single: bool = False) -> InvalidInput:
    """Row errors -> the API's 422 shape ``{"row 5": {"fuel_litres": [...]}}`` (a single-record
    filing, e.g. the form: ``{"fuel_litres": [...]}``)."""
    out: dict[str, Any] = {}
    for row, column, reason in errors:
        if single:
            out.setdefault(column, []).append(reason)
        else:
            out.setdefault(f"row {row}", {}).setdefault(column, []).append(reason)
    return InvalidInput(f"{len({e[0] for e in errors})} row(s) rejected; nothing was stored.", out)


# ------------------------------------------------------------------------------------------
# Context: what rows are checked against (loaded once per import, bulk)
# ------------------------------------------------------------------------------------------


class _Context:
    """The contractor's units and projects, certificate intervals and factor tables."""

    def __init__(
        self, contractor_id: int, today: date, batch_id: int | None, exclude_log_ids: Sequence[int]
    ) -> None:
        from gxmachinery.certification.services import certified_intervals
        from registry.services import current_factor_tables

        self.contractor_id = contractor_id
        self.today = today
        self.batch_id = batch_id
        self.exclude_log_ids = list(exclude_log_ids)
        units = db.session.execute(
            select(
                MachineUnit.id,
                MachineUnit.serial_or_pin,
                MachineUnit.rated_power_kw,
                MachineUnit.drive,
                MachineUnit.certificate_id,
                Category.code,
            )
            .join(Category, Category.id == MachineUnit.category_id)
            .where(MachineUnit.contractor_id == contractor_id)
        ).all()
        self.units = pd.DataFrame(
            [(u[0], u[1], float(u[2]), str(u[3]), u[4], u[5]) for u in units],
            columns=[
                "machine_unit_id",
                "serial_or_pin",
                "rated_power_kw",
                "drive",
                "certificate_id",
                "category_code",
            ],
        )
        self.unit_by_serial = dict(
            zip(self.units["serial_or_pin"], self.units["machine_unit_id"], strict=True)
        )
        projects = db.session.execute(
            select(
                Project.id,
                Project.contract_number,
                Project.start_date,
                Project.end_date,
                Project.jurisdiction,
            ).where(Project.contractor_id == contractor_id)
        ).all()
        self.projects = pd.DataFrame(
            projects,
            columns=["project_id", "contract_number", "project_start", "project_end", "jurisdiction"],
        )
        self.project_by_number = dict(
            zip(self.projects["contract_number"], self.projects["project_id"], strict=True)
        )
        cert_ids = [int(c) for c in self.units["certificate_id"].dropna().unique()]
        spans = certified_intervals(cert_ids)
        self.intervals = pd.DataFrame(
            [(cid, s, e or date.max) for cid, items in spans.items() for s, e in items],
            columns=["certificate_id", "start", "end"],
        )
        self.factors, self.rates = current_factor_tables()
        # State carried across chunks of one file.
        self.day_hours: dict[tuple[int, date], float] = {}
        self.last_meter: dict[int, tuple[date, float]] = {}
        self.seen_refs: set[str] = set()


# ------------------------------------------------------------------------------------------
# Parsing and checks (vectorised)
# ------------------------------------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(self, rows: pd.Series, mask: pd.Series, column: str, reason: str | pd.Series) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        reasons = reason[mask] if isinstance(reason, pd.Series) else reason
        self.parts.append(
            pd.DataFrame(
                {
                    "row": rows[mask].to_numpy(),
                    "column": column,
                    "reason": np.asarray(reasons) if isinstance(reasons, pd.Series) else reasons,
                }
            )
        )

    def bad_index(self, frame: pd.DataFrame) -> pd.Series:
        if not self.parts:
            return pd.Series(False, index=frame.index)
        bad_rows = set(pd.concat(self.parts)["row"].tolist())
        return frame["_row"].isin(bad_rows)

    def as_list(self) -> list[tuple[int, str, str]]:
        if not self.parts:
            return []
        table = pd.concat(self.parts, ignore_index=True).sort_values(["row"], kind="stable")
        return [(int(r), str(c), str(m)) for r, c, m in table.itertuples(index=False, name=None)]


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series("", index=frame.index, dtype="object")
    col = frame[name]
    return col.where(col.notna(), "").astype(str).str.strip()


def _numbers(frame: pd.DataFrame, errors: _Errors, name: str) -> pd.Series:
    raw = _text(frame, name)
    values = pd.to_numeric(raw.where(raw != ""), errors="coerce").astype("float64")
    errors.add(frame["_row"], (raw != "") & values.isna(), name, f"{name} is not a number")
    return values


def _fmt(series: pd.Series, digits: int = 1) -> pd.Series:
    return series.round(digits).astype(str)


def _prepare_chunk(frame: pd.DataFrame, ctx: _Context, errors: _Errors) -> pd.DataFrame:
    """Typed columns, resolved machine/project, row checks. Returns the typed frame."""
    rows = frame["_row"]
    out = pd.DataFrame({"_row": rows}, index=frame.index)
    # --- machine ---
    if "machine_unit_id" in frame.columns:
        unit_ids = pd.to_numeric(frame["machine_unit_id"], errors="coerce")
        known = unit_ids.isin(ctx.units["machine_unit_id"])
        out["machine_unit_id"] = unit_ids.where(known)
        errors.add(rows, ~known, "machine_unit_id", "unknown machine (not in your fleet)")
    else:
        serial = _text(frame, "serial_or_pin")
        out["machine_unit_id"] = serial.map(ctx.unit_by_serial)
        errors.add(rows, serial == "", "serial_or_pin", "serial_or_pin is required")
        errors.add(
            rows,
            (serial != "") & out["machine_unit_id"].isna(),
            "serial_or_pin",
            "unknown machine " + serial + " (not in your fleet)",
        )
    # --- project ---
    if "project_id" in frame.columns:
        project_ids = pd.to_numeric(frame["project_id"], errors="coerce")
        known = project_ids.isin(ctx.projects["project_id"])
        out["project_id"] = project_ids.where(known)
        errors.add(rows, ~known, "project_id", "unknown project (not one of your projects)")
    else:
        number = _text(frame, "contract_number")
        out["project_id"] = number.map(ctx.project_by_number)
        errors.add(rows, number == "", "contract_number", "contract_number is required")
        errors.add(
            rows,
            (number != "") & out["project_id"].isna(),
            "contract_number",
            "unknown project " + number + " (not one of your projects)",
        )
    # --- date ---
    raw_date = _text(frame, "log_date").str.slice(0, 10)
    parsed = pd.to_datetime(raw_date.where(raw_date != ""), format="%Y-%m-%d", errors="coerce")
    errors.add(rows, raw_date == "", "log_date", "log_date is required")
    errors.add(rows, (raw_date != "") & parsed.isna(), "log_date", "log_date is not a date (YYYY-MM-DD)")
    out["log_ts"] = parsed
    # --- numbers ---
    for name in NUMBER_COLUMNS:
        out[name] = _numbers(frame, errors, name)
    derived = out["hour_meter_end"] - out["hour_meter_start"]
    out["runtime_h"] = out["runtime_h"].fillna(derived.where(derived >= 0))
    errors.add(
        rows,
        out["runtime_h"].isna() & (_text(frame, "runtime_h") == ""),
        "runtime_h",
        "runtime_h is required (or both hour meter readings)",
    )
    # --- units and fuel type ---
    fuel_unit = _text(frame, "fuel_unit").str.casefold()
    energy_unit = _text(frame, "energy_unit").str.casefold()
    errors.add(
        rows,
        (fuel_unit != "") & ~fuel_unit.isin(checks.FUEL_UNIT_ALIASES),
        "fuel_unit",
        "unit " + _text(frame, "fuel_unit") + " is not litres (L)",
    )
    errors.add(
        rows,
        (energy_unit != "") & ~energy_unit.isin(checks.ENERGY_UNIT_ALIASES),
        "energy_unit",
        "unit " + _text(frame, "energy_unit") + " is not kWh",
    )
    fuel_type = _text(frame, "fuel_type")
    known_carriers = {
        f.carrier.casefold(): f.carrier for f in ctx.factors if f.carrier != carbon.GRID_ELECTRICITY
    }
    canon = fuel_type.str.casefold().map(known_carriers)
    errors.add(
        rows,
        (fuel_type != "") & canon.isna(),
        "fuel_type",
        "unknown fuel type " + fuel_type + " (" + ", ".join(sorted(known_carriers.values())) + ")",
    )
    # No fuel type given: diesel when fuel is logged, else none.
    default_type = pd.Series(carbon.DIESEL, index=frame.index, dtype="object").where(
        out["fuel_litres"].fillna(0) > 0, None
    )
    out["fuel_type"] = canon.where(fuel_type != "", default_type)
    out["source_ref"] = _text(frame, "source_ref")
    # --- attributes of unit and project ---
    out = out.merge(
        ctx.units[
            ["machine_unit_id", "serial_or_pin", "rated_power_kw", "drive", "certificate_id", "category_code"]
        ],
        on="machine_unit_id",
        how="left",
    ).set_index(frame.index)
    out = out.merge(
        ctx.projects[["project_id", "contract_number", "project_start", "project_end", "jurisdiction"]],
        on="project_id",
        how="left",
    ).set_index(frame.index)
    # Unknown machines leave NaN rated power; comparisons with NaN are simply False.
    with np.errstate(invalid="ignore", divide="ignore"):
        _row_checks(out, ctx, errors)
    return out


def _row_checks(out: pd.DataFrame, ctx: _Context, errors: _Errors) -> None:
    """The rules of ``registry.checks`` (same limits and messages), vectorised."""
    rows = out["_row"]
    for name in NUMBER_COLUMNS:
        errors.add(rows, out[name] < 0, name, "must not be negative")
    limit = checks.MAX_RUNTIME_H_PER_DAY.value
    errors.add(
        rows,
        out["runtime_h"] > limit + TOL,
        "runtime_h",
        "runtime " + _fmt(out["runtime_h"], 2) + f" h exceeds {limit:g} h in one day",
    )
    errors.add(
        rows,
        out["hour_meter_end"] < out["hour_meter_start"],
        "hour_meter_end",
        "hour meter end "
        + _fmt(out["hour_meter_end"], 2)
        + " is below the start "
        + _fmt(out["hour_meter_start"], 2),
    )
    runtime = out["runtime_h"]
    fuel = out["fuel_litres"].fillna(0.0)
    energy = out["kwh"].fillna(0.0)
    zero = runtime == 0
    errors.add(rows, zero & (fuel > 0), "fuel_litres", "fuel used with zero runtime")
    errors.add(rows, zero & (energy > 0), "kwh", "electricity used with zero runtime")
    rated = out["rated_power_kw"]
    positive = (runtime > 0) & (rated > 0)
    max_fuel = rated * checks.MAX_FUEL_L_PER_KWH.value
    fuel_rate = fuel / runtime.where(positive)
    errors.add(
        rows,
        positive & (fuel_rate > max_fuel + TOL),
        "fuel_litres",
        _fmt(fuel_rate)
        + " L/h exceeds the maximum burn of "
        + _fmt(max_fuel)
        + " L/h for "
        + rated.round(3).astype(str)
        + " kW",
    )
    max_kw = rated * checks.MAX_ELECTRIC_POWER_FACTOR.value
    kw = energy / runtime.where(positive)
    errors.add(
        rows,
        positive & (kw > max_kw + TOL),
        "kwh",
        _fmt(kw)
        + " kW average exceeds "
        + _fmt(max_kw)
        + " kW (rated "
        + rated.round(3).astype(str)
        + " kW plus losses)",
    )
    errors.add(
        rows,
        (out["drive"] == checks.BATTERY_ELECTRIC) & (fuel > 0),
        "fuel_litres",
        "fuel logged for a battery-electric machine",
    )
    day = out["log_ts"].dt.date
    iso = out["log_ts"].dt.strftime("%Y-%m-%d")
    today = pd.Timestamp(ctx.today)
    errors.add(rows, out["log_ts"] > today, "log_date", "date " + iso + " is in the future")
    start = pd.to_datetime(out["project_start"])
    end = pd.to_datetime(out["project_end"])
    errors.add(
        rows,
        out["log_ts"] < start,
        "log_date",
        "date " + iso + " is before the project start " + start.dt.strftime("%Y-%m-%d"),
    )
    errors.add(
        rows,
        out["log_ts"] > end,
        "log_date",
        "date " + iso + " is after the project end " + end.dt.strftime("%Y-%m-%d"),
    )
    out["log_date"] = day


def _stored_day_hours(ctx: _Context, units: list[int], first: date, last: date) -> pd.DataFrame:
    stmt = (
        select(UsageLog.machine_unit_id, UsageLog.log_date, func.sum(UsageLog.runtime_h))
        .where(
            UsageLog.contractor_id == ctx.contractor_id,
            UsageLog.machine_unit_id.in_(units),
            UsageLog.log_date >= first,
            UsageLog.log_date <= last,
            UsageLog.superseded.is_(False),
        )
        .group_by(UsageLog.machine_unit_id, UsageLog.log_date)
    )
    if ctx.batch_id is not None:
        stmt = stmt.where((UsageLog.import_batch_id.is_(None)) | (UsageLog.import_batch_id != ctx.batch_id))
    if ctx.exclude_log_ids:
        stmt = stmt.where(UsageLog.id.not_in(ctx.exclude_log_ids))
    return pd.DataFrame(db.session.execute(stmt).all(), columns=["machine_unit_id", "log_date", "stored_h"])


def _stored_meters(ctx: _Context, units: list[int], first: date, last: date) -> pd.DataFrame:
    """Stored readings: every end reading in [first, last] and, per unit, the highest before
    ``first`` (an hour meter only counts up, so the highest earlier reading is the last one)."""
    base = [
        UsageLog.contractor_id == ctx.contractor_id,
        UsageLog.machine_unit_id.in_(units),
        UsageLog.superseded.is_(False),
        UsageLog.hour_meter_end.is_not(None),
    ]
    if ctx.batch_id is not None:
        base.append((UsageLog.import_batch_id.is_(None)) | (UsageLog.import_batch_id != ctx.batch_id))
    if ctx.exclude_log_ids:
        base.append(UsageLog.id.not_in(ctx.exclude_log_ids))
    inside = db.session.execute(
        select(UsageLog.machine_unit_id, UsageLog.log_date, UsageLog.hour_meter_end).where(
            *base, UsageLog.log_date >= first, UsageLog.log_date <= last
        )
    ).all()
    before = db.session.execute(
        select(UsageLog.machine_unit_id, func.max(UsageLog.log_date), func.max(UsageLog.hour_meter_end))
        .where(*base, UsageLog.log_date < first)
        .group_by(UsageLog.machine_unit_id)
    ).all()
    return pd.DataFrame([*inside, *before], columns=["machine_unit_id", "log_date", "meter"])


def _cross_checks(out: pd.DataFrame, ok: pd.Series, ctx: _Context, errors: _Errors) -> None:
    """24 h per unit per day across stored logs + this file; hour meter never below an earlier
    reading (stored or earlier in the file)."""
    cand = out[ok]
    if cand.empty:
        return
    units = [int(u) for u in cand["machine_unit_id"].unique()]
    first, last = min(cand["log_date"]), max(cand["log_date"])
    keys = list(zip(cand["machine_unit_id"].astype(int), cand["log_date"], strict=True))
    stored = _stored_day_hours(ctx, units, first, last)
    stored_map = {(int(u), d): float(h) for u, d, h in stored.itertuples(index=False, name=None)}
    earlier = pd.Series([stored_map.get(k, 0.0) + ctx.day_hours.get(k, 0.0) for k in keys], index=cand.index)
    in_chunk = cand["runtime_h"].groupby([cand["machine_unit_id"], cand["log_date"]]).transform("sum")
    total = earlier + in_chunk
    limit = checks.MAX_RUNTIME_H_PER_DAY.value
    errors.add(
        cand["_row"],
        total > limit + TOL,
        "runtime_h",
        "machine "
        + cand["serial_or_pin"].astype(str)
        + " would log "
        + _fmt(total, 2)
        + " h on "
        + cand["log_date"].astype(str)
        + f" across all logs (max {limit:g} h)",
    )
    # hour meters
    with_meter = cand[cand["hour_meter_start"].notna() | cand["hour_meter_end"].notna()]
    if with_meter.empty:
        return
    stored_m = _stored_meters(ctx, units, first, last)
    carried = pd.DataFrame(
        [(u, d, m) for u, (d, m) in ctx.last_meter.items() if u in set(units)],
        columns=["machine_unit_id", "log_date", "meter"],
    )
    history = pd.concat([stored_m, carried], ignore_index=True)
    history["order"] = -1
    history["start"] = np.nan
    history["_row"] = -1
    mine = pd.DataFrame(
        {
            "machine_unit_id": with_meter["machine_unit_id"].astype(int),
            "log_date": with_meter["log_date"],
            "meter": with_meter["hour_meter_end"].fillna(with_meter["hour_meter_start"]),
            "order": np.arange(len(with_meter)),
            "start": with_meter["hour_meter_start"],
            "_row": with_meter["_row"],
        }
    )
    allm = pd.concat([history.astype({"meter": "float64"}), mine], ignore_index=True)
    allm["log_date"] = pd.to_datetime(allm["log_date"])
    allm = allm.sort_values(["machine_unit_id", "log_date", "order"], kind="stable").reset_index(drop=True)
    running = allm.groupby("machine_unit_id")["meter"].cummax()
    running = running.groupby(allm["machine_unit_id"]).ffill()
    previous = running.groupby(allm["machine_unit_id"]).shift(1)
    bad = (allm["order"] >= 0) & allm["start"].notna() & (allm["start"] < previous - TOL)
    errors.add(
        allm["_row"],
        bad,
        "hour_meter_start",
        "hour meter start " + _fmt(allm["start"], 2) + " is below the previous reading " + _fmt(previous, 2),
    )


def compute_co2(
    frame: pd.DataFrame, tables: tuple[list[carbon.EmissionFactor], list[carbon.ReferenceRate]]
) -> pd.DataFrame:
    """CO2 per row, vectorised form of ``carbon.compute_log_co2`` (same factor selection).

    ``frame`` columns: log_date, jurisdiction, category_code, rated_power_kw, runtime_h,
    fuel_litres, fuel_type, kwh. Returns actual_co2_kg, reference_co2_kg, the factor/rate ids and
    ``factor_error`` (message when no factor applies, else None).
    """
    factors, rates = tables
    years = pd.to_datetime(frame["log_date"]).dt.year
    jur = frame["jurisdiction"].fillna("TW").astype(str)
    fuel = frame["fuel_litres"].astype("float64").fillna(0.0)
    energy = frame["kwh"].astype("float64").fillna(0.0)
    result = pd.DataFrame(index=frame.index)
    result["factor_error"] = None
    cache: dict[tuple[str, str, int], carbon.EmissionFactor | None] = {}

    def lookup(carrier: str, j: str, y: int) -> carbon.EmissionFactor | None:
        key = (carrier, j, y)
        if key not in cache:
            try:
                cache[key] = carbon.select_factor(factors, carrier, j, y)
            except carbon.FactorNotFoundError:
                cache[key] = None
        return cache[key]

    def pick(carriers: pd.Series, needed: pd.Series) -> tuple[pd.Series, pd.Series]:
        keys = pd.DataFrame({"c": carriers, "j": jur, "y": years})[needed]
        values = pd.Series(np.nan, index=frame.index)
        ids = pd.Series(None, index=frame.index, dtype="object")
        for (c, j, y), idx in keys.groupby(["c", "j", "y"]).groups.items():
            f = lookup(str(c), str(j), int(y))
            if f is None:
                result.loc[idx, "factor_error"] = f"no emission factor for {c} in {j} for {y}"
                continue
            values.loc[idx] = f.value
            ids.loc[idx] = f.id
        return values, ids

    fuel_type = frame["fuel_type"].fillna(carbon.DIESEL).astype(str)
    fuel_ef, fuel_id = pick(fuel_type, fuel > 0)
    grid_ef, grid_id = pick(pd.Series(carbon.GRID_ELECTRICITY, index=frame.index), energy > 0)
    diesel_ef, diesel_id = pick(
        pd.Series(carbon.DIESEL, index=frame.index), pd.Series(True, index=frame.index)
    )
    rate_cache: dict[str, carbon.ReferenceRate | None] = {}
    rate_value = pd.Series(np.nan, index=frame.index)
    rate_id = pd.Series(None, index=frame.index, dtype="object")
    for cat, idx in frame.groupby("category_code").groups.items():
        if cat not in rate_cache:
            try:
                rate_cache[cat] = carbon.select_reference_rate(rates, str(cat))
            except carbon.FactorNotFoundError:
                rate_cache[cat] = None
        rate = rate_cache[cat]
        if rate is None:
            result.loc[idx, "factor_error"] = f"no reference rate for category {cat}"
            continue
        rate_value.loc[idx] = rate.litres_per_kwh
        rate_id.loc[idx] = rate.id
    result["actual_co2_kg"] = (fuel * fuel_ef.fillna(0.0) + energy * grid_ef.fillna(0.0)).round(3)
    result["reference_co2_kg"] = (
        frame["runtime_h"].astype("float64")
        * frame["rated_power_kw"].astype("float64")
        * rate_value
        * diesel_ef
    ).round(3)
    result["fuel_factor_id"] = fuel_id
    result["grid_factor_id"] = grid_id
    result["diesel_factor_id"] = diesel_id
    result["reference_rate_id"] = rate_id
    return result


def _certified(frame: pd.DataFrame, ctx: _Context) -> pd.Series:
    """True where the unit's certificate was active on the log date (half-open intervals)."""
    flags = pd.Series(False, index=frame.index)
    if ctx.intervals.empty:
        return flags
    probe = pd.DataFrame(
        {"i": frame.index, "certificate_id": frame["certificate_id"], "d": frame["log_date"]}
    )
    probe = probe.dropna(subset=["certificate_id"])
    if probe.empty:
        return flags
    probe["certificate_id"] = probe["certificate_id"].astype(int)
    merged = probe.merge(ctx.intervals, on="certificate_id")
    inside = (merged["start"] <= merged["d"]) & (merged["d"] < merged["end"])
    hit = merged.loc[inside, "i"].unique()
    flags[hit] = True
    return flags


# ------------------------------------------------------------------------------------------
# Storing
# ------------------------------------------------------------------------------------------

INSERT_COLUMNS = (
    "contractor_id",
    "machine_unit_id",
    "project_id",
    "log_date",
    "runtime_h",
    "hour_meter_start",
    "hour_meter_end",
    "fuel_litres",
    "fuel_type",
    "kwh",
    "source",
    "source_ref",
    "import_batch_id",
    "supersedes_id",
    "superseded",
    "correction_reason",
    "certified",
    "actual_co2_kg",
    "reference_co2_kg",
    "fuel_factor_id",
    "grid_factor_id",
    "diesel_factor_id",
    "reference_rate_id",
    "computed_at",
    "created_by_id",
    "created_at",
)


def _none(values: Iterable[Any]) -> list[Any]:
    return [None if (v is None or (isinstance(v, float) and v != v) or v is pd.NaT) else v for v in values]


def bulk_insert_logs(rows: pd.DataFrame) -> None:
    """Insert prepared rows (``INSERT_COLUMNS``) with the database's bulk path: executemany on
    SQLite, COPY on PostgreSQL (DESIGN.md "Storage and scale"). Inside the caller's transaction."""
    if rows.empty:
        return
    columns = []
    for name in INSERT_COLUMNS:
        col = rows[name]
        if name in (
            "runtime_h",
            "hour_meter_start",
            "hour_meter_end",
            "fuel_litres",
            "kwh",
            "actual_co2_kg",
            "reference_co2_kg",
        ):
            columns.append(_none(col.astype("float64").round(3).tolist()))
        elif name in (
            "machine_unit_id",
            "project_id",
            "contractor_id",
            "import_batch_id",
            "supersedes_id",
            "fuel_factor_id",
            "grid_factor_id",
            "diesel_factor_id",
            "reference_rate_id",
            "created_by_id",
        ):
            columns.append([None if v is None or v != v else int(v) for v in col.tolist()])
        elif name in ("superseded", "certified"):
            columns.append([bool(v) for v in col.tolist()])
        else:
            columns.append(_none(col.tolist()))
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    names = ", ".join(INSERT_COLUMNS)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY usage_log ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for record in zip(*columns, strict=True):
                copy.write_row(record)
        return
    # SQLite stores dates/datetimes as ISO text (SQLAlchemy's format), booleans as 0/1.
    idx_date = INSERT_COLUMNS.index("log_date")
    for pos in (INSERT_COLUMNS.index("computed_at"), INSERT_COLUMNS.index("created_at")):
        columns[pos] = [
            None if v is None else v.replace(tzinfo=None).isoformat(sep=" ") for v in columns[pos]
        ]
    columns[idx_date] = [v.isoformat() for v in columns[idx_date]]
    placeholders = ", ".join("?" for _ in INSERT_COLUMNS)
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(
            f"INSERT INTO usage_log ({names}) VALUES ({placeholders})", list(zip(*columns, strict=True))
        )
    finally:
        cursor.close()


def _existing_refs(ctx: _Context, source: LogSource, refs: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(refs), 5000):
        part = refs[start : start + 5000]
        found.update(
            db.session.scalars(
                # Any channel: the same reference sent by CSV and later by the API is one log.
                select(UsageLog.source_ref).where(
                    UsageLog.contractor_id == ctx.contractor_id,
                    UsageLog.source_ref.in_(part),
                )
            )
        )
    return found


def _row_refs(out: pd.DataFrame, prefix: str) -> pd.Series:
    """A row without a source_ref gets one from its content (unit, project, date and values), so
    the same row sent twice is recognised."""
    cols = [
        "machine_unit_id",
        "project_id",
        "log_date",
        "runtime_h",
        "hour_meter_start",
        "hour_meter_end",
        "fuel_litres",
        "fuel_type",
        "kwh",
    ]
    content = out[cols[0]].astype(str).fillna("")
    for name in cols[1:]:
        content = content + "|" + out[name].astype(str).fillna("")
    digest = content.map(lambda s: hashlib.sha1(s.encode()).hexdigest()[:24])
    return out["source_ref"].where(out["source_ref"] != "", prefix + digest)


class _Run:
    """One filing: chunks in, checked rows stored, errors collected."""

    def __init__(
        self,
        contractor_id: int,
        source: LogSource,
        mode: ImportMode,
        actor: User | None,
        batch_id: int | None,
        exclude_log_ids: Sequence[int],
        extra: Mapping[str, Any] | None,
        today: date | None = None,
        keep_ids: bool = False,
    ) -> None:
        self.ctx = _Context(contractor_id, today or date.today(), batch_id, exclude_log_ids)
        self.source = source
        self.mode = mode
        self.actor = actor
        self.extra = dict(extra or {})
        self.result = FileResult()
        self.keep_ids = keep_ids
        self.storing = True
        self.now = utcnow()

    def feed(self, chunk: pd.DataFrame) -> pd.DataFrame:
        """Check one chunk; store its valid rows unless all-or-nothing already failed."""
        ctx = self.ctx
        errors = _Errors()
        self.result.rows_total += len(chunk)
        out = _prepare_chunk(chunk, ctx, errors)
        ok = ~errors.bad_index(out)
        with np.errstate(invalid="ignore", divide="ignore"):
            _cross_checks(out, ok, ctx, errors)
        ok = ~errors.bad_index(out)
        co2 = compute_co2(out[ok], (ctx.factors, ctx.rates)) if ok.any() else None
        if co2 is not None:
            errors.add(
                out.loc[ok, "_row"], co2["factor_error"].notna(), "fuel_type", co2["factor_error"].fillna("")
            )
            ok = ~errors.bad_index(out)
        # duplicates (idempotency by source reference): skipped, not errors
        out["source_ref"] = _row_refs(out, "row:")
        valid = out[ok].copy()
        dup_in_file = valid["source_ref"].isin(ctx.seen_refs) | valid["source_ref"].duplicated()
        stored = _existing_refs(ctx, self.source, valid["source_ref"].tolist()) if len(valid) else set()
        duplicate = dup_in_file | valid["source_ref"].isin(stored)
        self.result.rows_duplicate += int(duplicate.sum())
        valid = valid[~duplicate]
        chunk_errors = errors.as_list()
        self.result.rows_rejected += len({e[0] for e in chunk_errors})
        if len(self.result.errors) < MAX_ERRORS_STORED:
            self.result.errors.extend(chunk_errors[: MAX_ERRORS_STORED - len(self.result.errors)])
        else:
            self.result.errors_truncated = self.result.errors_truncated or bool(chunk_errors)
        if chunk_errors and self.mode == ImportMode.all_or_nothing:
            self.storing = False
        # carry state for later chunks (only rows that will be stored count)
        for key, hours in valid.groupby(["machine_unit_id", "log_date"])["runtime_h"].sum().items():
            k = (int(key[0]), key[1])
            ctx.day_hours[k] = ctx.day_hours.get(k, 0.0) + float(hours)
        meters = valid.dropna(subset=["hour_meter_end"])
        if len(meters):
            top = meters.groupby("machine_unit_id").agg(d=("log_date", "max"), m=("hour_meter_end", "max"))
            for unit, d, m in top.itertuples(name=None):
                prev = ctx.last_meter.get(int(unit))
                if prev is None or m > prev[1]:
                    ctx.last_meter[int(unit)] = (d, float(m))
        ctx.seen_refs.update(valid["source_ref"].tolist())
        if self.storing and len(valid):
            self._store(valid, co2.loc[valid.index] if co2 is not None else None)
        self.result.rows_ok += len(valid)
        return valid

    def _store(self, valid: pd.DataFrame, co2: pd.DataFrame | None) -> None:
        assert co2 is not None
        rows = pd.DataFrame(
            {
                "contractor_id": self.ctx.contractor_id,
                "machine_unit_id": valid["machine_unit_id"],
                "project_id": valid["project_id"],
                "log_date": valid["log_date"],
                "runtime_h": valid["runtime_h"],
                "hour_meter_start": valid["hour_meter_start"],
                "hour_meter_end": valid["hour_meter_end"],
                "fuel_litres": valid["fuel_litres"],
                "fuel_type": valid["fuel_type"],
                "kwh": valid["kwh"],
                "source": self.source.value,
                "source_ref": valid["source_ref"],
                "import_batch_id": self.ctx.batch_id,
                "supersedes_id": self.extra.get("supersedes_id"),
                "superseded": False,
                "correction_reason": self.extra.get("correction_reason"),
                "certified": _certified(valid, self.ctx),
                "actual_co2_kg": co2["actual_co2_kg"],
                "reference_co2_kg": co2["reference_co2_kg"],
                "fuel_factor_id": co2["fuel_factor_id"],
                "grid_factor_id": co2["grid_factor_id"],
                "diesel_factor_id": co2["diesel_factor_id"],
                "reference_rate_id": co2["reference_rate_id"],
                "computed_at": self.now,
                "created_by_id": self.actor.id if self.actor else None,
                "created_at": self.now,
            },
            index=valid.index,
        )
        if self.keep_ids:
            # Small filings (form, API, corrections): ORM-level insert returning ids.
            records = rows.astype(object).where(rows.notna(), None).to_dict("records")
            for rec in records:
                rec["log_date"] = rec["log_date"]
            result = db.session.execute(insert(UsageLog).returning(UsageLog.id), records)
            self.result.log_ids.extend(int(i) for i in result.scalars())
        else:
            bulk_insert_logs(rows)


def file_records(
    contractor_id: int,
    records: Sequence[Mapping[str, Any]],
    *,
    source: LogSource,
    mode: ImportMode = ImportMode.all_or_nothing,
    actor: User | None = None,
    exclude_log_ids: Sequence[int] = (),
    extra: Mapping[str, Any] | None = None,
    audit: bool = True,
    today: date | None = None,
    batch_id: int | None = None,
) -> FileResult:
    """File a small set of logs (form, JSON API, correction) through the one validation path.

    ``records`` hold either ``machine_unit_id``/``project_id`` or ``serial_or_pin``/
    ``contract_number`` plus the template's value columns. Row numbers are 1-based positions. In
    all-or-nothing mode nothing is stored if any record is rejected. Flushes, never commits.
    """
    if not records:
        raise InvalidInput.for_field("logs", "No log records given.")
    frame = pd.DataFrame([{k: _cell(v) for k, v in r.items()} for r in records])
    frame["_row"] = np.arange(1, len(frame) + 1)
    run = _Run(contractor_id, source, mode, actor, batch_id, exclude_log_ids, extra, today, keep_ids=True)
    try:
        with db.session.begin_nested():
            run.feed(frame)
            if run.result.errors and mode == ImportMode.all_or_nothing:
                raise _Rollback()
    except _Rollback:
        run.result.rows_ok = 0
        run.result.log_ids = []
        return run.result
    return _after(run, audit)


class _Rollback(Exception):
    pass


def _after(run: _Run, audit: bool) -> FileResult:
    if audit and run.result.rows_ok:
        record_event(
            "registry.log.file",
            object_type="usage_log",
            object_id=",".join(map(str, run.result.log_ids[:50])) or "batch",
            actor=run.actor,
            subject_organisation_id=run.ctx.contractor_id,
            after={
                "source": run.source.value,
                "rows_ok": run.result.rows_ok,
                "rows_duplicate": run.result.rows_duplicate,
            },
        )
    return run.result


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# ------------------------------------------------------------------------------------------
# Files: CSV, XLSX, JSON, ISO 15143-3 -> chunks of text cells
# ------------------------------------------------------------------------------------------


def _check_header(columns: Iterable[Any], kind: str) -> list[str]:
    names = [str(c).strip().lstrip("\ufeff") for c in columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise FileFormatError(
            f"The {kind} file has no header row with the template columns: missing "
            + ", ".join(missing)
            + ". Download the template for the expected columns."
        )
    return names


def iter_csv(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """CSV in chunks (pandas ``chunksize``): text cells, UTF-8 (with or without BOM)."""
    try:
        with pd.read_csv(
            path,
            chunksize=chunk_rows,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            skipinitialspace=True,
        ) as reader:
            first_row = 2
            for chunk in reader:
                chunk.columns = _check_header(chunk.columns, "CSV")
                chunk["_row"] = np.arange(first_row, first_row + len(chunk))
                first_row += len(chunk)
                yield chunk
    except UnicodeDecodeError:
        raise FileFormatError(
            "The file is not UTF-8 text. Save it as 'CSV UTF-8' (or use the XLSX template)."
        ) from None
    except pd.errors.EmptyDataError:
        raise FileFormatError("The CSV file is empty (no header row).") from None
    except pd.errors.ParserError as exc:
        raise FileFormatError(f"The CSV file cannot be read: {exc}") from None


def iter_xlsx(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """XLSX sheet ``usage_logs`` in chunks (openpyxl read-only: bounded memory)."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileFormatError(f"The file is not an XLSX workbook ({type(exc).__name__}).") from None
    try:
        if XLSX_SHEET not in workbook.sheetnames:
            raise FileFormatError(
                f"The workbook has no sheet '{XLSX_SHEET}' (it has: {', '.join(workbook.sheetnames)}). "
                "Use the template."
            )
        rows = workbook[XLSX_SHEET].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise FileFormatError("The sheet is empty (no header row).")
        names = _check_header(["" if h is None else h for h in header], "XLSX")
        buffer: list[list[Any]] = []
        row_number = 1
        for values in rows:
            row_number += 1
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            buffer.append([_xl_cell(v) for v in values[: len(names)]] + [""] * (len(names) - len(values)))
            buffer[-1].append(row_number)
            if len(buffer) >= chunk_rows:
                yield pd.DataFrame(buffer, columns=[*names, "_row"])
                buffer = []
        if buffer:
            yield pd.DataFrame(buffer, columns=[*names, "_row"])
    finally:
        workbook.close()


def _xl_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def iter_json_file(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """A JSON file ``{"logs": [...]}`` or ``[...]`` of template records."""
    import json

    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise FileFormatError("The JSON file is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"Malformed JSON (line {exc.lineno}): {exc.msg}") from None
    records = document.get("logs") if isinstance(document, dict) else document
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FileFormatError('The JSON file must be a list of log objects or {"logs": [...]}.')
    for start in range(0, len(records), chunk_rows):
        part = records[start : start + chunk_rows]
        frame = pd.DataFrame([{k: _cell(v) for k, v in r.items()} for r in part])
        frame["_row"] = np.arange(start + 1, start + 1 + len(part))
        yield frame


def iter_iso15143(
    path: Path, contractor_id: int, project: Project | None, state: dict[str, Any]
) -> Iterator[pd.DataFrame]:
    """ISO 15143-3 snapshot -> per-period deltas (``registry.iso15143``) -> template rows.

    The last imported snapshot of each unit is the base of its first delta; the newest snapshot
    per unit is put into ``state["latest"]`` so the caller can store it after a successful import.
    """
    if project is None:
        raise FileFormatError("An ISO 15143-3 import needs the project the machines worked on.")
    try:
        with path.open("rb") as handle:
            snapshots = iso15143.parse_fleet_snapshot(handle)
        units = {
            u.serial_or_pin: u
            for u in db.session.scalars(select(MachineUnit).where(MachineUnit.contractor_id == contractor_id))
        }
        previous = {}
        for key in snapshots:
            unit = units.get(key)
            if unit is not None and unit.telematics_at is not None:
                previous[key] = iso15143.EquipmentSnapshot(
                    equipment_key=key,
                    pin=None,
                    serial_number=None,
                    equipment_id=None,
                    oem_name=None,
                    model=None,
                    datetime=_aware(unit.telematics_at),
                    cumulative_hours=unit.telematics_hours,
                    cumulative_fuel_litres=unit.telematics_fuel_litres,
                    cumulative_kwh=unit.telematics_kwh,
                )
        deltas = iso15143.to_period_deltas(snapshots, previous)
    except (iso15143.SnapshotFormatError, iso15143.ReadingSequenceError) as exc:
        raise FileFormatError(f"ISO 15143-3 snapshot: {exc}") from None
    state["latest"] = iso15143.latest_by_equipment(snapshots)
    state["units"] = units
    rows = [
        {
            "contract_number": project.contract_number,
            "serial_or_pin": d.equipment_key,
            "log_date": d.period_end.date().isoformat(),
            "runtime_h": "" if d.runtime_h is None else str(d.runtime_h),
            "fuel_litres": "" if d.fuel_litres is None else str(d.fuel_litres),
            "kwh": "" if d.kwh is None else str(d.kwh),
            "fuel_type": carbon.DIESEL if d.fuel_litres else "",
            "source_ref": d.source_reference,
            "_row": i,
        }
        for i, d in enumerate(deltas, start=1)
    ]
    if rows:
        yield pd.DataFrame(rows)
        # runtime may be missing in a delta (fuel only): the runtime check reports it per row


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ------------------------------------------------------------------------------------------
# Import batches (files): idempotent, one transaction, report
# ------------------------------------------------------------------------------------------

KIND_SOURCE = {
    ImportKind.csv: LogSource.csv,
    ImportKind.xlsx: LogSource.xlsx,
    ImportKind.json: LogSource.api,
    ImportKind.iso15143: LogSource.iso15143,
}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def guess_kind(filename: str) -> ImportKind:
    name = filename.lower()
    if name.endswith(".csv"):
        return ImportKind.csv
    if name.endswith((".xlsx", ".xlsm")):
        return ImportKind.xlsx
    if name.endswith(".xml") or "iso" in name or "aemp" in name:
        return ImportKind.iso15143
    if name.endswith(".json"):
        return ImportKind.json
    raise InvalidInput.for_field("file", "Unknown file type: use .csv, .xlsx, .json or .xml (ISO 15143-3).")


def find_previous_batch(
    contractor_id: int, sha: str, mode: ImportMode, idempotency_key: str | None
) -> ImportBatch | None:
    """The earlier batch of the same content+mode (or Idempotency-Key), if it finished."""
    if idempotency_key:
        batch = db.session.scalar(
            select(ImportBatch).where(
                ImportBatch.contractor_id == contractor_id, ImportBatch.idempotency_key == idempotency_key
            )
        )
        if batch is not None:
            return batch
    return db.session.scalar(
        select(ImportBatch)
        .where(
            ImportBatch.contractor_id == contractor_id,
            ImportBatch.content_sha256 == sha,
            ImportBatch.mode == mode,
            ImportBatch.status.in_([ImportStatus.done, ImportStatus.failed]),
            ImportBatch.error.is_(None) | (ImportBatch.rows_total > 0),
        )
        .order_by(ImportBatch.id)
        .limit(1)
    )


def create_batch(
    contractor_id: int,
    path: Path,
    filename: str,
    kind: ImportKind,
    mode: ImportMode,
    actor: User | None = None,
    idempotency_key: str | None = None,
    project_id: int | None = None,
) -> tuple[ImportBatch, bool]:
    """Create (or find) the batch for a file. Returns (batch, created). Re-sending the same
    content in the same mode, or the same Idempotency-Key, returns the first batch."""
    sha = sha256_of(path)
    previous = find_previous_batch(contractor_id, sha, mode, idempotency_key)
    if previous is not None:
        return previous, False
    batch = ImportBatch(
        contractor_id=contractor_id,
        kind=kind,
        filename=filename[:255],
        content_sha256=sha,
        mode=mode,
        status=ImportStatus.queued,
        idempotency_key=idempotency_key,
        project_id=project_id,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(batch)
    db.session.flush()
    return batch, True


def run_import(
    batch: ImportBatch,
    path: Path,
    actor: User | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    today: date | None = None,
) -> ImportBatch:
    """Run a queued batch: the job boundary, so it COMMITS (like a CLI command).

    1. the batch is committed as ``running``;
    2. all chunks are checked and (per mode) stored in ONE transaction, committed together with
       the batch's result — a killed import leaves no rows;
    3. all-or-nothing with rejected rows, or a malformed file: everything is rolled back, then
       the batch is committed as ``failed`` with its report.
    """
    batch_id = batch.id
    contractor_id = batch.contractor_id
    batch.status = ImportStatus.running
    batch.started_at = utcnow()
    db.session.commit()
    with _PROGRESS_LOCK:
        PROGRESS[batch_id] = (0, 0)
    source = KIND_SOURCE[batch.kind]
    mode = batch.mode
    project = db.session.get(Project, batch.project_id) if batch.project_id else None
    state: dict[str, Any] = {}
    file_error: str | None = None
    result = FileResult()
    try:
        run = _Run(contractor_id, source, mode, actor, batch_id, (), None, today)
        if batch.kind == ImportKind.csv:
            chunks = iter_csv(path, chunk_rows)
        elif batch.kind == ImportKind.xlsx:
            chunks = iter_xlsx(path, chunk_rows)
        elif batch.kind == ImportKind.json:
            chunks = iter_json_file(path, chunk_rows)
        else:
            if project is not None and project.contractor_id != contractor_id:
                project = None
            chunks = iter_iso15143(path, contractor_id, project, state)
        for chunk in chunks:
            run.feed(chunk)
            with _PROGRESS_LOCK:
                PROGRESS[batch_id] = (run.result.rows_total, 0)
            if progress:
                progress(len(chunk))
        result = run.result
        baseline_only = source == LogSource.iso15143 and bool(state.get("latest"))
        if result.rows_total == 0 and not baseline_only:
            file_error = "The file has no data rows."
            raise _Rollback()
        if mode == ImportMode.all_or_nothing and result.errors:
            raise _Rollback()
        if source == LogSource.iso15143:
            _advance_telematics(state, bool(result.errors))
    except FileFormatError as exc:
        file_error = str(exc)
        result = FileResult()
        db.session.rollback()
    except _Rollback:
        db.session.rollback()
    except BaseException:
        db.session.rollback()
        with _PROGRESS_LOCK:
            PROGRESS.pop(batch_id, None)
        failed = db.session.get(ImportBatch, batch_id)
        if failed is not None:
            failed.status = ImportStatus.failed
            failed.error = "The import stopped unexpectedly; nothing was stored."
            failed.finished_at = utcnow()
            db.session.commit()
        raise
    batch = db.session.get(ImportBatch, batch_id)  # type: ignore[assignment]
    assert batch is not None
    stored = file_error is None and not (mode == ImportMode.all_or_nothing and result.errors)
    batch.rows_total = result.rows_total
    batch.rows_rejected = result.rows_rejected
    batch.rows_duplicate = result.rows_duplicate
    batch.rows_ok = result.rows_ok if stored else 0
    batch.error = file_error
    if not file_error and result.errors and not stored:
        batch.error = f"{result.rows_rejected} row(s) rejected; all-or-nothing: nothing was stored."
    batch.status = ImportStatus.done if stored else ImportStatus.failed
    batch.progress = 1  # type: ignore[assignment]
    batch.finished_at = utcnow()
    batch.error_report = [
        {"row": r, "column": c, "reason": m} for r, c, m in result.errors[:MAX_REPORT_IN_BATCH]
    ]
    _store_row_errors(batch, result.errors)
    record_event(
        "registry.import." + ("done" if stored else "failed"),
        batch,
        actor=actor,
        subject_organisation_id=contractor_id,
        reason=batch.error,
        after={
            "kind": batch.kind.value,
            "mode": mode.value,
            "rows_total": batch.rows_total,
            "rows_ok": batch.rows_ok,
            "rows_rejected": batch.rows_rejected,
            "rows_duplicate": batch.rows_duplicate,
            "sha256": batch.content_sha256,
        },
    )
    db.session.commit()
    with _PROGRESS_LOCK:
        PROGRESS.pop(batch_id, None)
    return batch


def _store_row_errors(batch: ImportBatch, errors: list[tuple[int, str, str]]) -> None:
    if not errors:
        return
    db.session.execute(
        insert(ImportRowError),
        [
            {
                "contractor_id": batch.contractor_id,
                "batch_id": batch.id,
                "row": r,
                "column": c,
                "reason": m[:2000],
            }
            for r, c, m in errors
        ],
    )


def _advance_telematics(state: dict[str, Any], any_rejected: bool) -> None:
    """Store each unit's newest snapshot as the base of its next delta. If any delta was
    rejected, every base stays, so the corrected snapshot can be re-sent (stored deltas are
    recognised by their source reference and skipped)."""
    if any_rejected:
        return
    latest: dict[str, iso15143.EquipmentSnapshot] = state.get("latest", {})
    units: dict[str, MachineUnit] = state.get("units", {})
    for key, snap in latest.items():
        unit = units.get(key)
        if unit is None:
            continue
        unit.telematics_at = snap.datetime
        unit.telematics_hours = snap.cumulative_hours
        unit.telematics_fuel_litres = snap.cumulative_fuel_litres
        unit.telematics_kwh = snap.cumulative_kwh


def import_file(
    contractor_id: int,
    path: Path,
    filename: str,
    mode: ImportMode,
    *,
    kind: ImportKind | None = None,
    actor: User | None = None,
    idempotency_key: str | None = None,
    project_id: int | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    today: date | None = None,
) -> tuple[ImportBatch, bool]:
    """Create-or-find the batch and run it (commits). Returns (batch, ran_now)."""
    batch, created = create_batch(
        contractor_id, path, filename, kind or guess_kind(filename), mode, actor, idempotency_key, project_id
    )
    if not created:
        return batch, False
    return run_import(batch, path, actor, progress, chunk_rows, today), True


def template_frame() -> pd.DataFrame:
    """An empty template with the columns and one example row."""
    example = {
        "contract_number": "PRJ-2025-001",
        "serial_or_pin": "SN-0001",
        "log_date": "2025-05-01",
        "runtime_h": "7.5",
        "hour_meter_start": "1200.0",
        "hour_meter_end": "1207.5",
        "fuel_type": "diesel",
        "fuel_litres": "95.0",
        "fuel_unit": "L",
        "kwh": "",
        "energy_unit": "",
        "source_ref": "my-row-1",
    }
    return pd.DataFrame([example], columns=[c for c, _, _ in TEMPLATE_COLUMNS])


def template_bytes(kind: str) -> bytes:
    frame = template_frame()
    if kind == "xlsx":
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
            frame.to_excel(writer, sheet_name=XLSX_SHEET, index=False)
            pd.DataFrame(
                [(c, "yes" if r else "no", m) for c, r, m in TEMPLATE_COLUMNS],
                columns=["column", "required", "meaning"],
            ).to_excel(writer, sheet_name="columns", index=False)
        return buffer.getvalue()
    return frame.to_csv(index=False).encode("utf-8-sig")


def logs_for_recompute(ids: Sequence[int]) -> pd.DataFrame:
    """Inputs of ``compute_co2`` for stored logs."""
    rows = db.session.execute(
        select(
            UsageLog.id,
            UsageLog.log_date,
            Project.jurisdiction,
            Category.code,
            MachineUnit.rated_power_kw,
            UsageLog.runtime_h,
            UsageLog.fuel_litres,
            UsageLog.fuel_type,
            UsageLog.kwh,
        )
        .join(Project, Project.id == UsageLog.project_id)
        .join(MachineUnit, MachineUnit.id == UsageLog.machine_unit_id)
        .join(Category, Category.id == MachineUnit.category_id)
        .where(UsageLog.id.in_(list(ids)))
        .order_by(UsageLog.id)
    ).all()
    frame = pd.DataFrame(
        rows,
        columns=[
            "id",
            "log_date",
            "jurisdiction",
            "category_code",
            "rated_power_kw",
            "runtime_h",
            "fuel_litres",
            "fuel_type",
            "kwh",
        ],
    )
    for col in ("rated_power_kw", "runtime_h", "fuel_litres", "kwh"):
        frame[col] = pd.to_numeric(frame[col]).astype("float64")
    return frame


def open_upload(stream: IO[bytes], directory: Path, suffix: str) -> Path:
    """Save an upload to a temp file under ``directory`` (streamed, bounded memory)."""
    import tempfile

    directory.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=directory, suffix=suffix, delete=False)
    with handle:
        for block in iter(lambda: stream.read(1 << 20), b""):
            handle.write(block)
    return Path(handle.name)
