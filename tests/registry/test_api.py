"""Registry API: filing by JSON batch (Idempotency-Key), uploads, corrections, factors, history,
and access (another organisation's rows -> 404, never data)."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from registry.models import UsageLog
from tests.factories import user_of

LOG = {
    "serial_or_pin": "D-1",
    "contract_number": "PRJ-A",
    "log_date": "2024-05-02",
    "runtime_h": 8,
    "fuel_litres": 100,
}


def _count(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count(UsageLog.id)))


def test_json_batch_idempotency_key(world, api, session):  # type: ignore[no-untyped-def]
    client = api(world.contractor)
    headers = {"Idempotency-Key": "batch-1"}
    first = client.post("/api/v1/registry/logs", json={"logs": [LOG]}, headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["rows_ok"] == 1 and first.json["status"] == "done"
    second = client.post("/api/v1/registry/logs", json={"logs": [LOG]}, headers=headers)
    assert second.status_code == 200 and second.json["id"] == first.json["id"]
    # same content without a key: recognised by content
    third = client.post("/api/v1/registry/logs", json={"logs": [LOG]})
    assert third.status_code == 200 and third.json["id"] == first.json["id"]
    assert _count(session) == 1


def test_json_batch_all_or_nothing_422_names_row_and_column(world, api, session):  # type: ignore[no-untyped-def]
    client = api(world.contractor)
    bad = dict(LOG, log_date="2024-05-03", runtime_h=-1)
    response = client.post("/api/v1/registry/logs", json={"logs": [LOG, bad]})
    assert response.status_code == 422
    assert response.json["errors"] == {"row 2": {"runtime_h": ["must not be negative"]}}
    assert _count(session) == 0
    ok = client.post("/api/v1/registry/logs", json={"mode": "accept_valid", "logs": [LOG, bad]})
    assert ok.status_code == 201 and ok.json["rows_ok"] == 1 and ok.json["rows_rejected"] == 1
    assert ok.json["error_report"][0] == {"row": 2, "column": "runtime_h", "reason": "must not be negative"}


def test_upload_csv_and_malformed(world, api, session):  # type: ignore[no-untyped-def]
    client = api(world.contractor)
    csv = b"contract_number,serial_or_pin,log_date,runtime_h\nPRJ-A,D-1,2024-05-01,8\n"
    response = client.post(
        "/api/v1/registry/imports",
        data={"file": (io.BytesIO(csv), "logs.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    assert response.json["rows_ok"] == 1
    again = client.post(
        "/api/v1/registry/imports",
        data={"file": (io.BytesIO(csv), "logs.csv")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 200 and again.json["id"] == response.json["id"]
    bad = client.post(
        "/api/v1/registry/imports",
        data={"file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "missing" in bad.json["message"]
    got = client.get(f"/api/v1/registry/imports/{response.json['id']}")
    assert got.status_code == 200 and got.json["status"] == "done"
    other = api(world.other_contractor).get(f"/api/v1/registry/imports/{response.json['id']}")
    assert other.status_code == 404


def test_correction_via_api_and_access(world, api, session):  # type: ignore[no-untyped-def]
    client = api(world.contractor)
    client.post("/api/v1/registry/logs", json={"logs": [LOG]})
    log_id = session.scalar(select(UsageLog.id))
    fixed = client.post(
        f"/api/v1/registry/logs/{log_id}/corrections", json={"runtime_h": "7", "reason": "typo"}
    )
    assert (
        fixed.status_code == 201
        and fixed.json["supersedes_id"] == log_id
        and float(fixed.json["runtime_h"]) == 7
    )
    assert client.get(f"/api/v1/registry/logs/{log_id}").json["superseded"] is True
    # another contractor: 404 for the log, the correction, the unit, the project
    other = api(world.other_contractor)
    assert other.get(f"/api/v1/registry/logs/{log_id}").status_code == 404
    assert (
        other.post(
            f"/api/v1/registry/logs/{log_id}/corrections", json={"runtime_h": "1", "reason": "x"}
        ).status_code
        == 404
    )
    assert other.get(f"/api/v1/registry/units/{world.diesel.id}").status_code == 404
    assert other.get(f"/api/v1/registry/projects/{world.project.id}").status_code == 404
    assert other.get("/api/v1/registry/logs").json["total"] == 0
    # other contractor cannot file against our project/unit
    response = other.post("/api/v1/registry/logs", json={"logs": [LOG]})
    assert response.status_code == 422 and set(response.json["errors"]["row 1"]) == {
        "serial_or_pin",
        "contract_number",
    }
    # agency of the project sees the logs; another agency does not
    agency = api(world.agency)
    assert agency.get("/api/v1/registry/logs").json["total"] == 2
    assert agency.get(f"/api/v1/registry/logs/{log_id}").status_code == 200
    other_agency = api(world.other_agency)
    assert other_agency.get("/api/v1/registry/logs").json["total"] == 0
    assert other_agency.get(f"/api/v1/registry/logs/{log_id}").status_code == 404
    # an agency cannot correct
    assert (
        agency.post(
            f"/api/v1/registry/logs/{log_id}/corrections", json={"runtime_h": "1", "reason": "x"}
        ).status_code
        == 403
    )


def test_units_and_projects(world, api, session):  # type: ignore[no-untyped-def]
    client = api(world.contractor)
    created = client.post(
        "/api/v1/registry/units",
        json={
            "serial_or_pin": "U-9",
            "category_code": "hydraulic_excavator",
            "rated_power_kw": "80",
            "drive": "hybrid",
        },
    )
    assert created.status_code == 201 and float(created.json["rated_power_kw"]) == 80
    bad = client.post("/api/v1/registry/units", json={"serial_or_pin": "U-10"})
    assert bad.status_code == 422 and "category_code" in bad.json["errors"]
    assert client.get("/api/v1/registry/units").json["total"] == 4
    agency = api(world.agency)
    project = agency.post(
        "/api/v1/registry/projects",
        json={"contract_number": "PRJ-NEW", "name": "Bridge", "start_date": "2025-01-01"},
    )
    assert project.status_code == 201
    assert (
        client.post(
            "/api/v1/registry/projects",
            json={"contract_number": "X", "name": "Y", "start_date": "2025-01-01"},
        ).status_code
        == 403
    )
    award = agency.post(
        f"/api/v1/registry/projects/{project.json['id']}/award",
        json={"contractor_id": world.contractor.organisation_id},
    )
    assert award.status_code == 200 and award.json["contractor_id"] == world.contractor.organisation_id
    assert (
        api(world.other_agency)
        .post(
            f"/api/v1/registry/projects/{project.json['id']}/award",
            json={"contractor_id": world.contractor.organisation_id},
        )
        .status_code
        == 404
    )
    assert client.get("/api/v1/registry/projects").json["total"] == 2


def test_factors_api_and_recompute(world, api, session):  # type: ignore[no-untyped-def]
    admin = api(world.admin)
    factors = admin.get("/api/v1/registry/factors").json
    diesel = next(f for f in factors if f["carrier"] == "diesel" and f["jurisdiction"] == "TW")
    assert (
        api(world.contractor)
        .post(f"/api/v1/registry/factors/{diesel['id']}/corrections", json={"value": "2.7", "reason": "x"})
        .status_code
        == 403
    )
    api(world.contractor).post("/api/v1/registry/logs", json={"logs": [LOG]})
    fixed = admin.post(
        f"/api/v1/registry/factors/{diesel['id']}/corrections", json={"value": "2.7", "reason": "fix"}
    )
    assert fixed.status_code == 201 and fixed.json["version"] == 2
    out = admin.post("/api/v1/registry/recompute", json={"reason": "factor fix"})
    assert out.status_code == 200 and out.json["logs"] == 1
    log = session.scalar(select(UsageLog))
    assert float(log.actual_co2_kg) == 270.0


def test_history_api_scoping(world, api, session):  # type: ignore[no-untyped-def]
    api(world.contractor).post("/api/v1/registry/logs", json={"logs": [LOG]})
    mine = api(world.contractor).get("/api/v1/registry/history?as_of=2025-06-30")
    assert mine.status_code == 200 and mine.json["summary"]["hours"] == 8.0
    assert mine.json["rows"][0]["contract_number"] == "PRJ-A"
    agency = api(world.agency).get(
        f"/api/v1/registry/history?as_of=2025-06-30&contractor_id={world.contractor.organisation_id}"
    )
    assert agency.status_code == 200 and len(agency.json["rows"]) == 1
    other = api(world.other_agency).get(
        f"/api/v1/registry/history?contractor_id={world.contractor.organisation_id}"
    )
    assert other.status_code == 404
    assert api(user_of("maker")).get("/api/v1/registry/history").status_code == 403
    assert api(None).get("/api/v1/registry/logs").status_code == 401


def test_same_reference_across_channels_is_one_log(world, api, session):  # type: ignore[no-untyped-def]
    client = api(world.contractor)
    csv = b"contract_number,serial_or_pin,log_date,runtime_h,source_ref\nPRJ-A,D-1,2024-05-01,8,site-77\n"
    client.post(
        "/api/v1/registry/imports",
        data={"file": (io.BytesIO(csv), "logs.csv")},
        content_type="multipart/form-data",
    )
    again = client.post("/api/v1/registry/logs", json={"logs": [dict(LOG, source_ref="site-77")]})
    assert again.status_code == 201 and again.json["rows_duplicate"] == 1 and again.json["rows_ok"] == 0
    assert _count(session) == 1
