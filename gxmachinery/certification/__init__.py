"""Certification domain: categories, baselines, applications, certificates, public register."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Filled in as the domain's blueprints land."""
