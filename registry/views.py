"""Registry pages: contractor dashboard (history + charts), fleet, projects, logs (form, detail,
correction), imports (upload, status with progress, error report), factors (admin), agency view."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from gxmachinery.accounts.models import Organisation, OrganisationKind, Role, User
from gxmachinery.auth import check_roles, get_owned
from gxmachinery.certification.models import Category, Drive
from gxmachinery.charts import svg_line_chart
from gxmachinery.errors import DomainError, InvalidInput, NotFound
from gxmachinery.exports import download_response
from gxmachinery.extensions import db
from gxmachinery.pagination import paginate
from registry import importers, services
from registry.models import (
    EmissionFactor,
    ImportBatch,
    ImportKind,
    ImportMode,
    ImportRowError,
    ImportStatus,
    LogSource,
    MachineUnit,
    Project,
    ReferenceRate,
    UsageLog,
)

bp = Blueprint("registry", __name__, url_prefix="/registry", template_folder="templates")


def _c(pairs: Any) -> list[SelectChoice]:
    """(value, label) pairs -> SelectChoice (tuples are deprecated in WTForms)."""
    return [SelectChoice(str(value), label) for value, label in pairs]


MODE_CHOICES = [
    (ImportMode.all_or_nothing.value, _l("All or nothing: store nothing if any row is rejected")),
    (ImportMode.accept_valid.value, _l("Accept valid rows: store the valid rows, report the rest")),
]


# ------------------------------------------------------------------------------------------
# Forms
# ------------------------------------------------------------------------------------------


class UnitForm(FlaskForm):
    serial_or_pin = StringField(_l("Serial number or PIN"), validators=[DataRequired(), Length(max=100)])
    name = StringField(_l("Name (optional)"), validators=[Optional(), Length(max=200)])
    certificate_number = StringField(_l("Certificate number (certified model)"), validators=[Optional()])
    category_code = SelectField(_l("Category (uncertified)"), validators=[Optional()])
    rated_power_kw = DecimalField(
        _l("Rated power (kW, uncertified)"), validators=[Optional(), NumberRange(min=0)]
    )
    drive = SelectField(
        _l("Drive (uncertified)"),
        choices=_c([("", "—")] + [(d.value, d.value) for d in Drive]),
        validators=[Optional()],
    )


class ProjectForm(FlaskForm):
    contract_number = StringField(_l("Contract number"), validators=[DataRequired(), Length(max=60)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    site = StringField(_l("Site"), validators=[Optional(), Length(max=300)])
    contractor_id = SelectField(_l("Contractor"), validators=[Optional()])
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    end_date = DateField(_l("End date"), validators=[Optional()])


class LogForm(FlaskForm):
    project_id = SelectField(_l("Project"), validators=[DataRequired()])
    machine_unit_id = SelectField(_l("Machine"), validators=[DataRequired()])
    log_date = DateField(_l("Date"), validators=[DataRequired()])
    runtime_h = DecimalField(_l("Runtime (h)"), validators=[Optional()])
    hour_meter_start = DecimalField(_l("Hour meter start"), validators=[Optional()])
    hour_meter_end = DecimalField(_l("Hour meter end"), validators=[Optional()])
    fuel_type = SelectField(
        _l("Fuel type"), choices=_c([("diesel", "diesel"), ("B20", "B20"), ("HVO", "HVO")])
    )
    fuel_litres = DecimalField(_l("Fuel (L)"), validators=[Optional()])
    kwh = DecimalField(_l("Electricity (kWh)"), validators=[Optional()])


class CorrectionForm(FlaskForm):
    log_date = DateField(_l("Date"), validators=[DataRequired()])
    runtime_h = DecimalField(_l("Runtime (h)"), validators=[Optional()])
    hour_meter_start = DecimalField(_l("Hour meter start"), validators=[Optional()])
    hour_meter_end = DecimalField(_l("Hour meter end"), validators=[Optional()])
    fuel_type = SelectField(
        _l("Fuel type"),
        choices=_c([("", "—"), ("diesel", "diesel"), ("B20", "B20"), ("HVO", "HVO")]),
        validators=[Optional()],
    )
    fuel_litres = DecimalField(_l("Fuel (L)"), validators=[Optional()])
    kwh = DecimalField(_l("Electricity (kWh)"), validators=[Optional()])
    reason = TextAreaField(_l("Reason for the correction"), validators=[DataRequired()])


class UploadForm(FlaskForm):
    file = FileField(_l("File (CSV, XLSX, JSON or ISO 15143-3 XML/JSON)"), validators=[FileRequired()])
    kind = SelectField(
        _l("Format"),
        choices=_c(
            [
                ("", _l("From the file name")),
                ("csv", "CSV"),
                ("xlsx", "XLSX"),
                ("json", "JSON"),
                ("iso15143", "ISO 15143-3"),
            ]
        ),
        validators=[Optional()],
    )
    mode = SelectField(_l("Mode"), choices=_c(MODE_CHOICES), default=ImportMode.all_or_nothing.value)
    project_id = SelectField(_l("Project (ISO 15143-3 snapshots)"), validators=[Optional()])


class FactorCorrectionForm(FlaskForm):
    value = DecimalField(_l("New value"), validators=[DataRequired(), NumberRange(min=0)])
    source = StringField(_l("Source"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired()])


class RecomputeForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired()])


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------


def _contractor_scope(actor: User) -> int | None:
    return None if actor.is_admin else actor.organisation_id


def _own_projects(actor: User) -> list[Project]:
    return list(db.session.scalars(services.projects_stmt(actor)))


def _own_units(actor: User) -> list[MachineUnit]:
    return list(db.session.scalars(services.units_stmt(_contractor_scope(actor))))


def _apply_domain_errors(form: FlaskForm, exc: DomainError) -> None:
    for name, messages in exc.errors.items():
        target = getattr(form, name, None)
        texts = messages if isinstance(messages, list) else [str(messages)]
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + [str(m) for m in texts]
        else:
            form.form_errors.append(f"{name}: {' '.join(map(str, texts))}")


def _sort(stmt: Any, allowed: dict[str, Any], default: str) -> Any:
    key = request.args.get("sort", default)
    desc = key.startswith("-")
    column = allowed.get(key.lstrip("-"))
    if column is None:
        return stmt
    return stmt.order_by(None).order_by(column.desc() if desc else column.asc())


def _date_arg(name: str) -> date | None:
    value = request.args.get(name)
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------
# Dashboard / history
# ------------------------------------------------------------------------------------------


def _history_context(contractor_id: int, project_ids: list[int] | None, as_of: date) -> dict[str, Any]:
    summary = services.history_summary(contractor_id, as_of)
    table = services.history_table([contractor_id], project_ids)
    outcomes = services.commitment_outcomes([contractor_id], project_ids)
    charts = []
    projects = sorted(int(p) for p in table["project_id"].unique()) if len(table) else []
    numbers = dict(zip(table["project_id"], table["contract_number"], strict=False)) if len(table) else {}
    keys: list[int | None] = [None, *projects] if len(projects) > 1 else [*projects] or [None]
    for pid in keys:
        if project_ids is not None and pid is None:
            continue
        series = services.monthly_series(contractor_id, pid)
        if series.empty:
            continue
        months = [m.strftime("%Y-%m") for m in series["month"]]
        label = _("All projects") if pid is None else numbers.get(pid, str(pid))
        charts.append(
            {
                "title": label,
                "co2": svg_line_chart(
                    months,
                    {
                        _("Actual CO2 (t)"): list(series["actual_co2_kg"] / 1000),
                        _("Reference CO2 (t)"): list(series["reference_co2_kg"] / 1000),
                    },
                    title=_("CO2 per month: %(p)s", p=label),
                    ylabel="t CO2",
                ),
                "share": svg_line_chart(
                    months,
                    {_("Certified share of hours (%)"): list(series["certified_share"] * 100)},
                    title=_("Certified share per month: %(p)s", p=label),
                    ylabel="%",
                ),
            }
        )
    return {"summary": summary, "table": table.to_dict("records"), "outcomes": outcomes, "charts": charts}


@bp.route("/")
def dashboard():
    """The contractor's CO2 history: window summary, per project × year, outcomes, charts."""
    actor = check_roles(Role.contractor)
    contractor_id = (
        actor.organisation_id if not actor.is_admin else request.args.get("contractor_id", type=int)
    )
    if contractor_id is None:
        return redirect(url_for("registry.logs"))
    as_of = _date_arg("as_of") or date.today()
    ctx = _history_context(contractor_id, None, as_of)
    return render_template("registry/dashboard.html", contractor_id=contractor_id, as_of=as_of, **ctx)


@bp.route("/history.<fmt>")
def history_export(fmt: str):
    """History per contractor × project × year as CSV or XLSX (own, or an agency's projects)."""
    actor = check_roles(Role.contractor, Role.agency)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    if actor.has_role(Role.agency) and not actor.is_admin:
        projects = [p.id for p in _own_projects(actor)]
        table = services.history_table(None, projects)
    else:
        cid = actor.organisation_id if not actor.is_admin else request.args.get("contractor_id", type=int)
        table = services.history_table([cid] if cid else None)
    return download_response(table, "history", fmt)


# ------------------------------------------------------------------------------------------
# Fleet
# ------------------------------------------------------------------------------------------


@bp.route("/units", methods=["GET", "POST"])
def units():
    actor = check_roles(Role.contractor)
    form = UnitForm()
    form.category_code.choices = _c(
        [("", "—")]
        + [
            (c.code, f"{c.name_en} / {c.name_zh}")
            for c in db.session.scalars(select(Category).order_by(Category.code))
        ]
    )
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and not actor.is_admin:
            try:
                services.register_machine_unit(
                    actor.organisation_id,
                    form.serial_or_pin.data or "",
                    certificate_number=form.certificate_number.data or None,
                    category_code=form.category_code.data or None,
                    rated_power_kw=form.rated_power_kw.data,
                    drive=form.drive.data or None,
                    name=form.name.data or None,
                    actor=actor,
                )
                db.session.commit()
                flash(_("Machine registered."), "success")
                return redirect(url_for("registry.units"))
            except DomainError as exc:
                db.session.rollback()
                _apply_domain_errors(form, exc)
        status = 422
    page = paginate(services.units_stmt(_contractor_scope(actor)), request.args.get("page", 1, type=int), 50)
    return render_template("registry/units.html", form=form, page=page), status


# ------------------------------------------------------------------------------------------
# Projects
# ------------------------------------------------------------------------------------------


@bp.route("/projects", methods=["GET", "POST"])
def projects():
    actor = check_roles(Role.contractor, Role.agency)
    is_agency = actor.has_role(Role.agency) or actor.is_admin
    form = ProjectForm() if is_agency else None
    status = 200
    if form is not None:
        form.contractor_id.choices = _c(
            [("", _("Not awarded yet"))]
            + [
                (str(o.id), o.name)
                for o in db.session.scalars(
                    select(Organisation)
                    .where(Organisation.kind == OrganisationKind.contractor)
                    .order_by(Organisation.name)
                )
            ]
        )
        if request.method == "POST":
            if form.validate_on_submit():
                try:
                    services.create_project(
                        actor.organisation_id,
                        form.contract_number.data or "",
                        form.name.data or "",
                        form.start_date.data,
                        form.end_date.data,  # type: ignore[arg-type]
                        contractor_id=int(form.contractor_id.data) if form.contractor_id.data else None,
                        site=form.site.data or None,
                        actor=actor,
                    )
                    db.session.commit()
                    flash(_("Project created."), "success")
                    return redirect(url_for("registry.projects"))
                except DomainError as exc:
                    db.session.rollback()
                    _apply_domain_errors(form, exc)
            status = 422
    elif request.method == "POST":
        abort(403)
    page = paginate(services.projects_stmt(actor), request.args.get("page", 1, type=int), 50)
    return render_template("registry/projects.html", form=form, page=page), status


@bp.route("/projects/<int:project_id>")
def project_detail(project_id: int):
    """A project: its logs; for the agency also the contractor's history on its projects."""
    actor = check_roles(Role.contractor, Role.agency)
    project = services.get_visible_project(actor, project_id)
    page = paginate(
        services.logs_stmt(actor, project_id=project.id), request.args.get("page", 1, type=int), 50
    )
    history = None
    if project.contractor_id is not None:
        if actor.has_role(Role.agency) and not actor.is_admin:
            mine = [p.id for p in _own_projects(actor)]
            history = _history_context(project.contractor_id, mine, date.today())
        else:
            history = _history_context(project.contractor_id, [project.id], date.today())
    return render_template("registry/project.html", project=project, page=page, history=history)


# ------------------------------------------------------------------------------------------
# Logs
# ------------------------------------------------------------------------------------------

LOG_SORTS = {
    "date": UsageLog.log_date,
    "runtime": UsageLog.runtime_h,
    "co2": UsageLog.actual_co2_kg,
    "id": UsageLog.id,
}


def _log_filters(actor: User) -> Any:
    return services.logs_stmt(
        actor,
        project_id=request.args.get("project_id", type=int),
        machine_unit_id=request.args.get("machine_unit_id", type=int),
        date_from=_date_arg("date_from"),
        date_to=_date_arg("date_to"),
        include_superseded=request.args.get("effective") != "1",
    )


@bp.route("/logs")
def logs():
    actor = check_roles(Role.contractor, Role.agency)
    stmt = _sort(_log_filters(actor), LOG_SORTS, "-date")
    page = paginate(stmt, request.args.get("page", 1, type=int), 50)
    return render_template("registry/logs.html", page=page, projects=_own_projects(actor))


@bp.route("/logs.<fmt>")
def logs_export(fmt: str):
    actor = check_roles(Role.contractor, Role.agency)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    rows = db.session.scalars(_log_filters(actor).limit(200_000))
    frame = pd.DataFrame(
        [
            {
                "id": r.id,
                "contractor_id": r.contractor_id,
                "contract_number": r.project.contract_number,
                "serial_or_pin": r.machine_unit.serial_or_pin,
                "log_date": r.log_date,
                "runtime_h": r.runtime_h,
                "hour_meter_start": r.hour_meter_start,
                "hour_meter_end": r.hour_meter_end,
                "fuel_type": r.fuel_type,
                "fuel_litres": r.fuel_litres,
                "kwh": r.kwh,
                "certified": r.certified,
                "actual_co2_kg": r.actual_co2_kg,
                "reference_co2_kg": r.reference_co2_kg,
                "source": r.source.value,
                "source_ref": r.source_ref,
                "superseded": r.superseded,
                "supersedes_id": r.supersedes_id,
            }
            for r in rows
        ]
    )
    return download_response(frame, "usage_logs", fmt)


@bp.route("/logs/new", methods=["GET", "POST"])
def log_new():
    """File one log by form: the same validation path as every import."""
    actor = check_roles(Role.contractor)
    form = LogForm()
    form.project_id.choices = _c((p.id, f"{p.contract_number} {p.name}") for p in _own_projects(actor))
    form.machine_unit_id.choices = _c((u.id, u.serial_or_pin) for u in _own_units(actor))
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            record = {
                "project_id": form.project_id.data,
                "machine_unit_id": form.machine_unit_id.data,
                "log_date": form.log_date.data,
                "runtime_h": form.runtime_h.data,
                "hour_meter_start": form.hour_meter_start.data,
                "hour_meter_end": form.hour_meter_end.data,
                "fuel_type": form.fuel_type.data if form.fuel_litres.data else None,
                "fuel_litres": form.fuel_litres.data,
                "kwh": form.kwh.data,
                "source_ref": "form:" + (request.form.get("form_token") or ""),
            }
            record = {k: v for k, v in record.items() if v not in (None, "") and v != "form:"}
            result = importers.file_records(
                actor.organisation_id, [record], source=LogSource.form, actor=actor
            )
            if not result.errors and (result.log_ids or result.rows_duplicate):
                db.session.commit()
                if result.log_ids:
                    flash(_("Log filed."), "success")
                    return redirect(url_for("registry.log_detail", log_id=result.log_ids[0]))
                flash(_("This log was already filed; nothing changed."), "info")
                return redirect(url_for("registry.logs"))
            _apply_domain_errors(form, importers.errors_to_invalid(result.errors, single=True))
        status = 422
    import secrets

    return render_template(
        "registry/log_form.html",
        form=form,
        form_token=request.form.get("form_token") or secrets.token_hex(12),
    ), status


@bp.route("/logs/<int:log_id>", methods=["GET", "POST"])
def log_detail(log_id: int):
    """One log with its correction chain; the contractor corrects it here (superseding record)."""
    actor = check_roles(Role.contractor, Role.agency)
    log = services.get_visible_log(actor, log_id)
    can_correct = (actor.is_admin or log.contractor_id == actor.organisation_id) and not log.superseded
    form = CorrectionForm(obj=log) if can_correct else None
    status = 200
    if request.method == "POST":
        if form is None:
            abort(403)
        if form.validate_on_submit():
            changes = {
                name: getattr(form, name).data
                for name in (
                    "log_date",
                    "runtime_h",
                    "hour_meter_start",
                    "hour_meter_end",
                    "fuel_litres",
                    "kwh",
                )
            }
            changes["fuel_type"] = form.fuel_type.data or None
            try:
                new = services.correct_usage_log(log, changes, form.reason.data or "", actor)
                db.session.commit()
                flash(_("Correction filed; the old record is kept as superseded."), "success")
                return redirect(url_for("registry.log_detail", log_id=new.id))
            except DomainError as exc:
                db.session.rollback()
                _apply_domain_errors(form, exc)
        status = 422
    chain = []
    cursor: UsageLog | None = log
    while cursor is not None and cursor.supersedes_id:
        cursor = db.session.get(UsageLog, cursor.supersedes_id)
        if cursor is not None:
            chain.append(cursor)
    newer = db.session.scalar(
        select(UsageLog).where(UsageLog.contractor_id == log.contractor_id, UsageLog.supersedes_id == log.id)
    )
    return render_template("registry/log_detail.html", log=log, form=form, chain=chain, newer=newer), status


# ------------------------------------------------------------------------------------------
# Imports
# ------------------------------------------------------------------------------------------


@bp.route("/imports", methods=["GET", "POST"])
def imports():
    actor = check_roles(Role.contractor)
    form = UploadForm()
    form.project_id.choices = _c([("", "—")] + [(p.id, p.contract_number) for p in _own_projects(actor)])
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and not actor.is_admin:
            upload = form.file.data
            directory = (
                Path(current_app.config.get("UPLOAD_DIR") or current_app.instance_path) / "registry-imports"
            )
            try:
                kind = (
                    ImportKind(form.kind.data)
                    if form.kind.data
                    else importers.guess_kind(upload.filename or "")
                )
                path = importers.open_upload(upload.stream, directory, Path(upload.filename or "").suffix)
                try:
                    batch, _ran = importers.import_file(
                        actor.organisation_id,
                        path,
                        upload.filename or "upload",
                        ImportMode(form.mode.data),
                        kind=kind,
                        actor=actor,
                        project_id=int(form.project_id.data) if form.project_id.data else None,
                    )
                    db.session.commit()
                finally:
                    path.unlink(missing_ok=True)
                if not _ran:
                    flash(_("This file was already imported; the first import's result is shown."), "info")
                return redirect(url_for("registry.import_detail", batch_id=batch.id))
            except InvalidInput as exc:
                _apply_domain_errors(form, exc)
        status = 422
    stmt = select(ImportBatch).order_by(ImportBatch.id.desc())
    if not actor.is_admin:
        stmt = stmt.where(ImportBatch.contractor_id == actor.organisation_id)
    page = paginate(stmt, request.args.get("page", 1, type=int), 25)
    return render_template(
        "registry/imports.html", form=form, page=page, columns=importers.TEMPLATE_COLUMNS
    ), status


@bp.route("/imports/<int:batch_id>")
def import_detail(batch_id: int):
    """Status, progress (refreshes while running) and the error report of one import."""
    actor = check_roles(Role.contractor)
    batch = get_owned(ImportBatch, batch_id, org_attr="contractor_id", actor=actor)
    done, _total = importers.PROGRESS.get(batch.id, (batch.rows_total, 0))
    page = paginate(
        select(ImportRowError)
        .where(ImportRowError.contractor_id == batch.contractor_id, ImportRowError.batch_id == batch.id)
        .order_by(ImportRowError.row, ImportRowError.id),
        request.args.get("page", 1, type=int),
        100,
    )
    running = batch.status in (ImportStatus.queued, ImportStatus.running)
    return render_template(
        "registry/import_detail.html", batch=batch, page=page, running=running, rows_done=done
    )


@bp.route("/imports/<int:batch_id>/errors.csv")
def import_errors_csv(batch_id: int):
    actor = check_roles(Role.contractor)
    batch = get_owned(ImportBatch, batch_id, org_attr="contractor_id", actor=actor)
    rows = db.session.execute(
        select(ImportRowError.row, ImportRowError.column, ImportRowError.reason)
        .where(ImportRowError.contractor_id == batch.contractor_id, ImportRowError.batch_id == batch.id)
        .order_by(ImportRowError.row, ImportRowError.id)
    ).all()
    frame = pd.DataFrame(rows, columns=["row", "column", "reason"])
    if batch.error and frame.empty:
        frame = pd.DataFrame([{"row": "", "column": "file", "reason": batch.error}])
    return download_response(frame, f"import_{batch.id}_errors", "csv")


@bp.route("/template.<fmt>")
def template(fmt: str):
    """The CSV/XLSX import template (columns + one example row)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    mimetype = (
        "text/csv" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(
        importers.template_bytes(fmt),
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename=usage_log_template.{fmt}"},
    )


# ------------------------------------------------------------------------------------------
# Factors (admin)
# ------------------------------------------------------------------------------------------


@bp.route("/factors", methods=["GET", "POST"])
def factors():
    actor = check_roles(Role.admin)
    correction = FactorCorrectionForm(prefix="c")
    recompute = RecomputeForm(prefix="r")
    status = 200
    if request.method == "POST":
        try:
            if "c-reason" in request.form and correction.validate_on_submit():
                factor = db.session.get(EmissionFactor, request.form.get("factor_id", type=int))
                if factor is None:
                    raise NotFound("Factor not found.")
                services.correct_emission_factor(
                    factor,
                    correction.value.data,  # type: ignore[arg-type]
                    correction.source.data or "",
                    correction.reason.data or "",
                    actor,
                )
                db.session.commit()
                flash(
                    _("Factor corrected: a new version. Logs keep the old one until you recompute."),
                    "success",
                )
                return redirect(url_for("registry.factors"))
            if "r-reason" in request.form and recompute.validate_on_submit():
                out = services.recompute_usage_co2(reason=recompute.reason.data or "", actor=actor)
                db.session.commit()
                flash(_("Recomputed %(n)s logs.", n=out["logs"]), "success")
                return redirect(url_for("registry.factors"))
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        status = 422
    rows = db.session.scalars(
        select(EmissionFactor).order_by(
            EmissionFactor.carrier, EmissionFactor.jurisdiction, EmissionFactor.year, EmissionFactor.version
        )
    )
    rates = db.session.scalars(
        select(ReferenceRate).order_by(ReferenceRate.category_code, ReferenceRate.version)
    )
    stale = services.factor_usage(
        db.session.scalars(select(EmissionFactor.id).where(EmissionFactor.is_current.is_(False))).all()
    )
    return render_template(
        "registry/factors.html",
        factors=list(rows),
        rates=list(rates),
        correction=correction,
        recompute=recompute,
        stale=stale,
    ), status
