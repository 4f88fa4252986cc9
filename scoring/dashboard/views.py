"""Scheme dashboard (agency/admin), annual report (internal and public) and their exports.

Access: the dashboard and the internal annual report need the agency or admin role; an agency
sees its own projects' usage and its own tenders (its agency filter is fixed), an admin sees all
and may pick an agency. The public annual report needs no login and shows the public figure set
(see ``queries`` module docstring for what is left out and why).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import DateField, Form, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from gxmachinery.accounts.models import Organisation, OrganisationKind, Role, User
from gxmachinery.auth import check_roles
from gxmachinery.charts import svg_bar_chart, svg_line_chart
from gxmachinery.exports import XLSX_MIMETYPE, download_response
from gxmachinery.extensions import db
from scoring.dashboard import queries as q

bp = Blueprint("dashboard", __name__, template_folder="templates")

FIGURE_TITLES: dict[str, Any] = {
    "models_by_category": _l("Certified models by category"),
    "models_by_size_class": _l("Certified models by size class"),
    "models_by_drive": _l("Certified models by drive"),
    "models_by_grade": _l("Certified models by grade"),
    "makers_per_class": _l("Makers per size class and designatable classes"),
    "usage_by_year": _l("Machine-hours and CO2 by fiscal year"),
    "usage_by_agency": _l("Machine-hours and CO2 by agency"),
    "usage_by_project": _l("Machine-hours and CO2 by project"),
    "usage_by_contractor": _l("Machine-hours and CO2 by contractor"),
    "tenders": _l("Tenders and the effect of the carbon criterion"),
    "tender_summary": _l("Carbon scoring in tenders"),
    "register_changes": _l("Register changes"),
    "register_change_counts": _l("Register changes by kind"),
}

COLUMN_LABELS: dict[str, Any] = {
    "as_of": _l("As of"),
    "category": _l("Category"),
    "size_class": _l("Size class"),
    "drive": _l("Drive"),
    "grade": _l("Grade"),
    "models": _l("Certified models"),
    "makers": _l("Makers"),
    "designatable": _l("Designatable"),
    "fiscal_year": _l("Fiscal year"),
    "agency": _l("Agency"),
    "project": _l("Project"),
    "contractor": _l("Contractor"),
    "logs": _l("Logs"),
    "hours": _l("Machine-hours"),
    "certified_hours": _l("Hours on certified machines"),
    "certified_share": _l("Certified share"),
    "actual_co2_kg": _l("Actual CO2 (kg)"),
    "reference_co2_kg": _l("Reference CO2 (kg)"),
    "reduction_co2_kg": _l("Reduction (kg CO2)"),
    "reduction_ratio": _l("Reduction ratio"),
    "reference": _l("Reference"),
    "title": _l("Title"),
    "method": _l("Method"),
    "status": _l("Status"),
    "evaluated_on": _l("Evaluated on"),
    "carbon_scoring": _l("Carbon scoring"),
    "winner": _l("Winner"),
    "winner_without_carbon": _l("Winner without carbon"),
    "carbon_changed_winner": _l("Carbon changed the winner"),
    "note": _l("Note"),
    "tenders_evaluated": _l("Tenders evaluated"),
    "tenders_with_carbon_scoring": _l("With carbon scoring"),
    "undetermined": _l("Undetermined"),
    "share_changed": _l("Share changed"),
    "kind": _l("Change"),
    "on": _l("Date"),
    "certificate_id": _l("Certificate id"),
    "number": _l("Certificate"),
    "maker": _l("Maker"),
    "type_designation": _l("Type"),
    "reason": _l("Reason"),
    "certificates": _l("Certificates"),
}
SHARE_COLUMNS = {"certified_share", "reduction_ratio", "share_changed"}
KG_COLUMNS = {"actual_co2_kg", "reference_co2_kg", "reduction_co2_kg", "hours", "certified_hours"}
CHANGE_LABELS: dict[str, Any] = {
    "new": _l("new"),
    "renewed": _l("renewed"),
    "suspended": _l("suspended"),
    "revoked": _l("revoked"),
    "expired": _l("expired"),
}


# ------------------------------------------------------------------------------------------
# Filters
# ------------------------------------------------------------------------------------------


class FilterForm(Form):
    """Period and agency (GET, no CSRF: it changes nothing)."""

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    agency_id = SelectField(
        _l("Agency"), coerce=lambda v: int(v) if v not in (None, "", "None") else None, validate_choice=False
    )

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.date_from.data and self.date_to.data and self.date_from.data > self.date_to.data:
            self.date_to.errors = [_("The end of the period must not be before its start.")]
            ok = False
        return ok


class YearForm(Form):
    year = IntegerField(_l("Fiscal year"), validators=[NumberRange(min=2000, max=2100)])


def _default_period(today: date) -> tuple[date, date]:
    """Three fiscal years up to today (the 36-month window the scheme's history uses)."""
    start, _end = q.fiscal_year_bounds(q.fiscal_year_of(today) - 2)
    return start, today


def _agencies() -> list[Organisation]:
    stmt = (
        select(Organisation).where(Organisation.kind == OrganisationKind.agency).order_by(Organisation.name)
    )
    return list(db.session.scalars(stmt))


def _scope(actor: User | None) -> int | None:
    """The agency an actor is limited to (None: all). Admins see all."""
    if actor is None or actor.is_admin:
        return None
    return actor.organisation_id


def _filters(actor: User | None, public: bool = False) -> tuple[FilterForm, q.DashboardFilters | None]:
    form = FilterForm(request.args)
    fixed = None if public else _scope(actor)
    form.agency_id.choices = [("", _("All agencies"))] + [(a.id, a.name) for a in _agencies()]
    if fixed is not None:
        form.agency_id.choices = [(a_id, name) for a_id, name in form.agency_id.choices if a_id == fixed]
        form.agency_id.data = fixed
    if not form.validate():
        return form, None
    start, end = _default_period(date.today())
    agency_id = fixed if fixed is not None else form.agency_id.data
    return form, q.DashboardFilters(form.date_from.data or start, form.date_to.data or end, agency_id)


# ------------------------------------------------------------------------------------------
# Presentation helpers
# ------------------------------------------------------------------------------------------


def _category_names() -> dict[str, str]:
    from gxmachinery.certification.models import Category

    zh = str(get_locale()).startswith("zh")
    return {c.code: (c.name_zh if zh else c.name_en) for c in db.session.scalars(select(Category))}


def _chart(fig: q.Figure) -> str | None:
    """The figure's SVG chart (None when there is nothing to draw)."""
    frame = fig.frame
    if fig.chart is None or frame.empty or fig.x is None or fig.y is None:
        return None
    title = str(FIGURE_TITLES.get(fig.key, ""))
    ylabel = str(COLUMN_LABELS.get(fig.y, fig.y))
    with warnings.catch_warnings():
        # Chinese labels: the SVG keeps text as text (the browser's CJK font draws it); matplotlib
        # only measures it with DejaVu Sans and warns about glyphs it cannot measure.
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from font", category=UserWarning)
        if fig.series and fig.chart == "line":
            pivot = frame.pivot_table(index=fig.x, columns=fig.series, values=fig.y, aggfunc="sum").fillna(0)
            x = [str(v) for v in pivot.index]
            series = {str(col): [float(v) for v in pivot[col]] for col in pivot.columns}
            return svg_line_chart(x, series, title=title, ylabel=ylabel)
        if fig.series:
            last = frame[frame[fig.x] == frame[fig.x].max()]
            return svg_bar_chart(
                [str(v) for v in last[fig.series]],
                [float(v) for v in last[fig.y]],
                title=title,
                ylabel=ylabel,
            )
        values = frame[fig.y].fillna(0)
        return svg_bar_chart(
            [str(v) for v in frame[fig.x]], [float(v) for v in values], title=title, ylabel=ylabel
        )


def _cell(column: str, value: Any, categories: Mapping[str, str]) -> str:
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if column in SHARE_COLUMNS:
        return f"{float(value):.1%}"
    if column in KG_COLUMNS:
        return f"{float(value):,.1f}"
    if column == "category":
        return categories.get(str(value), str(value))
    if column == "kind":
        return str(CHANGE_LABELS.get(str(value), value))
    return str(value)


def _table(frame: pd.DataFrame, categories: Mapping[str, str]) -> dict[str, Any]:
    columns = list(frame.columns)
    return {
        "columns": [(c, str(COLUMN_LABELS.get(c, c)), c in SHARE_COLUMNS | KG_COLUMNS) for c in columns],
        "rows": [
            [_cell(c, v, categories) for c, v in zip(columns, row, strict=True)]
            for row in frame.itertuples(index=False)
        ],
    }


def _present(figures: Mapping[str, q.Figure]) -> list[dict[str, Any]]:
    categories = _category_names()
    out = []
    for key, fig in figures.items():
        out.append(
            {
                "key": key,
                "title": FIGURE_TITLES.get(key, key),
                "svg": _chart(fig),
                "table": _table(fig.frame, categories),
                "notes": fig.notes,
            }
        )
    return out


def _args(filters: q.DashboardFilters) -> dict[str, Any]:
    args: dict[str, Any] = {
        "date_from": filters.date_from.isoformat(),
        "date_to": filters.date_to.isoformat(),
    }
    if filters.agency_id is not None:
        args["agency_id"] = filters.agency_id
    return args


def report_xlsx(report: q.AnnualReport) -> bytes:
    """Every figure of the report on its own sheet, plus the register's changes."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        about = pd.DataFrame(
            [
                {"item": "fiscal_year", "value": report.year},
                {"item": "from", "value": report.date_from.isoformat()},
                {"item": "to", "value": report.date_to.isoformat()},
                {"item": "version", "value": "public" if report.public else "internal"},
                {"item": "fiscal_year_rule", "value": q.FISCAL_YEAR.source},
            ]
        )
        about.to_excel(writer, sheet_name="about", index=False)
        for key, fig in report.figures.items():
            fig.frame.to_excel(writer, sheet_name=key[:31], index=False)
        report.change_counts.to_excel(writer, sheet_name="register_change_counts", index=False)
        report.changes.to_excel(writer, sheet_name="register_changes", index=False)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------
# Dashboard
# ------------------------------------------------------------------------------------------


@bp.route("/dashboard/")
def index():
    actor = check_roles(Role.agency)
    form, filters = _filters(actor)
    if filters is None:
        return render_template("dashboard/index.html", form=form, figures=[], filters=None), 422
    figures = _present(q.dashboard_figures(filters))
    return render_template(
        "dashboard/index.html",
        form=form,
        figures=figures,
        filters=filters,
        args=_args(filters),
        fixed_agency=_scope(actor) is not None,
    )


@bp.route("/dashboard/figures/<key>.<fmt>")
def figure_export(key: str, fmt: str):
    actor = check_roles(Role.agency)
    if key not in q.FIGURE_KEYS or fmt not in ("csv", "xlsx"):
        abort(404)
    _form, filters = _filters(actor)
    if filters is None:
        abort(422)
    frame = q.dashboard_figures(filters)[key].frame
    return download_response(frame, f"gxm-{key}-{filters.date_from}-{filters.date_to}", fmt)


@bp.route("/dashboard/annual/")
def annual_index():
    check_roles(Role.agency)
    return _pick_year("dashboard.annual")


@bp.route("/dashboard/annual/<int:year>")
def annual(year: int):
    actor = check_roles(Role.agency)
    report = q.annual_report(year, agency_id=_scope(actor))
    return _render_report(report, "dashboard.annual_xlsx")


@bp.route("/dashboard/annual/<int:year>.xlsx")
def annual_xlsx(year: int):
    actor = check_roles(Role.agency)
    return _xlsx(q.annual_report(year, agency_id=_scope(actor)))


# ------------------------------------------------------------------------------------------
# Public annual report (no login)
# ------------------------------------------------------------------------------------------


@bp.route("/reports/annual/")
def public_annual_index():
    return _pick_year("dashboard.public_annual")


@bp.route("/reports/annual/<int:year>")
def public_annual(year: int):
    return _render_report(q.annual_report(year, public=True), "dashboard.public_annual_xlsx")


@bp.route("/reports/annual/<int:year>.xlsx")
def public_annual_xlsx(year: int):
    return _xlsx(q.annual_report(year, public=True))


def _pick_year(endpoint: str):
    form = YearForm(request.args)
    if "year" in request.args:
        if form.validate():
            return redirect(url_for(endpoint, year=form.year.data))
        return render_template("dashboard/pick_year.html", form=form, endpoint=endpoint), 422
    if form.year.data is None:
        form.year.data = q.fiscal_year_of(date.today()) - 1
    return render_template("dashboard/pick_year.html", form=form, endpoint=endpoint)


def _render_report(report: q.AnnualReport, xlsx_endpoint: str):
    categories = _category_names()
    return render_template(
        "dashboard/annual.html",
        report=report,
        figures=_present(report.figures),
        counts=_table(report.change_counts, categories),
        changes=_table(report.changes, categories),
        xlsx_url=url_for(xlsx_endpoint, year=report.year),
        fiscal_rule=q.FISCAL_YEAR.source,
        publication_rule=q.PUBLICATION.source,
    )


def _xlsx(report: q.AnnualReport) -> Response:
    kind = "public" if report.public else "internal"
    response = Response(report_xlsx(report), mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="gxm-annual-report-{report.year}-{kind}.xlsx"'
    )
    return response
