"""Navigation per role: each domain lists its menu entries; the base layout shows what the user may use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any  # a lazy_gettext string
    roles: frozenset[str] = field(default_factory=frozenset)  # empty = everyone, incl. the public
    signed_in: bool = False


def register_nav(app: Flask, *items: NavItem) -> None:
    app.extensions.setdefault("gxm_nav", []).extend(items)


def nav_for(app: Flask, user: Any) -> list[NavItem]:
    authenticated = bool(user and user.is_authenticated)
    visible = []
    for item in app.extensions.get("gxm_nav", []):
        if item.signed_in and not authenticated:
            continue
        if item.roles and not (authenticated and (user.is_admin or user.has_role(*item.roles))):
            continue
        visible.append(item)
    return visible
