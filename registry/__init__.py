"""Registry domain: fleet units, projects, usage logs, importers, emission factors, CO2 history."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from registry import models as models  # noqa: F401  (register tables with Base)


def init_app(app: Flask) -> None:
    """Register the registry API, pages, navigation and CLI."""
    from gxmachinery.extensions import api
    from gxmachinery.navigation import NavItem, register_nav
    from registry import api as registry_api
    from registry import cli, views

    api.register_blueprint(registry_api.blp)
    app.register_blueprint(views.bp)
    register_nav(
        app,
        NavItem("registry.dashboard", _l("My CO2 history"), roles=frozenset({"contractor"})),
        NavItem("registry.units", _l("Fleet"), roles=frozenset({"contractor"})),
        NavItem("registry.logs", _l("Usage logs"), roles=frozenset({"contractor", "agency"})),
        NavItem("registry.projects", _l("Projects"), roles=frozenset({"contractor", "agency"})),
        NavItem("registry.factors", _l("Emission factors"), roles=frozenset({"admin"})),
    )
    app.cli.add_command(cli.registry_cli)
