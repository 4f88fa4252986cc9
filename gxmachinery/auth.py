"""Who is asking, and may they? Bearer tokens for the API, sessions for pages.

Every route that reads or changes organisation rows goes through ``require_roles`` and
``get_owned``/``scope_to_organisation`` so one organisation never sees another's data.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import abort as flask_abort
from flask import g, request
from flask_login import current_user
from flask_smorest import abort
from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute

from gxmachinery.accounts.models import ApiToken, User
from gxmachinery.errors import NotFound
from gxmachinery.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _bearer_user() -> User | None:
    if "api_user" in g:
        return g.api_user
    g.api_user = None
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret.strip())))
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and _aware(token.expires_at) <= now:
        return None
    if not token.user.active:
        return None
    token.last_used_at = now
    g.api_user = token.user
    return token.user


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def current_actor() -> User | None:
    """The signed-in user: Bearer token on the API (cookies are ignored there, so no CSRF), session on pages."""
    try:
        if is_api_request():
            return _bearer_user()
    except RuntimeError:  # outside a request (CLI)
        return None
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()  # type: ignore[no-any-return]
    return None


def require_actor() -> User:
    actor = current_actor()
    if actor is None:
        if is_api_request():
            abort(401, message="A valid Bearer API token is required.")
        from gxmachinery.extensions import login_manager

        flask_abort(login_manager.unauthorized())
    return actor


def require_roles(*roles: str) -> Callable[[F], F]:
    """Route decorator: signed in (401/login page) and holding one of ``roles`` (403). Admin passes."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            check_roles(*roles)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def check_roles(*roles: str) -> User:
    actor = require_actor()
    if roles and not (actor.has_role(*roles) or actor.is_admin):
        abort(403, message="Your role does not allow this: needs one of " + ", ".join(roles) + ".")
    return actor


def scope_to_organisation(
    stmt: Select[Any], column: InstrumentedAttribute[Any], actor: User | None = None
) -> Select[Any]:
    """Limit a query to the actor's organisation's rows (admins see all)."""
    actor = actor or require_actor()
    if actor.is_admin:
        return stmt
    return stmt.where(column == actor.organisation_id)


def get_owned(model: type[T], ident: Any, org_attr: str = "organisation_id", actor: User | None = None) -> T:
    """Load one row of the actor's organisation; another organisation's row is a 404 (not revealed)."""
    actor = actor or require_actor()
    obj = db.session.get(model, ident)
    if obj is None or (not actor.is_admin and getattr(obj, org_attr) != actor.organisation_id):
        raise NotFound(f"{model.__name__} {ident} not found.")
    return obj


def get_or_404(model: type[T], ident: Any) -> T:
    obj = db.session.get(model, ident)
    if obj is None:
        raise NotFound(f"{model.__name__} {ident} not found.")
    return obj
