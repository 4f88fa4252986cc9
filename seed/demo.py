"""The whole demo data set, domain by domain (core -> certification -> registry -> scoring)."""

from __future__ import annotations

from seed.accounts import load_accounts
from seed.certification import load_certification
from seed.registry import load_registry
from seed.scoring import load_scoring


def load_demo() -> dict[str, int]:
    counts: dict[str, int] = {}
    counts.update(load_accounts())
    counts.update(load_certification())
    counts.update(load_registry())
    counts.update(load_scoring())
    return counts
