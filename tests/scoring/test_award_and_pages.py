"""Award -> fulfilment in the contractor's history (and into later tenders); pages render."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from registry.models import Project
from registry.services import history_summary
from tests.factories import user_of
from tests.scoring.factories import MachineUnitFactory, TenderFlow, UsageLogFactory


def _criteria():
    return [
        {"code": "quality", "name": "Quality", "max_points": "80"},
        {"code": "carbon", "name": "Carbon", "max_points": "20", "is_carbon": True},
    ]


def _run_ladder_tender(api, evaluation_date: str = "2025-03-01") -> TenderFlow:
    """tw_total with a CO2-ladder discount (default bands: S >= 40 -> level 2 -> 2 %).

    W: share 1 -> S 50 -> carbon 10; quality 75 -> total 85 (winner); evaluated price
       10,000,000 × 0.98 = 9,800,000 -> advantage 200,000.
    L: share 0 -> S 0; quality 72 -> total 72.
    """
    flow = TenderFlow(api)
    flow.create(
        method="tw_total",
        total_points="100",
        criteria=_criteria(),
        price_adjustment={"kind": "ladder"},
        evaluation_date=evaluation_date,
    )
    flow.action("open")
    flow.bid("W", "10000000", "1")
    flow.bid("L", "9000000", "0")
    flow.action("close")
    flow.score(0, {"W": {"quality": 75}, "L": {"quality": 72}})
    evaluation = flow.evaluate()
    result = flow.by_label(evaluation["result"])
    assert result["W"]["winner"] and Decimal(result["W"]["evaluated_price"]) == Decimal(9800000)
    return flow


def test_award_links_project_and_fulfilment_enters_history(api, session):
    flow = _run_ladder_tender(api)
    fulfilment_url = f"/api/v1/tenders/{flow.tid}/fulfilment"
    assert flow.agency_api.post(fulfilment_url).status_code == 409  # not awarded yet
    flow.action("award", expect=409)  # must publish first
    flow.action("publish")
    flow.action("award")
    winner = flow.bidders["W"]
    project = session.get(Project, flow.project.id)
    assert project.contractor_id == winner.organisation_id
    # no logs yet -> cannot compute fulfilment
    assert flow.agency_api.post(fulfilment_url).status_code == 409
    unit = MachineUnitFactory(contractor_id=winner.organisation_id)
    common = {"contractor_id": winner.organisation_id, "machine_unit_id": unit.id, "project_id": project.id}
    UsageLogFactory(**common, runtime_h=Decimal(10), certified=True, log_date=date.today())
    UsageLogFactory(**common, runtime_h=Decimal(10), certified=False, log_date=date.today())
    # committed 1.0, actual 10/20 = 0.5 -> fulfilment 0.5 -> sanction 1.5 × 200,000 = 300,000
    resp = flow.agency_api.post(fulfilment_url)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert Decimal(out["fulfilment"]) == Decimal("0.5")
    assert Decimal(out["advantage"]) == Decimal(200000)
    assert Decimal(out["sanction_amount"]) == Decimal(300000)
    assert flow.agency_api.post(fulfilment_url).status_code == 409  # recorded once
    summary = history_summary(winner.organisation_id, date.today())
    assert summary.average_fulfilment == 0.5
    # the history feeds a later tender: S_history uses fulfilment 0.5
    later = TenderFlow(api, agency=flow.agency)
    later.bidders["W"] = winner
    later.create(reference="T-LATER", method="tw_total", total_points="100", criteria=_criteria())
    later.action("open")
    later.bid("W", "100", "1")
    later.action("close")
    later.score(0, {"W": {"quality": 70}})
    evaluation = later.evaluate()
    carbon = evaluation["snapshot"]["carbon"][f"B{later.bid_ids['W']}"]
    assert carbon["history"]["has_history"] is True
    assert Decimal(carbon["breakdown"]["fulfilment"]) == Decimal("0.5")
    # history certified share 0.5, reduction (400-300)/400 = 0.25 -> clamp(0.25/0.2)=1
    # S_history = 100 × (0.5×0.5 + 0.5×1) × 0.5 = 37.5
    assert Decimal(carbon["breakdown"]["s_history"]) == Decimal("37.5")


def test_pages_render(api, client, login):
    flow = _run_ladder_tender(api)
    agency = flow.agency
    login(agency)
    for url in [
        "/tenders",
        "/tenders/new",
        f"/tenders/{flow.tid}",
        f"/tenders/{flow.tid}/report",
    ]:
        resp = client.get(url)
        assert resp.status_code == 200, url
    page = client.get(f"/tenders/{flow.tid}/report").get_data(as_text=True)
    assert "<svg" in page and "@media print" in page
    xlsx = client.get(f"/tenders/{flow.tid}/report.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    csv = client.get(f"/tenders/{flow.tid}/report.csv")
    assert csv.data.startswith("\ufeff".encode())
    client.post(f"/tenders/{flow.tid}/do/publish")
    login(user_of("contractor"))
    assert client.get("/results").status_code == 200
    assert flow.tender["reference"] in client.get(f"/results/{flow.tid}").get_data(as_text=True)


def test_page_forms_create_bid_and_score(api, client, login, session):
    from tests.scoring.factories import ProjectFactory, committee_member

    agency = user_of("agency")
    member = committee_member(agency)
    project = ProjectFactory(agency_id=agency.organisation_id)
    login(agency)
    form = {
        "project_id": project.id,
        "reference": "T-PAGE",
        "title": "Page tender",
        "method": "tw_total",
        "total_points": "100",
        "criteria": "quality | Quality | 70\ncarbon | Carbon | 20 | | carbon",
        "committee": [member.id],
        "no_history_policy": "commitment_only",
        "adjustment": "",
    }
    resp = client.post("/tenders/new", data=form)
    assert resp.status_code == 422 and "total_points" in resp.get_data(as_text=True)
    form["criteria"] = "quality | Quality | 80\ncarbon | Carbon | 20 | | carbon"
    resp = client.post("/tenders/new", data=form)
    assert resp.status_code == 302
    from sqlalchemy import select

    from scoring.models import Tender

    tender = session.scalar(select(Tender).where(Tender.reference == "T-PAGE"))
    client.post(f"/tenders/{tender.id}/do/open")
    assert tender.status == "open"
    bidder = user_of("contractor")
    login(bidder)
    resp = client.post(
        f"/tenders/{tender.id}/bid",
        data={"price": "100", "lines": "hydraulic_excavator,diesel,1,100,100,yes"},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    login(agency)
    client.post(f"/tenders/{tender.id}/do/close")
    login(member)
    bid_id = tender.bids[0].id
    resp = client.post(f"/tenders/{tender.id}/sheet", data={f"s-{bid_id}-quality": "99"})
    assert resp.status_code == 422
    resp = client.post(f"/tenders/{tender.id}/sheet", data={f"s-{bid_id}-quality": "60", "sign": "1"})
    assert resp.status_code == 302
    assert tender.members[0].signed_at is not None
    assert client.get(f"/tenders/{tender.id}/sheet").status_code == 200


def test_shadow_carbon_price_and_its_sanction(api, session):
    """Shadow carbon price 1,000 per tCO2 (評分單價法, one bidder).

    W plans 100 h × 100 kW of a hydraulic excavator without planned energy, so its projected
    CO2 is the reference: 100 × 100 × 0.175 L/kW·h × 2.6526 kg/L = 4,642.05 kg = 4.64205 t
    -> evaluated price 1,000,000 + 4.64205 × 1,000 = 1,004,642.05.
    After award it logs 2 × 5,000 kg = 10 t (one of two days certified: fulfilment 0.5):
    advantage = (10 − 4.64205) × 1,000 = 5,357.95 -> sanction 1.5 × 5,357.95 = 8,036.925.
    """
    flow = TenderFlow(api)
    flow.create(
        method="tw_price_per_score",
        total_points="100",
        criteria=[
            {"code": "tech", "max_points": "70"},
            {"code": "carbon", "max_points": "30", "is_carbon": True},
        ],
        price_adjustment={"kind": "shadow_carbon", "carbon_price_per_t": "1000"},
    )
    flow.action("open")
    bid = flow.bid("W", "1000000", "1")
    assert Decimal(bid["projected_co2_kg"]) == Decimal("4642.05")
    flow.action("close")
    flow.score(0, {"W": {"tech": 60}})
    result = flow.by_label(flow.evaluate()["result"])
    assert Decimal(result["W"]["evaluated_price"]) == Decimal("1004642.05")
    flow.action("publish")
    flow.action("award")
    winner = flow.bidders["W"]
    unit = MachineUnitFactory(contractor_id=winner.organisation_id)
    common = {
        "contractor_id": winner.organisation_id,
        "machine_unit_id": unit.id,
        "project_id": flow.project.id,
    }
    UsageLogFactory(**common, certified=True, actual_co2_kg=Decimal(5000))
    UsageLogFactory(**common, certified=False, actual_co2_kg=Decimal(5000))
    out = flow.agency_api.post(f"/api/v1/tenders/{flow.tid}/fulfilment").get_json()
    assert Decimal(out["fulfilment"]) == Decimal("0.5")
    assert Decimal(out["advantage"]) == Decimal("5357.95")
    assert Decimal(out["sanction_amount"]) == Decimal("8036.925")
