"""Shared registry test world: a contractor with units and a project, factors loaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from gxmachinery.accounts.models import OrganisationKind, User
from gxmachinery.certification.models import CertificateStatus, Drive
from registry.models import MachineUnit, Project
from registry.services import load_factor_tables
from tests.factories import OrganisationFactory, UserFactory
from tests.registry.factories import (
    CategoryFactory,
    CertificateFactory,
    MachineModelFactory,
    MachineUnitFactory,
    ProjectFactory,
)

TODAY = date(2025, 6, 30)


@dataclass
class World:
    contractor: User
    agency: User
    other_contractor: User
    other_agency: User
    admin: User
    project: Project
    diesel: MachineUnit  # uncertified 100 kW hydraulic excavator
    certified: MachineUnit  # certified 100 kW diesel, certificate revoked from 2025-03-01
    battery: MachineUnit  # uncertified 50 kW battery-electric
    category_code: str


def _user(kind: OrganisationKind) -> User:
    return UserFactory(organisation=OrganisationFactory(kind=kind))


@pytest.fixture
def world(session) -> World:  # type: ignore[no-untyped-def]
    load_factor_tables()
    contractor = _user(OrganisationKind.contractor)
    agency = _user(OrganisationKind.agency)
    other_contractor = _user(OrganisationKind.contractor)
    other_agency = _user(OrganisationKind.agency)
    admin = _user(OrganisationKind.admin)
    category = CategoryFactory(code="hydraulic_excavator")
    project = ProjectFactory(
        agency_id=agency.organisation_id,
        contractor_id=contractor.organisation_id,
        contract_number="PRJ-A",
        start_date=date(2024, 1, 1),
        end_date=date(2025, 12, 31),
    )
    cid = contractor.organisation_id
    diesel = MachineUnitFactory(
        contractor_id=cid,
        serial_or_pin="D-1",
        category=category,
        rated_power_kw=Decimal("100"),
        drive=Drive.diesel,
    )
    model = MachineModelFactory(category=category, rated_power_kw=Decimal("100"))
    cert = CertificateFactory(
        machine_model=model,
        issued_on=date(2024, 1, 1),
        valid_until=date(2027, 1, 1),
        history=[(CertificateStatus.active, date(2024, 1, 1)), (CertificateStatus.revoked, date(2025, 3, 1))],
    )
    certified = MachineUnitFactory(
        contractor_id=cid,
        serial_or_pin="C-1",
        category=category,
        certificate_id=cert.id,
        machine_model_id=model.id,
        rated_power_kw=Decimal("100"),
        drive=Drive.diesel,
    )
    battery = MachineUnitFactory(
        contractor_id=cid,
        serial_or_pin="B-1",
        category=category,
        rated_power_kw=Decimal("50"),
        drive=Drive.battery_electric,
    )
    session.flush()
    return World(
        contractor,
        agency,
        other_contractor,
        other_agency,
        admin,
        project,
        diesel,
        certified,
        battery,
        category.code,
    )
