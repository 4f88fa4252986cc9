"""The demo data's dashboard and annual-report figures against totals computed independently in
SQL (no pandas, no dashboard code): what the pages show and export is what the database holds."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import and_, case, distinct, extract, func, select

from gxmachinery.accounts.models import Organisation
from gxmachinery.certification.models import (
    Category,
    Certificate,
    CertificateRenewal,
    CertificateStatusChange,
    MachineModel,
)
from registry.models import Project, UsageLog
from scoring.dashboard import queries as q
from scoring.models import Criterion, Evaluation
from seed.accounts import demo_user

PERIOD = q.DashboardFilters(date(2024, 1, 1), date(2026, 12, 31))


@pytest.fixture
def demo(app, session):  # type: ignore[no-untyped-def]
    from seed.demo import load_demo

    load_demo()
    session.flush()
    assert session.scalar(select(func.count(UsageLog.id))) > 0, "the demo data has no usage logs"


def _sql_usage(session, group):  # type: ignore[no-untyped-def]
    certified = func.sum(case((UsageLog.certified.is_(True), UsageLog.runtime_h), else_=0))
    stmt = (
        select(
            group,
            func.count(UsageLog.id),
            func.sum(UsageLog.runtime_h),
            certified,
            func.sum(UsageLog.actual_co2_kg),
            func.sum(UsageLog.reference_co2_kg),
        )
        .join(Project, Project.id == UsageLog.project_id)
        .join(Organisation, Organisation.id == Project.agency_id)
        .where(
            UsageLog.superseded.is_(False),
            UsageLog.log_date >= PERIOD.date_from,
            UsageLog.log_date <= PERIOD.date_to,
        )
        .group_by(group)
    )
    return {
        (int(r[0]) if not isinstance(r[0], str) else r[0]): tuple(float(Decimal(str(v or 0))) for v in r[1:])
        for r in session.execute(stmt)
    }


def _compare(frame: pd.DataFrame, key: str, expected: dict) -> None:  # type: ignore[type-arg]
    got = {
        r[key]: (r["logs"], r["hours"], r["certified_hours"], r["actual_co2_kg"], r["reference_co2_kg"])
        for r in frame.to_dict("records")
    }
    assert set(got) == set(expected)
    for k, values in expected.items():
        assert got[k] == pytest.approx(values, rel=1e-9, abs=1e-6), k


def test_usage_by_year_and_agency_match_sql(demo, session):
    # Fiscal year = calendar year (預算法 §12), so SQL's year of log_date is the fiscal year.
    by_year = _sql_usage(session, extract("year", UsageLog.log_date))
    by_agency = _sql_usage(session, Organisation.name)
    figures = q.usage_figures(PERIOD)
    _compare(figures["usage_by_year"].frame, "fiscal_year", by_year)
    _compare(figures["usage_by_agency"].frame, "agency", by_agency)


def test_dashboard_page_and_export_show_the_sql_totals(demo, session, client, login):
    by_year = _sql_usage(session, extract("year", UsageLog.log_date))
    login(demo_user("admin@demo.gx"))
    args = f"date_from={PERIOD.date_from}&date_to={PERIOD.date_to}"
    html = client.get(f"/dashboard/?{args}").get_data(as_text=True)
    exported = pd.read_csv(
        io.BytesIO(client.get(f"/dashboard/figures/usage_by_year.csv?{args}").data), encoding="utf-8-sig"
    )
    for year, (logs, hours, _cert, actual, reference) in by_year.items():
        # The page shows hours and CO2 with one decimal and a thousands separator.
        assert f"{hours:,.1f}" in html and f"{reference - actual:,.1f}" in html, year
        row = exported[exported["fiscal_year"] == year].iloc[0]
        assert (row["logs"], row["hours"]) == (logs, pytest.approx(hours))


def _sql_active_models_by_category(session, on: date) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Certificates active on ``on``: the latest status change effective on or before it (ties: the
    later-recorded) is 'active', and the validity has not ended."""
    latest = (
        select(CertificateStatusChange.status)
        .where(
            CertificateStatusChange.certificate_id == Certificate.id,
            CertificateStatusChange.effective_from <= on,
        )
        .order_by(CertificateStatusChange.effective_from.desc(), CertificateStatusChange.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(Category.code, func.count(distinct(Certificate.machine_model_id)))
        .join(MachineModel, MachineModel.id == Certificate.machine_model_id)
        .join(Category, Category.id == MachineModel.category_id)
        .where(and_(latest == "active", Certificate.valid_until > on))
        .group_by(Category.code)
    )
    return {code: int(n) for code, n in session.execute(stmt)}


def test_certified_models_match_sql(demo, session):
    figures = q.certification_figures(PERIOD.date_from, date(2025, 12, 31))
    frame = figures["models_by_category"].frame
    for on in (date(2024, 12, 31), date(2025, 12, 31)):
        expected = _sql_active_models_by_category(session, on)
        got = {r["category"]: r["models"] for r in frame[frame["as_of"] == on].to_dict("records")}
        assert got == expected, on
    assert sum(_sql_active_models_by_category(session, date(2025, 12, 31)).values()) > 0


def test_tender_counts_match_sql(demo, session):
    with_carbon = session.scalar(
        select(func.count(distinct(Evaluation.tender_id)))
        .join(Criterion, Criterion.tender_id == Evaluation.tender_id)
        .where(
            Criterion.is_carbon.is_(True),
            Evaluation.as_of >= PERIOD.date_from,
            Evaluation.as_of <= PERIOD.date_to,
        )
    )
    evaluated = session.scalar(
        select(func.count(distinct(Evaluation.tender_id))).where(
            Evaluation.as_of >= PERIOD.date_from, Evaluation.as_of <= PERIOD.date_to
        )
    )
    summary = q.tender_figures(PERIOD)["tender_summary"].frame.iloc[0]
    assert summary["tenders_evaluated"] == evaluated
    # (A tender could also use carbon through a price adjustment only; the demo tenders all have
    # a carbon criterion.)
    assert summary["tenders_with_carbon_scoring"] == with_carbon > 0
    assert summary["undetermined"] == 0


def test_annual_register_changes_match_sql(demo, session):
    for year in (2024, 2025, 2026):
        _check_register_changes(session, year)


def _check_register_changes(session, year: int) -> None:  # type: ignore[no-untyped-def]
    start, end = q.fiscal_year_bounds(year)
    issued = session.scalar(
        select(func.count(Certificate.id)).where(Certificate.issued_on >= start, Certificate.issued_on <= end)
    )
    renewed = session.scalar(
        select(func.count(CertificateRenewal.id)).where(
            CertificateRenewal.renewed_on >= start, CertificateRenewal.renewed_on <= end
        )
    )

    def status_changes(status: str) -> int:
        return int(
            session.scalar(
                select(func.count(CertificateStatusChange.id)).where(
                    CertificateStatusChange.status == status,
                    CertificateStatusChange.effective_from >= start,
                    CertificateStatusChange.effective_from <= end,
                )
            )
        )

    report = q.annual_report(year)
    counts = dict(zip(report.change_counts["kind"], report.change_counts["certificates"], strict=True))
    assert counts["new"] == issued
    assert counts["renewed"] == renewed
    assert counts["suspended"] == status_changes("suspended")
    assert counts["revoked"] == status_changes("revoked")
