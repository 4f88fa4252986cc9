"""Factories and a small driver that runs a tender through the API like an agency would."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import factory

from gxmachinery.accounts.models import Role
from gxmachinery.certification.models import Category
from registry.models import LogSource, MachineUnit, Project, UsageLog
from tests.factories import BaseFactory, UserFactory, user_of


class ProjectFactory(BaseFactory):
    class Meta:
        model = Project

    contract_number = factory.Sequence(lambda n: f"P-TEST-{n:05d}")
    name = factory.Sequence(lambda n: f"Test project {n}")
    jurisdiction = "TW"
    start_date = date(2025, 1, 1)


class CategoryFactory(BaseFactory):
    class Meta:
        model = Category

    code = factory.Sequence(lambda n: f"test_category_{n}")
    name_en = "Test category"
    name_zh = "測試類別"
    size_attribute = "rated_power"
    size_unit = "kW"


class MachineUnitFactory(BaseFactory):
    class Meta:
        model = MachineUnit

    serial_or_pin = factory.Sequence(lambda n: f"SN-{n:06d}")
    category = factory.SubFactory(CategoryFactory)
    rated_power_kw = Decimal("100")
    drive = "diesel"


class UsageLogFactory(BaseFactory):
    class Meta:
        model = UsageLog

    log_date = date(2025, 6, 1)
    runtime_h = Decimal("10")
    source = LogSource.form
    source_ref = factory.Sequence(lambda n: f"test-log-{n}")
    actual_co2_kg = Decimal("300")
    reference_co2_kg = Decimal("400")
    certified = False


def committee_member(agency_user: Any) -> Any:
    return UserFactory(organisation=agency_user.organisation, roles=[Role.committee.value])


def line(share_certified: bool, hours: str = "100") -> dict[str, Any]:
    """A planned line without planned energy: projected at the reference consumption, so the
    planned reduction ratio is 0 and S_commit = 100 × 0.5 × certified share (defaults)."""
    return {
        "category": "hydraulic_excavator",
        "drive": "diesel",
        "units": 1,
        "rated_power_kw": "100",
        "hours": hours,
        "certified": share_certified,
    }


def lines_for_share(share: str) -> list[dict[str, Any]]:
    """Lines whose certified share of hours is ``share`` (0, 0.5 or 1)."""
    if share == "1":
        return [line(True)]
    if share == "0":
        return [line(False)]
    return [line(True), line(False)]


class TenderFlow:
    """Drive one tender through the API: create, open, bid, close, score, sign, evaluate."""

    def __init__(self, api: Any, *, members: int = 1, agency: Any = None) -> None:
        self.agency = agency or user_of("agency")
        self.project = ProjectFactory(agency_id=self.agency.organisation_id)
        self.members = [committee_member(self.agency) for _ in range(members)]
        self.api_factory = api
        self.agency_api = api(self.agency)
        self.member_apis = [api(m) for m in self.members]
        self.bidders: dict[str, Any] = {}
        self.bid_ids: dict[str, int] = {}
        self.tender: dict[str, Any] = {}

    def create(self, **settings: Any) -> dict[str, Any]:
        body = {
            "project_id": self.project.id,
            "reference": settings.pop("reference", f"T-{self.project.id}"),
            "title": "Test tender",
            "committee_user_ids": [m.id for m in self.members],
            **settings,
        }
        resp = self.agency_api.post("/api/v1/tenders", json=body)
        assert resp.status_code == 201, resp.get_json()
        self.tender = resp.get_json()
        return self.tender

    @property
    def tid(self) -> int:
        return int(self.tender["id"])

    def action(self, name: str, expect: int = 200) -> Any:
        resp = self.agency_api.post(f"/api/v1/tenders/{self.tid}/{name}")
        assert resp.status_code == expect, resp.get_json()
        return resp.get_json()

    def bid(self, label: str, price: str, share: str, expect: int = 201, **extra: Any) -> Any:
        user = self.bidders.get(label) or user_of("contractor")
        self.bidders[label] = user
        resp = self.api_factory(user).post(
            f"/api/v1/tenders/{self.tid}/bids",
            json={"price": price, "lines": lines_for_share(share), **extra},
        )
        assert resp.status_code == expect, resp.get_json()
        if expect == 201:
            self.bid_ids[label] = resp.get_json()["id"]
        return resp.get_json()

    def score(self, member: int, scores: dict[str, dict[str, Any]], *, sign: bool = True) -> None:
        body = {"scores": {str(self.bid_ids[k]): v for k, v in scores.items()}}
        api = self.member_apis[member]
        resp = api.post(f"/api/v1/tenders/{self.tid}/sheets/me", json=body)
        assert resp.status_code == 201, resp.get_json()
        if sign:
            resp = api.post(f"/api/v1/tenders/{self.tid}/sheets/me/sign")
            assert resp.status_code == 200, resp.get_json()

    def evaluate(self) -> dict[str, Any]:
        resp = self.agency_api.post(f"/api/v1/tenders/{self.tid}/evaluate")
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def by_label(self, result: dict[str, Any]) -> dict[str, dict[str, Any]]:
        keys = {f"B{bid_id}": label for label, bid_id in self.bid_ids.items()}
        return {keys[b["bidder_id"]]: b for b in result["bidders"]}
