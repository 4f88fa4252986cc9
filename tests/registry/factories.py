"""Factories for registry tests (and the certification rows they need)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from gxmachinery.accounts.models import OrganisationKind
from gxmachinery.certification.models import (
    BaselineSet,
    Category,
    Certificate,
    CertificateStatus,
    CertificateStatusChange,
    Drive,
    MachineModel,
)
from registry.models import MachineUnit, Project
from tests.factories import BaseFactory, OrganisationFactory


class CategoryFactory(BaseFactory):
    class Meta:
        model = Category

    code = factory.Sequence(lambda n: f"cat_{n}")
    name_en = "Test category"
    name_zh = "測試類別"
    size_attribute = "rated_power"
    size_unit = "kW"


class BaselineSetFactory(BaseFactory):
    class Meta:
        model = BaselineSet

    code = factory.Sequence(lambda n: f"bs{n}")
    title = "Test baselines"
    effective_from = date(2020, 1, 1)
    full_grade_label = "★★★"


class MachineModelFactory(BaseFactory):
    class Meta:
        model = MachineModel

    maker = factory.SubFactory(OrganisationFactory, kind=OrganisationKind.maker)
    maker_id = factory.SelfAttribute("maker.id")
    category = factory.SubFactory(CategoryFactory)
    category_id = factory.SelfAttribute("category.id")
    type_designation = factory.Sequence(lambda n: f"PC{n}")
    catalogue_names = factory.LazyFunction(list)
    drive = Drive.diesel
    rated_power_kw = Decimal("100")
    size_value = Decimal("0.8")


class CertificateFactory(BaseFactory):
    class Meta:
        model = Certificate

    number = factory.Sequence(lambda n: f"GX-T-{n:05d}")
    machine_model = factory.SubFactory(MachineModelFactory)
    machine_model_id = factory.SelfAttribute("machine_model.id")
    maker_id = factory.SelfAttribute("machine_model.maker_id")
    baseline_set = factory.SubFactory(BaselineSetFactory)
    baseline_set_id = factory.SelfAttribute("baseline_set.id")
    grade = "★★★"
    issued_on = date(2024, 1, 1)
    valid_until = date(2027, 1, 1)
    status = CertificateStatus.active

    @factory.post_generation
    def history(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        changes = extracted or [(CertificateStatus.active, obj.issued_on)]
        for status, effective_from in changes:
            BaseFactory._meta.sqlalchemy_session_factory().add(  # type: ignore[attr-defined]
                CertificateStatusChange(certificate_id=obj.id, status=status, effective_from=effective_from)
            )


class MachineUnitFactory(BaseFactory):
    class Meta:
        model = MachineUnit

    contractor_id = factory.LazyAttribute(lambda o: OrganisationFactory(kind=OrganisationKind.contractor).id)
    serial_or_pin = factory.Sequence(lambda n: f"SN-{n:05d}")
    category = factory.SubFactory(CategoryFactory)
    category_id = factory.SelfAttribute("category.id")
    rated_power_kw = Decimal("100")
    drive = Drive.diesel


class ProjectFactory(BaseFactory):
    class Meta:
        model = Project

    agency_id = factory.LazyAttribute(lambda o: OrganisationFactory(kind=OrganisationKind.agency).id)
    contract_number = factory.Sequence(lambda n: f"PRJ-{n:05d}")
    name = factory.Sequence(lambda n: f"Project {n}")
    site = "Taipei"
    jurisdiction = "TW"
    start_date = date(2024, 1, 1)
    end_date = date(2025, 12, 31)
