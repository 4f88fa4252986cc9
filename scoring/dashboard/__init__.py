"""Scheme dashboard and annual report (issue 6): figures across certification, registry and
scoring for agencies and admins, and a public annual report."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from gxmachinery.navigation import NavItem, register_nav


def init_app(app: Flask) -> None:
    """Register the dashboard pages and their navigation entries."""
    from scoring.dashboard import views

    app.register_blueprint(views.bp)
    register_nav(
        app,
        NavItem("dashboard.index", _l("Scheme dashboard"), roles=frozenset({"agency", "admin"})),
        NavItem("dashboard.public_annual_index", _l("Annual report")),
    )
