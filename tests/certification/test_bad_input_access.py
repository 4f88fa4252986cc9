"""Bad input names the field (422); access is by organisation and role; out-of-order changes are 409
with nothing changed."""

from __future__ import annotations

import pytest

from gxmachinery.accounts.models import Organisation
from tests.certification.conftest import DIESEL, PDF, upload
from tests.factories import UserFactory, user_of

BASE = "/api/v1/certification"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "tower_crane"}, "category"),
        ({"size_value": "2.5"}, "size_value"),  # above the largest excavator class [1.3, 1.7)
        ({"measurements": {"digging_loading": "-1"}}, "measurements.digging_loading"),
        ({"measurements": {"digging_loading": "0"}}, "measurements.digging_loading"),
        ({"measurements": {"swinging": "3"}}, "measurements.swinging"),
        ({"rated_power_kw": "0"}, "rated_power_kw"),
        ({"baseline_set": "MLIT_1999"}, "baseline_set"),
        ({"drive": "steam"}, "drive"),
        ({"drive": "other"}, "drive"),  # not eligible: neither a fuel nor an electric (GX) drive
        ({"type_designation": ""}, "type_designation"),
    ],
)
def test_bad_application_input_names_field(api, maker, reference, change, field):
    res = api(maker).post(f"{BASE}/applications", json=dict(DIESEL, **change))
    assert res.status_code == 422, res.get_json()
    assert field in res.get_json()["errors"]


def test_duplicate_type_designation_same_maker(api, maker, other_maker, reference):
    assert api(maker).post(f"{BASE}/applications", json=DIESEL).status_code == 201
    res = api(maker).post(f"{BASE}/applications", json=DIESEL)
    assert res.status_code == 422
    assert "type_designation" in res.get_json()["errors"]
    # another maker may use the same designation
    assert api(other_maker).post(f"{BASE}/applications", json=DIESEL).status_code == 201


def test_missing_mode_blocks_submit(api, maker, reference):
    m = api(maker)
    payload = dict(DIESEL, measurements={"digging_loading": "16", "leveling": "12", "travel": "10"})
    app_id = m.post(f"{BASE}/applications", json=payload).get_json()["id"]
    preview = m.get(f"{BASE}/applications/{app_id}/preview").get_json()
    assert preview["missing_modes"] == ["idling"] and preview["passes"] is False
    upload(m, app_id)
    res = m.post(f"{BASE}/applications/{app_id}/submit")
    assert res.status_code == 422 and "measurements.idling" in res.get_json()["errors"]


def test_submit_needs_test_report(api, maker, reference):
    m = api(maker)
    app_id = m.post(f"{BASE}/applications", json=DIESEL).get_json()["id"]
    res = m.post(f"{BASE}/applications/{app_id}/submit")
    assert res.status_code == 422 and "documents" in res.get_json()["errors"]


def test_mode_weights_must_sum_to_one(api, admin, reference):
    res = api(admin).post(
        f"{BASE}/test-methods",
        json={
            "code": "X1",
            "category": "bulldozer",
            "unit": "L/h",
            "modes": [{"code": "dozing", "weight": "0.6"}, {"code": "idling", "weight": "0.3"}],
        },
    )
    assert res.status_code == 422 and "weights" in res.get_json()["errors"]


def test_baseline_unit_mismatch_and_overlap(api, admin, reference):
    a = api(admin)
    bad_unit = a.post(
        f"{BASE}/baseline-sets",
        json={
            "code": "T1",
            "effective_from": "2030-04-01",
            "full_grade_label": "★★★★★",
            "classes": [
                {
                    "category": "bulldozer",
                    "lower": "19",
                    "upper": "37",
                    "baseline_value": "4",
                    "unit": "kWh/h",
                }
            ],
        },
    )
    assert bad_unit.status_code == 422 and "classes.0.unit" in bad_unit.get_json()["errors"]
    overlap = a.post(
        f"{BASE}/baseline-sets",
        json={
            "code": "T2",
            "effective_from": "2030-04-01",
            "full_grade_label": "★★★★★",
            "classes": [
                {"category": "bulldozer", "lower": "19", "upper": "40", "baseline_value": "4", "unit": "L/h"},
                {"category": "bulldozer", "lower": "37", "upper": "56", "baseline_value": "6", "unit": "L/h"},
            ],
        },
    )
    assert overlap.status_code == 422 and "classes.1.lower" in overlap.get_json()["errors"]
    unknown = a.post(
        f"{BASE}/baseline-sets",
        json={
            "code": "T3",
            "effective_from": "2030-04-01",
            "full_grade_label": "★",
            "classes": [
                {"category": "tower_crane", "lower": "1", "upper": "2", "baseline_value": "4", "unit": "L/h"}
            ],
        },
    )
    assert unknown.status_code == 422 and "classes.0.category" in unknown.get_json()["errors"]


def test_reference_admin_only_and_audited(api, maker, admin, reference):
    payload = {
        "code": "crawler_crane",
        "name_en": "Crawler crane",
        "name_zh": "履帶起重機",
        "size_attribute": "max_lifting_load",
        "size_unit": "t",
    }
    assert api(maker).post(f"{BASE}/categories", json=payload).status_code == 403
    assert api(admin).post(f"{BASE}/categories", json=payload).status_code == 201
    events = api(admin).get("/api/v1/audit-events?action=category.create").get_json()
    assert any(e["object_id"] for e in events["items"])
    assert any(c["code"] == "crawler_crane" for c in api(None).get(f"{BASE}/categories").get_json())


def test_baseline_in_use_is_frozen(api, admin, maker, reference):
    api(maker).post(f"{BASE}/applications", json=DIESEL)
    res = api(admin).post(
        f"{BASE}/baseline-sets",
        json={
            "code": "MLIT_2020",
            "effective_from": "2013-04-01",
            "full_grade_label": "★★★",
            "classes": [
                {
                    "category": "hydraulic_excavator",
                    "lower": "0.25",
                    "upper": "1.7",
                    "baseline_value": "9",
                    "unit": "L/h",
                }
            ],
        },
    )
    assert res.status_code == 409


# ---- uploads ------------------------------------------------------------------------------


def test_upload_rejects_non_pdf_and_too_large(app, api, maker, reference):
    m = api(maker)
    app_id = m.post(f"{BASE}/applications", json=DIESEL).get_json()["id"]
    not_pdf = upload(m, app_id, content=b"MZ\x90\x00 not a pdf", name="report.pdf")
    assert not_pdf.status_code == 422 and "file" in not_pdf.get_json()["errors"]
    limit = app.config["MAX_DOCUMENT_BYTES"]
    app.config["MAX_DOCUMENT_BYTES"] = 100
    try:
        big = upload(m, app_id, content=PDF + b"x" * 200)
    finally:
        app.config["MAX_DOCUMENT_BYTES"] = limit
    assert big.status_code == 422 and "file" in big.get_json()["errors"]
    bad_kind = upload(m, app_id, kind="selfie")
    assert bad_kind.status_code == 422 and "kind" in bad_kind.get_json()["errors"]


def test_upload_stored_with_generated_name_and_sha256(app, api, maker, reference):
    import hashlib
    from pathlib import Path

    m = api(maker)
    app_id = m.post(f"{BASE}/applications", json=DIESEL).get_json()["id"]
    res = upload(m, app_id, name="../../etc/passwd.pdf")
    assert res.status_code == 201
    doc = res.get_json()
    assert doc["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert doc["original_filename"] == "passwd.pdf"
    stored = list((Path(app.config["UPLOAD_DIR"]) / "certification").glob("*.pdf"))
    assert stored and all("passwd" not in p.name for p in stored)
    download = m.get(f"{BASE}/applications/{app_id}/documents/{doc['id']}")
    assert download.status_code == 200 and download.data == PDF


# ---- access ---------------------------------------------------------------------------------


def test_other_makers_application_is_404(api, maker, other_maker, reference):
    app_id = api(maker).post(f"{BASE}/applications", json=DIESEL).get_json()["id"]
    o = api(other_maker)
    assert o.get(f"{BASE}/applications/{app_id}").status_code == 404
    assert o.patch(f"{BASE}/applications/{app_id}", json={"mass_kg": "1"}).status_code == 404
    assert o.post(f"{BASE}/applications/{app_id}/submit").status_code == 404
    assert upload(o, app_id).status_code == 404
    assert o.get(f"{BASE}/applications").get_json()["total"] == 0


def test_contractor_cannot_apply(api, reference):
    res = api(user_of("contractor")).post(f"{BASE}/applications", json=DIESEL)
    assert res.status_code == 403


def test_certifier_cannot_see_drafts(api, maker, certifier, reference):
    app_id = api(maker).post(f"{BASE}/applications", json=DIESEL).get_json()["id"]
    assert api(certifier).get(f"{BASE}/applications/{app_id}").status_code == 404


def test_certifier_of_same_org_cannot_review(api, maker, reference, session):
    m = api(maker)
    app_id = m.post(f"{BASE}/applications", json=DIESEL).get_json()["id"]
    upload(m, app_id)
    m.post(f"{BASE}/applications/{app_id}/submit")
    org = session.get(Organisation, maker.organisation_id)
    insider = UserFactory(organisation=org, roles=["certifier"])
    i = api(insider)
    assert i.post(f"{BASE}/applications/{app_id}/start-review").status_code == 403
    assert app_id not in [row["id"] for row in i.get(f"{BASE}/review-queue").get_json()["items"]]


def test_maker_cannot_review_and_anonymous_is_401(api, maker, reference):
    m = api(maker)
    app_id = m.post(f"{BASE}/applications", json=DIESEL).get_json()["id"]
    assert m.post(f"{BASE}/applications/{app_id}/start-review").status_code == 403
    assert api(None).get(f"{BASE}/applications").status_code == 401


# ---- state machine ------------------------------------------------------------------------


def test_out_of_order_transitions_are_409_nothing_changed(api, maker, certifier, reference):
    m, c = api(maker), api(certifier)
    app_id = m.post(f"{BASE}/applications", json=DIESEL).get_json()["id"]
    # approve a draft
    res = c.post(f"{BASE}/applications/{app_id}/approve", json={})
    assert res.status_code in (404, 409)  # drafts are not visible to certifiers
    upload(m, app_id)
    m.post(f"{BASE}/applications/{app_id}/submit")
    assert c.post(f"{BASE}/applications/{app_id}/approve", json={}).status_code == 409
    assert c.post(f"{BASE}/applications/{app_id}/reject", json={"reason": "x"}).status_code == 409
    # edit a submitted application
    res = m.patch(f"{BASE}/applications/{app_id}", json={"mass_kg": "1"})
    assert res.status_code == 409
    # submit twice
    assert m.post(f"{BASE}/applications/{app_id}/submit").status_code == 409
    # answer without a request
    assert m.post(f"{BASE}/applications/{app_id}/answer", json={"message": "hi"}).status_code == 409
    body = m.get(f"{BASE}/applications/{app_id}").get_json()
    assert body["status"] == "submitted" and body["machine_model"]["mass_kg"] == "20100"


def test_reject_needs_reason(api, maker, certifier, reference):
    m, c = api(maker), api(certifier)
    app_id = m.post(f"{BASE}/applications", json=DIESEL).get_json()["id"]
    upload(m, app_id)
    m.post(f"{BASE}/applications/{app_id}/submit")
    c.post(f"{BASE}/applications/{app_id}/start-review")
    res = c.post(f"{BASE}/applications/{app_id}/reject", json={"reason": " "})
    assert res.status_code == 422 and "reason" in res.get_json()["errors"]


def test_withdraw(api, maker, reference):
    m = api(maker)
    app_id = m.post(f"{BASE}/applications", json=DIESEL).get_json()["id"]
    assert m.post(f"{BASE}/applications/{app_id}/withdraw", json={}).get_json()["status"] == "withdrawn"
    assert m.post(f"{BASE}/applications/{app_id}/withdraw", json={}).status_code == 409
