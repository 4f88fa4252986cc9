"""Tenders, criteria, bids with machinery commitments, committee sheets and stored evaluations.

A tender's settings are frozen once bids open; member scores are immutable once the member signs;
an evaluation is stored with a full JSON snapshot of its inputs so it can be reproduced. Nothing is
hard-deleted: a re-evaluation is a new :class:`Evaluation` row.
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gxmachinery.db import Base, TimestampMixin


class TenderStatus(enum.StrEnum):
    """Lifecycle: draft -> open (bids) -> scoring -> evaluated -> published -> awarded."""

    draft = "draft"
    open = "open"
    scoring = "scoring"
    evaluated = "evaluated"
    published = "published"
    awarded = "awarded"


class Tender(TimestampMixin, Base):
    """A procurement (招標案) evaluated by one method; owned by the agency (``agency_id``)."""

    __tablename__ = "tender"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    reference: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    method: Mapped[str] = mapped_column(String(30))
    status: Mapped[TenderStatus] = mapped_column(
        Enum(TenderStatus, native_enum=False, length=20), default=TenderStatus.draft
    )
    jurisdiction: Mapped[str] = mapped_column(String(8), default="TW")
    ceiling_price: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    total_points: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))
    pass_mark: Mapped[Decimal] = mapped_column(Numeric(10, 4))
    # Method parameters other than the columns above (standard_points, value_scale, ...).
    method_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # CarbonScoreParams.to_dict() (min_history_score included).
    carbon_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # None, {"kind": "ladder", "bands": [{"level", "min_carbon_score", "discount"}...]} or
    # {"kind": "shadow_carbon", "carbon_price_per_t": "..."}.
    price_adjustment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sanction_k: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    evaluation_date: Mapped[date | None] = mapped_column(Date)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    awarded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    awarded_bid_id: Mapped[int | None] = mapped_column(Integer)  # no FK: avoids a cycle with bid

    criteria: Mapped[list[Criterion]] = relationship(back_populates="tender", order_by="Criterion.position")
    members: Mapped[list[CommitteeMember]] = relationship(
        back_populates="tender", order_by="CommitteeMember.id"
    )
    bids: Mapped[list[Bid]] = relationship(back_populates="tender", order_by="Bid.id")
    evaluations: Mapped[list[Evaluation]] = relationship(back_populates="tender", order_by="Evaluation.id")

    @property
    def latest_evaluation(self) -> Evaluation | None:
        return self.evaluations[-1] if self.evaluations else None

    def __repr__(self) -> str:
        return f"<Tender {self.id} {self.reference} {self.method} {self.status}>"


class Criterion(Base):
    """評選項目 with 配分 (max points) and optional 權重 (weight); one may be the carbon criterion."""

    __tablename__ = "tender_criterion"
    __table_args__ = (UniqueConstraint("tender_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), default="")
    max_points: Mapped[Decimal] = mapped_column(Numeric(10, 4))
    weight: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    is_carbon: Mapped[bool] = mapped_column(Boolean, default=False)

    tender: Mapped[Tender] = relationship(back_populates="criteria")


class CommitteeMember(TimestampMixin, Base):
    """A 評選委員 on one tender; ``signed_at`` set when the member signs the score sheet."""

    __tablename__ = "committee_member"
    __table_args__ = (UniqueConstraint("tender_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    scored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    tender: Mapped[Tender] = relationship(back_populates="members")
    user: Mapped[Any] = relationship("User")
    scores: Mapped[list[MemberScore]] = relationship(back_populates="member")


class Bid(TimestampMixin, Base):
    """A bid (投標) by a contractor with its machinery commitment (planned units and CO2)."""

    __tablename__ = "bid"
    __table_args__ = (UniqueConstraint("tender_id", "bidder_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id"), index=True)
    bidder_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    price: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    structure_points: Mapped[Decimal] = mapped_column(Numeric(10, 4), default=Decimal(0))
    planned_hours: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    planned_certified_hours: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    planned_certified_share: Mapped[Decimal] = mapped_column(Numeric(10, 6), default=Decimal(0))
    projected_co2_kg: Mapped[Decimal] = mapped_column(Numeric(16, 3), default=Decimal(0))
    reference_co2_kg: Mapped[Decimal] = mapped_column(Numeric(16, 3), default=Decimal(0))
    planned_reduction_ratio: Mapped[Decimal] = mapped_column(Numeric(10, 6), default=Decimal(0))
    # ids and values of the emission factors / reference rates the projection used.
    factor_refs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    tender: Mapped[Tender] = relationship(back_populates="bids")
    bidder: Mapped[Any] = relationship("Organisation")
    lines: Mapped[list[CommitmentLine]] = relationship(
        back_populates="bid", order_by="CommitmentLine.position"
    )


class CommitmentLine(Base):
    """One planned machine group of a bid: category, drive, units, rated power, hours, energy."""

    __tablename__ = "bid_commitment_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str] = mapped_column(String(60))
    drive: Mapped[str] = mapped_column(String(30))
    units: Mapped[int] = mapped_column(Integer)
    rated_power_kw: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    hours: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    certified: Mapped[bool] = mapped_column(Boolean, default=False)
    fuel_litres: Mapped[Decimal] = mapped_column(Numeric(16, 3), default=Decimal(0))
    kwh: Mapped[Decimal] = mapped_column(Numeric(16, 3), default=Decimal(0))
    projected_co2_kg: Mapped[Decimal] = mapped_column(Numeric(16, 3), default=Decimal(0))
    reference_co2_kg: Mapped[Decimal] = mapped_column(Numeric(16, 3), default=Decimal(0))

    bid: Mapped[Bid] = relationship(back_populates="lines")


class MemberScore(TimestampMixin, Base):
    """One member's points for one bid on one (non-carbon) criterion."""

    __tablename__ = "member_score"
    __table_args__ = (UniqueConstraint("member_id", "bid_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_member.id"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("tender_criterion.id"), index=True)
    points: Mapped[Decimal] = mapped_column(Numeric(10, 4))

    member: Mapped[CommitteeMember] = relationship(back_populates="scores")


class Evaluation(TimestampMixin, Base):
    """One run of the tender's method: the snapshot of every input and the result (JSON)."""

    __tablename__ = "tender_evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    method: Mapped[str] = mapped_column(String(30))
    as_of: Mapped[date] = mapped_column(Date)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    winner_bid_id: Mapped[int | None] = mapped_column(Integer)

    tender: Mapped[Tender] = relationship(back_populates="evaluations")
