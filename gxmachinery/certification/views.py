"""Certification pages: public register and competition check; maker applications; certifier queue
and decisions; certificate management; admin reference data and baseline review."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DecimalField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from gxmachinery.auth import check_roles, current_actor
from gxmachinery.certification import services
from gxmachinery.certification.models import (
    Application,
    ApplicationDocument,
    ApplicationStatus,
    BaselineClass,
    BaselineSet,
    Category,
    CertificateStatus,
    DocumentKind,
    Drive,
    TestMethod,
)
from gxmachinery.charts import svg_strip_chart
from gxmachinery.errors import DomainError, InvalidInput, NotFound
from gxmachinery.exports import download_response
from gxmachinery.extensions import db
from gxmachinery.pagination import paginate

bp = Blueprint("certification", __name__, url_prefix="/certification", template_folder="templates")

DRIVE_LABELS = {
    Drive.diesel: _l("Diesel"),
    Drive.hybrid: _l("Hybrid"),
    Drive.battery_electric: _l("Battery electric"),
    Drive.cable_electric: _l("Cable electric"),
    Drive.other: _l("Other"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "under_review": _l("Under review"),
    "info_requested": _l("Information requested"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
    "active": _l("Active"),
    "suspended": _l("Suspended"),
    "revoked": _l("Revoked"),
    "expired": _l("Expired"),
}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"drive_labels": {str(k): v for k, v in DRIVE_LABELS.items()}, "status_labels": STATUS_LABELS}


class ApplicationForm(FlaskForm):
    category = SelectField(_l("Category"), validators=[DataRequired()])
    baseline_set = SelectField(_l("Baseline set"), validators=[DataRequired()])
    type_designation = StringField(_l("Type designation"), validators=[DataRequired(), Length(max=100)])
    catalogue_names = StringField(_l("Catalogue names of the same type (comma separated)"))
    drive = SelectField(_l("Drive"), choices=[SelectChoice(d.value, DRIVE_LABELS[d]) for d in Drive])
    rated_power_kw = DecimalField(_l("Rated power (kW)"), validators=[DataRequired()])
    mass_kg = DecimalField(_l("Operating mass (kg)"), validators=[Optional()])
    size_value = DecimalField(_l("Size value (category's size attribute)"), validators=[DataRequired()])
    emission_stage = StringField(_l("Emission stage"), validators=[Optional(), Length(max=60)])


def _fill_choices(form: ApplicationForm) -> None:
    form.category.choices = [
        SelectChoice(c.code, f"{c.name_en} / {c.name_zh} ({c.size_attribute}, {c.size_unit})")
        for c in db.session.scalars(select(Category).order_by(Category.code))
    ]
    form.baseline_set.choices = [
        SelectChoice(b.code, f"{b.code} {b.full_grade_label}")
        for b in db.session.scalars(
            select(BaselineSet).where(BaselineSet.active.is_(True)).order_by(BaselineSet.code)
        )
    ]


def _attach_errors(form: FlaskForm, errors: dict[str, Any]) -> dict[str, list[str]]:
    """Put service errors next to form fields; the rest (measurements, documents) are returned."""
    rest: dict[str, list[str]] = {}
    for key, messages in errors.items():
        msgs = messages if isinstance(messages, list) else [str(messages)]
        if key in form._fields:
            form._fields[key].errors = list(form._fields[key].errors or []) + [str(m) for m in msgs]
        else:
            rest[key] = [str(m) for m in msgs]
    return rest


def _measurements_from_form() -> dict[str, str]:
    return {key[2:]: value for key, value in request.form.items() if key.startswith("m_") and value.strip()}


def _methods_by_category() -> dict[str, TestMethod]:
    return {m.category.code: m for m in db.session.scalars(select(TestMethod))}


# ---- public register ----------------------------------------------------------------------


def _register_args() -> dict[str, Any]:
    keys = ("category", "class_id", "drive", "grade", "maker", "status", "baseline_set", "q", "sort")
    return {k: request.args.get(k, "").strip() for k in keys if request.args.get(k, "").strip()}


@bp.route("/register")
def register():
    args = _register_args()
    if args.get("class_id") and not args["class_id"].isdigit():
        args.pop("class_id")
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    page = paginate(services.register_query(args), page_no, 25)
    rows = services.register_rows(page.items)
    return render_template(
        "certification/register.html",
        page=page,
        rows=rows,
        args=args,
        categories=list(db.session.scalars(select(Category).order_by(Category.code))),
        classes=[
            (c.id, f"{c.baseline_set.code} {c.category.code} {c.label}")
            for c in db.session.scalars(
                select(BaselineClass).order_by(
                    BaselineClass.baseline_set_id, BaselineClass.category_id, BaselineClass.lower
                )
            )
        ],
        grades=sorted({g for g in db.session.scalars(select(services.Certificate.grade).distinct())}),
        statuses=[s.value for s in CertificateStatus],
        drives=[d.value for d in Drive],
    )


@bp.route("/register/export.<fmt>")
def register_export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    return download_response(services.register_frame(_register_args()), f"gx-register-{date.today()}", fmt)


@bp.route("/register/<number>")
def certificate_public(number: str):
    certificate = services.get_certificate(number)
    row = services.register_rows([certificate])[0]
    actor = current_actor()
    can_manage = actor is not None and (
        actor.is_admin or actor.has_role("certifier") or actor.organisation_id == certificate.maker_id
    )
    return render_template("certification/certificate.html", cert=certificate, row=row, can_manage=can_manage)


@bp.route("/competition")
def competition():
    table = services.competition_table()
    return render_template("certification/competition.html", rows=table.to_dict("records"))


# ---- maker applications -------------------------------------------------------------------


@bp.route("/applications")
def applications():
    actor = check_roles("maker")
    stmt = select(Application).order_by(Application.id.desc())
    if not actor.is_admin:
        stmt = stmt.where(Application.maker_id == actor.organisation_id)
    status = request.args.get("status") or ""
    if status in {s.value for s in ApplicationStatus}:
        stmt = stmt.where(Application.status == status)
    page = paginate(stmt, max(1, request.args.get("page", 1, type=int) or 1), 25)
    return render_template(
        "certification/applications.html",
        page=page,
        status=status,
        statuses=[s.value for s in ApplicationStatus],
    )


def _form_payload(form: ApplicationForm) -> dict[str, Any]:
    return {
        "category": form.category.data,
        "baseline_set": form.baseline_set.data,
        "type_designation": form.type_designation.data,
        "catalogue_names": form.catalogue_names.data or "",
        "drive": form.drive.data,
        "rated_power_kw": form.rated_power_kw.data,
        "mass_kg": form.mass_kg.data,
        "size_value": form.size_value.data,
        "emission_stage": form.emission_stage.data,
        "measurements": _measurements_from_form(),
    }


@bp.route("/applications/new", methods=["GET", "POST"])
def application_new():
    actor = check_roles("maker")
    form = ApplicationForm()
    _fill_choices(form)
    if request.method == "GET":
        # One category's work modes at a time (mode codes repeat across test methods).
        codes = [choice.value for choice in form.category.choices]  # type: ignore[union-attr]
        wanted = request.args.get("category")
        form.category.data = wanted if wanted in codes else (codes[0] if codes else None)
    other_errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            application = services.create_application(actor, _form_payload(form))
            db.session.commit()
            flash(_("Draft saved. Check the preview, attach the test report and submit."), "info")
            return redirect(url_for("certification.application_detail", application_id=application.id))
        except InvalidInput as exc:
            db.session.rollback()
            other_errors = _attach_errors(form, exc.errors)
        except DomainError:
            db.session.rollback()
            raise
    status = 422 if (form.errors or other_errors) else 200
    return render_template(
        "certification/application_form.html",
        form=form,
        other_errors=other_errors,
        methods=_methods_by_category(),
        values=_measurements_from_form(),
        application=None,
    ), status


@bp.route("/applications/<int:application_id>/edit", methods=["GET", "POST"])
def application_edit(application_id: int):
    actor = check_roles("maker")
    application = services.get_application_for(actor, application_id)
    if not actor.is_admin and application.maker_id != actor.organisation_id:
        raise NotFound(f"Application {application_id} not found.")
    model = application.machine_model
    form = ApplicationForm(obj=None)
    _fill_choices(form)
    if request.method == "GET":
        form.category.data = model.category.code
        form.baseline_set.data = application.baseline_set.code
        form.type_designation.data = model.type_designation
        form.catalogue_names.data = ", ".join(model.catalogue_names or [])
        form.drive.data = str(model.drive)
        form.rated_power_kw.data = model.rated_power_kw
        form.mass_kg.data = model.mass_kg
        form.size_value.data = model.size_value
        form.emission_stage.data = model.emission_stage
    other_errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            services.update_application(actor, application, _form_payload(form))
            db.session.commit()
            return redirect(url_for("certification.application_detail", application_id=application.id))
        except InvalidInput as exc:
            db.session.rollback()
            other_errors = _attach_errors(form, exc.errors)
    values = _measurements_from_form() if request.method == "POST" else dict(application.measurements or {})
    status = 422 if (form.errors or other_errors) else 200
    return render_template(
        "certification/application_form.html",
        form=form,
        other_errors=other_errors,
        methods=_methods_by_category(),
        values=values,
        application=application,
    ), status


@bp.route("/applications/<int:application_id>")
def application_detail(application_id: int):
    actor = check_roles("maker", "certifier")
    application = services.get_application_for(actor, application_id)
    return render_template(
        "certification/application.html",
        application=application,
        preview=services.preview(application),
        factors=services.factors_used(application),
        is_owner=actor.organisation_id == application.maker_id,
        is_reviewer=actor.has_role("certifier") or actor.is_admin,
        kinds=[k.value for k in DocumentKind],
        certificate=db.session.scalar(
            select(services.Certificate).where(services.Certificate.application_id == application.id)
        ),
        errors=None,
    )


MAKER_ACTIONS = {"submit", "withdraw", "answer"}
CERTIFIER_ACTIONS = {"start_review", "request_information", "approve", "reject", "factors"}


@bp.route("/applications/<int:application_id>/<action>", methods=["POST"])
def application_action(application_id: int, action: str):
    if action not in MAKER_ACTIONS | CERTIFIER_ACTIONS:
        abort(404)
    actor = check_roles("maker") if action in MAKER_ACTIONS else check_roles("certifier")
    application = services.get_application_for(actor, application_id)
    if action in MAKER_ACTIONS and not actor.is_admin and application.maker_id != actor.organisation_id:
        raise NotFound(f"Application {application_id} not found.")
    form = request.form
    try:
        if action == "submit":
            services.submit_application(actor, application)
        elif action == "withdraw":
            services.withdraw_application(actor, application, form.get("reason"))
        elif action == "answer":
            services.answer_information(actor, application, form.get("message"))
        elif action == "start_review":
            services.start_review(actor, application)
        elif action == "request_information":
            services.request_information(actor, application, form.get("reason"))
        elif action == "reject":
            services.reject_application(actor, application, form.get("reason"))
        elif action == "approve":
            issued = form.get("issued_on") or None
            services.approve_application(
                actor, application, form.get("reason"), date.fromisoformat(issued) if issued else None
            )
        elif action == "factors":
            services._check_reviewer(actor, application)
            services.set_factors(actor, application, dict(form))
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        application = services.get_application_for(actor, application_id)
        return render_template(
            "certification/application.html",
            application=application,
            preview=services.preview(application),
            factors=services.factors_used(application),
            is_owner=actor.organisation_id == application.maker_id,
            is_reviewer=actor.has_role("certifier") or actor.is_admin,
            kinds=[k.value for k in DocumentKind],
            certificate=None,
            errors=exc.errors,
        ), 422
    flash(_("Saved."), "info")
    return redirect(url_for("certification.application_detail", application_id=application_id))


@bp.route("/applications/<int:application_id>/documents", methods=["POST"])
def application_upload(application_id: int):
    actor = check_roles("maker")
    application = services.get_application_for(actor, application_id)
    if not actor.is_admin and application.maker_id != actor.organisation_id:
        raise NotFound(f"Application {application_id} not found.")
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidInput.for_field("file", _("Choose a PDF file."))
        services.store_document(
            actor, application, request.form.get("kind", "test_report"), upload.filename, upload.stream
        )
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        application = services.get_application_for(actor, application_id)
        return render_template(
            "certification/application.html",
            application=application,
            preview=services.preview(application),
            factors=services.factors_used(application),
            is_owner=True,
            is_reviewer=False,
            kinds=[k.value for k in DocumentKind],
            certificate=None,
            errors=exc.errors,
        ), 422
    flash(_("Document stored."), "info")
    return redirect(url_for("certification.application_detail", application_id=application_id))


@bp.route("/applications/<int:application_id>/documents/<int:document_id>")
def application_document(application_id: int, document_id: int):
    actor = check_roles("maker", "certifier")
    application = services.get_application_for(actor, application_id)
    document = db.session.get(ApplicationDocument, document_id)
    if document is None or document.application_id != application.id:
        raise NotFound(f"Document {document_id} not found.")
    return services.document_response(document)


# ---- certifier ------------------------------------------------------------------------------


@bp.route("/queue")
def queue():
    actor = check_roles("certifier")
    args = {k: request.args.get(k) for k in ("status", "category", "drive") if request.args.get(k)}
    if args.get("status") not in {None, *[s.value for s in ApplicationStatus]}:
        args.pop("status")
    page = paginate(
        services.review_queue(args, actor), max(1, request.args.get("page", 1, type=int) or 1), 25
    )
    return render_template(
        "certification/queue.html",
        page=page,
        args=args,
        categories=list(db.session.scalars(select(Category).order_by(Category.code))),
        statuses=[s.value for s in ApplicationStatus],
        drives=[d.value for d in Drive],
    )


@bp.route("/certificates/<int:certificate_id>/<action>", methods=["POST"])
def certificate_action(certificate_id: int, action: str):
    if action not in {"suspend", "reinstate", "revoke", "renew", "notice"}:
        abort(404)
    roles = (
        ("maker",) if action == "notice" else ("maker", "certifier") if action == "renew" else ("certifier",)
    )
    actor = check_roles(*roles)
    certificate = services.get_certificate(certificate_id)
    if not (actor.is_admin or actor.has_role("certifier")) and certificate.maker_id != actor.organisation_id:
        raise NotFound(f"Certificate {certificate_id} not found.")
    form = request.form
    try:
        day = date.fromisoformat(form["effective_from"]) if form.get("effective_from") else None
    except ValueError:
        day = None
    try:
        if action == "suspend":
            services.suspend_certificate(actor, certificate, day, form.get("reason"))
        elif action == "reinstate":
            services.reinstate_certificate(actor, certificate, day, form.get("reason"))
        elif action == "revoke":
            services.revoke_certificate(actor, certificate, day, form.get("reason"))
        elif action == "renew":
            services.renew_certificate(actor, certificate, day, form.get("reason"))
        else:
            services.file_type_change_notice(
                actor,
                certificate,
                form.get("kind", ""),
                form.get("description"),
                {"catalogue_names": form.get("catalogue_names", "")},
            )
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        certificate = services.get_certificate(certificate_id)
        row = services.register_rows([certificate])[0]
        return render_template(
            "certification/certificate.html", cert=certificate, row=row, can_manage=True, errors=exc.errors
        ), 422
    flash(_("Saved."), "info")
    return redirect(url_for("certification.certificate_public", number=certificate.number))


# ---- admin ----------------------------------------------------------------------------------


@bp.route("/reference", methods=["GET", "POST"])
def reference():
    actor = check_roles("admin")
    errors: dict[str, Any] = {}
    if request.method == "POST":
        upload = request.files.get("file")
        suffix = Path(upload.filename or "").suffix.lower() if upload else ""
        try:
            if upload is None or suffix not in {".json", ".csv", ".xlsx"}:
                raise InvalidInput.for_field("file", _("Upload a .json, .csv or .xlsx reference file."))
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / f"reference{suffix}"
                upload.save(path)
                counts = services.load_reference_file(path, actor)
            db.session.commit()
            flash(_("Reference data loaded: %(counts)s", counts=counts), "info")
            return redirect(url_for("certification.reference"))
        except InvalidInput as exc:
            db.session.rollback()
            errors = exc.errors
        except Exception as exc:  # noqa: BLE001 - a broken spreadsheet is the user's input error
            if isinstance(exc, DomainError):
                raise
            db.session.rollback()
            errors = {"file": [str(exc)]}
    return render_template(
        "certification/reference.html",
        errors=errors,
        categories=list(db.session.scalars(select(Category).order_by(Category.code))),
        methods=list(db.session.scalars(select(TestMethod).order_by(TestMethod.code))),
        sets=list(db.session.scalars(select(BaselineSet).order_by(BaselineSet.code))),
    ), 422 if errors else 200


@bp.route("/baseline-review")
def baseline_review():
    check_roles("admin")
    code = request.args.get("baseline_set") or None
    baseline_set = services.get_baseline_set(code) if code else None
    table = services.baseline_review_table(baseline_set)
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        return download_response(table, f"baseline-review-{code or 'all'}-{date.today()}", fmt)
    distribution = services.class_distribution(baseline_set)
    labels = {row["class_id"]: row["size_class"] for row in table.to_dict("records")}
    markers: dict[str, dict[str, float]] = {}
    for row in table.to_dict("records"):
        key = str(row["size_class"])
        markers.setdefault(key, {"baseline": float(row["current_baseline"])})[str(row["proposal"])] = float(
            row["value"]
        )
    svg = (
        svg_strip_chart(
            {str(labels.get(k, k)): v for k, v in distribution.items()},
            markers=markers,
            title=_("Evaluation values of active certificates per class"),
            ylabel="L/h",
        )
        if distribution
        else ""
    )
    return render_template(
        "certification/baseline_review.html",
        rows=table.to_dict("records"),
        svg=svg,
        sets=list(db.session.scalars(select(BaselineSet).order_by(BaselineSet.code))),
        code=code or "",
    )
