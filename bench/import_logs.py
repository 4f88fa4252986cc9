"""Benchmark: import N CSV usage-log rows end to end vs a bare baseline, in the same run.

    python bench/import_logs.py --rows 1000000                       # SQLite file in a temp dir
    python bench/import_logs.py --rows 20000 --db postgresql+psycopg://postgres@127.0.0.1:5432/gxm_bench_import

End to end = ``registry.importers.import_file``: stream the CSV in chunks (pandas ``chunksize``),
parse, resolve machines/projects, run every check (row checks, 24 h per unit-day and hour meters
against stored logs and earlier chunks, duplicates by source reference), compute CO2 with factor
ids, decide certified per date from certificate intervals, bulk insert (executemany on SQLite,
COPY on PostgreSQL), one transaction, batch report.

Baseline = pandas ``read_csv`` of the same file (same chunks) + the same bulk insert of the same
rows (ids mapped by dictionary, CO2 set to 0), no checks.

Each phase runs in its own forked process, so "peak memory" is that phase's peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``). The baseline's rows are deleted before the
import runs, so both insert into the same (empty) table with the same indexes.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gxmachinery import create_app  # noqa: E402
from gxmachinery.extensions import db  # noqa: E402

START = date(2023, 1, 1)
UNITS_PER_PROJECT = 50


def _prepare_database(url: str) -> str:
    if url.startswith("postgresql"):
        parsed = make_url(url)
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    return url


def _app(url: str):  # type: ignore[no-untyped-def]
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})


def _setup(url: str, rows: int, workdir: Path) -> dict[str, Any]:
    """Schema, contractor, projects, units, factors, and the CSV file (deterministic)."""
    from gxmachinery.accounts.models import Organisation, OrganisationKind
    from gxmachinery.certification.models import Category, Drive
    from registry.models import MachineUnit, Project
    from registry.services import load_factor_tables

    app = _app(url)
    with app.app_context():
        db.create_all()
        contractor = Organisation(name="Bench contractor", kind=OrganisationKind.contractor)
        agency = Organisation(name="Bench agency", kind=OrganisationKind.agency)
        category = Category(
            code="hydraulic_excavator",
            name_en="Excavator",
            name_zh="挖土機",
            size_attribute="bucket",
            size_unit="m3",
        )
        db.session.add_all([contractor, agency, category])
        db.session.flush()
        load_factor_tables()
        days = max(1, min(1500, rows // 200))
        n_units = -(-rows // days)
        n_projects = -(-n_units // UNITS_PER_PROJECT)
        end = START + timedelta(days=days + 1)
        projects = [
            Project(
                agency_id=agency.id,
                contractor_id=contractor.id,
                contract_number=f"BENCH-{p:04d}",
                name=f"Bench {p}",
                jurisdiction="TW",
                start_date=START,
                end_date=end,
            )
            for p in range(n_projects)
        ]
        units = [
            MachineUnit(
                contractor_id=contractor.id,
                serial_or_pin=f"SN{u:06d}",
                category_id=category.id,
                rated_power_kw=100 + (u % 5) * 10,
                drive=Drive.diesel,
            )
            for u in range(n_units)
        ]
        db.session.add_all(projects + units)
        db.session.commit()
        contractor_id = contractor.id
    # rows ordered by date then unit (as a daily telematics export would be)
    rng = np.random.default_rng(42)
    day_index = np.repeat(np.arange(days), n_units)[:rows]
    unit_index = np.tile(np.arange(n_units), days)[:rows]
    runtime = np.round(rng.uniform(4, 10, rows), 1)
    rated = 100 + (unit_index % 5) * 10
    fuel = np.round(runtime * rated * rng.uniform(0.08, 0.2, rows), 1)
    dates = pd.to_datetime(START) + pd.to_timedelta(day_index, unit="D")
    meter_end = 1000 + np.round(day_index * 10.0 + runtime, 1)  # one log/day, ≤ 10 h: monotone
    frame = pd.DataFrame(
        {
            "contract_number": [f"BENCH-{u // UNITS_PER_PROJECT:04d}" for u in unit_index],
            "serial_or_pin": [f"SN{u:06d}" for u in unit_index],
            "log_date": dates.strftime("%Y-%m-%d"),
            "runtime_h": runtime,
            "hour_meter_start": np.round(meter_end - runtime, 1),
            "hour_meter_end": meter_end,
            "fuel_type": "diesel",
            "fuel_litres": fuel,
            "fuel_unit": "L",
            "source_ref": [f"r{i}" for i in range(rows)],
        }
    )
    path = workdir / "logs.csv"
    frame.to_csv(path, index=False)
    return {
        "contractor_id": contractor_id,
        "csv": path,
        "today": (end + timedelta(days=1)).isoformat(),
        "units": n_units,
        "days": days,
        "bytes": path.stat().st_size,
    }


def _peak_mib() -> float:
    # ru_maxrss is KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _baseline(url: str, info: dict[str, Any], chunk: int, queue: Any) -> None:
    from sqlalchemy import select

    from registry.importers import INSERT_COLUMNS, bulk_insert_logs
    from registry.models import MachineUnit, Project, UsageLog

    app = _app(url)
    with app.app_context():
        units = dict(db.session.execute(select(MachineUnit.serial_or_pin, MachineUnit.id)).all())
        projects = dict(db.session.execute(select(Project.contract_number, Project.id)).all())
        now = pd.Timestamp.now(tz="UTC").to_pydatetime()
        started = time.perf_counter()
        total = 0
        with pd.read_csv(info["csv"], chunksize=chunk) as reader:
            for frame in reader:
                rows = pd.DataFrame(
                    {
                        "contractor_id": info["contractor_id"],
                        "machine_unit_id": frame["serial_or_pin"].map(units),
                        "project_id": frame["contract_number"].map(projects),
                        "log_date": pd.to_datetime(frame["log_date"]).dt.date,
                        "runtime_h": frame["runtime_h"],
                        "hour_meter_start": frame["hour_meter_start"],
                        "hour_meter_end": frame["hour_meter_end"],
                        "fuel_litres": frame["fuel_litres"],
                        "fuel_type": frame["fuel_type"],
                        "kwh": np.nan,
                        "source": "csv",
                        "source_ref": "base-" + frame["source_ref"],
                        "import_batch_id": None,
                        "supersedes_id": None,
                        "superseded": False,
                        "correction_reason": None,
                        "certified": False,
                        "actual_co2_kg": 0.0,
                        "reference_co2_kg": 0.0,
                        "fuel_factor_id": None,
                        "grid_factor_id": None,
                        "diesel_factor_id": None,
                        "reference_rate_id": None,
                        "computed_at": now,
                        "created_by_id": None,
                        "created_at": now,
                    }
                )[list(INSERT_COLUMNS)]
                bulk_insert_logs(rows)
                total += len(rows)
        db.session.commit()
        elapsed = time.perf_counter() - started
        db.session.execute(delete(UsageLog))
        db.session.commit()
    queue.put({"rows": total, "seconds": elapsed, "peak_mib": _peak_mib()})


def _import(url: str, info: dict[str, Any], chunk: int, queue: Any) -> None:
    from registry import importers
    from registry.models import ImportMode

    app = _app(url)
    with app.app_context():
        started = time.perf_counter()
        batch, _ran = importers.import_file(
            info["contractor_id"],
            info["csv"],
            "bench.csv",
            ImportMode.all_or_nothing,
            chunk_rows=chunk,
            today=date.fromisoformat(info["today"]),
        )
        elapsed = time.perf_counter() - started
        queue.put(
            {
                "rows": batch.rows_ok,
                "seconds": elapsed,
                "peak_mib": _peak_mib(),
                "status": batch.status.value,
                "rejected": batch.rows_rejected,
                "error": batch.error,
                "first_errors": (batch.error_report or [])[:3],
            }
        )


def _run(target: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default=None, help="Database URL (default: SQLite file in a temp dir)")
    parser.add_argument("--chunk", type=int, default=50_000, help="rows per chunk")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = _prepare_database(args.db or f"sqlite:///{workdir / 'bench.sqlite3'}")
        t0 = time.perf_counter()
        info = _setup(url, args.rows, workdir)
        print(
            f"database: {make_url(url).get_backend_name()}  rows: {args.rows:,}  units: {info['units']:,}  "
            f"days: {info['days']:,}  csv: {info['bytes'] / 2**20:.1f} MiB  setup: {time.perf_counter() - t0:.1f} s"
        )
        base = _run(_baseline, url, info, args.chunk)
        full = _run(_import, url, info, args.chunk)
    if full["rows"] != args.rows:
        print(f"IMPORT DID NOT STORE ALL ROWS: {full}")
        raise SystemExit(1)
    print(
        f"baseline (read_csv + bulk insert): {base['seconds']:8.2f} s  {base['rows'] / base['seconds']:>10,.0f} rows/s"
        f"  peak {base['peak_mib']:7.1f} MiB"
    )
    print(
        f"import (parse+check+CO2+store):    {full['seconds']:8.2f} s  {full['rows'] / full['seconds']:>10,.0f} rows/s"
        f"  peak {full['peak_mib']:7.1f} MiB"
    )
    print(
        f"ratio import / baseline: {full['seconds'] / base['seconds']:.2f}  (aim ≤ 3; peak memory aim < 1024 MiB)"
    )


if __name__ == "__main__":
    main()
