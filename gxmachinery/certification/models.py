"""Certification models: reference data (categories, test methods, baseline sets), machine models,
applications with measurements and documents, certificates with their status history.

Cross-domain contract (foundation.md): `Drive`, `Category`, `MachineModel`, `Certificate`,
`CertificateStatusChange` are read by the registry and scoring domains. Nothing is hard-deleted:
a certificate's status is a history of `CertificateStatusChange` rows, each effective from a date.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gxmachinery.db import Base, TimestampMixin, utcnow

# Measured quantities: up to 8 integer digits, 6 decimals (L/h, kWh/h, m3, kW, kg).
QUANTITY = Numeric(16, 6)


class Drive(enum.StrEnum):
    """Power line of a machine model (DESIGN.md MachineModel)."""

    diesel = "diesel"
    hybrid = "hybrid"
    battery_electric = "battery_electric"
    cable_electric = "cable_electric"
    other = "other"


class ApplicationStatus(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"
    under_review = "under_review"
    info_requested = "info_requested"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class CertificateStatus(enum.StrEnum):
    active = "active"
    suspended = "suspended"
    revoked = "revoked"
    expired = "expired"


class DocumentKind(enum.StrEnum):
    test_report = "test_report"
    lab_accreditation = "lab_accreditation"
    other = "other"


class ChangeKind(enum.StrEnum):
    """Type-change notice kinds: a minor change keeps the certificate; a power-line (drive) change
    needs a new application (DESIGN.md Certificate / TypeChangeNotice)."""

    minor = "minor"
    catalogue_name = "catalogue_name"
    drive = "drive"
    rated_power = "rated_power"


class NoticeOutcome(enum.StrEnum):
    accepted = "accepted"
    rejected = "rejected"


# ------------------------------------------------------------------------------------------
# Reference data
# ------------------------------------------------------------------------------------------


class Category(TimestampMixin, Base):
    """A machine category with the attribute that decides its size class."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    size_attribute: Mapped[str] = mapped_column(String(60))
    size_unit: Mapped[str] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<Category {self.code}>"


class TestMethod(TimestampMixin, Base):
    """A test method (e.g. JCMAS H020) for one category: work modes with weights summing to 1."""

    __tablename__ = "test_method"
    __test__ = False  # not a pytest class

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    unit: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(Text)

    category: Mapped[Category] = relationship()
    modes: Mapped[list[TestMode]] = relationship(
        back_populates="test_method", order_by="TestMode.position", cascade="all, delete-orphan"
    )

    def weights(self) -> dict[str, Decimal]:
        return {mode.code: mode.weight for mode in self.modes}


class TestMode(Base):
    __tablename__ = "test_mode"
    __test__ = False
    __table_args__ = (UniqueConstraint("test_method_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    test_method_id: Mapped[int] = mapped_column(ForeignKey("test_method.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    weight: Mapped[Decimal] = mapped_column(Numeric(10, 6))
    position: Mapped[int] = mapped_column(Integer, default=0)

    test_method: Mapped[TestMethod] = relationship(back_populates="modes")


class BaselineSet(TimestampMixin, Base):
    """A versioned set of baselines (e.g. MLIT 2020 ★★★, 2030 ★★★★)."""

    __tablename__ = "baseline_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    effective_from: Mapped[date] = mapped_column(Date)
    full_grade_label: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str | None] = mapped_column(Text)

    classes: Mapped[list[BaselineClass]] = relationship(
        back_populates="baseline_set", order_by="(BaselineClass.category_id, BaselineClass.lower)"
    )


class BaselineClass(Base):
    """One size class [lower, upper) of a category in a baseline set, with its baseline value."""

    __tablename__ = "baseline_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    baseline_set_id: Mapped[int] = mapped_column(ForeignKey("baseline_set.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    lower: Mapped[Decimal] = mapped_column(QUANTITY)
    upper: Mapped[Decimal | None] = mapped_column(QUANTITY)
    baseline_value: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(20))
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(Text)

    baseline_set: Mapped[BaselineSet] = relationship(back_populates="classes")
    category: Mapped[Category] = relationship()

    @property
    def label(self) -> str:
        upper = "∞" if self.upper is None else f"{self.upper.normalize():f}"
        return f"[{self.lower.normalize():f}, {upper}) {self.category.size_unit if self.category else ''}".strip()


# ------------------------------------------------------------------------------------------
# Machine models and applications
# ------------------------------------------------------------------------------------------


class MachineModel(TimestampMixin, Base):
    """A maker's machine type (型式) with the catalogue names sold under the same type."""

    __tablename__ = "machine_model"
    __table_args__ = (UniqueConstraint("maker_id", "type_designation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    maker_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    type_designation: Mapped[str] = mapped_column(String(100))
    catalogue_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    drive: Mapped[Drive] = mapped_column(Enum(Drive, native_enum=False, length=20))
    rated_power_kw: Mapped[Decimal] = mapped_column(QUANTITY)
    mass_kg: Mapped[Decimal | None] = mapped_column(QUANTITY)
    size_value: Mapped[Decimal] = mapped_column(QUANTITY)
    emission_stage: Mapped[str | None] = mapped_column(String(60))

    category: Mapped[Category] = relationship()
    maker: Mapped[Any] = relationship("Organisation")

    def __repr__(self) -> str:
        return f"<MachineModel {self.id} {self.type_designation}>"


class Application(TimestampMixin, Base):
    """A maker's application to certify one machine model against one baseline set."""

    __tablename__ = "certification_application"
    __table_args__ = (UniqueConstraint("maker_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    maker_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    machine_model_id: Mapped[int] = mapped_column(ForeignKey("machine_model.id"), index=True)
    baseline_set_id: Mapped[int] = mapped_column(ForeignKey("baseline_set.id"), index=True)
    test_method_id: Mapped[int] = mapped_column(ForeignKey("test_method.id"))
    status: Mapped[ApplicationStatus] = mapped_column(
        Enum(ApplicationStatus, native_enum=False, length=20), default=ApplicationStatus.draft, index=True
    )
    # mode code -> measured value as a decimal string (L/h for fuel drives, kWh/h for electric)
    measurements: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Computed by the service on every change (the "preview"), frozen at approval.
    evaluation_value: Mapped[Decimal | None] = mapped_column(QUANTITY)
    evaluation_unit: Mapped[str | None] = mapped_column(String(20))
    baseline_class_id: Mapped[int | None] = mapped_column(ForeignKey("baseline_class.id"))
    achievement: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    co2e_achievement: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    grade: Mapped[str | None] = mapped_column(String(20))
    # Factors used for the GX CO2-equivalent achievement (value + unit + label naming the source).
    diesel_factor_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    diesel_factor_unit: Mapped[str | None] = mapped_column(String(30))
    diesel_factor_label: Mapped[str | None] = mapped_column(String(300))
    grid_factor_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    grid_factor_unit: Mapped[str | None] = mapped_column(String(30))
    grid_factor_label: Mapped[str | None] = mapped_column(String(300))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # A client resending a create with the same Idempotency-Key gets the same application back.
    idempotency_key: Mapped[str | None] = mapped_column(String(100))

    machine_model: Mapped[MachineModel] = relationship()
    baseline_set: Mapped[BaselineSet] = relationship()
    test_method: Mapped[TestMethod] = relationship()
    baseline_class: Mapped[BaselineClass | None] = relationship()
    maker: Mapped[Any] = relationship("Organisation")
    documents: Mapped[list[ApplicationDocument]] = relationship(
        back_populates="application", order_by="ApplicationDocument.id"
    )
    steps: Mapped[list[ApplicationStep]] = relationship(
        back_populates="application", order_by="ApplicationStep.id"
    )


class ApplicationStep(Base):
    """The application's timeline: each transition, information request and maker answer."""

    __tablename__ = "application_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("certification_application.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # transition / answer / note
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_label: Mapped[str] = mapped_column(String(254), default="system")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    application: Mapped[Application] = relationship(back_populates="steps")


class ApplicationDocument(TimestampMixin, Base):
    """An uploaded PDF, stored under UPLOAD_DIR with a generated name; the user's filename is display
    text only."""

    __tablename__ = "application_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("certification_application.id"), index=True)
    maker_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(Enum(DocumentKind, native_enum=False, length=30))
    original_filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    application: Mapped[Application] = relationship(back_populates="documents")


# ------------------------------------------------------------------------------------------
# Certificates
# ------------------------------------------------------------------------------------------


class Certificate(TimestampMixin, Base):
    """A certificate for one machine model. `status` is a cache of the status history; readers use
    `services.certificate_status_on` / `certified_intervals`, which also apply expiry at valid_until."""

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    machine_model_id: Mapped[int] = mapped_column(ForeignKey("machine_model.id"), index=True)
    maker_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("certification_application.id"))
    baseline_set_id: Mapped[int] = mapped_column(ForeignKey("baseline_set.id"), index=True)
    baseline_class_id: Mapped[int | None] = mapped_column(ForeignKey("baseline_class.id"), index=True)
    grade: Mapped[str] = mapped_column(String(20))
    evaluation_value: Mapped[Decimal | None] = mapped_column(QUANTITY)
    evaluation_unit: Mapped[str | None] = mapped_column(String(20))
    achievement: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    co2e_achievement: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[CertificateStatus] = mapped_column(
        Enum(CertificateStatus, native_enum=False, length=20), default=CertificateStatus.active, index=True
    )

    machine_model: Mapped[MachineModel] = relationship()
    baseline_set: Mapped[BaselineSet] = relationship()
    baseline_class: Mapped[BaselineClass | None] = relationship()
    application: Mapped[Application | None] = relationship()
    maker: Mapped[Any] = relationship("Organisation")
    status_changes: Mapped[list[CertificateStatusChange]] = relationship(
        back_populates="certificate",
        order_by="(CertificateStatusChange.effective_from, CertificateStatusChange.id)",
    )
    renewals: Mapped[list[CertificateRenewal]] = relationship(
        back_populates="certificate", order_by="CertificateRenewal.id"
    )
    notices: Mapped[list[TypeChangeNotice]] = relationship(
        back_populates="certificate", order_by="TypeChangeNotice.id"
    )

    def __repr__(self) -> str:
        return f"<Certificate {self.number} {self.status}>"


class CertificateStatusChange(Base):
    """The certificate's status from `effective_from` on (never rewritten; a correction is a new row)."""

    __tablename__ = "certificate_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    status: Mapped[CertificateStatus] = mapped_column(Enum(CertificateStatus, native_enum=False, length=20))
    effective_from: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    certificate: Mapped[Certificate] = relationship(back_populates="status_changes")


class CertificateRenewal(Base):
    """A renewal: the validity moved from `previous_valid_until` to `new_valid_until`."""

    __tablename__ = "certificate_renewal"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    renewed_on: Mapped[date] = mapped_column(Date)
    previous_valid_until: Mapped[date] = mapped_column(Date)
    new_valid_until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    certificate: Mapped[Certificate] = relationship(back_populates="renewals")


class TypeChangeNotice(TimestampMixin, Base):
    """A maker's notice of a change to a certified type; the outcome is decided by rule."""

    __tablename__ = "type_change_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    maker_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[ChangeKind] = mapped_column(Enum(ChangeKind, native_enum=False, length=30))
    description: Mapped[str] = mapped_column(Text)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[NoticeOutcome] = mapped_column(Enum(NoticeOutcome, native_enum=False, length=20))
    outcome_reason: Mapped[str] = mapped_column(Text)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    certificate: Mapped[Certificate] = relationship(back_populates="notices")
