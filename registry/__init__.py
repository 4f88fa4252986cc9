"""Registry domain: fleet units, projects, usage logs, importers, emission factors, CO2 history."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Filled in as the domain's blueprints land."""
