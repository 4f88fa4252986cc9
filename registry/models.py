"""Registry models: fleet units, projects, usage logs, import batches, emission factors, reference
rates and commitment outcomes (DESIGN.md "Domain model", foundation.md "Registry contract").

Storage and scale (DESIGN.md): every usage-table key and query carries ``contractor_id`` so the
tables can be partitioned/distributed by contractor. Nothing is hard-deleted: a correction is a new
``UsageLog`` that supersedes the old one (``supersedes_id``); the old row stays, flagged
``superseded``; a revised emission factor is a new version row.
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
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gxmachinery.certification.models import Drive
from gxmachinery.db import Base, TimestampMixin, utcnow

# Measured quantities (h, L, kWh, kW): 10 integer digits, 3 decimals.
QUANTITY = Numeric(16, 3)
# CO2 in kg, stored to the gram.
CO2_KG = Numeric(18, 3)


class LogSource(enum.StrEnum):
    """How a usage log arrived (DESIGN.md UsageLog source)."""

    form = "form"
    csv = "csv"
    xlsx = "xlsx"
    api = "api"
    iso15143 = "iso15143"
    correction = "correction"


class ImportKind(enum.StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"
    iso15143 = "iso15143"


class ImportMode(enum.StrEnum):
    """all_or_nothing: any rejected row stores nothing; accept_valid: store the valid rows."""

    all_or_nothing = "all_or_nothing"
    accept_valid = "accept_valid"


class ImportStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class MachineUnit(TimestampMixin, Base):
    """A contractor's machine: a certified model (via its certificate) or an uncertified category
    with rated power and drive."""

    __tablename__ = "machine_unit"
    __table_args__ = (UniqueConstraint("contractor_id", "serial_or_pin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    serial_or_pin: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)
    machine_model_id: Mapped[int | None] = mapped_column(ForeignKey("machine_model.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    rated_power_kw: Mapped[Decimal] = mapped_column(QUANTITY)
    drive: Mapped[Drive] = mapped_column(Enum(Drive, native_enum=False, length=20))
    hour_meter: Mapped[Decimal | None] = mapped_column(QUANTITY)
    # Last ISO 15143-3 snapshot imported for this unit: the base of the next delta.
    telematics_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    telematics_hours: Mapped[Decimal | None] = mapped_column(QUANTITY)
    telematics_fuel_litres: Mapped[Decimal | None] = mapped_column(QUANTITY)
    telematics_kwh: Mapped[Decimal | None] = mapped_column(QUANTITY)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    certificate: Mapped[Any] = relationship("Certificate")
    machine_model: Mapped[Any] = relationship("MachineModel")
    category: Mapped[Any] = relationship("Category")
    contractor: Mapped[Any] = relationship("Organisation")

    def __repr__(self) -> str:
        return f"<MachineUnit {self.id} {self.serial_or_pin}>"


class Project(TimestampMixin, Base):
    """A public-works contract of an agency; the contractor is set at award."""

    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    contract_number: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    site: Mapped[str | None] = mapped_column(String(300))
    jurisdiction: Mapped[str] = mapped_column(String(8), default="TW")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    tender_ref: Mapped[int | None] = mapped_column(Integer)  # scoring's tender id (no FK: one-way deps)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    agency: Mapped[Any] = relationship("Organisation", foreign_keys=[agency_id])
    contractor: Mapped[Any] = relationship("Organisation", foreign_keys=[contractor_id])

    def __repr__(self) -> str:
        return f"<Project {self.contract_number}>"


class EmissionFactor(TimestampMixin, Base):
    """kg CO2 per unit of an energy carrier, by carrier × jurisdiction × year, versioned.

    A correction adds a new version and retires the old one (``is_current`` false); usage logs keep
    pointing at the version they were computed with until an explicit recompute.
    """

    __tablename__ = "emission_factor"
    __table_args__ = (UniqueConstraint("carrier", "jurisdiction", "year", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier: Mapped[str] = mapped_column(String(40))
    jurisdiction: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 6))
    unit: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ReferenceRate(TimestampMixin, Base):
    """Diesel litres per kW of rated power per operating hour for a category ('*' = default)."""

    __tablename__ = "reference_rate"
    __table_args__ = (UniqueConstraint("category_code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer, default=1)
    litres_per_kwh: Mapped[Decimal] = mapped_column(Numeric(12, 6))
    source: Mapped[str] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ImportBatch(TimestampMixin, Base):
    """One import (file or JSON batch): its mode, status, progress and error report."""

    __tablename__ = "import_batch"
    __table_args__ = (
        Index("ix_import_batch_contractor_sha", "contractor_id", "content_sha256"),
        UniqueConstraint("contractor_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[ImportKind] = mapped_column(Enum(ImportKind, native_enum=False, length=20))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_sha256: Mapped[str] = mapped_column(String(64))
    mode: Mapped[ImportMode] = mapped_column(Enum(ImportMode, native_enum=False, length=20))
    status: Mapped[ImportStatus] = mapped_column(
        Enum(ImportStatus, native_enum=False, length=20), default=ImportStatus.queued
    )
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"))  # ISO 15143-3 target
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_ok: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Numeric(5, 4), default=0)
    # A file-level error (malformed file) or a summary; row errors live in ImportRowError.
    error: Mapped[str | None] = mapped_column(Text)
    error_report: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # first rows, for the API
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    errors: Mapped[list[ImportRowError]] = relationship(
        back_populates="batch", order_by="(ImportRowError.row, ImportRowError.id)", viewonly=True
    )


class ImportRowError(Base):
    """One rejected cell of an import: row (1-based data row; header is row 0), column, reason."""

    __tablename__ = "import_row_error"

    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(Text)

    batch: Mapped[ImportBatch] = relationship(back_populates="errors")


class UsageLog(Base):
    """What one unit ran and consumed on one project on one day, with its CO2 and the factor
    versions used. Corrections are new rows (``supersedes_id``); only effective rows
    (``superseded`` false) count in the history."""

    __tablename__ = "usage_log"
    __table_args__ = (
        # (contractor, source_ref) first: duplicate lookups by reference use the index prefix.
        UniqueConstraint("contractor_id", "source_ref", "source"),
        Index("ix_usage_log_contractor_unit_date", "contractor_id", "machine_unit_id", "log_date"),
        Index("ix_usage_log_contractor_project_date", "contractor_id", "project_id", "log_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    machine_unit_id: Mapped[int] = mapped_column(ForeignKey("machine_unit.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    log_date: Mapped[date] = mapped_column(Date)
    runtime_h: Mapped[Decimal] = mapped_column(QUANTITY)
    hour_meter_start: Mapped[Decimal | None] = mapped_column(QUANTITY)
    hour_meter_end: Mapped[Decimal | None] = mapped_column(QUANTITY)
    fuel_litres: Mapped[Decimal | None] = mapped_column(QUANTITY)
    fuel_type: Mapped[str | None] = mapped_column(String(20))
    kwh: Mapped[Decimal | None] = mapped_column(QUANTITY)
    source: Mapped[LogSource] = mapped_column(Enum(LogSource, native_enum=False, length=20))
    source_ref: Mapped[str] = mapped_column(String(200))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), index=True)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("usage_log.id"), index=True)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    correction_reason: Mapped[str | None] = mapped_column(Text)
    certified: Mapped[bool] = mapped_column(Boolean, default=False)
    actual_co2_kg: Mapped[Decimal] = mapped_column(CO2_KG)
    reference_co2_kg: Mapped[Decimal] = mapped_column(CO2_KG)
    fuel_factor_id: Mapped[int | None] = mapped_column(ForeignKey("emission_factor.id"))
    grid_factor_id: Mapped[int | None] = mapped_column(ForeignKey("emission_factor.id"))
    diesel_factor_id: Mapped[int | None] = mapped_column(ForeignKey("emission_factor.id"))
    reference_rate_id: Mapped[int | None] = mapped_column(ForeignKey("reference_rate.id"))
    computed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    machine_unit: Mapped[MachineUnit] = relationship()
    project: Mapped[Project] = relationship()

    @property
    def reduction_co2_kg(self) -> Decimal:
        return self.reference_co2_kg - self.actual_co2_kg


class CommitmentOutcome(Base):
    """After award: the committed vs actual certified share of a project, fulfilment and any
    sanction. Owned by the registry (shown in the contractor's history); written by scoring through
    ``registry.services.record_commitment_outcome``."""

    __tablename__ = "commitment_outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    tender_ref: Mapped[int | None] = mapped_column(Integer)
    committed_certified_share: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    actual_certified_share: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    fulfilment: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    sanction_amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    project: Mapped[Project] = relationship()
