"""Dashboard and annual report on a small data set built with the domains' services and factories;
every expected figure is computed by hand in the comments."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from gxmachinery.accounts.models import OrganisationKind
from gxmachinery.certification import services as cert
from gxmachinery.certification.models import Drive
from scoring.dashboard import queries as q
from tests.factories import OrganisationFactory, user_of
from tests.registry.factories import (
    BaselineSetFactory,
    CategoryFactory,
    CertificateFactory,
    MachineUnitFactory,
    ProjectFactory,
)
from tests.scoring.factories import TenderFlow, UsageLogFactory

TODAY = date(2026, 1, 15)


@pytest.fixture
def data(app, session):  # type: ignore[no-untyped-def]
    certifier = user_of("certifier")
    makers = [OrganisationFactory(kind=OrganisationKind.maker, name=f"[T] Maker {i}") for i in (1, 2, 3)]
    category = CategoryFactory(code="dash_excavator", name_en="Dash excavator", name_zh="儀表挖土機")
    bset = BaselineSetFactory()

    def certificate(maker, issued, until, drive=Drive.diesel, grade="★★★"):  # type: ignore[no-untyped-def]
        return CertificateFactory(
            machine_model__maker=maker,
            machine_model__category=category,
            machine_model__drive=drive,
            baseline_set=bset,
            grade=grade,
            issued_on=issued,
            valid_until=until,
        )

    certificate(makers[0], date(2024, 1, 1), date(2027, 1, 1))
    certificate(makers[1], date(2025, 3, 1), date(2028, 3, 1), Drive.hybrid, "★★")
    c3 = certificate(makers[2], date(2024, 6, 1), date(2027, 6, 1))
    c4 = certificate(makers[0], date(2022, 12, 1), date(2025, 12, 1))
    c5 = certificate(makers[1], date(2024, 2, 1), date(2027, 2, 1))
    session.flush()
    cert.revoke_certificate(certifier, c3, date(2025, 9, 1), "false test report", today=TODAY)
    cert.renew_certificate(certifier, c4, date(2025, 10, 1), "renewal")
    cert.suspend_certificate(certifier, c5, date(2025, 5, 1), "inspection finding", today=TODAY)

    agency_x = OrganisationFactory(kind=OrganisationKind.agency, name="[T] Agency X")
    agency_y = OrganisationFactory(kind=OrganisationKind.agency, name="[T] Agency Y")
    contractor = OrganisationFactory(kind=OrganisationKind.contractor, name="[T] Contractor K")
    p = ProjectFactory(agency_id=agency_x.id, contractor_id=contractor.id, contract_number="DASH-P")
    qp = ProjectFactory(agency_id=agency_y.id, contractor_id=contractor.id, contract_number="DASH-Q")
    unit = MachineUnitFactory(contractor_id=contractor.id, category=category)

    def log(project, day, hours, certified, actual, reference, **kw):  # type: ignore[no-untyped-def]
        return UsageLogFactory(
            contractor_id=contractor.id,
            machine_unit_id=unit.id,
            project_id=project.id,
            log_date=day,
            runtime_h=Decimal(hours),
            certified=certified,
            actual_co2_kg=Decimal(actual),
            reference_co2_kg=Decimal(reference),
            **kw,
        )

    log(p, date(2025, 3, 1), "8", True, "100", "150")
    log(p, date(2025, 3, 2), "6", False, "120", "110")
    log(p, date(2025, 4, 1), "5", True, "40", "90", superseded=True)  # corrected: must not count
    log(qp, date(2024, 12, 31), "10", True, "50", "200")
    session.flush()
    return {"agency_x": agency_x, "agency_y": agency_y, "category": category, "contractor": contractor}


def _records(frame: pd.DataFrame, key: str, value: str) -> dict:
    return {r[key]: r[value] for r in frame.to_dict("records")}


def test_certification_figures_hand_computed(data):
    figures = q.certification_figures(date(2024, 1, 1), date(2025, 12, 31))
    by_cat = figures["models_by_category"].frame
    mine = by_cat[by_cat["category"] == "dash_excavator"]
    # 2024-12-31: c1, c3, c4, c5 active -> 4 models; 2025-12-31: c1, c2, c4 (c3 revoked, c5
    # suspended, c4 renewed before its 2025-12-01 expiry) -> 3 models.
    assert _records(mine, "as_of", "models") == {date(2024, 12, 31): 4, date(2025, 12, 31): 3}
    drive = figures["models_by_drive"].frame
    end = drive[drive["as_of"] == date(2025, 12, 31)]
    # 2025-12-31 by drive: diesel c1, c4 = 2; hybrid c2 = 1 (only our certificates exist here).
    assert _records(end, "drive", "models") == {"diesel": 2, "hybrid": 1}
    makers = figures["makers_per_class"].frame
    row = makers[makers["category"] == "dash_excavator"].iloc[0]
    # 2025-12-31: makers 1 (c1, c4) and 2 (c2) -> 2 < 3: not designatable.
    assert (row["makers"], bool(row["designatable"])) == (2, False)
    earlier = q.certification_figures(date(2024, 1, 1), date(2024, 12, 31))["makers_per_class"].frame
    row = earlier[earlier["category"] == "dash_excavator"].iloc[0]
    # 2024-12-31: makers 1 (c1, c4), 2 (c5), 3 (c3) -> 3: designatable.
    assert (row["makers"], bool(row["designatable"])) == (3, True)


def test_usage_figures_hand_computed_and_agency_filter(data):
    filters = q.DashboardFilters(date(2024, 1, 1), date(2025, 12, 31))
    figures = q.usage_figures(filters)
    by_year = figures["usage_by_year"].frame.set_index("fiscal_year")
    # FY2025 (superseded log excluded): hours 8 + 6 = 14, certified 8, actual 220, reference 260.
    assert by_year.loc[2025, ["logs", "hours", "certified_hours"]].tolist() == [2, 14.0, 8.0]
    assert by_year.loc[2025, "reduction_co2_kg"] == pytest.approx(40.0)
    assert by_year.loc[2025, "certified_share"] == pytest.approx(8 / 14)
    # FY2024: one 10 h certified log, 200 - 50 = 150 kg reduction.
    assert by_year.loc[2024, "reduction_co2_kg"] == pytest.approx(150.0)
    by_agency = _records(figures["usage_by_agency"].frame, "agency", "hours")
    assert by_agency == {"[T] Agency X": 14.0, "[T] Agency Y": 10.0}
    only_x = q.usage_figures(q.DashboardFilters(date(2024, 1, 1), date(2025, 12, 31), data["agency_x"].id))
    assert only_x["usage_by_year"].frame["fiscal_year"].tolist() == [2025]
    by_project = _records(only_x["usage_by_project"].frame, "project", "actual_co2_kg")
    assert list(by_project.values()) == [pytest.approx(220.0)]
    public = q.usage_figures(filters, public=True)
    assert set(public) == {"usage_by_year", "usage_by_agency"}


def test_tender_where_carbon_changed_the_winner(api, data):
    """tw_total, quality 80 + carbon 20, one member. A commits share 1 -> S 50 -> carbon 10 points;
    B share 0 -> 0. Quality: A 66, B 70. With carbon A 76 > B 70 -> A wins. Without carbon:
    A 66 < B 70 (pass mark 70 × 80/100 = 56) -> B: carbon changed the winner."""
    flow = TenderFlow(api, members=1)
    flow.create(
        method="tw_total",
        total_points="100",
        evaluation_date="2025-06-30",
        criteria=[
            {"code": "quality", "name": "quality", "max_points": "80", "is_carbon": False},
            {"code": "carbon", "name": "carbon", "max_points": "20", "is_carbon": True},
        ],
    )
    flow.action("open")
    flow.bid("A", "1000000", "1")
    flow.bid("B", "900000", "0")
    flow.action("close")
    flow.score(0, {"A": {"quality": 66}, "B": {"quality": 70}})
    flow.evaluate()
    filters = q.DashboardFilters(date(2025, 1, 1), date(2025, 12, 31), flow.agency.organisation_id)
    figures = q.tender_figures(filters)
    table = figures["tenders"].frame
    assert len(table) == 1
    row = table.iloc[0]
    names = {label: user.organisation.name for label, user in flow.bidders.items()}
    assert (row["winner"], row["winner_without_carbon"]) == (names["A"], names["B"])
    assert bool(row["carbon_changed_winner"]) is True
    summary = figures["tender_summary"].frame.iloc[0]
    assert (summary["tenders_with_carbon_scoring"], summary["carbon_changed_winner"]) == (1, 1)
    # Not published yet: the public report lists no tender.
    assert q.tender_figures(filters, public=True)["tenders"].frame.empty
    # Another agency's filter sees nothing.
    other = q.DashboardFilters(date(2025, 1, 1), date(2025, 12, 31), data["agency_x"].id)
    assert q.tender_figures(other)["tenders"].frame.empty


def test_annual_report_register_changes(data):
    report = q.annual_report(2025, today=TODAY)
    mine = report.changes[report.changes["maker"].str.startswith("[T]")]
    # FY2025: new c2 (2025-03-01); suspended c5 (05-01); revoked c3 (09-01); renewed c4 (10-01);
    # c4 did not expire (renewed first).
    assert [(r["kind"], r["on"]) for r in mine.to_dict("records")] == [
        ("new", date(2025, 3, 1)),
        ("suspended", date(2025, 5, 1)),
        ("revoked", date(2025, 9, 1)),
        ("renewed", date(2025, 10, 1)),
    ]
    assert "false test report" in set(mine["reason"])
    public = q.annual_report(2025, public=True, today=TODAY)
    assert "reason" not in public.changes.columns
    assert "usage_by_contractor" not in public.figures and "usage_by_project" not in public.figures


# --- pages ---------------------------------------------------------------------------------


def test_dashboard_access(client, login, data):
    assert client.get("/dashboard/").status_code == 302  # signed out -> login
    login(user_of("contractor"))
    assert client.get("/dashboard/").status_code == 403
    login(user_of("admin"))
    resp = client.get("/dashboard/?date_from=2024-01-01&date_to=2025-12-31")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<svg" in html and "[T] Agency X" in html and "[T] Contractor K" in html


def test_agency_sees_only_its_own_projects(client, login, session, data):
    officer = user_of("agency")
    officer.organisation = data["agency_x"]
    session.flush()
    login(officer)
    # Asking for agency Y is ignored: an agency's filter is fixed to itself.
    url = f"/dashboard/figures/usage_by_agency.csv?date_from=2024-01-01&date_to=2025-12-31&agency_id={data['agency_y'].id}"
    resp = client.get(url)
    assert resp.status_code == 200
    assert resp.data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    frame = pd.read_csv(io.BytesIO(resp.data), encoding="utf-8-sig")
    assert frame["agency"].tolist() == ["[T] Agency X"]
    assert frame["hours"].tolist() == [14.0]


def test_filter_errors_keep_typed_values(client, login, data):
    login(user_of("admin"))
    resp = client.get("/dashboard/?date_from=2025-12-31&date_to=2025-01-01")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'value="2025-12-31"' in html and 'value="2025-01-01"' in html
    assert 'class="error"' in html


def test_exports_every_figure_csv_and_xlsx(client, login, data):
    login(user_of("admin"))
    for key in q.FIGURE_KEYS:
        for fmt in ("csv", "xlsx"):
            resp = client.get(f"/dashboard/figures/{key}.{fmt}?date_from=2024-01-01&date_to=2025-12-31")
            assert resp.status_code == 200, (key, fmt)
            assert "attachment" in resp.headers["Content-Disposition"]
    assert client.get("/dashboard/figures/nope.csv").status_code == 404


def test_public_annual_report_without_login(client, data):
    resp = client.get("/reports/annual/2025")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<h1>" in html and "[T] Agency X" in html
    assert "[T] Contractor K" not in html and "DASH-P" not in html  # no per-contractor/project figures
    assert "false test report" not in html
    xlsx = client.get("/reports/annual/2025.xlsx")
    assert xlsx.status_code == 200
    sheets = pd.read_excel(io.BytesIO(xlsx.data), sheet_name=None)
    assert {"about", "usage_by_year", "register_changes", "register_change_counts"} <= set(sheets)
    assert "usage_by_contractor" not in sheets
    counts = dict(
        zip(
            sheets["register_change_counts"]["kind"],
            sheets["register_change_counts"]["certificates"],
            strict=True,
        )
    )
    assert counts["revoked"] >= 1 and counts["renewed"] >= 1


def test_internal_annual_report_and_year_picker(client, login, data):
    login(user_of("admin"))
    assert client.get("/dashboard/annual/2025").status_code == 200
    xlsx = client.get("/dashboard/annual/2025.xlsx")
    assert "usage_by_contractor" in pd.read_excel(io.BytesIO(xlsx.data), sheet_name=None)
    assert client.get("/dashboard/annual/?year=2025").headers["Location"].endswith("/dashboard/annual/2025")
    assert client.get("/reports/annual/?year=abc").status_code == 422
