"""Registry services: fleet, projects, usage logs (filing + corrections), emission factors and
reference rates, CO2 recompute, contractor history and commitment outcomes.

Plain functions; they flush, never commit (the API view / page / CLI commits). Every change of a
log, factor or outcome is audited with ``record_event``. Every usage-table query carries
``contractor_id`` (DESIGN.md "Storage and scale").

Numbers: stored quantities are ``Numeric``; CO2 is computed as float kilograms by
``registry.carbon``'s formulas and stored rounded to the gram; history figures are floats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, case, func, or_, select, update

from gxmachinery.accounts.models import Organisation, OrganisationKind, User
from gxmachinery.audit.services import record_event
from gxmachinery.certification.models import Category, Certificate, Drive
from gxmachinery.errors import Conflict, InvalidInput, NotFound
from gxmachinery.extensions import db
from registry import carbon
from registry.models import (
    CommitmentOutcome,
    EmissionFactor,
    LogSource,
    MachineUnit,
    Project,
    ReferenceRate,
    UsageLog,
)

# ------------------------------------------------------------------------------------------
# History (contract for the scoring domain — signatures fixed by foundation.md)
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistorySummary:
    """A contractor's verified usage history over a window (DESIGN.md "Contractor history").

    ``certified_share`` = certified hours / hours; ``reduction_ratio`` = (reference − actual) /
    reference (0 when there is no reference); ``average_fulfilment`` = mean of the commitment
    outcomes recorded in the window (1.0 when there are none). Window: (window_start, window_end].
    """

    has_history: bool
    hours: float
    certified_hours: float
    certified_share: float
    actual_co2_kg: float
    reference_co2_kg: float
    reduction_co2_kg: float
    reduction_ratio: float
    average_fulfilment: float
    logs_count: int
    window_start: date
    window_end: date

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def window_bounds(as_of: date, window_months: int = 36) -> tuple[date, date]:
    """(start exclusive, end inclusive) of the rolling window; the same rule as
    ``carbon.rolling_window_summary`` (as_of − window_months calendar months)."""
    if window_months <= 0:
        raise InvalidInput.for_field("window_months", "window_months must be positive")
    start = (pd.Timestamp(as_of) - pd.DateOffset(months=window_months)).date()
    return start, as_of


def _summary(
    hours: float,
    certified_hours: float,
    actual: float,
    reference: float,
    count: int,
    fulfilment: float | None,
    start: date,
    end: date,
) -> HistorySummary:
    reduction = reference - actual
    return HistorySummary(
        has_history=count > 0,
        hours=hours,
        certified_hours=certified_hours,
        certified_share=certified_hours / hours if hours else 0.0,
        actual_co2_kg=actual,
        reference_co2_kg=reference,
        reduction_co2_kg=reduction,
        reduction_ratio=carbon.reduction_ratio(reference, actual),
        average_fulfilment=1.0 if fulfilment is None else fulfilment,
        logs_count=count,
        window_start=start,
        window_end=end,
    )


def _aggregate_columns() -> list[Any]:
    return [
        func.coalesce(func.sum(UsageLog.runtime_h), 0),
        func.coalesce(func.sum(case((UsageLog.certified, UsageLog.runtime_h), else_=0)), 0),
        func.coalesce(func.sum(UsageLog.actual_co2_kg), 0),
        func.coalesce(func.sum(UsageLog.reference_co2_kg), 0),
        func.count(UsageLog.id),
    ]


def history_summaries(
    contractor_ids: list[int], as_of: date, window_months: int = 36
) -> dict[int, HistorySummary]:
    """History summaries of many contractors at once (one aggregate query over effective logs,
    one over commitment outcomes). Contractors without logs get ``has_history=False``."""
    start, end = window_bounds(as_of, window_months)
    ids = sorted(set(contractor_ids))
    if not ids:
        return {}
    stmt = (
        select(UsageLog.contractor_id, *_aggregate_columns())
        .where(
            UsageLog.contractor_id.in_(ids),
            UsageLog.superseded.is_(False),
            UsageLog.log_date > start,
            UsageLog.log_date <= end,
        )
        .group_by(UsageLog.contractor_id)
    )
    sums = {row[0]: row[1:] for row in db.session.execute(stmt)}
    fulfilment = _average_fulfilment(ids, start, end)
    out = {}
    for cid in ids:
        hours, cert, actual, reference, count = sums.get(cid, (0, 0, 0, 0, 0))
        out[cid] = _summary(
            float(hours),
            float(cert),
            float(actual),
            float(reference),
            int(count),
            fulfilment.get(cid),
            start,
            end,
        )
    return out


def _average_fulfilment(contractor_ids: list[int], start: date, end: date) -> dict[int, float]:
    """Mean fulfilment of the outcomes recorded in (start, end] per contractor."""
    rows = db.session.execute(
        select(
            CommitmentOutcome.contractor_id, CommitmentOutcome.fulfilment, CommitmentOutcome.recorded_at
        ).where(CommitmentOutcome.contractor_id.in_(contractor_ids))
    )
    values: dict[int, list[float]] = {}
    for cid, fulfilment, recorded_at in rows:
        day = recorded_at.date()
        if start < day <= end:
            values.setdefault(cid, []).append(float(fulfilment))
    return {cid: sum(v) / len(v) for cid, v in values.items()}


def history_summary(contractor_id: int, as_of: date, window_months: int = 36) -> HistorySummary:
    """One contractor's history over the rolling window (default 36 months, DESIGN.md)."""
    return history_summaries([contractor_id], as_of, window_months)[contractor_id]


def project_usage_summary(project_id: int, contractor_id: int) -> HistorySummary:
    """All effective logs of one contractor on one project (for commitment fulfilment after
    award). The window is the project's whole log span."""
    stmt = select(*_aggregate_columns(), func.min(UsageLog.log_date), func.max(UsageLog.log_date)).where(
        UsageLog.contractor_id == contractor_id,
        UsageLog.project_id == project_id,
        UsageLog.superseded.is_(False),
    )
    row = db.session.execute(stmt).one()
    hours, cert, actual, reference, count, first, last = (row[i] for i in range(7))
    project = db.session.get(Project, project_id)
    start = first or (project.start_date if project else date.today())
    end = last or start
    fulfilment = db.session.scalars(
        select(CommitmentOutcome.fulfilment).where(
            CommitmentOutcome.contractor_id == contractor_id, CommitmentOutcome.project_id == project_id
        )
    ).all()
    average = sum(float(f) for f in fulfilment) / len(fulfilment) if fulfilment else None
    return _summary(
        float(hours), float(cert), float(actual), float(reference), int(count), average, start, end
    )


def record_commitment_outcome(
    contractor_id: int,
    project_id: int,
    tender_ref: int | None,
    committed_share: float | Decimal,
    actual_share: float | Decimal,
    sanction_amount: Decimal | None,
    reason: str | None,
) -> CommitmentOutcome:
    """Record a commitment's outcome after award; fulfilment = min(1, actual / committed)
    (DESIGN.md "Contractor history", ``carbon.commitment_fulfilment``). Audited."""
    project = db.session.get(Project, project_id)
    if project is None or project.contractor_id != contractor_id:
        raise NotFound(f"Project {project_id} not found for this contractor.")
    try:
        fulfilment = carbon.commitment_fulfilment(float(actual_share), float(committed_share))
    except ValueError as exc:
        raise InvalidInput.for_field("committed_share", str(exc)) from None
    if sanction_amount is not None and Decimal(sanction_amount) < 0:
        raise InvalidInput.for_field("sanction_amount", "must not be negative")
    outcome = CommitmentOutcome(
        contractor_id=contractor_id,
        project_id=project_id,
        tender_ref=tender_ref,
        committed_certified_share=Decimal(str(round(float(committed_share), 4))),
        actual_certified_share=Decimal(str(round(float(actual_share), 4))),
        fulfilment=Decimal(str(round(fulfilment, 4))),
        sanction_amount=None if sanction_amount is None else Decimal(sanction_amount),
        reason=reason,
    )
    db.session.add(outcome)
    record_event(
        "registry.commitment_outcome.record",
        outcome,
        subject_organisation_id=contractor_id,
        reason=reason,
        after={
            "project_id": project_id,
            "tender_ref": tender_ref,
            "committed_share": str(outcome.committed_certified_share),
            "actual_share": str(outcome.actual_certified_share),
            "fulfilment": str(outcome.fulfilment),
            "sanction_amount": None if sanction_amount is None else str(sanction_amount),
        },
    )
    return outcome


def effective_logs_frame(
    contractor_ids: Sequence[int] | None = None,
    project_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Effective (not superseded) logs as a frame with ``carbon.LOG_COLUMNS``."""
    stmt = select(
        UsageLog.contractor_id,
        UsageLog.project_id,
        UsageLog.log_date,
        UsageLog.runtime_h,
        UsageLog.certified,
        UsageLog.actual_co2_kg,
        UsageLog.reference_co2_kg,
    ).where(UsageLog.superseded.is_(False))
    if contractor_ids is not None:
        stmt = stmt.where(UsageLog.contractor_id.in_(list(contractor_ids)))
    if project_ids is not None:
        stmt = stmt.where(UsageLog.project_id.in_(list(project_ids)))
    rows = db.session.execute(stmt).all()
    return pd.DataFrame(rows, columns=list(carbon.LOG_COLUMNS))


def history_table(
    contractor_ids: Sequence[int] | None = None, project_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """History per contractor × project × year (DESIGN.md "Contractor history") with the project's
    contract number.

    The database sums effective logs per contractor × project × year × certified (sums are
    additive, so nothing is lost), then ``carbon.history_by_year`` — the one owner of the
    formulas — builds the table from those few rows. This keeps 1,000,000 logs in the database.
    """
    year = func.extract("year", UsageLog.log_date)
    stmt = (
        select(
            UsageLog.contractor_id,
            UsageLog.project_id,
            year,
            UsageLog.certified,
            func.sum(UsageLog.runtime_h),
            func.sum(UsageLog.actual_co2_kg),
            func.sum(UsageLog.reference_co2_kg),
        )
        .where(UsageLog.superseded.is_(False))
        .group_by(UsageLog.contractor_id, UsageLog.project_id, year, UsageLog.certified)
    )
    if contractor_ids is not None:
        stmt = stmt.where(UsageLog.contractor_id.in_(list(contractor_ids)))
    if project_ids is not None:
        stmt = stmt.where(UsageLog.project_id.in_(list(project_ids)))
    sums = pd.DataFrame(
        [
            (c, p, date(int(y), 1, 1), float(h), bool(cert), float(a), float(r))
            for c, p, y, cert, h, a, r in db.session.execute(stmt)
        ],
        columns=[
            "contractor_id",
            "project_id",
            "log_date",
            "runtime_h",
            "certified",
            "actual_co2_kg",
            "reference_co2_kg",
        ],
    )
    table = carbon.history_by_year(sums) if len(sums) else pd.DataFrame(columns=list(carbon.HISTORY_COLUMNS))
    if len(table):
        projects = dict(
            db.session.execute(
                select(Project.id, Project.contract_number).where(
                    Project.id.in_([int(p) for p in table["project_id"].unique()])
                )
            ).all()
        )
        table.insert(2, "contract_number", table["project_id"].map(projects))
    else:
        table.insert(2, "contract_number", pd.Series(dtype="object"))
    return table


def commitment_outcomes(
    contractor_ids: Sequence[int] | None = None, project_ids: Sequence[int] | None = None
) -> list[CommitmentOutcome]:
    stmt = select(CommitmentOutcome).order_by(
        CommitmentOutcome.recorded_at.desc(), CommitmentOutcome.id.desc()
    )
    if contractor_ids is not None:
        stmt = stmt.where(CommitmentOutcome.contractor_id.in_(list(contractor_ids)))
    if project_ids is not None:
        stmt = stmt.where(CommitmentOutcome.project_id.in_(list(project_ids)))
    return list(db.session.scalars(stmt))


def monthly_series(contractor_id: int, project_id: int | None = None) -> pd.DataFrame:
    """Per month (and project): hours, certified share, actual and reference CO2 — for charts."""
    stmt = select(
        UsageLog.project_id,
        UsageLog.log_date,
        UsageLog.runtime_h,
        UsageLog.certified,
        UsageLog.actual_co2_kg,
        UsageLog.reference_co2_kg,
    ).where(UsageLog.contractor_id == contractor_id, UsageLog.superseded.is_(False))
    if project_id is not None:
        stmt = stmt.where(UsageLog.project_id == project_id)
    frame = pd.DataFrame(
        db.session.execute(stmt).all(),
        columns=["project_id", "log_date", "runtime_h", "certified", "actual_co2_kg", "reference_co2_kg"],
    )
    if frame.empty:
        return pd.DataFrame(
            columns=["month", "hours", "certified_share", "actual_co2_kg", "reference_co2_kg"]
        )
    frame["month"] = pd.to_datetime(frame["log_date"]).dt.to_period("M").dt.to_timestamp()
    for col in ("runtime_h", "actual_co2_kg", "reference_co2_kg"):
        frame[col] = frame[col].astype("float64")
    frame["certified_hours"] = frame["runtime_h"].where(frame["certified"].astype(bool), 0.0)
    monthly = frame.groupby("month", as_index=False)[
        ["runtime_h", "certified_hours", "actual_co2_kg", "reference_co2_kg"]
    ].sum()
    monthly = monthly.rename(columns={"runtime_h": "hours"})
    monthly["certified_share"] = (
        monthly["certified_hours"] / monthly["hours"].where(monthly["hours"] != 0)
    ).fillna(0.0)
    return monthly


# ------------------------------------------------------------------------------------------
# Fleet
# ------------------------------------------------------------------------------------------


def _contractor(contractor_id: int) -> Organisation:
    org = db.session.get(Organisation, contractor_id)
    if org is None or org.kind != OrganisationKind.contractor:
        raise NotFound(f"Contractor {contractor_id} not found.")
    return org


def _unit_snapshot(unit: MachineUnit) -> dict[str, Any]:
    return {
        "serial_or_pin": unit.serial_or_pin,
        "certificate_id": unit.certificate_id,
        "machine_model_id": unit.machine_model_id,
        "category_id": unit.category_id,
        "rated_power_kw": str(unit.rated_power_kw),
        "drive": str(unit.drive),
    }


def register_machine_unit(
    contractor_id: int,
    serial_or_pin: str,
    *,
    certificate_number: str | None = None,
    category_code: str | None = None,
    rated_power_kw: Decimal | float | None = None,
    drive: str | None = None,
    name: str | None = None,
    hour_meter: Decimal | float | None = None,
    actor: User | None = None,
) -> MachineUnit:
    """Register a contractor's machine: certified (certificate number → model, category, power,
    drive) or uncertified (category + rated power + drive). Serial/PIN is unique per contractor."""
    _contractor(contractor_id)
    serial = (serial_or_pin or "").strip()
    if not serial:
        raise InvalidInput.for_field("serial_or_pin", "Serial number or PIN is required.")
    exists = db.session.scalar(
        select(MachineUnit.id).where(
            MachineUnit.contractor_id == contractor_id, MachineUnit.serial_or_pin == serial
        )
    )
    if exists:
        raise Conflict(f"Machine {serial} is already registered.", {"serial_or_pin": ["already registered"]})
    unit = MachineUnit(
        contractor_id=contractor_id,
        serial_or_pin=serial,
        name=name,
        created_by_id=actor.id if actor else None,
    )
    if hour_meter is not None:
        unit.hour_meter = Decimal(str(hour_meter))
    if certificate_number:
        cert = db.session.scalar(select(Certificate).where(Certificate.number == certificate_number.strip()))
        if cert is None:
            raise InvalidInput.for_field("certificate_number", f"No certificate {certificate_number}.")
        model = cert.machine_model
        unit.certificate_id = cert.id
        unit.machine_model_id = model.id
        unit.category_id = model.category_id
        unit.rated_power_kw = Decimal(model.rated_power_kw)
        unit.drive = Drive(model.drive)
    else:
        errors: dict[str, list[str]] = {}
        category = None
        if not category_code:
            errors["category_code"] = ["A category is required for an uncertified machine."]
        else:
            category = db.session.scalar(select(Category).where(Category.code == category_code))
            if category is None:
                errors["category_code"] = [f"Unknown category {category_code}."]
        if rated_power_kw is None or Decimal(str(rated_power_kw)) <= 0:
            errors["rated_power_kw"] = ["Rated power (kW) must be a positive number."]
        if drive not in {d.value for d in Drive}:
            errors["drive"] = ["Drive must be one of " + ", ".join(d.value for d in Drive) + "."]
        if errors:
            raise InvalidInput("The machine has invalid fields.", errors)
        assert category is not None and rated_power_kw is not None and drive is not None
        unit.category_id = category.id
        unit.rated_power_kw = Decimal(str(rated_power_kw))
        unit.drive = Drive(drive)
    db.session.add(unit)
    record_event(
        "registry.unit.register",
        unit,
        actor=actor,
        subject_organisation_id=contractor_id,
        after=_unit_snapshot(unit),
    )
    return unit


def find_machine_unit(contractor_id: int, unit_id: int) -> MachineUnit:
    unit = db.session.get(MachineUnit, unit_id)
    if unit is None or unit.contractor_id != contractor_id:
        raise NotFound(f"MachineUnit {unit_id} not found.")
    return unit


def units_stmt(contractor_id: int | None) -> Select[Any]:
    stmt = select(MachineUnit).order_by(MachineUnit.id)
    if contractor_id is not None:
        stmt = stmt.where(MachineUnit.contractor_id == contractor_id)
    return stmt


# ------------------------------------------------------------------------------------------
# Projects
# ------------------------------------------------------------------------------------------


def create_project(
    agency_id: int,
    contract_number: str,
    name: str,
    start_date: date,
    end_date: date | None = None,
    *,
    contractor_id: int | None = None,
    site: str | None = None,
    jurisdiction: str = "TW",
    tender_ref: int | None = None,
    actor: User | None = None,
) -> Project:
    """An agency creates a public-works project (contract number unique)."""
    agency = db.session.get(Organisation, agency_id)
    if agency is None or agency.kind not in (OrganisationKind.agency, OrganisationKind.admin):
        raise NotFound(f"Agency {agency_id} not found.")
    number = (contract_number or "").strip()
    errors: dict[str, list[str]] = {}
    if not number:
        errors["contract_number"] = ["A contract number is required."]
    if end_date is not None and end_date < start_date:
        errors["end_date"] = ["The end date is before the start date."]
    if contractor_id is not None:
        org = db.session.get(Organisation, contractor_id)
        if org is None or org.kind != OrganisationKind.contractor:
            errors["contractor_id"] = [f"Contractor {contractor_id} not found."]
    if errors:
        raise InvalidInput("The project has invalid fields.", errors)
    if db.session.scalar(select(Project.id).where(Project.contract_number == number)):
        raise Conflict(f"Contract {number} exists.", {"contract_number": ["already exists"]})
    project = Project(
        agency_id=agency_id,
        contractor_id=contractor_id,
        contract_number=number,
        name=name,
        site=site,
        jurisdiction=jurisdiction.upper(),
        start_date=start_date,
        end_date=end_date,
        tender_ref=tender_ref,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(project)
    record_event(
        "registry.project.create",
        project,
        actor=actor,
        subject_organisation_id=agency_id,
        after={
            "contract_number": number,
            "contractor_id": contractor_id,
            "start_date": start_date,
            "end_date": end_date,
        },
    )
    return project


def award_project(project: Project, contractor_id: int, actor: User | None = None) -> Project:
    """Set the contractor of a project (award); audited. Changing an awarded contractor is a 409."""
    _contractor(contractor_id)
    if project.contractor_id is not None and project.contractor_id != contractor_id:
        raise Conflict("The project is already awarded to another contractor.")
    before = project.contractor_id
    project.contractor_id = contractor_id
    record_event(
        "registry.project.award",
        project,
        actor=actor,
        subject_organisation_id=project.agency_id,
        before={"contractor_id": before},
        after={"contractor_id": contractor_id},
    )
    return project


def projects_stmt(actor: User) -> Select[Any]:
    """Projects the actor may see: an agency its own, a contractor those awarded to it."""
    stmt = select(Project).order_by(Project.start_date.desc(), Project.id.desc())
    if actor.is_admin:
        return stmt
    if actor.has_role("agency"):
        return stmt.where(Project.agency_id == actor.organisation_id)
    return stmt.where(Project.contractor_id == actor.organisation_id)


def get_visible_project(actor: User, project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None or not (
        actor.is_admin
        or project.agency_id == actor.organisation_id
        or project.contractor_id == actor.organisation_id
    ):
        raise NotFound(f"Project {project_id} not found.")
    return project


# ------------------------------------------------------------------------------------------
# Usage logs: listing, visibility, corrections
# ------------------------------------------------------------------------------------------


def logs_stmt(
    actor: User,
    *,
    project_id: int | None = None,
    machine_unit_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    include_superseded: bool = True,
) -> Select[Any]:
    """Logs visible to the actor: a contractor its own; an agency those on its projects."""
    stmt = select(UsageLog).order_by(UsageLog.log_date.desc(), UsageLog.id.desc())
    if not actor.is_admin:
        if actor.has_role("agency"):
            agency_projects = select(Project.id).where(Project.agency_id == actor.organisation_id)
            stmt = stmt.where(UsageLog.project_id.in_(agency_projects))
        else:
            stmt = stmt.where(UsageLog.contractor_id == actor.organisation_id)
    if project_id is not None:
        stmt = stmt.where(UsageLog.project_id == project_id)
    if machine_unit_id is not None:
        stmt = stmt.where(UsageLog.machine_unit_id == machine_unit_id)
    if date_from is not None:
        stmt = stmt.where(UsageLog.log_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(UsageLog.log_date <= date_to)
    if not include_superseded:
        stmt = stmt.where(UsageLog.superseded.is_(False))
    return stmt


def get_visible_log(actor: User, log_id: int) -> UsageLog:
    log = db.session.get(UsageLog, log_id)
    if log is None:
        raise NotFound(f"UsageLog {log_id} not found.")
    if actor.is_admin or log.contractor_id == actor.organisation_id:
        return log
    if actor.has_role("agency") and log.project.agency_id == actor.organisation_id:
        return log
    raise NotFound(f"UsageLog {log_id} not found.")


LOG_FIELDS = (
    "log_date",
    "runtime_h",
    "hour_meter_start",
    "hour_meter_end",
    "fuel_litres",
    "fuel_type",
    "kwh",
)


def log_snapshot(log: UsageLog) -> dict[str, Any]:
    return {
        "machine_unit_id": log.machine_unit_id,
        "project_id": log.project_id,
        **{name: getattr(log, name) for name in LOG_FIELDS},
        "actual_co2_kg": log.actual_co2_kg,
        "reference_co2_kg": log.reference_co2_kg,
        "certified": log.certified,
    }


def correct_usage_log(
    log: UsageLog, changes: Mapping[str, Any], reason: str, actor: User | None = None
) -> UsageLog:
    """File a superseding record (DESIGN.md: corrections are new rows, never edits).

    The new row copies the old one with ``changes`` applied, goes through the same validation as
    every filing (the old row no longer counts towards the 24 h/day total), gets fresh CO2
    figures; the old row stays, flagged superseded. Audited with before/after.
    """
    from registry import importers

    if not (reason or "").strip():
        raise InvalidInput.for_field("reason", "A reason is required for a correction.")
    if log.superseded:
        raise Conflict(f"Log {log.id} is already superseded; correct the newest record.")
    unknown = set(changes) - set(LOG_FIELDS)
    if unknown:
        raise InvalidInput("Only log values can be corrected.", {k: ["cannot be corrected"] for k in unknown})
    record: dict[str, Any] = {
        "machine_unit_id": log.machine_unit_id,
        "project_id": log.project_id,
        **{name: getattr(log, name) for name in LOG_FIELDS},
    }
    record.update({k: v for k, v in changes.items()})
    record["source_ref"] = f"correction:{log.id}"
    result = importers.file_records(
        log.contractor_id,
        [record],
        source=LogSource.correction,
        mode=importers.ImportMode.all_or_nothing,
        actor=actor,
        exclude_log_ids=[log.id],
        extra={"supersedes_id": log.id, "correction_reason": reason.strip()},
        audit=False,
    )
    if result.errors:
        raise importers.errors_to_invalid(result.errors, single=True)
    new = db.session.get(UsageLog, result.log_ids[0])
    assert new is not None
    log.superseded = True
    record_event(
        "registry.log.correct",
        new,
        actor=actor,
        subject_organisation_id=log.contractor_id,
        reason=reason,
        before={"log_id": log.id, **log_snapshot(log)},
        after={"log_id": new.id, **log_snapshot(new)},
    )
    return new


# ------------------------------------------------------------------------------------------
# Emission factors and reference rates (versioned, admin-managed)
# ------------------------------------------------------------------------------------------


def current_factor_tables() -> tuple[list[carbon.EmissionFactor], list[carbon.ReferenceRate]]:
    """The current factor and rate versions as ``registry.carbon`` inputs (ids = database ids)."""
    factors = [
        carbon.EmissionFactor(
            id=f.id,
            carrier=f.carrier,
            jurisdiction=f.jurisdiction,
            year=f.year,
            value=float(f.value),
            unit=f.unit,
            source=f.source,
        )
        for f in db.session.scalars(select(EmissionFactor).where(EmissionFactor.is_current.is_(True)))
    ]
    rates = [
        carbon.ReferenceRate(
            id=r.id,
            category=r.category_code,
            litres_per_kwh=float(r.litres_per_kwh),
            source=r.source,
            is_default=r.is_default,
        )
        for r in db.session.scalars(select(ReferenceRate).where(ReferenceRate.is_current.is_(True)))
    ]
    return factors, rates


def _factor_after(f: EmissionFactor) -> dict[str, Any]:
    return {
        "carrier": f.carrier,
        "jurisdiction": f.jurisdiction,
        "year": f.year,
        "version": f.version,
        "value": f.value,
        "unit": f.unit,
        "source": f.source,
    }


def create_emission_factor(
    carrier: str,
    jurisdiction: str,
    year: int,
    value: Decimal | float,
    unit: str,
    source: str,
    *,
    reason: str | None = None,
    actor: User | None = None,
) -> EmissionFactor:
    """Add a factor for a (carrier, jurisdiction, year) not yet covered; a correction of an
    existing one goes through :func:`correct_emission_factor`."""
    errors: dict[str, list[str]] = {}
    if Decimal(str(value)) < 0:
        errors["value"] = ["must not be negative"]
    if not (source or "").strip():
        errors["source"] = ["A source is required for every factor."]
    if unit.replace(" ", "").split("/")[-1].casefold() not in {"l", "kwh"}:
        errors["unit"] = ["unit must be per L or per kWh (e.g. kgCO2/L, kgCO2e/kWh)"]
    if errors:
        raise InvalidInput("The emission factor has invalid fields.", errors)
    jurisdiction = jurisdiction.upper()
    exists = db.session.scalar(
        select(EmissionFactor.id).where(
            EmissionFactor.carrier == carrier,
            EmissionFactor.jurisdiction == jurisdiction,
            EmissionFactor.year == year,
            EmissionFactor.is_current.is_(True),
        )
    )
    if exists:
        raise Conflict(
            f"A current factor for {carrier}/{jurisdiction}/{year} exists; correct it instead.",
            {"year": ["already has a current factor"]},
        )
    factor = EmissionFactor(
        carrier=carrier,
        jurisdiction=jurisdiction,
        year=year,
        version=1,
        value=Decimal(str(value)),
        unit=unit,
        source=source.strip(),
        reason=reason,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(factor)
    record_event("registry.factor.create", factor, actor=actor, reason=reason, after=_factor_after(factor))
    return factor


def correct_emission_factor(
    factor: EmissionFactor, value: Decimal | float, source: str, reason: str, actor: User | None = None
) -> EmissionFactor:
    """A new version of a factor; the old one is retired (kept). Logs keep the old version until
    an explicit :func:`recompute_usage_co2`."""
    if not factor.is_current:
        raise Conflict(f"Factor {factor.id} is not the current version.")
    if not (reason or "").strip():
        raise InvalidInput.for_field("reason", "A reason is required for a correction.")
    if Decimal(str(value)) < 0:
        raise InvalidInput.for_field("value", "must not be negative")
    new = EmissionFactor(
        carrier=factor.carrier,
        jurisdiction=factor.jurisdiction,
        year=factor.year,
        version=factor.version + 1,
        value=Decimal(str(value)),
        unit=factor.unit,
        source=(source or factor.source).strip(),
        reason=reason,
        created_by_id=actor.id if actor else None,
    )
    factor.is_current = False
    db.session.add(new)
    record_event(
        "registry.factor.correct",
        new,
        actor=actor,
        reason=reason,
        before={"id": factor.id, **_factor_after(factor)},
        after={"id": None, **_factor_after(new)},
    )
    return new


def correct_reference_rate(
    rate: ReferenceRate, litres_per_kwh: Decimal | float, source: str, reason: str, actor: User | None = None
) -> ReferenceRate:
    """A new version of a reference rate; the old one is retired (kept)."""
    if not rate.is_current:
        raise Conflict(f"Reference rate {rate.id} is not the current version.")
    if not (reason or "").strip():
        raise InvalidInput.for_field("reason", "A reason is required for a correction.")
    if Decimal(str(litres_per_kwh)) <= 0:
        raise InvalidInput.for_field("litres_per_kwh", "must be positive")
    new = ReferenceRate(
        category_code=rate.category_code,
        version=rate.version + 1,
        litres_per_kwh=Decimal(str(litres_per_kwh)),
        source=(source or rate.source).strip(),
        is_default=rate.is_default,
        reason=reason,
        created_by_id=actor.id if actor else None,
    )
    rate.is_current = False
    db.session.add(new)
    record_event(
        "registry.rate.correct",
        new,
        actor=actor,
        reason=reason,
        before={"id": rate.id, "category": rate.category_code, "litres_per_kwh": rate.litres_per_kwh},
        after={"category": new.category_code, "litres_per_kwh": new.litres_per_kwh, "version": new.version},
    )
    return new


def load_factor_tables(actor: User | None = None) -> dict[str, int]:
    """Load ``registry/data/emission_factors.csv`` and ``reference_rates.csv`` (idempotent: a
    key that already has a current version is left alone)."""
    added_f = added_r = 0
    existing = set(
        db.session.execute(
            select(EmissionFactor.carrier, EmissionFactor.jurisdiction, EmissionFactor.year)
        ).all()
    )
    for f in carbon.load_emission_factors():
        if (f.carrier, f.jurisdiction, f.year) in existing:
            continue
        db.session.add(
            EmissionFactor(
                carrier=f.carrier,
                jurisdiction=f.jurisdiction,
                year=f.year,
                version=1,
                value=Decimal(str(f.value)),
                unit=f.unit,
                source=f.source,
            )
        )
        added_f += 1
    rates = set(db.session.scalars(select(ReferenceRate.category_code)))
    for r in carbon.load_reference_rates():
        if r.category in rates:
            continue
        db.session.add(
            ReferenceRate(
                category_code=r.category,
                version=1,
                litres_per_kwh=Decimal(str(r.litres_per_kwh)),
                source=r.source,
                is_default=r.is_default,
            )
        )
        added_r += 1
    if added_f or added_r:
        record_event(
            "registry.factor.load",
            object_type="emission_factor",
            object_id="csv",
            actor=actor,
            after={"emission_factors": added_f, "reference_rates": added_r},
        )
    db.session.flush()
    return {"emission_factors": added_f, "reference_rates": added_r}


def recompute_usage_co2(
    *,
    contractor_id: int | None = None,
    only_stale: bool = True,
    reason: str,
    actor: User | None = None,
    chunk_size: int = 20_000,
) -> dict[str, int]:
    """Recompute CO2 of effective logs with the current factor/rate versions (explicit, audited).

    ``only_stale``: only logs computed with a factor or rate that is no longer current. The
    figures are replaced in place on the log row: the audit event records the count and the
    versions; the inputs (runtime, fuel, kWh) are never touched.
    """
    from registry import importers

    if not (reason or "").strip():
        raise InvalidInput.for_field("reason", "A reason is required for a recompute.")
    stmt = select(UsageLog.id).where(UsageLog.superseded.is_(False)).order_by(UsageLog.id)
    if contractor_id is not None:
        stmt = stmt.where(UsageLog.contractor_id == contractor_id)
    if only_stale:
        old_f = select(EmissionFactor.id).where(EmissionFactor.is_current.is_(False))
        old_r = select(ReferenceRate.id).where(ReferenceRate.is_current.is_(False))
        stmt = stmt.where(
            or_(
                UsageLog.fuel_factor_id.in_(old_f),
                UsageLog.grid_factor_id.in_(old_f),
                UsageLog.diesel_factor_id.in_(old_f),
                UsageLog.reference_rate_id.in_(old_r),
                and_(UsageLog.diesel_factor_id.is_(None)),
            )
        )
    ids = list(db.session.scalars(stmt))
    tables = current_factor_tables()
    changed = 0
    for start in range(0, len(ids), chunk_size):
        part = ids[start : start + chunk_size]
        frame = importers.logs_for_recompute(part)
        computed = importers.compute_co2(frame, tables)
        params = [
            {
                "b_id": int(i),
                "b_actual": a,
                "b_reference": r,
                "b_fuel": _int_or_none(ff),
                "b_grid": _int_or_none(gf),
                "b_diesel": _int_or_none(df),
                "b_rate": _int_or_none(rf),
            }
            for i, a, r, ff, gf, df, rf in zip(
                frame["id"],
                computed["actual_co2_kg"],
                computed["reference_co2_kg"],
                computed["fuel_factor_id"],
                computed["grid_factor_id"],
                computed["diesel_factor_id"],
                computed["reference_rate_id"],
                strict=True,
            )
        ]
        from sqlalchemy import bindparam

        db.session.execute(
            update(UsageLog.__table__)  # type: ignore[arg-type]
            .where(UsageLog.__table__.c.id == bindparam("b_id"))
            .values(
                actual_co2_kg=bindparam("b_actual"),
                reference_co2_kg=bindparam("b_reference"),
                fuel_factor_id=bindparam("b_fuel"),
                grid_factor_id=bindparam("b_grid"),
                diesel_factor_id=bindparam("b_diesel"),
                reference_rate_id=bindparam("b_rate"),
                computed_at=func.now(),
            ),
            params,
        )
        changed += len(part)
    record_event(
        "registry.co2.recompute",
        object_type="usage_log",
        object_id="bulk",
        actor=actor,
        subject_organisation_id=contractor_id,
        reason=reason,
        after={
            "logs": changed,
            "only_stale": only_stale,
            "factor_ids": sorted(int(f.id) for f in tables[0] if f.id is not None),
            "rate_ids": sorted(int(r.id) for r in tables[1] if r.id is not None),
        },
    )
    db.session.flush()
    return {"logs": changed}


def _int_or_none(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return int(value)


def factor_usage(factor_ids: Iterable[int]) -> int:
    """How many effective logs use one of these factors (shown before a recompute)."""
    ids = list(factor_ids)
    return int(
        db.session.scalar(
            select(func.count(UsageLog.id)).where(
                UsageLog.superseded.is_(False),
                or_(
                    UsageLog.fuel_factor_id.in_(ids),
                    UsageLog.grid_factor_id.in_(ids),
                    UsageLog.diesel_factor_id.in_(ids),
                ),
            )
        )
        or 0
    )
