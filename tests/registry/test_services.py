"""Corrections, factor versioning + recompute, history numbers vs hand calculations, outcomes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from gxmachinery.audit.models import AuditEvent
from gxmachinery.errors import Conflict, InvalidInput, NotFound
from registry import importers, services
from registry.models import EmissionFactor, ImportMode, LogSource, UsageLog
from tests.registry.conftest import TODAY


def _file(world, records):  # type: ignore[no-untyped-def]
    result = importers.file_records(
        world.contractor.organisation_id,
        records,
        source=LogSource.api,
        mode=ImportMode.all_or_nothing,
        today=TODAY,
    )
    assert result.errors == []
    return result.log_ids


def _log(serial, day, runtime, **extra):  # type: ignore[no-untyped-def]
    return {
        "serial_or_pin": serial,
        "contract_number": "PRJ-A",
        "log_date": day,
        "runtime_h": runtime,
        **extra,
    }


def test_correction_supersedes_and_history_uses_effective_rows(world, session):  # type: ignore[no-untyped-def]
    (log_id,) = _file(world, [_log("D-1", "2024-05-02", "8", fuel_litres="100")])
    old = session.get(UsageLog, log_id)
    new = services.correct_usage_log(old, {"runtime_h": Decimal("6")}, "meter misread", world.contractor)
    assert old.superseded and not new.superseded and new.supersedes_id == old.id
    assert new.correction_reason == "meter misread" and float(new.runtime_h) == 6
    summary = services.history_summary(world.contractor.organisation_id, TODAY)
    assert summary.hours == 6 and summary.logs_count == 1
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "registry.log.correct")).all()
    assert len(events) == 1 and events[0].reason == "meter misread"
    with pytest.raises(Conflict):
        services.correct_usage_log(old, {"runtime_h": 5}, "again", world.contractor)
    with pytest.raises(InvalidInput):
        services.correct_usage_log(new, {"runtime_h": 5}, " ", world.contractor)


def test_correction_is_validated_and_excludes_the_old_row_from_24h(world, session):  # type: ignore[no-untyped-def]
    (log_id,) = _file(world, [_log("D-1", "2024-05-02", "20")])
    old = session.get(UsageLog, log_id)
    # 22 h replacing 20 h: fine (the old row no longer counts)
    new = services.correct_usage_log(old, {"runtime_h": 22}, "typo", world.contractor)
    with pytest.raises(InvalidInput) as info:
        services.correct_usage_log(new, {"runtime_h": 30}, "typo", world.contractor)
    assert "runtime_h" in info.value.errors


def test_history_numbers_by_hand(world, session):  # type: ignore[no-untyped-def]
    _file(
        world,
        [
            _log("D-1", "2024-05-02", "8", fuel_litres="100"),  # uncertified
            _log("C-1", "2024-05-02", "10", fuel_litres="110"),  # certified (before revocation)
            _log("C-1", "2025-04-01", "5", fuel_litres="50"),  # after revocation: not certified
        ],
    )
    # hours 23; certified 10 -> share 10/23
    # actual = (100 + 110 + 50) L × 2.6526 = 689.676 kg
    # reference = (8 + 10 + 5) h × 100 kW × 0.175 × 2.6526 = 1067.6715 kg
    s = services.history_summary(world.contractor.organisation_id, TODAY)
    assert s.has_history and s.logs_count == 3
    assert s.hours == pytest.approx(23) and s.certified_hours == pytest.approx(10)
    assert s.certified_share == pytest.approx(10 / 23)
    assert s.actual_co2_kg == pytest.approx(689.676, abs=0.01)
    assert s.reference_co2_kg == pytest.approx(1067.6715, abs=0.01)
    assert s.reduction_ratio == pytest.approx((1067.6715 - 689.676) / 1067.6715, rel=1e-4)
    assert s.average_fulfilment == 1.0
    # 12-month window as of 2025-06-30 starts (exclusive) 2024-06-30: only the 2025 log
    s12 = services.history_summary(world.contractor.organisation_id, TODAY, 12)
    assert s12.hours == pytest.approx(5) and s12.certified_share == 0
    table = services.history_table([world.contractor.organisation_id])
    assert list(table["year"]) == [2024, 2025]
    assert list(table["hours"]) == [18, 5]
    assert table.iloc[0]["certified_share"] == pytest.approx(10 / 18)
    bulk = services.history_summaries(
        [world.contractor.organisation_id, world.other_contractor.organisation_id], TODAY
    )
    assert bulk[world.other_contractor.organisation_id].has_history is False
    assert bulk[world.contractor.organisation_id] == s


def test_project_usage_and_commitment_outcome(world, session):  # type: ignore[no-untyped-def]
    _file(world, [_log("C-1", "2024-05-02", "6"), _log("D-1", "2024-05-02", "4")])
    usage = services.project_usage_summary(world.project.id, world.contractor.organisation_id)
    assert usage.certified_share == pytest.approx(0.6)
    outcome = services.record_commitment_outcome(
        world.contractor.organisation_id,
        world.project.id,
        7,
        0.8,
        usage.certified_share,
        Decimal("1500"),
        "short of the committed share",
    )
    # fulfilment = min(1, 0.6 / 0.8) = 0.75
    assert outcome.fulfilment == Decimal("0.7500")
    s = services.history_summary(world.contractor.organisation_id, date.today())
    assert s.average_fulfilment == pytest.approx(0.75)
    with pytest.raises(NotFound):
        services.record_commitment_outcome(
            world.other_contractor.organisation_id, world.project.id, None, 0.5, 0.5, None, None
        )


def test_factor_correction_then_explicit_recompute(world, session):  # type: ignore[no-untyped-def]
    (log_id,) = _file(world, [_log("D-1", "2024-05-02", "8", fuel_litres="100")])
    log = session.get(UsageLog, log_id)
    diesel = session.get(EmissionFactor, log.diesel_factor_id)
    assert float(log.actual_co2_kg) == pytest.approx(265.26)
    new = services.correct_emission_factor(diesel, Decimal("2.7"), "", "revised density", world.admin)
    assert new.version == 2 and not diesel.is_current
    session.refresh(log)
    assert float(log.actual_co2_kg) == pytest.approx(265.26)  # unchanged until recompute
    assert services.factor_usage([diesel.id]) == 1
    out = services.recompute_usage_co2(reason="diesel factor v2", actor=world.admin)
    assert out == {"logs": 1}
    session.refresh(log)
    # 100 L × 2.7 = 270; reference 8 × 100 × 0.175 × 2.7 = 378
    assert float(log.actual_co2_kg) == pytest.approx(270)
    assert float(log.reference_co2_kg) == pytest.approx(378)
    assert log.diesel_factor_id == new.id and log.fuel_factor_id == new.id
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "registry.co2.recompute")) is not None
    # nothing stale any more
    assert services.recompute_usage_co2(reason="again", actor=world.admin) == {"logs": 0}


def test_factor_tables_load_idempotent(world, session):  # type: ignore[no-untyped-def]
    assert services.load_factor_tables() == {"emission_factors": 0, "reference_rates": 0}
    with pytest.raises(Conflict):
        services.create_emission_factor("diesel", "TW", 2006, 2.6, "kgCO2/L", "x")
    with pytest.raises(InvalidInput):
        services.create_emission_factor("diesel", "TW", 2030, 2.6, "kgCO2/TJ", "x")


def test_register_units(world, session):  # type: ignore[no-untyped-def]
    from gxmachinery.certification.models import Certificate

    cert = session.get(Certificate, world.certified.certificate_id)
    unit = services.register_machine_unit(
        world.contractor.organisation_id, "NEW-1", certificate_number=cert.number
    )
    assert unit.machine_model_id == cert.machine_model_id and unit.rated_power_kw == Decimal("100")
    with pytest.raises(Conflict):
        services.register_machine_unit(
            world.contractor.organisation_id, "NEW-1", certificate_number=cert.number
        )
    with pytest.raises(InvalidInput) as info:
        services.register_machine_unit(
            world.contractor.organisation_id, "NEW-2", category_code="nope", drive="x"
        )
    assert set(info.value.errors) == {"category_code", "rated_power_kw", "drive"}
    ok = services.register_machine_unit(
        world.contractor.organisation_id,
        "NEW-3",
        category_code=world.category_code,
        rated_power_kw=75,
        drive="hybrid",
    )
    assert ok.certificate_id is None
