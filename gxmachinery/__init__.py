"""GX Machinery: low-carbon construction machinery certification, usage-log CO2 and tender scoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale, refresh
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from gxmachinery.config import load_config
from gxmachinery.extensions import api, babel, csrf, db, limiter, login_manager, migrate, talisman
from gxmachinery.navigation import NavItem, nav_for, register_nav

ROOT = Path(__file__).resolve().parent.parent

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    # matplotlib SVG and our templates use style attributes; no inline scripts at all.
    "style-src": "'self' 'unsafe-inline'",
    "script-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return str(chosen)
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return str(current_user.locale)
    best = request.accept_languages.best_match(["zh-TW", "zh-Hant", "zh", "en"])
    if best and best.startswith("en"):
        return "en"
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Application factory: settings from the environment, overridden by ``config``."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.update(load_config(config))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from gxmachinery.errors import register_error_handlers
    from gxmachinery.logging import configure_logging, init_request_id

    configure_logging(app.config["LOG_JSON"])
    init_request_id(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    csrf.init_app(app)
    limiter.init_app(app)
    translation_dirs = ";".join(
        str(ROOT / pkg / "translations") for pkg in ("gxmachinery", "registry", "scoring")
    )
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translation_dirs)
    babel.init_app(app, locale_selector=select_locale)
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=CONTENT_SECURITY_POLICY,
        strict_transport_security=app.config["FORCE_HTTPS"],
    )
    api.init_app(app)
    register_error_handlers(app)

    # Pages use session CSRF; the API authenticates by Bearer token only, so it is exempt.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @app.before_request
    def _fresh_identity() -> None:
        # An app context may outlive one request (tests, CLI); identity is per request.
        g.pop("api_user", None)
        g.pop("_login_user", None)
        refresh()  # Flask-Babel caches the locale on the app context

    @app.before_request
    def _csrf_for_pages() -> None:
        if (
            app.config.get("WTF_CSRF_ENABLED", True)
            and request.method not in {"GET", "HEAD", "OPTIONS", "TRACE"}
            and not request.path.startswith("/api/")
        ):
            csrf.protect()

    @login_manager.user_loader
    def load_user(user_id: str):  # type: ignore[no-untyped-def]
        from gxmachinery.accounts.models import User

        user = db.session.get(User, int(user_id))
        return user if user and user.active else None

    _register_core(app)
    _register_domains(app)

    @app.context_processor
    def inject_layout() -> dict[str, Any]:
        return {
            "nav_items": nav_for(app, current_user),
            "current_locale": str(get_locale()),
            "languages": app.config["LANGUAGES"],
        }

    return app


def _register_core(app: Flask) -> None:
    from gxmachinery import views
    from gxmachinery.accounts import api as accounts_api
    from gxmachinery.audit import api as audit_api
    from gxmachinery.cli import register_cli
    from gxmachinery.health import blp as health_blp

    for blp in (health_blp, accounts_api.blp, audit_api.blp):
        api.register_blueprint(blp)
    app.register_blueprint(views.bp)
    register_nav(
        app,
        NavItem("web.tokens", _l("API tokens"), signed_in=True),
        NavItem("web.audit_events", _l("Audit trail"), roles=frozenset({"admin"})),
    )
    register_cli(app)


def _register_domains(app: Flask) -> None:
    """Each domain registers its API, pages, navigation and CLI (scoring -> registry -> core)."""
    import gxmachinery.certification
    import registry
    import scoring

    for domain in (gxmachinery.certification, registry, scoring):
        domain.init_app(app)
