"""Web shell: home, login/logout, language switch, API tokens, audit trail, API docs."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from gxmachinery.accounts import services as accounts
from gxmachinery.accounts.models import ApiToken, Role
from gxmachinery.audit.services import audit_query, record_event
from gxmachinery.auth import check_roles, require_actor
from gxmachinery.extensions import api, db, limiter
from gxmachinery.forms import LoginForm, TokenForm
from gxmachinery.pagination import paginate

bp = Blueprint("web", __name__)


def _safe_next(target: str | None) -> str:
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.home")


@bp.route("/")
def home():
    return render_template("home.html")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            form.password.errors = [_("E-mail or password is wrong.")]
        else:
            login_user(user)
            session.permanent = True
            record_event("user.login", user, actor=user, subject_organisation_id=user.organisation_id)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form), 422 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("web.home"))


@bp.route("/lang/<code>", methods=["POST", "GET"])
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    actor = require_actor()
    form = TokenForm()
    new_secret = None
    if form.validate_on_submit():
        _token, new_secret = accounts.issue_token(actor, form.name.data or "")
        db.session.commit()
        form = TokenForm(formdata=None)
    items = db.session.scalars(
        db.select(ApiToken).where(ApiToken.user_id == actor.id).order_by(ApiToken.id.desc())
    ).all()
    return render_template("tokens.html", form=form, tokens=items, new_secret=new_secret)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    actor = require_actor()
    accounts.revoke_token(accounts.get_token_for(actor, token_id), request.form.get("reason"))
    db.session.commit()
    flash(_("Token revoked."), "info")
    return redirect(url_for("web.tokens"))


@bp.route("/admin/audit")
def audit_events():
    check_roles(Role.admin)
    args = request.args
    stmt = audit_query(
        action=args.get("action") or None,
        object_type=args.get("object_type") or None,
        object_id=args.get("object_id") or None,
    )
    page = paginate(stmt, max(1, args.get("page", 1, type=int)), 50)
    return render_template("audit.html", page=page, args=args)


@bp.route("/api/v1/docs")
def api_docs():
    """Readable API reference rendered on the server from the OpenAPI document (no JavaScript)."""
    return render_template("api_docs.html", spec=api.spec.to_dict())
