"""Scoring domain: carbon scores, tenders, bids, committee scores, evaluation methods, reports."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from scoring import models as models  # noqa: F401  (register tables with Base)


def init_app(app: Flask) -> None:
    """Register the scoring API, pages, navigation and CLI."""
    import registry.models  # noqa: F401  (tender.project_id references the registry's project)
    from gxmachinery.extensions import api
    from gxmachinery.navigation import NavItem, register_nav
    from scoring import api as scoring_api
    from scoring import cli, views

    api.register_blueprint(scoring_api.blp)
    app.register_blueprint(views.bp)
    register_nav(
        app,
        NavItem(
            "scoring_web.tenders",
            _l("Tenders"),
            roles=frozenset({"agency", "committee", "contractor"}),
        ),
        NavItem("scoring_web.results", _l("Tender results")),
    )
    app.cli.add_command(cli.scoring)
    from scoring import dashboard

    dashboard.init_app(app)
