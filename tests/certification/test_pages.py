"""Web pages: maker -> certifier -> public register for a diesel, a hybrid and an electric model,
form errors re-rendered with 422, access checks, admin pages with chart and exports."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from gxmachinery.certification.models import Application
from tests.certification.conftest import DIESEL, ELECTRIC, HYBRID, PDF
from tests.factories import user_of


@pytest.fixture(autouse=True)
def _english(client):  # type: ignore[no-untyped-def]
    """Pages in English so assertions on labels can fail (the default locale is zh_Hant_TW)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def test_register_in_traditional_chinese(client, certify):
    certify(DIESEL)
    page = client.get("/certification/register", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert "認證機具登錄名冊" in page and "柴油" in page and "有效" in page


def _form(payload):  # type: ignore[no-untyped-def]
    data = {k: v for k, v in payload.items() if k not in ("measurements", "catalogue_names")}
    data["catalogue_names"] = ", ".join(payload["catalogue_names"])
    data.update({f"m_{k}": v for k, v in payload["measurements"].items()})
    return data


@pytest.mark.parametrize(("payload", "grade"), [(DIESEL, "★★★"), (HYBRID, "★★"), (ELECTRIC, "GX")])
def test_maker_certifier_public_through_pages(
    client, login, maker, certifier, reference, session, payload, grade
):
    login(maker)
    res = client.post("/certification/applications/new", data=_form(payload))
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    application = session.scalar(select(Application).order_by(Application.id.desc()))
    detail = client.get(f"/certification/applications/{application.id}").get_data(as_text=True)
    assert "Would pass" in detail and grade in detail
    if payload is ELECTRIC:
        assert "0.494" in detail and "經濟部能源署" in detail
    res = client.post(
        f"/certification/applications/{application.id}/documents",
        data={"file": (io.BytesIO(PDF), "report.pdf"), "kind": "test_report"},
        content_type="multipart/form-data",
    )
    assert res.status_code == 302
    assert client.post(f"/certification/applications/{application.id}/submit").status_code == 302
    login(certifier)
    queue = client.get("/certification/queue").get_data(as_text=True)
    assert payload["type_designation"] in queue
    assert client.post(f"/certification/applications/{application.id}/start_review").status_code == 302
    assert (
        client.post(
            f"/certification/applications/{application.id}/approve", data={"reason": "ok"}
        ).status_code
        == 302
    )
    client.post("/logout")
    with client.session_transaction() as sess:
        sess.clear()
    page = client.get(f"/certification/register?drive={payload['drive']}").get_data(as_text=True)
    assert payload["type_designation"] in page and grade in page
    number = session.scalar(select(Application).where(Application.id == application.id)).id
    assert number
    # the maker sees the timeline
    login(maker)
    timeline = client.get(f"/certification/applications/{application.id}").get_data(as_text=True)
    assert "Approved" in timeline or "核准" in timeline


def test_form_error_rerenders_with_values(client, login, maker, reference):
    login(maker)
    res = client.post("/certification/applications/new", data=_form(dict(DIESEL, size_value="9")))
    assert res.status_code == 422
    body = res.get_data(as_text=True)
    assert "outside every size class" in body and 'value="PC200-11"' in body


def test_bad_measurement_rerenders(client, login, maker, reference):
    login(maker)
    payload = dict(DIESEL, measurements=dict(DIESEL["measurements"], idling="-2"))
    res = client.post("/certification/applications/new", data=_form(payload))
    assert res.status_code == 422 and "must be &gt; 0" in res.get_data(as_text=True)


def test_page_access(client, login, maker, other_maker, reference, session):
    login(maker)
    client.post("/certification/applications/new", data=_form(DIESEL))
    application = session.scalar(select(Application).order_by(Application.id.desc()))
    login(other_maker)
    assert client.get(f"/certification/applications/{application.id}").status_code == 404
    login(user_of("contractor"))
    assert client.get("/certification/applications/new").status_code == 403
    assert client.get("/certification/queue").status_code == 403
    login(maker)
    assert client.get("/certification/baseline-review").status_code == 403


def test_upload_non_pdf_page(client, login, maker, reference, session):
    login(maker)
    client.post("/certification/applications/new", data=_form(DIESEL))
    application = session.scalar(select(Application).order_by(Application.id.desc()))
    res = client.post(
        f"/certification/applications/{application.id}/documents",
        data={"file": (io.BytesIO(b"GIF89a"), "x.pdf"), "kind": "test_report"},
        content_type="multipart/form-data",
    )
    assert res.status_code == 422 and "not a PDF" in res.get_data(as_text=True)


def test_public_pages_without_login(client, certify):
    certify(DIESEL)
    assert client.get("/certification/register").status_code == 200
    assert client.get("/certification/competition").status_code == 200
    csv = client.get("/certification/register/export.csv")
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf") and b"PC200-11" in csv.data
    assert client.get("/certification/register/export.xlsx").data[:2] == b"PK"
    detail = client.get("/certification/register/GX-" + "2026-000001")
    assert detail.status_code in (200, 404)


def test_certificate_page_manage_and_public(client, login, certifier, certify, session):
    _app, cert = certify(DIESEL, issued_on="2026-01-10")
    page = client.get(f"/certification/register/{cert['number']}").get_data(as_text=True)
    assert cert["number"] in page and "★★★" in page and "Suspend" not in page
    login(certifier)
    res = client.post(
        f"/certification/certificates/{cert['id']}/suspend",
        data={"effective_from": "2026-02-01", "reason": "follow-up check"},
    )
    assert res.status_code == 302
    page = client.get(f"/certification/register/{cert['number']}").get_data(as_text=True)
    assert "follow-up check" in page
    bad = client.post(
        f"/certification/certificates/{cert['id']}/revoke", data={"effective_from": "", "reason": "x"}
    )
    assert bad.status_code == 422


def test_admin_reference_and_baseline_review_pages(client, login, admin, certify, tmp_path):
    certify(DIESEL)
    certify(HYBRID)
    login(admin)
    page = client.get("/certification/baseline-review")
    assert page.status_code == 200 and "<svg" in page.get_data(as_text=True)
    csv = client.get("/certification/baseline-review?format=csv")
    assert csv.data.startswith(b"\xef\xbb\xbf") and b"top_runner" in csv.data
    assert client.get("/certification/baseline-review?format=xlsx").data[:2] == b"PK"
    assert "MLIT_2020" in client.get("/certification/reference").get_data(as_text=True)
    csv_file = (
        "baseline_set,title,effective_from,full_grade_label,category,lower,upper,baseline_value,unit\n"
        "TW_2028,Taiwan 2028,2028-01-01,★★★★,bulldozer,19,37,4.0,L/h\n"
        "TW_2028,Taiwan 2028,2028-01-01,★★★★,bulldozer,37,56,abc,L/h\n"
    )
    res = client.post(
        "/certification/reference",
        data={"file": (io.BytesIO(csv_file.encode()), "b.csv")},
        content_type="multipart/form-data",
    )
    assert res.status_code == 422 and "row 3.baseline_value" in res.get_data(as_text=True)
    good = csv_file.replace("abc", "6.2")
    res = client.post(
        "/certification/reference",
        data={"file": (io.BytesIO(good.encode()), "b.csv")},
        content_type="multipart/form-data",
    )
    assert res.status_code == 302
    assert "TW_2028" in client.get("/certification/reference").get_data(as_text=True)
