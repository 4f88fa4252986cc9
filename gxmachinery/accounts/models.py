"""Organisations, users with roles, and hashed API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gxmachinery.db import Base, TimestampMixin


class OrganisationKind(enum.StrEnum):
    maker = "maker"
    contractor = "contractor"
    agency = "agency"
    certifier = "certifier"
    admin = "admin"


class Role(enum.StrEnum):
    """What a user may do; an organisation's kind limits which roles its users can hold."""

    maker = "maker"
    contractor = "contractor"
    agency = "agency"  # procuring agency staff: projects, tenders
    committee = "committee"  # tender committee member (評選委員)
    certifier = "certifier"
    admin = "admin"  # scheme administrator / policy owner


ROLES_BY_KIND: dict[OrganisationKind, set[Role]] = {
    OrganisationKind.maker: {Role.maker},
    OrganisationKind.contractor: {Role.contractor},
    OrganisationKind.agency: {Role.agency, Role.committee},
    OrganisationKind.certifier: {Role.certifier},
    OrganisationKind.admin: {Role.admin, Role.committee},
}


class Organisation(TimestampMixin, Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, native_enum=False, length=20)
    )
    registration_no: Mapped[str | None] = mapped_column(String(40))  # 統一編號 / 法人番号
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r} {self.kind}>"


class User(UserMixin, TimestampMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(20))

    organisation: Mapped[Organisation] = relationship(back_populates="users")
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def has_role(self, *roles: str) -> bool:
        return any(str(r) in self.roles for r in roles)

    @property
    def is_admin(self) -> bool:
        return Role.admin in self.roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class ApiToken(TimestampMixin, Base):
    """A Bearer token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="tokens")
