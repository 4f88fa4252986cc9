"""Demo certification data: the reference seed (illustrative values, see reference_seed.json) and a
populated register made through the services by the demo certifier, so the audit trail is real.

Idempotent: machine models are found by (maker, type designation) and never duplicated.
"""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gxmachinery.certification import services
from gxmachinery.certification.models import Application, MachineModel
from gxmachinery.extensions import db
from seed.accounts import demo_organisations, demo_user

REFERENCE_SEED = Path(__file__).resolve().parent.parent / "gxmachinery" / "data" / "reference_seed.json"
DEMO_PDF = b"%PDF-1.4\n% [DEMO] test report placeholder\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

MAKER_EMAILS = ["maker@demo.gx", "maker2@demo.gx", "maker3@demo.gx"]  # Daiwa, Formosa, GreenDrive

EXC = "hydraulic_excavator"
WL = "wheel_loader"
BD = "bulldozer"


def _exc(d: str, lv: str, tr: str, idle: str) -> dict[str, str]:
    return {"digging_loading": d, "leveling": lv, "travel": tr, "idling": idle}


def _wl(v: str, lc: str, idle: str) -> dict[str, str]:
    return {"v_shape_loading": v, "load_and_carry": lc, "idling": idle}


def _bd(dz: str, gr: str, idle: str) -> dict[str, str]:
    return {"dozing": dz, "grading": gr, "idling": idle}


# maker index, type designation, category, drive, size, power kW, mass kg, baseline set, measurements,
# target state, issued_on / follow-up
MODELS: list[dict[str, Any]] = [
    dict(
        m=0,
        t="[DEMO] DK200-10",
        c=EXC,
        d="diesel",
        s="0.80",
        p="110",
        kg="20100",
        b="MLIT_2020",
        x=_exc("16", "12", "10", "4"),
        state="active",
        issued=date(2025, 4, 1),
    ),
    dict(
        m=0,
        t="[DEMO] DK200H-2",
        c=EXC,
        d="hybrid",
        s="0.80",
        p="104",
        kg="21000",
        b="MLIT_2020",
        x=_exc("15", "11", "9", "4"),
        state="active",
        issued=date(2025, 6, 1),
    ),
    dict(
        m=1,
        t="[DEMO] FH210-5",
        c=EXC,
        d="diesel",
        s="0.90",
        p="118",
        kg="21500",
        b="MLIT_2020",
        x=_exc("20", "14", "10", "5"),
        state="active",
        issued=date(2025, 2, 15),
    ),
    dict(
        m=2,
        t="[DEMO] GD-E20",
        c=EXC,
        d="battery_electric",
        s="0.80",
        p="120",
        kg="23000",
        b="MLIT_2020",
        x=_exc("40", "30", "20", "5"),
        state="active",
        issued=date(2025, 9, 1),
    ),
    dict(
        m=1,
        t="[DEMO] FH220E",
        c=EXC,
        d="cable_electric",
        s="0.90",
        p="125",
        kg="22800",
        b="MLIT_2020",
        x=_exc("42", "31", "20", "4"),
        state="active",
        issued=date(2026, 1, 15),
    ),
    dict(
        m=0,
        t="[DEMO] DK75-3",
        c=EXC,
        d="diesel",
        s="0.28",
        p="40",
        kg="7500",
        b="MLIT_2020",
        x=_exc("7", "5.5", "5", "2"),
        state="suspended",
        issued=date(2024, 5, 10),
    ),
    dict(
        m=2,
        t="[DEMO] GD-E08",
        c=EXC,
        d="battery_electric",
        s="0.30",
        p="45",
        kg="8200",
        b="MLIT_2020",
        x=_exc("18", "14", "8", "3"),
        state="active",
        issued=date(2025, 3, 1),
    ),
    dict(
        m=0,
        t="[DEMO] WL100-8",
        c=WL,
        d="diesel",
        s="100",
        p="100",
        kg="11000",
        b="MLIT_2020",
        x=_wl("15", "13", "5"),
        state="active",
        issued=date(2024, 11, 1),
    ),
    dict(
        m=1,
        t="[DEMO] FL110H",
        c=WL,
        d="hybrid",
        s="110",
        p="110",
        kg="12500",
        b="MLIT_2020",
        x=_wl("14", "12", "4"),
        state="revoked",
        issued=date(2025, 7, 1),
    ),
    dict(
        m=1,
        t="[DEMO] FD90-2",
        c=BD,
        d="diesel",
        s="90",
        p="90",
        kg="18000",
        b="MLIT_2020",
        x=_bd("18", "14", "5"),
        state="active",
        issued=date(2025, 5, 20),
    ),
    dict(
        m=2,
        t="[DEMO] GD-D95H",
        c=BD,
        d="hybrid",
        s="95",
        p="95",
        kg="19000",
        b="MLIT_2020",
        x=_bd("19", "15", "6"),
        state="active",
        issued=date(2025, 8, 1),
    ),
    dict(
        m=0,
        t="[DEMO] DK-D80",
        c=BD,
        d="diesel",
        s="80",
        p="80",
        kg="16500",
        b="MLIT_2020",
        x=_bd("17", "13", "5"),
        state="expired",
        issued=date(2022, 6, 1),
    ),
    dict(
        m=0,
        t="[DEMO] DK200-X",
        c=EXC,
        d="diesel",
        s="0.80",
        p="110",
        kg="20300",
        b="MLIT_2030",
        x=_exc("15", "11", "9", "4"),
        state="active",
        issued=date(2026, 2, 1),
    ),
    dict(
        m=2,
        t="[DEMO] GD-L60E",
        c=WL,
        d="battery_electric",
        s="60",
        p="60",
        kg="7000",
        b="MLIT_2020",
        x=_wl("25", "20", "3"),
        state="info_requested",
    ),
    dict(
        m=2,
        t="[DEMO] GD-E30",
        c=EXC,
        d="battery_electric",
        s="1.20",
        p="150",
        kg="30000",
        b="MLIT_2020",
        x={"digging_loading": "60"},
        state="draft",
    ),
    dict(
        m=1,
        t="[DEMO] FH300-1",
        c=EXC,
        d="diesel",
        s="1.40",
        p="200",
        kg="31000",
        b="MLIT_2020",
        x=_exc("30", "22", "15", "6"),
        state="submitted",
    ),
    dict(
        m=0,
        t="[DEMO] DK150-11",
        c=EXC,
        d="hybrid",
        s="0.60",
        p="90",
        kg="15000",
        b="MLIT_2020",
        x=_exc("15", "12", "9", "4"),
        state="under_review",
    ),
    dict(
        m=1,
        t="[DEMO] FH-OLD",
        c=EXC,
        d="diesel",
        s="0.80",
        p="110",
        kg="20000",
        b="MLIT_2020",
        x=_exc("30", "20", "10", "5"),
        state="rejected",
    ),
    dict(
        m=0,
        t="[DEMO] DK-W1",
        c=WL,
        d="diesel",
        s="60",
        p="60",
        kg="7000",
        b="MLIT_2020",
        x=_wl("9", "8", "3"),
        state="withdrawn",
    ),
]


def load_reference_seed() -> dict[str, int]:
    with REFERENCE_SEED.open(encoding="utf-8") as fh:
        payload = json.load(fh, parse_float=Decimal)
    return services.load_reference(payload)


def load_certification() -> dict[str, int]:
    """Reference data + demo applications in every state + certificates (active, suspended,
    revoked, expired). Returns counts of rows created."""
    counts = {"reference_sets": load_reference_seed()["baseline_sets"], "applications": 0, "certificates": 0}
    makers = [demo_user(email) for email in MAKER_EMAILS]
    certifier = demo_user("certifier@demo.gx")
    orgs = demo_organisations()
    del orgs  # organisations come with the users
    for spec in MODELS:
        maker = makers[spec["m"]]
        exists = db.session.scalar(
            select(MachineModel.id).where(
                MachineModel.maker_id == maker.organisation_id, MachineModel.type_designation == spec["t"]
            )
        )
        if exists is not None:
            continue
        counts["applications"] += 1
        application = services.create_application(
            maker,
            {
                "category": spec["c"],
                "baseline_set": spec["b"],
                "type_designation": spec["t"],
                "catalogue_names": [spec["t"].replace("[DEMO] ", "")],
                "drive": spec["d"],
                "rated_power_kw": spec["p"],
                "mass_kg": spec["kg"],
                "size_value": spec["s"],
                "emission_stage": "[DEMO] Tier 4 Final / Stage V",
                "measurements": spec["x"],
            },
        )
        if spec["state"] == "draft":
            continue
        services.store_document(
            maker, application, "test_report", "demo-test-report.pdf", io.BytesIO(DEMO_PDF)
        )
        if spec["state"] == "withdrawn":
            services.withdraw_application(maker, application, "[DEMO] model discontinued")
            continue
        services.submit_application(maker, application)
        if spec["state"] == "submitted":
            continue
        services.start_review(certifier, application)
        if spec["state"] == "under_review":
            continue
        if spec["state"] == "info_requested":
            services.request_information(
                certifier, application, "[DEMO] Please upload the lab accreditation."
            )
            continue
        if spec["state"] == "rejected":
            services.reject_application(
                certifier, application, "[DEMO] evaluation value above baseline ÷ 0.85: not certifiable"
            )
            continue
        certificate = services.approve_application(
            certifier, application, "[DEMO] measurements verified", issued_on=spec["issued"]
        )
        counts["certificates"] += 1
        if spec["state"] == "suspended":
            services.suspend_certificate(
                certifier,
                certificate,
                date(2026, 6, 1),
                "[DEMO] follow-up inspection found a deviating engine map",
            )
        elif spec["state"] == "revoked":
            services.revoke_certificate(
                certifier,
                certificate,
                date(2026, 3, 1),
                "[DEMO] production models do not match the tested type",
            )
    services.expire_certificates(date.today())
    counts["applications_total"] = len(list(db.session.scalars(select(Application.id))))
    return counts
