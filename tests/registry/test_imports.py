"""File imports: CSV, XLSX, JSON file, ISO 15143-3; modes; re-send; malformed files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from gxmachinery.certification.models import Drive
from registry import importers
from registry.models import (
    ImportBatch,
    ImportKind,
    ImportMode,
    ImportRowError,
    ImportStatus,
    UsageLog,
)
from tests.registry.conftest import TODAY
from tests.registry.factories import MachineUnitFactory

DATA = Path(__file__).parent / "data"
HEADER = "contract_number,serial_or_pin,log_date,runtime_h,fuel_litres,fuel_type,source_ref\n"


def _count(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count(UsageLog.id)))


def _import(world, path, mode=ImportMode.all_or_nothing, **kw):  # type: ignore[no-untyped-def]
    return importers.import_file(world.contractor.organisation_id, path, path.name, mode, today=TODAY, **kw)


def _csv(tmp_path, body: str, name="logs.csv", encoding="utf-8") -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(body.encode(encoding))
    return path


def test_csv_import_in_chunks_and_resend(world, session, tmp_path):  # type: ignore[no-untyped-def]
    rows = "".join(f"PRJ-A,D-1,2024-05-{d:02d},8,100,diesel,r{d}\n" for d in range(1, 11))
    path = _csv(tmp_path, HEADER + rows)
    batch, ran = _import(world, path, chunk_rows=3)
    assert ran and batch.status == ImportStatus.done and batch.rows_ok == 10 and _count(session) == 10
    again, ran_again = _import(world, path)
    assert not ran_again and again.id == batch.id and _count(session) == 10
    # the same rows in another file (different bytes): skipped by source_ref
    other = _csv(tmp_path, HEADER.replace("\n", "\r\n") + rows, name="copy.csv")
    third, _ = _import(world, other)
    assert (
        third.id != batch.id and third.rows_ok == 0 and third.rows_duplicate == 10 and _count(session) == 10
    )


def test_csv_all_or_nothing_vs_accept_valid(world, session, tmp_path):  # type: ignore[no-untyped-def]
    body = (
        HEADER
        + "PRJ-A,D-1,2024-05-01,8,100,diesel,a\nPRJ-A,D-1,2024-05-02,8,-5,diesel,b\nPRJ-A,NOPE,2024-05-03,8,,,c\n"
    )
    path = _csv(tmp_path, body)
    batch, _ = _import(world, path)
    assert batch.status == ImportStatus.failed and batch.rows_ok == 0 and _count(session) == 0
    errors = session.scalars(
        select(ImportRowError).where(ImportRowError.batch_id == batch.id).order_by(ImportRowError.row)
    ).all()
    # spreadsheet rows: header is row 1
    assert [(e.row, e.column) for e in errors] == [(3, "fuel_litres"), (4, "serial_or_pin")]
    assert batch.error_report[0] == {"row": 3, "column": "fuel_litres", "reason": "must not be negative"}
    valid, _ = _import(world, path, ImportMode.accept_valid)
    assert valid.id != batch.id and valid.status == ImportStatus.done
    assert (valid.rows_ok, valid.rows_rejected) == (1, 2) and _count(session) == 1


def test_csv_runtime_over_24h_across_chunks(world, session, tmp_path):  # type: ignore[no-untyped-def]
    body = HEADER + "PRJ-A,D-1,2024-05-01,12,,,a\nPRJ-A,D-1,2024-05-01,13,,,b\n"
    batch, _ = _import(world, _csv(tmp_path, body), ImportMode.accept_valid, chunk_rows=1)
    assert batch.rows_ok == 1 and batch.error_report[0]["row"] == 3
    assert batch.error_report[0]["column"] == "runtime_h" and "25" in batch.error_report[0]["reason"]


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        (
            "bad.csv",
            "contract_number,serial_or_pin,log_date\nPRJ-A,D-1,2024-05-01\n".encode("utf-16"),
            "not UTF-8",
        ),
        ("nohead.csv", b"PRJ-A,D-1,2024-05-01,8\n", "missing"),
        ("empty.csv", b"", "empty"),
        ("bad.xlsx", b"not a zip", "not an XLSX"),
        ("bad.xml", b"<Fleet><Equipment>", "malformed XML"),
        ("dtd.xml", (DATA / "fleet_doctype.xml").read_bytes(), "DOCTYPE"),
    ],
)
def test_malformed_file_one_error_nothing_changed(world, session, tmp_path, name, content, fragment):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(content)
    batch, _ = _import(world, path, ImportMode.accept_valid, project_id=world.project.id)
    assert batch.status == ImportStatus.failed and fragment in batch.error and batch.rows_ok == 0
    assert _count(session) == 0


def test_xlsx_import_and_wrong_sheet(world, session, tmp_path):  # type: ignore[no-untyped-def]
    frame = pd.DataFrame(
        [
            {
                "contract_number": "PRJ-A",
                "serial_or_pin": "D-1",
                "log_date": pd.Timestamp("2024-05-01"),
                "runtime_h": 8,
                "fuel_litres": 100,
                "fuel_type": "diesel",
            },
            {
                "contract_number": "PRJ-A",
                "serial_or_pin": "B-1",
                "log_date": "2024-05-01",
                "runtime_h": 4,
                "kwh": 120,
            },
        ]
    )
    path = tmp_path / "logs.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        frame.to_excel(writer, sheet_name="usage_logs", index=False)
    batch, _ = _import(world, path)
    assert batch.status == ImportStatus.done and batch.rows_ok == 2, batch.error_report
    wrong = tmp_path / "wrong.xlsx"
    with pd.ExcelWriter(wrong, engine="xlsxwriter") as writer:
        frame.to_excel(writer, sheet_name="Sheet1", index=False)
    failed, _ = _import(world, wrong)
    assert failed.status == ImportStatus.failed and "no sheet 'usage_logs'" in failed.error


def test_template_round_trip(world, session, tmp_path):  # type: ignore[no-untyped-def]
    for kind in ("csv", "xlsx"):
        data = importers.template_bytes(kind)
        path = tmp_path / f"template.{kind}"
        path.write_bytes(data)
        chunks = list(importers.iter_csv(path) if kind == "csv" else importers.iter_xlsx(path))
        assert list(chunks[0].columns[:12]) == [c for c, _, _ in importers.TEMPLATE_COLUMNS]


def test_iso15143_xml_first_snapshot_is_the_base(world, session, tmp_path):  # type: ignore[no-untyped-def]
    cid = world.contractor.organisation_id
    ex = MachineUnitFactory(
        contractor_id=cid,
        serial_or_pin="KMTPC200C55500123",
        category_id=world.diesel.category_id,
        rated_power_kw=Decimal("110"),
        drive=Drive.diesel,
    )
    MachineUnitFactory(
        contractor_id=cid,
        serial_or_pin="VCEEC230E00000007",
        category_id=world.diesel.category_id,
        rated_power_kw=Decimal("100"),
        drive=Drive.battery_electric,
    )
    day1, _ = _import(world, DATA / "fleet_ns_day1.xml", project_id=world.project.id)
    # the first snapshot of a machine is only the base of its next delta: no rows, base stored
    assert day1.status == ImportStatus.done and day1.rows_total == 0
    session.refresh(ex)
    assert ex.telematics_hours == Decimal("1234.5")
    day2, _ = _import(world, DATA / "fleet_ns_day2.xml", project_id=world.project.id)
    assert day2.status == ImportStatus.done and day2.rows_ok == 2
    log = session.scalar(select(UsageLog).where(UsageLog.machine_unit_id == ex.id))
    assert float(log.runtime_h) == pytest.approx(7.7) and log.source_ref.startswith("iso15143:")


def test_iso15143_base_then_next_snapshot(world, session, tmp_path):  # type: ignore[no-untyped-def]
    cid = world.contractor.organisation_id
    ex = MachineUnitFactory(
        contractor_id=cid,
        serial_or_pin="KMTPC200C55500123",
        category_id=world.diesel.category_id,
        rated_power_kw=Decimal("110"),
        drive=Drive.diesel,
    )
    el = MachineUnitFactory(
        contractor_id=cid,
        serial_or_pin="VCEEC230E00000007",
        category_id=world.diesel.category_id,
        rated_power_kw=Decimal("100"),
        drive=Drive.battery_electric,
    )
    from datetime import UTC, datetime

    # the stored base (as left by the previous import of day 1)
    ex.telematics_at, ex.telematics_hours, ex.telematics_fuel_litres = (
        datetime(2024, 5, 1, 8, tzinfo=UTC),
        Decimal("1234.5"),
        Decimal("5678"),
    )
    el.telematics_at, el.telematics_hours, el.telematics_kwh = (
        datetime(2024, 5, 1, 8, 30, tzinfo=UTC),
        Decimal("210.0"),
        Decimal("9100.5"),
    )
    session.flush()
    batch, _ = _import(world, DATA / "fleet_ns_day2.xml", project_id=world.project.id)
    assert batch.status == ImportStatus.done and batch.rows_ok == 2, (batch.error, batch.error_report)
    logs = {log.machine_unit_id: log for log in session.scalars(select(UsageLog))}
    # excavator: 1242.2 − 1234.5 = 7.7 h, 5790.5 − 5678 = 112.5 L
    assert float(logs[ex.id].runtime_h) == pytest.approx(7.7) and float(logs[ex.id].fuel_litres) == 112.5
    # electric: 216.5 − 210.0 = 6.5 h, 9480.0 − 9100.5 = 379.5 kWh (gx vendor extension)
    assert float(logs[el.id].kwh) == pytest.approx(379.5) and logs[el.id].fuel_litres is None
    session.refresh(ex)
    assert ex.telematics_hours == Decimal("1242.2")
    again, ran = _import(world, DATA / "fleet_ns_day2.xml", project_id=world.project.id)
    assert not ran and again.id == batch.id and _count(session) == 2


def test_iso15143_needs_project(world, session):  # type: ignore[no-untyped-def]
    batch, _ = _import(world, DATA / "fleet.json", kind=ImportKind.iso15143)
    assert batch.status == ImportStatus.failed and "needs the project" in batch.error


def test_json_file(world, session, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "logs.json"
    path.write_text(
        '{"logs": [{"contract_number": "PRJ-A", "serial_or_pin": "D-1", "log_date": "2024-05-01", '
        '"runtime_h": 8}]}'
    )
    batch, _ = _import(world, path)
    assert batch.status == ImportStatus.done and batch.rows_ok == 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"logs": [')
    failed, _ = _import(world, bad)
    assert failed.status == ImportStatus.failed and "Malformed JSON" in failed.error


def test_batch_rows_are_committed_with_the_batch(world, session, tmp_path):  # type: ignore[no-untyped-def]
    """A crash mid-import (here: an exception from the progress callback) stores nothing."""
    rows = "".join(f"PRJ-A,D-1,2024-05-{d:02d},8,100,diesel,k{d}\n" for d in range(1, 11))
    path = _csv(tmp_path, HEADER + rows)

    def boom(_rows: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _import(world, path, ImportMode.accept_valid, chunk_rows=3, progress=boom)
    assert _count(session) == 0
    batch = session.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))
    assert batch.status == ImportStatus.failed and "stopped" in batch.error
