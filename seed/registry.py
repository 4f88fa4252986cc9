"""Demo registry data: factor tables, the demo contractors' fleets (some units certified with the
certification seed's certificates, some not), projects of two agencies, ~2 years of daily logs for
five machines (deterministic), and one correction. Idempotent: units by serial, projects by
contract number, logs by source reference (re-filing skips them as duplicates)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from gxmachinery.certification.models import Certificate, MachineModel
from gxmachinery.extensions import db
from registry import importers, services
from registry.models import ImportMode, LogSource, MachineUnit, Project, UsageLog
from seed.accounts import demo_organisations

LOG_START = date(2024, 11, 1)
LOG_END = date(2026, 10, 31)

# contractor index (seed.accounts.ORGANISATIONS), serial, certified model type or None,
# (category, kW, drive) for uncertified units, name
UNITS: list[tuple[int, str, str | None, tuple[str, str, str] | None, str]] = [
    (5, "DEMO-PC-0001", "[DEMO] DK200-10", None, "[DEMO] Excavator A (certified diesel)"),
    (5, "DEMO-PC-0002", "[DEMO] GD-E20", None, "[DEMO] Excavator E (battery)"),
    (5, "DEMO-PC-0003", None, ("hydraulic_excavator", "110", "diesel"), "[DEMO] Excavator B (old diesel)"),
    (6, "DEMO-CL-0001", "[DEMO] FH210-5", None, "[DEMO] Excavator C (certified diesel)"),
    (6, "DEMO-CL-0002", None, ("wheel_loader", "90", "diesel"), "[DEMO] Wheel loader (uncertified)"),
    (7, "DEMO-HT-0001", None, ("hydraulic_excavator", "100", "diesel"), "[DEMO] Excavator (uncertified)"),
]

# agency index, contract number, name, site, contractor index
PROJECTS = [
    (8, "[DEMO] HB-2024-017", "[DEMO] 台9線 路基拓寬 Route 9 widening", "Hualien", 5),
    (9, "[DEMO] WRA-2024-031", "[DEMO] 筏子溪 堤防改善 Fazi River levee", "Taichung", 6),
    (8, "[DEMO] HB-2025-004", "[DEMO] 快速道路 邊坡 Expressway slope works", "Taoyuan", 7),
]


def _unit(
    contractor_id: int, serial: str, model_type: str | None, spec: tuple[str, str, str] | None, name: str
) -> MachineUnit | None:
    unit = db.session.scalar(
        select(MachineUnit).where(
            MachineUnit.contractor_id == contractor_id, MachineUnit.serial_or_pin == serial
        )
    )
    if unit is not None:
        return unit
    if model_type is not None:
        number = db.session.scalar(
            select(Certificate.number)
            .join(MachineModel, MachineModel.id == Certificate.machine_model_id)
            .where(MachineModel.type_designation == model_type)
            .order_by(Certificate.id)
            .limit(1)
        )
        if number is None:
            return None  # certification seed not loaded
        return services.register_machine_unit(contractor_id, serial, certificate_number=number, name=name)
    assert spec is not None
    category, power, drive = spec
    return services.register_machine_unit(
        contractor_id, serial, category_code=category, rated_power_kw=Decimal(power), drive=drive, name=name
    )


def _records(unit: MachineUnit, project: Project, rng: random.Random) -> list[dict[str, Any]]:
    """Weekday logs: 5–9 h; diesel ~0.17–0.22 L/kW·h × load; battery kWh ~0.45–0.6 × kW."""
    rated = float(unit.rated_power_kw)
    meter = 1000.0 + unit.id * 100
    out = []
    day = LOG_START
    while day <= LOG_END:
        if day.weekday() < 5:
            hours = round(rng.uniform(5, 9), 1)
            start = round(meter, 1)
            meter = start + hours
            record: dict[str, Any] = {
                "machine_unit_id": unit.id,
                "project_id": project.id,
                "log_date": day.isoformat(),
                "runtime_h": hours,
                "hour_meter_start": start,
                "hour_meter_end": round(meter, 1),
                "source_ref": f"demo:{unit.serial_or_pin}:{day.isoformat()}",
            }
            if unit.drive.value in ("battery_electric", "cable_electric"):
                record["kwh"] = round(hours * rated * rng.uniform(0.45, 0.6), 1)
            else:
                factor = 0.17 if unit.certificate_id else 0.21
                record["fuel_litres"] = round(
                    hours * rated * rng.uniform(factor - 0.02, factor + 0.02) * 0.6, 1
                )
                record["fuel_type"] = "diesel"
            out.append(record)
        day += timedelta(days=1)
    return out


def load_registry() -> dict[str, int]:
    """Factor tables, units, projects, logs, one correction. Returns counts of rows created."""
    counts = {"emission_factors": 0, "machine_units": 0, "projects": 0, "usage_logs": 0, "corrections": 0}
    counts["emission_factors"] = services.load_factor_tables()["emission_factors"]
    orgs = demo_organisations()
    units: dict[int, list[MachineUnit]] = {}
    before = db.session.scalar(select(func.count(MachineUnit.id))) or 0
    for org_index, serial, model_type, spec, name in UNITS:
        unit = _unit(orgs[org_index].id, serial, model_type, spec, name)
        if unit is not None:
            units.setdefault(org_index, []).append(unit)
    db.session.flush()
    counts["machine_units"] = (db.session.scalar(select(func.count(MachineUnit.id))) or 0) - before
    for agency_index, number, name, site, contractor_index in PROJECTS:
        project = db.session.scalar(select(Project).where(Project.contract_number == number))
        if project is None:
            project = services.create_project(
                orgs[agency_index].id,
                number,
                name,
                date(2024, 10, 1),
                date(2027, 3, 31),
                contractor_id=orgs[contractor_index].id,
                site=site,
            )
            counts["projects"] += 1
        rng = random.Random(number)  # deterministic per project
        # the Hilltown project has no logs yet: a contractor without history
        if contractor_index == 7:
            continue
        records: list[dict[str, Any]] = []
        for unit in units.get(contractor_index, []):
            records.extend(_records(unit, project, rng))
        if records:
            result = importers.file_records(
                orgs[contractor_index].id,
                records,
                source=LogSource.api,
                mode=ImportMode.accept_valid,
                audit=False,
                today=max(date.today(), LOG_END),
            )
            counts["usage_logs"] += result.rows_ok
    counts["corrections"] = _correction(orgs[5].id)
    db.session.flush()
    return counts


def _correction(contractor_id: int) -> int:
    if db.session.scalar(
        select(UsageLog.id)
        .where(UsageLog.contractor_id == contractor_id, UsageLog.supersedes_id.is_not(None))
        .limit(1)
    ):
        return 0
    log = db.session.scalar(
        select(UsageLog)
        .where(
            UsageLog.contractor_id == contractor_id,
            UsageLog.superseded.is_(False),
            UsageLog.fuel_litres.is_not(None),
        )
        .order_by(UsageLog.log_date, UsageLog.id)
        .limit(1)
    )
    if log is None:
        return 0
    services.correct_usage_log(
        log,
        {"fuel_litres": (log.fuel_litres or Decimal(0)) - Decimal("5")},
        "[DEMO] fuel receipt showed 5 L less than the site log",
    )
    return 1
