"""Scoring domain: carbon scores, tenders, bids, committee scores, evaluation methods, reports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Filled in as the domain's blueprints land."""
