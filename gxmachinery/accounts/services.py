"""Organisations, users and API tokens. Services flush, never commit."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from gxmachinery.accounts.models import (
    ROLES_BY_KIND,
    ApiToken,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from gxmachinery.audit.services import record_event
from gxmachinery.auth import hash_token
from gxmachinery.errors import Conflict, InvalidInput, NotFound
from gxmachinery.extensions import db

TOKEN_PREFIX = "gxm_"
MIN_PASSWORD_LENGTH = 10


def create_organisation(
    name: str, kind: str, registration_no: str | None = None, is_demo: bool = False
) -> Organisation:
    name = name.strip()
    if not name:
        raise InvalidInput.for_field("name", "Name is required.")
    try:
        kind_enum = OrganisationKind(kind)
    except ValueError:
        raise InvalidInput.for_field(
            "kind", f"Unknown kind {kind!r}; one of {', '.join(k.value for k in OrganisationKind)}."
        ) from None
    if db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower())):
        raise InvalidInput.for_field("name", f"An organisation named {name!r} exists already.")
    org = Organisation(name=name, kind=kind_enum, registration_no=registration_no, is_demo=is_demo)
    db.session.add(org)
    record_event("organisation.create", org, subject_organisation_id=None, after={"name": name, "kind": kind})
    return org


def create_user(
    organisation: Organisation,
    email: str,
    name: str,
    roles: list[str],
    password: str | None = None,
    locale: str | None = None,
) -> User:
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    if "@" not in email:
        errors["email"] = ["A valid e-mail address is required."]
    elif db.session.scalar(select(User).where(User.email == email)):
        errors["email"] = [f"{email} is already registered."]
    allowed = ROLES_BY_KIND[organisation.kind]
    bad = [r for r in roles if r not in {x.value for x in Role} or Role(r) not in allowed]
    if not roles or bad:
        errors["roles"] = [
            f"A {organisation.kind.value} organisation's users may hold: "
            + ", ".join(sorted(r.value for r in allowed))
            + (f" (not {', '.join(bad)})" if bad else "")
        ]
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
    if errors:
        raise InvalidInput("The user could not be created.", errors)
    user = User(
        organisation=organisation,
        email=email,
        name=name.strip() or email,
        roles=sorted(set(roles)),
        password_hash=generate_password_hash(password) if password else None,
        locale=locale,
    )
    db.session.add(user)
    record_event(
        "user.create", user, subject_organisation_id=organisation.id,
        after={"email": email, "roles": user.roles},
    )
    return user


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active or not user.password_hash:
        return None
    return user if check_password_hash(user.password_hash, password) else None


def issue_token(user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored and shown only once."""
    if not name.strip():
        raise InvalidInput.for_field("name", "Give the token a name (what will use it).")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name.strip()[:100], prefix=secret[:12], token_hash=hash_token(secret),
        expires_at=expires_at,
    )
    db.session.add(token)
    record_event(
        "token.issue", token, actor=None, subject_organisation_id=user.organisation_id,
        after={"user": user.email, "name": token.name, "prefix": token.prefix},
    )
    return token, secret


def revoke_token(token: ApiToken, reason: str | None = None) -> ApiToken:
    if token.revoked_at is not None:
        raise Conflict("This token was revoked already.")
    token.revoked_at = datetime.now(UTC)
    record_event(
        "token.revoke", token, subject_organisation_id=token.user.organisation_id, reason=reason,
        after={"prefix": token.prefix},
    )
    return token


def get_token_for(user: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and not user.is_admin):
        raise NotFound(f"Token {token_id} not found.")
    return token


def find_organisation(name: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        raise NotFound(f"No organisation named {name!r}.")
    return org


def find_user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"No user {email!r}.")
    return user
