"""The registry demo seed is idempotent and produces history for the demo contractors."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from registry.models import UsageLog
from seed.accounts import demo_organisations, load_accounts
from seed.certification import load_certification
from seed.registry import load_registry


def test_registry_seed_idempotent(app, session):  # type: ignore[no-untyped-def]
    load_accounts()
    load_certification()
    started = time.perf_counter()
    first = load_registry()
    elapsed = time.perf_counter() - started
    assert first["machine_units"] == 6 and first["projects"] == 3 and first["corrections"] == 1
    assert 2000 < first["usage_logs"] < 6000
    assert elapsed < 30
    count = session.scalar(select(func.count(UsageLog.id)))
    second = load_registry()
    assert second == {
        "emission_factors": 0,
        "machine_units": 0,
        "projects": 0,
        "usage_logs": 0,
        "corrections": 0,
    }
    assert session.scalar(select(func.count(UsageLog.id))) == count
    from datetime import date

    from registry.services import history_summary

    polaris = demo_organisations()[5]
    summary = history_summary(polaris.id, date(2026, 11, 1))
    assert summary.has_history and 0 < summary.certified_share < 1 and summary.reduction_ratio > 0
