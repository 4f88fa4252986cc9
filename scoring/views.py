"""Tender pages: list, create, detail with lifecycle actions, bid form, committee sheet, report
(SVG chart, print layout, CSV/XLSX) and public published results."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from gxmachinery.accounts.models import Role, User
from gxmachinery.auth import check_roles
from gxmachinery.errors import Conflict, DomainError, InvalidInput, NotFound
from gxmachinery.extensions import db
from gxmachinery.pagination import paginate
from scoring import reports, services
from scoring.api import _PUBLISHED, public_report, report_for
from scoring.methods import METHODS
from scoring.models import Tender, TenderStatus

bp = Blueprint("scoring_web", __name__, template_folder="templates")

CRITERIA_HELP = _l(
    "One criterion per line: code | name | max points | weight (optional) | carbon (mark the "
    "system-computed carbon criterion)."
)
LINES_HELP = _l(
    "One planned machine group per line: category, drive, units, rated power kW, total hours, "
    "certified (yes/no), diesel litres, kWh."
)


def _choices(pairs: list[tuple[Any, Any]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class TenderForm(FlaskForm):
    project_id = SelectField(_l("Project"), coerce=int, validators=[DataRequired()])
    reference = StringField(_l("Reference"), validators=[DataRequired(), Length(max=60)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    method = SelectField(
        _l("Evaluation method"),
        choices=_choices([(k, f"{m.local_name} {m.name}") for k, m in METHODS.items()]),
    )
    ceiling_price = DecimalField(_l("Ceiling price (予定価格 / 底價)"), validators=[Optional()])
    total_points = DecimalField(_l("Total points"), validators=[Optional()])
    pass_mark = DecimalField(_l("Pass mark"), validators=[Optional()])
    criteria = TextAreaField(_l("Criteria"), validators=[DataRequired()])
    committee = SelectMultipleField(_l("Committee members"), coerce=int)
    alpha = DecimalField(_l("Carbon score α (commitment weight)"), validators=[Optional()])
    target_reduction_ratio = DecimalField(_l("Target CO2 reduction ratio"), validators=[Optional()])
    window_months = IntegerField(_l("History window (months)"), validators=[Optional(), NumberRange(1)])
    no_history_policy = SelectField(
        _l("Bidders without history"),
        choices=_choices(
            [("commitment_only", _l("commitment only")), ("zero", _l("zero")), ("neutral", _l("neutral"))]
        ),
    )
    min_history_score = DecimalField(_l("Minimum history carbon score"), validators=[Optional()])
    adjustment = SelectField(
        _l("Price adjustment"),
        choices=_choices(
            [
                ("", _l("none")),
                ("ladder", _l("CO2 ladder discount")),
                ("shadow_carbon", _l("shadow carbon price")),
            ]
        ),
    )
    carbon_price_per_t = DecimalField(_l("Shadow carbon price per tonne"), validators=[Optional()])
    sanction_k = DecimalField(_l("Sanction factor k"), validators=[Optional()])
    evaluation_date = DateField(_l("Evaluation date"), validators=[Optional()])


class BidForm(FlaskForm):
    price = DecimalField(_l("Price"), validators=[DataRequired()])
    lines = TextAreaField(_l("Machinery commitment"), validators=[DataRequired()])


def _parse_criteria(text: str) -> list[dict[str, Any]]:
    out = []
    for i, raw in enumerate(line for line in text.splitlines() if line.strip()):
        parts = [p.strip() for p in raw.split("|")]
        if len(parts) < 3:
            raise InvalidInput.for_field("criteria", _("line %(n)s: code | name | max points", n=i + 1))
        try:
            weight = Decimal(parts[3]) if len(parts) > 3 and parts[3] else None
            out.append(
                {
                    "code": parts[0],
                    "name": parts[1],
                    "max_points": Decimal(parts[2]),
                    "weight": weight,
                    "is_carbon": len(parts) > 4 and parts[4].lower() in {"carbon", "yes", "1", "true"},
                }
            )
        except InvalidOperation:
            raise InvalidInput.for_field("criteria", _("line %(n)s: not a number", n=i + 1)) from None
    return out


def _parse_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for i, raw in enumerate(line for line in text.splitlines() if line.strip()):
        p = [x.strip() for x in raw.split(",")]
        if len(p) < 5:
            raise InvalidInput.for_field("lines", _("line %(n)s: at least 5 values", n=i + 1))
        try:
            out.append(
                {
                    "category": p[0],
                    "drive": p[1] or "diesel",
                    "units": int(p[2]),
                    "rated_power_kw": Decimal(p[3]),
                    "hours": Decimal(p[4]),
                    "certified": len(p) > 5 and p[5].lower() in {"yes", "y", "1", "true"},
                    "fuel_litres": Decimal(p[6]) if len(p) > 6 and p[6] else None,
                    "kwh": Decimal(p[7]) if len(p) > 7 and p[7] else None,
                }
            )
        except (InvalidOperation, ValueError):
            raise InvalidInput.for_field("lines", _("line %(n)s: not a number", n=i + 1)) from None
    return out


def _put_errors(form: FlaskForm, err: InvalidInput, default: str) -> None:
    for key, messages in err.errors.items():
        name = str(key).split(".")[0].split("[")[0]
        target = getattr(form, name, None) or getattr(form, default)
        msgs = messages if isinstance(messages, list) else [str(messages)]
        target.errors = list(target.errors or []) + [f"{key}: {m}" if target.name != key else m for m in msgs]


@bp.route("/tenders")
def tenders():
    actor = check_roles()
    stmt = services.visible_tenders(actor)
    status = request.args.get("status")
    if status in {s.value for s in TenderStatus}:
        stmt = stmt.where(Tender.status == status)
    page = paginate(stmt, request.args.get("page", 1, type=int), 25)
    return render_template("scoring/tenders.html", page=page, methods=METHODS, status=status)


@bp.route("/tenders/new", methods=["GET", "POST"])
def new_tender():
    actor = check_roles(Role.agency)
    from registry.models import Project

    form = TenderForm()
    projects = db.session.scalars(
        select(Project).where(Project.agency_id == actor.organisation_id).order_by(Project.id)
    )
    form.project_id.choices = _choices([(p.id, f"{p.contract_number} {p.name}") for p in projects])
    members = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))
    form.committee.choices = _choices(
        [
            (u.id, f"{u.name} <{u.email}>")
            for u in members
            if u.has_role(Role.committee) and (u.organisation_id == actor.organisation_id or u.is_admin)
        ]
    )
    if not form.is_submitted():
        form.criteria.data = form.criteria.data or (
            "quality | Quality of works | 40\nplan | Construction plan | 30\n"
            "carbon | Machinery carbon score | 30 | | carbon"
        )
    if form.validate_on_submit():
        try:
            data = {
                "project_id": form.project_id.data,
                "reference": form.reference.data,
                "title": form.title.data,
                "method": form.method.data,
                "ceiling_price": form.ceiling_price.data,
                "total_points": form.total_points.data,
                "pass_mark": form.pass_mark.data,
                "criteria": _parse_criteria(form.criteria.data or ""),
                "committee_user_ids": form.committee.data or [],
                "carbon_params": {
                    k: getattr(form, k).data
                    for k in (
                        "alpha",
                        "target_reduction_ratio",
                        "window_months",
                        "no_history_policy",
                        "min_history_score",
                    )
                    if getattr(form, k).data not in (None, "")
                },
                "price_adjustment": (
                    {"kind": "ladder"}
                    if form.adjustment.data == "ladder"
                    else {"kind": "shadow_carbon", "carbon_price_per_t": form.carbon_price_per_t.data}
                    if form.adjustment.data == "shadow_carbon"
                    else None
                ),
                "sanction_k": form.sanction_k.data,
                "evaluation_date": form.evaluation_date.data,
                "method_params": {},
            }
            with db.session.begin_nested():  # a refused create leaves nothing behind
                tender = services.create_tender(actor, data)
            db.session.commit()
            flash(_("Tender %(ref)s created as a draft.", ref=tender.reference), "success")
            return redirect(url_for("scoring_web.tender", tender_id=tender.id))
        except InvalidInput as err:
            _put_errors(form, err, "criteria")
    status = 422 if form.errors else 200
    return render_template("scoring/tender_form.html", form=form, help=CRITERIA_HELP), status


@bp.route("/tenders/<int:tender_id>")
def tender(tender_id: int):
    actor = check_roles()
    t, access = services.get_tender(tender_id, actor)
    own = services.own_bid(t, actor.organisation_id) if access == "bidder" else None
    seat = next((m for m in t.members if m.user_id == actor.id), None)
    flags = services.divergence_flags(t) if access != "bidder" else []
    return render_template(
        "scoring/tender.html",
        tender=t,
        access=access,
        own_bid=own,
        seat=seat,
        flags=flags,
        method=METHODS[t.method],
    )


_PAGE_ACTIONS = {
    "open": services.open_tender,
    "close": services.close_bidding,
    "evaluate": services.evaluate_tender,
    "publish": services.publish_results,
    "award": services.award_tender,
    "fulfilment": services.record_fulfilment,
}


@bp.route("/tenders/<int:tender_id>/do/<action>", methods=["POST"])
def tender_action(tender_id: int, action: str):
    actor = check_roles(Role.agency)
    t, _access = services.get_tender(tender_id, actor, need="agency")
    if action not in _PAGE_ACTIONS:
        raise NotFound(action)
    try:
        with db.session.begin_nested():
            _PAGE_ACTIONS[action](t)
        db.session.commit()
        flash(_("Done: %(action)s.", action=action), "success")
    except DomainError as err:
        details = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in err.errors.items())
        flash(f"{err.message} {details}".strip(), "error")
    return redirect(url_for("scoring_web.tender", tender_id=tender_id))


@bp.route("/tenders/<int:tender_id>/bid", methods=["GET", "POST"])
def bid(tender_id: int):
    actor = check_roles(Role.contractor)
    t, _access = services.get_tender(tender_id, actor)
    if services.own_bid(t, actor.organisation_id) is not None:
        flash(_("Your organisation has already bid on this tender."), "info")
        return redirect(url_for("scoring_web.tender", tender_id=t.id))
    form = BidForm()
    if not form.is_submitted():
        form.lines.data = "hydraulic_excavator,battery_electric,2,120,1600,yes,0,150000"
    if form.validate_on_submit():
        try:
            lines = _parse_lines(form.lines.data or "")
            with db.session.begin_nested():
                services.submit_bid(t, actor.organisation, {"price": form.price.data, "lines": lines})
            db.session.commit()
            flash(_("Your bid is submitted."), "success")
            return redirect(url_for("scoring_web.tender", tender_id=t.id))
        except InvalidInput as err:
            _put_errors(form, err, "lines")
        except Conflict as err:
            flash(err.message, "error")
    return render_template("scoring/bid_form.html", form=form, tender=t, help=LINES_HELP), (
        422 if form.errors else 200
    )


@bp.route("/tenders/<int:tender_id>/sheet", methods=["GET", "POST"])
def sheet(tender_id: int):
    actor = check_roles(Role.committee)
    t, _access = services.get_tender(tender_id, actor)
    member = services.member_for(t, actor)
    errors: dict[str, Any] = {}
    typed: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        scores: dict[str, dict[str, str]] = {}
        for b in t.bids:
            for c in t.criteria:
                if c.is_carbon:
                    continue
                value = (request.form.get(f"s-{b.id}-{c.code}") or "").strip()
                typed[f"s-{b.id}-{c.code}"] = value
                if value:
                    scores.setdefault(str(b.id), {})[c.code] = value
        try:
            with db.session.begin_nested():
                services.submit_sheet(member, scores, replace=bool(member.scores))
                if request.form.get("sign"):
                    services.sign_sheet(member)
            db.session.commit()
            flash(_("Your score sheet is saved."), "success")
            return redirect(url_for("scoring_web.sheet", tender_id=t.id))
        except InvalidInput as err:
            errors, status = err.errors, 422
        except Conflict as err:
            errors, status = {"sheet": [err.message]}, 409
    current = services.sheet_of(member)
    return (
        render_template(
            "scoring/sheet.html",
            tender=t,
            member=member,
            current=current,
            typed=typed,
            errors=errors,
            flags=services.divergence_flags(t),
        ),
        status,
    )


def _report_context(tender_id: int) -> tuple[Tender, dict[str, Any], str]:
    actor = check_roles()
    t, access = services.get_tender(tender_id, actor)
    if (
        access == "bidder"
        and services.own_bid(t, actor.organisation_id) is None
        and t.status not in _PUBLISHED
    ):
        raise NotFound(f"Tender {tender_id} not found.")
    return t, report_for(t, actor, access), access


@bp.route("/tenders/<int:tender_id>/report")
def report(tender_id: int):
    t, rep, _access = _report_context(tender_id)
    evaluation = services.latest_evaluation(t)
    svg = reports.report_chart_svg(rep["rows"], evaluation.result["value_label"]) if rep["rows"] else ""
    return render_template(
        "scoring/report.html",
        tender=t,
        report=rep,
        evaluation=evaluation,
        method=METHODS[t.method],
        svg=svg,
    )


@bp.route("/tenders/<int:tender_id>/report.<any(csv, xlsx):fmt>")
def report_export(tender_id: int, fmt: str):
    t, rep, _access = _report_context(tender_id)
    if fmt == "csv":
        body = reports.to_csv_bytes(reports.flat_frame(t, rep["rows"]))
        mime = "text/csv; charset=utf-8"
    else:
        body = reports.report_xlsx(t, services.latest_evaluation(t), rep["rows"])
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        mimetype=mime,
        headers={"Content-Disposition": f'attachment; filename="tender-{t.id}-report.{fmt}"'},
    )


@bp.route("/results")
def results():
    stmt = select(Tender).where(Tender.status.in_(_PUBLISHED)).order_by(Tender.id.desc())
    page = paginate(stmt, request.args.get("page", 1, type=int), 25)
    return render_template("scoring/results.html", page=page, methods=METHODS)


@bp.route("/results/<int:tender_id>")
def result(tender_id: int):
    t = db.session.get(Tender, tender_id)
    if t is None or t.status not in _PUBLISHED:
        raise NotFound(f"Tender {tender_id} not found.")
    rep = public_report(t)
    return render_template("scoring/result.html", tender=t, report=rep, method=METHODS[t.method])
