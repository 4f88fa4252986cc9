"""Fixtures for certification tests: the reference seed, users of each role, a helper to drive an
application through the API."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from gxmachinery.certification import services
from tests.factories import user_of

SEED = Path(__file__).resolve().parents[2] / "gxmachinery" / "data" / "reference_seed.json"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

# Excavator 0.47-1.05 m3 (MLIT_2020 baseline 14.2 L/h, weights JCMAS H020 0.55/0.20/0.10/0.15)
DIESEL = {
    "category": "hydraulic_excavator",
    "baseline_set": "MLIT_2020",
    "type_designation": "PC200-11",
    "catalogue_names": ["PC200-11", "PC200LC-11"],
    "drive": "diesel",
    "rated_power_kw": "110",
    "mass_kg": "20100",
    "size_value": "0.8",
    "emission_stage": "Tier 4 Final",
    # 0.55×16 + 0.20×12 + 0.10×10 + 0.15×4 = 8.8 + 2.4 + 1.0 + 0.6 = 12.8 L/h
    "measurements": {"digging_loading": "16", "leveling": "12", "travel": "10", "idling": "4"},
}
HYBRID = dict(
    DIESEL,
    type_designation="HB215-3",
    drive="hybrid",
    catalogue_names=["HB215LC-3"],
    # 0.55×20 + 0.20×14 + 0.10×10 + 0.15×5 = 11 + 2.8 + 1.0 + 0.75 = 15.55 L/h
    measurements={"digging_loading": "20", "leveling": "14", "travel": "10", "idling": "5"},
)
ELECTRIC = dict(
    DIESEL,
    type_designation="PC200E-EV",
    drive="battery_electric",
    catalogue_names=["PC200E"],
    # 0.55×40 + 0.20×30 + 0.10×20 + 0.15×5 = 22 + 6 + 2 + 0.75 = 30.75 kWh/h
    measurements={"digging_loading": "40", "leveling": "30", "travel": "20", "idling": "5"},
)


@pytest.fixture
def reference(app):  # type: ignore[no-untyped-def]
    with SEED.open(encoding="utf-8") as fh:
        payload = json.load(fh, parse_float=Decimal)
    return services.load_reference(payload)


@pytest.fixture
def maker(app):  # type: ignore[no-untyped-def]
    return user_of("maker")


@pytest.fixture
def other_maker(app):  # type: ignore[no-untyped-def]
    return user_of("maker")


@pytest.fixture
def certifier(app):  # type: ignore[no-untyped-def]
    return user_of("certifier")


@pytest.fixture
def admin(app):  # type: ignore[no-untyped-def]
    return user_of("admin")


def upload(
    client, application_id: int, content: bytes = PDF, name: str = "report.pdf", kind: str = "test_report"
):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/certification/applications/{application_id}/documents",
        data={"file": (io.BytesIO(content), name), "kind": kind},
        content_type="multipart/form-data",
    )


@pytest.fixture
def certify(api, maker, certifier, reference):  # type: ignore[no-untyped-def]
    """certify(payload, maker_user=None) -> (application json, certificate json) via the API."""

    def run(payload, maker_user=None, issued_on=None):  # type: ignore[no-untyped-def]
        m = api(maker_user or maker)
        c = api(certifier)
        created = m.post("/api/v1/certification/applications", json=payload)
        assert created.status_code == 201, created.get_json()
        app_id = created.get_json()["id"]
        assert upload(m, app_id).status_code == 201
        assert m.post(f"/api/v1/certification/applications/{app_id}/submit").status_code == 200
        assert c.post(f"/api/v1/certification/applications/{app_id}/start-review").status_code == 200
        body = {"reason": "documents and measurements checked"}
        if issued_on:
            body["issued_on"] = issued_on
        approved = c.post(f"/api/v1/certification/applications/{app_id}/approve", json=body)
        assert approved.status_code == 201, approved.get_json()
        return created.get_json(), approved.get_json()

    return run
