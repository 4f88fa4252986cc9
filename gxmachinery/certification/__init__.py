"""Certification domain: categories, baselines, applications, certificates, public register."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from gxmachinery.certification import models as models  # noqa: F401  (register tables with Base)


def init_app(app: Flask) -> None:
    """Register the certification API, pages, navigation and CLI."""
    from gxmachinery.certification import api as cert_api
    from gxmachinery.extensions import api
    from gxmachinery.navigation import NavItem, register_nav

    api.register_blueprint(cert_api.blp)
    api.register_blueprint(cert_api.register_blp)
    from gxmachinery.certification import views

    app.register_blueprint(views.bp)
    register_nav(
        app,
        NavItem("certification.register", _l("Certified register")),
        NavItem("certification.competition", _l("Competition check")),
        NavItem("certification.applications", _l("My applications"), roles=frozenset({"maker"})),
        NavItem("certification.queue", _l("Review queue"), roles=frozenset({"certifier"})),
        NavItem("certification.reference", _l("Baselines"), roles=frozenset({"admin"})),
        NavItem("certification.baseline_review", _l("Baseline review"), roles=frozenset({"admin"})),
    )
    from gxmachinery.certification.cli import certification_cli

    app.cli.add_command(certification_cli)
