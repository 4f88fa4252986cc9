"""Benchmark: evaluate a tender with 50 bidders and 10 committee members whose histories span
1,000,000 usage logs, and compare with computing the same totals in a bare pandas pipeline.

    python bench/evaluate_tender.py                   # 1,000,000 logs, SQLite file in a temp dir
    python bench/evaluate_tender.py --logs 50000      # smaller
    python bench/evaluate_tender.py --database-url postgresql+psycopg://postgres@127.0.0.1/gxm_bench

The service path (``scoring.services.evaluate_tender``) gathers signed sheets and bids, pulls
the 50 histories with the registry's one aggregate query (``registry.services.history_summaries``),
computes carbon scores, runs the method (``scoring.methods.evaluate``), stores the evaluation and
its snapshot, and writes the audit event. The pandas pipeline reads the same log columns with
``pandas.read_sql`` and computes the same history shares, carbon scores, member totals and ranking
with vectorised pandas. The two must agree on every total; the script checks that, then prints the
time per evaluation and the ratio service / pandas. Logs are generated directly with the registry's
bulk insert (``registry.importers.bulk_insert_logs``: executemany on SQLite, COPY on PostgreSQL).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gxmachinery import create_app  # noqa: E402
from gxmachinery.accounts.models import Organisation, OrganisationKind, User  # noqa: E402
from gxmachinery.certification.models import Category  # noqa: E402
from gxmachinery.extensions import db  # noqa: E402
from registry.importers import INSERT_COLUMNS, bulk_insert_logs  # noqa: E402
from registry.models import MachineUnit, Project  # noqa: E402
from scoring import services  # noqa: E402
from scoring.carbon_score import CarbonScoreParams  # noqa: E402

BIDDERS = 50
MEMBERS = 10
AS_OF = date(2026, 6, 30)


def _setup(n_logs: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    agency = Organisation(name="Bench agency", kind=OrganisationKind.agency)
    db.session.add(agency)
    category = Category(
        code="bench_excavator", name_en="Bench", name_zh="測", size_attribute="p", size_unit="kW"
    )
    db.session.add(category)
    contractors = [
        Organisation(name=f"Bench contractor {i:02d}", kind=OrganisationKind.contractor)
        for i in range(BIDDERS)
    ]
    db.session.add_all(contractors)
    members = [
        User(organisation=agency, email=f"member{i}@bench.test", name=f"Member {i}", roles=["committee"])
        for i in range(MEMBERS)
    ]
    agency_user = User(organisation=agency, email="agency@bench.test", name="Agency", roles=["agency"])
    db.session.add_all([*members, agency_user])
    db.session.flush()
    units, projects = [], []
    for c in contractors:
        unit = MachineUnit(
            contractor_id=c.id,
            serial_or_pin=f"B-{c.id}",
            category_id=category.id,
            rated_power_kw=Decimal(100),
            drive="diesel",
        )
        project = Project(
            agency_id=agency.id,
            contract_number=f"BENCH-H-{c.id}",
            name="history",
            start_date=date(2023, 1, 1),
        )
        db.session.add_all([unit, project])
        units.append(unit)
        projects.append(project)
    tender_project = Project(agency_id=agency.id, contract_number="BENCH-T", name="tender", start_date=AS_OF)
    db.session.add(tender_project)
    db.session.flush()

    # Usage logs: spread evenly over the bidders, dates over the 36-month window.
    t0 = time.perf_counter()
    chunk = 200_000
    now = pd.Timestamp.now(tz="UTC").to_pydatetime()
    for start in range(0, n_logs, chunk):
        n = min(chunk, n_logs - start)
        idx = np.arange(start, start + n)
        who = idx % BIDDERS
        runtime = rng.uniform(2, 10, n).round(3)
        reference = (runtime * 100 * 0.175 * 2.6526).round(3)
        frame = pd.DataFrame(
            {
                "contractor_id": [contractors[i].id for i in who],
                "machine_unit_id": [units[i].id for i in who],
                "project_id": [projects[i].id for i in who],
                "log_date": [AS_OF - timedelta(days=int(d)) for d in rng.integers(0, 1090, n)],
                "runtime_h": runtime,
                "source": "api",
                "source_ref": [f"bench-{i}" for i in idx],
                "superseded": False,
                "certified": rng.random(n) < (0.2 + 0.6 * who / BIDDERS),
                "actual_co2_kg": (reference * rng.uniform(0.6, 1.05, n)).round(3),
                "reference_co2_kg": reference,
                "created_at": now,
            }
        )
        for col in INSERT_COLUMNS:
            if col not in frame:
                frame[col] = None
        bulk_insert_logs(frame.loc[:, list(INSERT_COLUMNS)])
    db.session.flush()
    print(f"inserted {n_logs:,} logs in {time.perf_counter() - t0:.1f} s")

    criteria = [{"code": f"c{i}", "name": f"criterion {i}", "max_points": "20"} for i in range(4)] + [
        {"code": "carbon", "name": "carbon", "max_points": "20", "is_carbon": True}
    ]
    tender = services.create_tender(
        agency_user,
        {
            "project_id": tender_project.id,
            "reference": "BENCH-TENDER",
            "title": "bench",
            "method": "tw_total",
            "total_points": "100",
            "criteria": criteria,
            "committee_user_ids": [m.id for m in members],
            "evaluation_date": AS_OF,
        },
    )
    services.open_tender(tender)
    for i, c in enumerate(contractors):
        services.submit_bid(
            tender,
            c,
            {
                "price": str(1_000_000 + 1000 * i),
                "lines": [
                    {
                        "category": "hydraulic_excavator",
                        "units": 1,
                        "rated_power_kw": "100",
                        "hours": "1000",
                        "certified": True,
                        "fuel_litres": str(10000 + 100 * i),
                    },
                    {
                        "category": "wheel_loader",
                        "units": 1,
                        "rated_power_kw": "120",
                        "hours": str(200 + 20 * i),
                        "certified": False,
                    },
                ],
            },
        )
    services.close_bidding(tender)
    for m in tender.members:
        sheet = {str(b.id): {f"c{k}": int(rng.integers(8, 21)) for k in range(4)} for b in tender.bids}
        services.submit_sheet(m, sheet)
        services.sign_sheet(m)
    db.session.commit()
    return tender.id


def pandas_pipeline(tender_id: int) -> pd.Series:
    """The same mean totals with bare pandas: read logs, aggregate the window, score, sum."""
    engine = db.engine
    params = CarbonScoreParams()
    start = (pd.Timestamp(AS_OF) - pd.DateOffset(months=params.window_months)).date()
    bids = pd.read_sql(
        text(
            "SELECT id AS bid_id, bidder_id, planned_certified_share AS share, "
            "planned_reduction_ratio AS ratio FROM bid WHERE tender_id = :t"
        ),
        engine,
        params={"t": tender_id},
    )
    logs = pd.read_sql(
        text(
            "SELECT contractor_id, runtime_h, certified, actual_co2_kg, reference_co2_kg "
            "FROM usage_log WHERE superseded = :f AND log_date > :s AND log_date <= :e"
        ),
        engine,
        params={"f": False, "s": start, "e": AS_OF},
    )
    logs = logs[logs["contractor_id"].isin(bids["bidder_id"])]
    logs["certified_h"] = logs["runtime_h"].where(logs["certified"].astype(bool), 0.0)
    hist = logs.groupby("contractor_id")[
        ["runtime_h", "certified_h", "actual_co2_kg", "reference_co2_kg"]
    ].sum()
    w_share, w_red = float(params.w_share), float(params.w_red)
    target, alpha = float(params.target_reduction_ratio), float(params.alpha)
    hist_share = hist["certified_h"] / hist["runtime_h"]
    hist_ratio = (hist["reference_co2_kg"] - hist["actual_co2_kg"]) / hist["reference_co2_kg"]
    s_hist = 100 * (w_share * hist_share + w_red * (hist_ratio / target).clip(0, 1))  # fulfilment 1
    b = bids.set_index("bid_id")
    s_commit = 100 * (
        w_share * b["share"].astype(float) + w_red * (b["ratio"].astype(float) / target).clip(0, 1)
    )
    s_total = alpha * s_commit + (1 - alpha) * b["bidder_id"].map(s_hist).astype(float)
    scores = pd.read_sql(
        text(
            "SELECT ms.member_id, ms.bid_id, ms.points FROM member_score ms "
            "JOIN committee_member cm ON cm.id = ms.member_id WHERE cm.tender_id = :t"
        ),
        engine,
        params={"t": tender_id},
    )
    per_member = scores.groupby(["bid_id", "member_id"])["points"].sum().astype(float)
    mean_scored = per_member.groupby(level="bid_id").mean()
    totals = mean_scored + 20 * s_total / 100
    return totals.sort_values(ascending=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="gxm-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        if url.startswith("postgresql"):
            db.drop_all()
        db.create_all()
        tender_id = _setup(args.logs, args.seed)
        service_times, pandas_times = [], []
        evaluation = None
        for _ in range(args.repeat):
            tender = db.session.get(services.Tender, tender_id)
            t0 = time.perf_counter()
            evaluation = services.evaluate_tender(tender)
            db.session.commit()
            service_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            totals = pandas_pipeline(tender_id)
            pandas_times.append(time.perf_counter() - t0)
        assert evaluation is not None
        keyed = {int(b["bidder_id"][1:]): float(b["total"]) for b in evaluation.result["bidders"]}
        worst = max(abs(keyed[int(k)] - v) for k, v in totals.items())
        assert worst < 1e-6, f"pandas and service totals differ by {worst}"
        svc, pdt = statistics.median(service_times), statistics.median(pandas_times)
        dialect = db.engine.dialect.name
        print(
            f"database={dialect} logs={args.logs:,} bidders={BIDDERS} members={MEMBERS} repeat={args.repeat}"
        )
        print(f"service evaluate_tender: median {svc * 1000:.1f} ms per evaluation")
        print(f"bare pandas pipeline:    median {pdt * 1000:.1f} ms")
        print(f"ratio service / pandas:  {svc / pdt:.2f}  (totals agree within {worst:.1e})")


if __name__ == "__main__":
    main()
