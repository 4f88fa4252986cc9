"""The whole demo data set, domain by domain (core -> certification -> registry -> scoring)."""

from __future__ import annotations

from seed.accounts import load_accounts


def load_demo() -> dict[str, int]:
    counts: dict[str, int] = {}
    counts.update(load_accounts())
    return counts
