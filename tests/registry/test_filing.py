"""Filing through the one validation path (form/API records): checks name row and column."""

from __future__ import annotations

from datetime import date

import pytest

from registry import importers
from registry.models import ImportMode, LogSource, UsageLog
from tests.registry.conftest import TODAY


def _file(world, records, mode=ImportMode.all_or_nothing):  # type: ignore[no-untyped-def]
    return importers.file_records(
        world.contractor.organisation_id, records, source=LogSource.api, mode=mode, today=TODAY
    )


def test_valid_diesel_log_stores_co2_by_hand(world, session):  # type: ignore[no-untyped-def]
    result = _file(
        world,
        [
            {
                "serial_or_pin": "D-1",
                "contract_number": "PRJ-A",
                "log_date": "2024-05-02",
                "runtime_h": "8",
                "fuel_litres": "120",
                "fuel_type": "diesel",
            }
        ],
    )
    assert result.errors == []
    log = session.get(UsageLog, result.log_ids[0])
    # actual = 120 L × 2.6526 kg/L (TW diesel, IPCC 2006 row) = 318.312 kg
    assert float(log.actual_co2_kg) == pytest.approx(318.312)
    # reference = 8 h × 100 kW × 0.175 L/kW·h (hydraulic_excavator) × 2.6526 = 371.364 kg
    assert float(log.reference_co2_kg) == pytest.approx(371.364)
    assert log.certified is False
    assert log.diesel_factor_id is not None and log.reference_rate_id is not None


def test_certified_follows_certificate_history(world, session):  # type: ignore[no-untyped-def]
    # Revoked from 2025-03-01: certified on 2025-02-28, not on 2025-03-01 (never retroactive).
    result = _file(
        world,
        [
            {"serial_or_pin": "C-1", "contract_number": "PRJ-A", "log_date": "2025-02-28", "runtime_h": "5"},
            {"serial_or_pin": "C-1", "contract_number": "PRJ-A", "log_date": "2025-03-01", "runtime_h": "5"},
        ],
    )
    assert result.errors == []
    logs = [session.get(UsageLog, i) for i in result.log_ids]
    assert [log.certified for log in logs] == [True, False]


def test_battery_kwh_uses_grid_factor(world, session):  # type: ignore[no-untyped-def]
    result = _file(
        world,
        [
            {
                "serial_or_pin": "B-1",
                "contract_number": "PRJ-A",
                "log_date": "2023-12-31",
                "runtime_h": "4",
                "kwh": "100",
            }
        ],
    )
    # 2023-12-31 is before the project start -> rejected
    assert result.errors == [(1, "log_date", "date 2023-12-31 is before the project start 2024-01-01")]
    result = _file(
        world,
        [
            {
                "serial_or_pin": "B-1",
                "contract_number": "PRJ-A",
                "log_date": "2024-03-01",
                "runtime_h": "4",
                "kwh": "100",
            }
        ],
    )
    log = session.get(UsageLog, result.log_ids[0])
    # actual = 100 kWh × 0.494 (TW grid 2023, latest year ≤ 2024) = 49.4 kg
    assert float(log.actual_co2_kg) == pytest.approx(49.4)
    # reference = 4 h × 50 kW × 0.175 × 2.6526 = 92.841 kg
    assert float(log.reference_co2_kg) == pytest.approx(92.841)


BASE = {"serial_or_pin": "D-1", "contract_number": "PRJ-A", "log_date": "2024-05-02", "runtime_h": "8"}


@pytest.mark.parametrize(
    ("changes", "column", "fragment"),
    [
        ({"serial_or_pin": "NOPE"}, "serial_or_pin", "unknown machine"),
        ({"contract_number": "NOPE"}, "contract_number", "unknown project"),
        ({"log_date": "2025-07-01"}, "log_date", "in the future"),
        ({"log_date": "2026-01-05"}, "log_date", "after the project end"),
        ({"log_date": "05/02/2024"}, "log_date", "not a date"),
        ({"runtime_h": "25"}, "runtime_h", "exceeds 24 h"),
        ({"runtime_h": "-1"}, "runtime_h", "must not be negative"),
        ({"runtime_h": "abc"}, "runtime_h", "not a number"),
        ({"fuel_litres": "300"}, "fuel_litres", "exceeds the maximum burn"),
        ({"hour_meter_start": "10", "hour_meter_end": "5"}, "hour_meter_end", "below the start"),
        ({"fuel_litres": "10", "fuel_unit": "gal"}, "fuel_unit", "not litres"),
        ({"kwh": "10", "energy_unit": "MJ"}, "energy_unit", "not kWh"),
        ({"fuel_litres": "10", "fuel_type": "kerosene"}, "fuel_type", "unknown fuel type"),
        ({"runtime_h": "0", "fuel_litres": "5"}, "fuel_litres", "zero runtime"),
        ({"kwh": "1000"}, "kwh", "exceeds"),
        ({"serial_or_pin": "B-1", "fuel_litres": "5"}, "fuel_litres", "battery-electric"),
    ],
)
def test_each_check_names_row_and_column(world, session, changes, column, fragment):  # type: ignore[no-untyped-def]
    good = dict(BASE, log_date="2024-05-03")
    result = _file(world, [good, dict(BASE, **changes)])
    assert result.rows_rejected == 1
    assert any(row == 2 and col == column and fragment in reason for row, col, reason in result.errors), (
        result.errors
    )
    # all-or-nothing: the good row was not stored either
    assert result.log_ids == [] and result.rows_ok == 0
    assert session.query(UsageLog).count() == 0


def test_foreign_machine_is_unknown(world, session):  # type: ignore[no-untyped-def]
    from tests.registry.factories import MachineUnitFactory

    MachineUnitFactory(contractor_id=world.other_contractor.organisation_id, serial_or_pin="X-9")
    result = _file(world, [dict(BASE, serial_or_pin="X-9")])
    assert result.errors[0][1] == "serial_or_pin" and "unknown machine" in result.errors[0][2]


def test_accept_valid_stores_the_valid_rows(world, session):  # type: ignore[no-untyped-def]
    result = _file(world, [BASE, dict(BASE, runtime_h="-2", log_date="2024-05-04")], ImportMode.accept_valid)
    assert result.rows_ok == 1 and result.rows_rejected == 1
    assert session.query(UsageLog).count() == 1


def test_runtime_over_24h_across_stored_logs(world, session):  # type: ignore[no-untyped-def]
    assert _file(world, [dict(BASE, runtime_h="16")]).errors == []
    result = _file(world, [dict(BASE, runtime_h="9", source_ref="second")])
    assert result.errors and result.errors[0][1] == "runtime_h" and "25" in result.errors[0][2]
    # in one batch too: 12 + 13 on the same unit-day
    result = _file(
        world,
        [
            dict(BASE, log_date="2024-05-09", runtime_h="12"),
            dict(BASE, log_date="2024-05-09", runtime_h="13"),
        ],
    )
    assert {e[0] for e in result.errors} == {1, 2}


def test_hour_meter_backwards_against_stored(world, session):  # type: ignore[no-untyped-def]
    ok = _file(world, [dict(BASE, hour_meter_start="100", hour_meter_end="108")])
    assert ok.errors == []
    result = _file(
        world,
        [dict(BASE, log_date="2024-05-03", hour_meter_start="105", hour_meter_end="110", runtime_h="5")],
    )
    assert result.errors == [
        (1, "hour_meter_start", "hour meter start 105.0 is below the previous reading 108.0")
    ]


def test_runtime_from_hour_meters(world, session):  # type: ignore[no-untyped-def]
    result = _file(
        world,
        [
            {
                "serial_or_pin": "D-1",
                "contract_number": "PRJ-A",
                "log_date": "2024-05-02",
                "hour_meter_start": "100",
                "hour_meter_end": "107.5",
            }
        ],
    )
    assert result.errors == []
    assert float(session.get(UsageLog, result.log_ids[0]).runtime_h) == 7.5


def test_resend_same_source_ref_never_duplicates(world, session):  # type: ignore[no-untyped-def]
    first = _file(world, [dict(BASE, source_ref="r1")])
    second = _file(world, [dict(BASE, source_ref="r1")])
    assert first.rows_ok == 1 and second.rows_ok == 0 and second.rows_duplicate == 1
    # no source_ref: the content identifies the row
    third = _file(world, [dict(BASE, log_date="2024-06-01")])
    fourth = _file(world, [dict(BASE, log_date="2024-06-01")])
    assert third.rows_ok == 1 and fourth.rows_duplicate == 1
    assert session.query(UsageLog).count() == 2


def test_vectorised_checks_agree_with_row_checks(world, session):  # type: ignore[no-untyped-def]
    """Property-style cross-check with registry.checks on a grid of values."""
    from registry import checks

    records = []
    expected = []
    for runtime in ("0", "4", "24", "30"):
        for fuel in ("", "0", "100", "200"):
            records.append(dict(BASE, runtime_h=runtime, fuel_litres=fuel, log_date="2024-07-01"))
            row = checks.UsageLogRow(
                log_date=date(2024, 7, 1), runtime_h=float(runtime), fuel_litres=float(fuel) if fuel else None
            )
            ctx = checks.UsageLogContext(
                today=TODAY,
                rated_power_kw=100,
                drive="diesel",
                project_start=date(2024, 1, 1),
                project_end=date(2025, 12, 31),
            )
            expected.append({f for f, _ in checks.check_usage_log(row, ctx)})
    for i, rec in enumerate(records):
        result = _file(world, [dict(rec, source_ref=f"p{i}")], ImportMode.accept_valid)
        got = {c for _, c, _ in result.errors if c != "runtime_h" or "across" not in _}
        assert got == expected[i], (rec, result.errors)
        session.rollback() if False else None
        session.query(UsageLog).delete()
