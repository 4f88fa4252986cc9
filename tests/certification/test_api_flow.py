"""Maker -> certifier -> public register through the API, for a diesel, a hybrid and an electric
model, with grades and achievements checked against hand calculations (MLIT 第三条)."""

from __future__ import annotations

from tests.certification.conftest import DIESEL, ELECTRIC, HYBRID, upload

BASE = "/api/v1/certification"


def test_diesel_full_grade_through_api(api, maker, certifier, reference):
    m, c = api(maker), api(certifier)
    created = m.post(f"{BASE}/applications", json=DIESEL)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "draft"
    # evaluation 12.8 L/h <= baseline 14.2 -> ★★★ ; achievement 14.2 / 12.8 = 1.109375 -> 1.1094
    preview = m.get(f"{BASE}/applications/{body['id']}/preview").get_json()
    assert preview["evaluation_value"] == "12.8"
    assert preview["achievement"] == "1.1094"
    assert preview["grade"] == "★★★"
    assert preview["passes"] is True
    assert preview["baseline_value"] == "14.2"

    assert upload(m, body["id"]).status_code == 201
    assert m.post(f"{BASE}/applications/{body['id']}/submit").status_code == 200
    queue = c.get(f"{BASE}/review-queue").get_json()
    assert [row["id"] for row in queue["items"]] == [body["id"]]
    assert c.post(f"{BASE}/applications/{body['id']}/start-review").status_code == 200
    cert = c.post(
        f"{BASE}/applications/{body['id']}/approve", json={"reason": "ok", "issued_on": "2026-01-10"}
    )
    assert cert.status_code == 201, cert.get_json()
    cert = cert.get_json()
    assert cert["grade"] == "★★★"
    assert cert["number"] == "GX-2026-000001"
    assert cert["valid_until"] == "2029-01-10"
    assert cert["status"] == "active"

    # the maker sees the timeline of every step
    detail = m.get(f"{BASE}/applications/{body['id']}").get_json()
    assert [s["to_status"] for s in detail["timeline"] if s["kind"] == "transition"] == [
        "draft",
        "submitted",
        "under_review",
        "approved",
    ]
    assert detail["certificate_number"] == "GX-2026-000001"

    # public register, no login
    public = api(None)
    listed = public.get("/api/v1/register/certificates?category=hydraulic_excavator&drive=diesel").get_json()
    assert listed["total"] == 1
    row = listed["items"][0]
    assert row["type_designation"] == "PC200-11" and row["grade"] == "★★★" and row["status"] == "active"
    one = public.get("/api/v1/register/certificates/GX-2026-000001").get_json()
    assert one["status_history"][0]["status"] == "active"


def test_hybrid_gets_two_stars(api, maker, certify):
    # evaluation 15.55 L/h: 14.2 < 15.55 <= 14.2 / 0.85 = 16.705… -> ★★ ; 14.2 / 15.55 = 0.91318… -> 0.9132
    application, cert = certify(HYBRID)
    assert application["evaluation_value"] == "15.55"
    assert application["achievement"] == "0.9132"
    assert cert["grade"] == "★★"
    rows = api(None).get("/api/v1/register/certificates?drive=hybrid").get_json()["items"]
    assert [r["grade"] for r in rows] == ["★★"]


def test_electric_gx_with_co2e_achievement_and_factors(api, maker, certify):
    # kWh evaluation 30.75 kWh/h ; CO2e achievement = (14.2 L/h × 2.58 kgCO2/L) / (30.75 × 0.494)
    #   = 36.636 / 15.1905 = 2.41177… -> 2.4118
    application, cert = certify(ELECTRIC)
    assert application["evaluation_value"] == "30.75"
    assert application["evaluation_unit"] == "kWh/h"
    assert application["co2e_achievement"] == "2.4118"
    assert application["grade"] == "GX"
    assert application["factors_used"]["grid"]["value"] == "0.494"
    assert "經濟部能源署" in application["factors_used"]["grid"]["label"]
    assert application["factors_used"]["diesel"]["value"] == "2.58"
    assert cert["grade"] == "GX"
    row = api(None).get("/api/v1/register/certificates?drive=battery_electric").get_json()["items"][0]
    assert row["co2e_achievement"] == "2.4118"
    assert "0.494" in row["factors_used"] and "温対法施行令" in row["factors_used"]


def test_certifier_overrides_factors(api, maker, certifier, reference):
    m, c = api(maker), api(certifier)
    app_id = m.post(f"{BASE}/applications", json=ELECTRIC).get_json()["id"]
    upload(m, app_id)
    m.post(f"{BASE}/applications/{app_id}/submit")
    c.post(f"{BASE}/applications/{app_id}/start-review")
    # grid 0.495 (2022): 36.636 / (30.75 × 0.495 = 15.22125) = 2.40689… -> 2.4069
    res = c.post(
        f"{BASE}/applications/{app_id}/factors",
        json={"grid_factor_value": "0.495", "grid_factor_label": "Taiwan grid 2022 (能源署)"},
    )
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["co2e_achievement"] == "2.4069"
    assert res.get_json()["factors_used"]["grid"]["label"] == "Taiwan grid 2022 (能源署)"


def test_not_certifiable_preview_and_approval_conflict(api, maker, certifier, reference):
    m, c = api(maker), api(certifier)
    # 0.55×30 + 0.2×20 + 0.1×10 + 0.15×5 = 16.5 + 4 + 1 + 0.75 = 22.25 > 14.2/0.85 = 16.70… -> no grade
    payload = dict(
        DIESEL,
        type_designation="OLD-1",
        measurements={"digging_loading": "30", "leveling": "20", "travel": "10", "idling": "5"},
    )
    app_id = m.post(f"{BASE}/applications", json=payload).get_json()["id"]
    preview = m.get(f"{BASE}/applications/{app_id}/preview").get_json()
    assert preview["passes"] is False and preview["grade"] is None
    upload(m, app_id)
    m.post(f"{BASE}/applications/{app_id}/submit")
    c.post(f"{BASE}/applications/{app_id}/start-review")
    res = c.post(f"{BASE}/applications/{app_id}/approve", json={})
    assert res.status_code == 409
    assert c.get(f"{BASE}/applications/{app_id}").get_json()["status"] == "under_review"


def test_information_request_and_answer(api, maker, certifier, reference):
    m, c = api(maker), api(certifier)
    app_id = m.post(f"{BASE}/applications", json=DIESEL).get_json()["id"]
    upload(m, app_id)
    m.post(f"{BASE}/applications/{app_id}/submit")
    c.post(f"{BASE}/applications/{app_id}/start-review")
    res = c.post(
        f"{BASE}/applications/{app_id}/request-information", json={"reason": "send the lab accreditation"}
    )
    assert res.get_json()["status"] == "info_requested"
    # the maker may edit now
    patched = m.patch(f"{BASE}/applications/{app_id}", json={"measurements": {"idling": "3"}})
    assert patched.status_code == 200
    assert patched.get_json()["evaluation_value"] == "12.65"  # 12.8 − 0.15 × 1
    assert upload(m, app_id, kind="lab_accreditation").status_code == 201
    ans = m.post(f"{BASE}/applications/{app_id}/answer", json={"message": "attached"})
    assert ans.get_json()["status"] == "under_review"
    rejected = c.post(f"{BASE}/applications/{app_id}/reject", json={"reason": "lab not accredited"})
    assert rejected.get_json()["status"] == "rejected"
    timeline = m.get(f"{BASE}/applications/{app_id}").get_json()["timeline"]
    messages = [s["message"] for s in timeline]
    assert (
        "send the lab accreditation" in messages
        and "attached" in messages
        and "lab not accredited" in messages
    )


def test_idempotency_key_returns_same_application(api, maker, reference):
    m = api(maker)
    first = m.post(f"{BASE}/applications", json=DIESEL, headers={"Idempotency-Key": "abc-1"})
    second = m.post(f"{BASE}/applications", json=DIESEL, headers={"Idempotency-Key": "abc-1"})
    assert first.status_code == 201 and second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
