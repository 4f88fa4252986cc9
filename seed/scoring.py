"""Demo tenders, one per method family (tw_total, tw_rank, jp_division), run through the real
services: demo contractors bid, member1..3@demo.gx score and sign, the agency evaluates. The
tw_total tender is published and awarded, logs are filed on its project and the winner's
commitment fulfilment is recorded. Idempotent: a tender found by reference is left alone."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from gxmachinery.extensions import db
from registry import carbon
from registry import services as registry_services
from registry.models import LogSource, MachineUnit, Project, UsageLog
from scoring import services
from scoring.models import Tender, TenderStatus
from seed.accounts import demo_organisations, demo_user

# Planned machine groups (category, drive, units, kW, hours, certified, diesel L, kWh).
_ELECTRIC = {
    "category": "hydraulic_excavator",
    "drive": "battery_electric",
    "units": 2,
    "rated_power_kw": "120",
    "hours": "1600",
    "certified": True,
    "kwh": "150000",
}
_HYBRID = {
    "category": "hydraulic_excavator",
    "drive": "hybrid",
    "units": 2,
    "rated_power_kw": "110",
    "hours": "1600",
    "certified": True,
    "fuel_litres": "24000",
}
_DIESEL = {
    "category": "wheel_loader",
    "drive": "diesel",
    "units": 1,
    "rated_power_kw": "140",
    "hours": "1200",
    "certified": False,
    "fuel_litres": "26000",
}

_CRITERIA_TW = [
    {"code": "quality", "name": "工程品質 Quality of works", "max_points": "40"},
    {"code": "plan", "name": "施工計畫 Construction plan", "max_points": "30"},
    {"code": "carbon", "name": "低碳機具 Machinery carbon score", "max_points": "30", "is_carbon": True},
]
_CRITERIA_JP = [
    {"code": "proposal", "name": "技術提案 Technical proposal", "max_points": "40"},
    {"code": "carbon", "name": "GX建設機械 Carbon score", "max_points": "10", "is_carbon": True},
]

TENDERS: list[dict[str, Any]] = [
    {
        "reference": "[DEMO] TND-HB-2025-01",
        "agency": "agency@demo.gx",
        "project": ("[DEMO] TND-P-001", "[DEMO] 台61線橋梁耐震補強 Bridge retrofit", date(2025, 2, 1)),
        "settings": {
            "method": "tw_total",
            "total_points": "100",
            "criteria": _CRITERIA_TW,
            "price_adjustment": {"kind": "ladder"},
            "evaluation_date": date(2025, 1, 15),
        },
        "bids": [
            (5, "98000000", [_ELECTRIC, _DIESEL]),
            (6, "95000000", [_HYBRID, _DIESEL]),
            (7, "92000000", [_DIESEL]),
        ],
        "scores": [{"quality": 34, "plan": 25}, {"quality": 31, "plan": 24}, {"quality": 30, "plan": 22}],
        "award": True,
    },
    {
        "reference": "[DEMO] TND-HB-2025-02",
        "agency": "agency@demo.gx",
        "project": ("[DEMO] TND-P-002", "[DEMO] 國道邊坡整治 Slope stabilisation", date(2025, 6, 1)),
        "settings": {
            "method": "tw_rank",
            "total_points": "100",
            "criteria": _CRITERIA_TW,
            "evaluation_date": date(2025, 5, 20),
        },
        "bids": [(5, "61000000", [_HYBRID]), (6, "59000000", [_ELECTRIC]), (7, "57500000", [_DIESEL])],
        "scores": [{"quality": 33, "plan": 24}, {"quality": 35, "plan": 26}, {"quality": 29, "plan": 23}],
        "award": False,
    },
    {
        "reference": "[DEMO] TND-WRA-2025-01",
        "agency": "agency2@demo.gx",
        "project": ("[DEMO] TND-P-003", "[DEMO] 河川疏濬 River dredging", date(2025, 9, 1)),
        "settings": {
            "method": "jp_division",
            "ceiling_price": "500000000",
            "criteria": _CRITERIA_JP,
            "evaluation_date": date(2025, 8, 10),
        },
        "bids": [(5, "462000000", [_ELECTRIC]), (6, "441000000", [_HYBRID]), (7, "428000000", [_DIESEL])],
        "scores": [{"proposal": 27}, {"proposal": 24}, {"proposal": 18}],
        "award": False,
    },
]

_MEMBERS = ("member1@demo.gx", "member2@demo.gx", "member3@demo.gx")
# Member i's offset to the base score, so sheets differ slightly like real committees.
_OFFSETS = (0, 1, -1)


def _project(agency_id: int, number: str, name: str, start: date) -> Project:
    project = db.session.scalar(select(Project).where(Project.contract_number == number))
    if project is None:
        project = registry_services.create_project(
            agency_id, number, name, start, start + timedelta(days=540)
        )
        db.session.flush()
    return project


def _file_demo_logs(project: Project, contractor_id: int) -> int:
    """A few usage logs of the winner on its project: one certified electric day and two diesel
    days, so the certified share (1/3) misses the commitment and the demo shows a sanction."""
    unit = db.session.scalar(
        select(MachineUnit).where(MachineUnit.contractor_id == contractor_id).order_by(MachineUnit.id)
    )
    if unit is None:
        return 0
    factors, rates = registry_services.current_factor_tables()
    if not factors:
        factors, rates = carbon.load_emission_factors(), carbon.load_reference_rates()
    rows = 0
    for i, (hours, kwh, litres, certified) in enumerate(
        [(8, 700, 0, True), (8, 0, 95, False), (8, 0, 95, False)]
    ):
        ref = f"demo-tender-log-{project.id}-{i}"
        if db.session.scalar(select(UsageLog.id).where(UsageLog.source_ref == ref)):
            continue
        day = project.start_date + timedelta(days=i)
        co2 = carbon.compute_log_co2(
            carbon.UsageLogInput(
                log_date=day,
                jurisdiction=project.jurisdiction,
                category=unit.category.code,
                rated_power_kw=unit.rated_power_kw,
                runtime_h=hours,
                fuel_litres={"diesel": litres} if litres else {},
                kwh=kwh,
                certified=certified,
            ),
            factors,
            rates,
        )
        db.session.add(
            UsageLog(
                contractor_id=contractor_id,
                machine_unit_id=unit.id,
                project_id=project.id,
                log_date=day,
                runtime_h=Decimal(hours),
                fuel_litres=Decimal(litres) if litres else None,
                fuel_type="diesel" if litres else None,
                kwh=Decimal(kwh) if kwh else None,
                source=LogSource.form,
                source_ref=ref,
                certified=certified,
                actual_co2_kg=Decimal(repr(round(co2.actual_co2_kg, 3))),
                reference_co2_kg=Decimal(repr(round(co2.reference_co2_kg, 3))),
                diesel_factor_id=co2.reference_diesel_factor_id
                if isinstance(co2.reference_diesel_factor_id, int)
                else None,
                reference_rate_id=co2.reference_rate_id if isinstance(co2.reference_rate_id, int) else None,
            )
        )
        rows += 1
    db.session.flush()
    return rows


def load_scoring() -> dict[str, int]:
    """Create the demo tenders (idempotent by reference)."""
    counts = {"tenders": 0, "bids": 0, "evaluations": 0, "commitment_outcomes": 0}
    orgs = demo_organisations()
    members = [demo_user(e) for e in _MEMBERS]
    for spec in TENDERS:
        if db.session.scalar(select(Tender.id).where(Tender.reference == spec["reference"])):
            continue
        agency = demo_user(spec["agency"])
        number, name, start = spec["project"]
        project = _project(agency.organisation_id, number, name, start)
        tender = services.create_tender(
            agency,
            {
                "project_id": project.id,
                "reference": spec["reference"],
                "title": name,
                "committee_user_ids": [m.id for m in members],
                **spec["settings"],
            },
        )
        counts["tenders"] += 1
        services.open_tender(tender)
        for org_index, price, lines in spec["bids"]:
            services.submit_bid(tender, orgs[org_index], {"price": price, "lines": lines})
            counts["bids"] += 1
        services.close_bidding(tender)
        for member, offset in zip(tender.members, _OFFSETS, strict=True):
            sheet = {
                str(bid.id): {code: pts + offset for code, pts in base.items()}
                for bid, base in zip(tender.bids, spec["scores"], strict=True)
            }
            services.submit_sheet(member, sheet)
            services.sign_sheet(member)
        services.evaluate_tender(tender)
        counts["evaluations"] += 1
        if spec["award"]:
            services.publish_results(tender)
            services.award_tender(tender)
            winner = next(b for b in tender.bids if b.id == tender.awarded_bid_id)
            if _file_demo_logs(project, winner.bidder_id):
                services.record_fulfilment(tender)
                counts["commitment_outcomes"] += 1
        assert tender.status in (TenderStatus.evaluated, TenderStatus.awarded)
    return counts
