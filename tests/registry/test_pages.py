"""Registry pages render, forms file through the same validation, access is scoped."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from registry import importers
from registry.models import ImportMode, LogSource, UsageLog
from tests.registry.conftest import TODAY

LOG = {
    "serial_or_pin": "D-1",
    "contract_number": "PRJ-A",
    "log_date": "2024-05-02",
    "runtime_h": "8",
    "fuel_litres": "100",
}


def _seed_logs(world):  # type: ignore[no-untyped-def]
    result = importers.file_records(
        world.contractor.organisation_id,
        [LOG, dict(LOG, serial_or_pin="C-1", log_date="2024-06-01")],
        source=LogSource.api,
        mode=ImportMode.all_or_nothing,
        today=TODAY,
    )
    assert result.errors == []
    return result.log_ids


def test_contractor_pages_render(world, login, session):  # type: ignore[no-untyped-def]
    ids = _seed_logs(world)
    client = login(world.contractor)
    for url in (
        "/registry/",
        "/registry/units",
        "/registry/projects",
        "/registry/logs",
        "/registry/logs/new",
        f"/registry/logs/{ids[0]}",
        "/registry/imports",
        f"/registry/projects/{world.project.id}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    dashboard = client.get("/registry/").get_data(as_text=True)
    assert "<svg" in dashboard and "PRJ-A" in dashboard
    assert client.get("/registry/history.csv").status_code == 200
    assert client.get("/registry/history.xlsx").status_code == 200
    assert client.get("/registry/logs.csv").get_data(as_text=True).count("PRJ-A") == 2
    assert "serial_or_pin" in client.get("/registry/template.csv").get_data(as_text=True)
    assert client.get("/registry/template.xlsx").status_code == 200


def test_form_files_a_log_and_reports_field_errors(world, login, session):  # type: ignore[no-untyped-def]
    client = login(world.contractor)
    data = {
        "project_id": str(world.project.id),
        "machine_unit_id": str(world.diesel.id),
        "log_date": "2024-05-05",
        "runtime_h": "30",
        "fuel_type": "diesel",
        "form_token": "t1",
    }
    bad = client.post("/registry/logs/new", data=data)
    assert bad.status_code == 422 and "exceeds 24 h" in bad.get_data(as_text=True)
    assert 'value="30"' in bad.get_data(as_text=True)
    ok = client.post("/registry/logs/new", data=dict(data, runtime_h="6"))
    assert ok.status_code == 302
    assert session.scalar(select(func.count(UsageLog.id))) == 1
    # double submit of the same form: no duplicate
    client.post("/registry/logs/new", data=dict(data, runtime_h="6"))
    assert session.scalar(select(func.count(UsageLog.id))) == 1


def test_correction_page(world, login, session):  # type: ignore[no-untyped-def]
    ids = _seed_logs(world)
    client = login(world.contractor)
    response = client.post(
        f"/registry/logs/{ids[0]}",
        data={
            "log_date": "2024-05-02",
            "runtime_h": "7",
            "fuel_litres": "90",
            "fuel_type": "diesel",
            "reason": "fuel receipt",
        },
    )
    assert response.status_code == 302
    new = session.scalar(select(UsageLog).where(UsageLog.supersedes_id == ids[0]))
    assert new is not None and new.correction_reason == "fuel receipt"
    missing_reason = client.post(
        f"/registry/logs/{new.id}", data={"log_date": "2024-05-02", "runtime_h": "7"}
    )
    assert missing_reason.status_code == 422


def test_upload_page_and_report(world, login, session):  # type: ignore[no-untyped-def]
    client = login(world.contractor)
    csv = (
        b"contract_number,serial_or_pin,log_date,runtime_h\nPRJ-A,D-1,2024-05-01,8\nPRJ-A,D-1,2024-05-02,-8\n"
    )
    response = client.post(
        "/registry/imports",
        data={"file": (io.BytesIO(csv), "logs.csv"), "mode": "accept_valid"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "must not be negative" in text and "runtime_h" in text
    batch_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    report = client.get(f"/registry/imports/{batch_id}/errors.csv").get_data(as_text=True)
    assert "3,runtime_h,must not be negative" in report


def test_access_on_pages(world, login, session):  # type: ignore[no-untyped-def]
    ids = _seed_logs(world)
    other = login(world.other_contractor)
    assert other.get(f"/registry/logs/{ids[0]}").status_code == 404
    assert other.get(f"/registry/projects/{world.project.id}").status_code == 404
    assert "PRJ-A" not in other.get("/registry/logs").get_data(as_text=True)
    agency = login(world.agency)
    assert agency.get(f"/registry/logs/{ids[0]}").status_code == 200
    project_page = agency.get(f"/registry/projects/{world.project.id}").get_data(as_text=True)
    assert "Contractor history" in project_page or "承攬" in project_page or "<svg" in project_page
    assert agency.post(f"/registry/logs/{ids[0]}", data={"reason": "x"}).status_code == 403
    other_agency = login(world.other_agency)
    assert other_agency.get(f"/registry/projects/{world.project.id}").status_code == 404
    assert other_agency.get(f"/registry/logs/{ids[0]}").status_code == 404


def test_factors_page_admin_only(world, login, session):  # type: ignore[no-untyped-def]
    assert login(world.contractor).get("/registry/factors").status_code == 403
    page = login(world.admin).get("/registry/factors")
    assert page.status_code == 200 and "grid_electricity" in page.get_data(as_text=True)


def test_pages_in_traditional_chinese(world, login, session):  # type: ignore[no-untyped-def]
    client = login(world.contractor)
    client.get("/lang/zh_Hant_TW")
    text = client.get("/registry/logs").get_data(as_text=True)
    assert "使用紀錄" in text and "匯出 CSV" in text
