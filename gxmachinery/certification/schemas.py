"""Marshmallow schemas of the certification API. Decimals are dumped as strings (exact)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gxmachinery.certification.models import ApplicationStatus, CertificateStatus, ChangeKind, Drive


class Dec(fields.Decimal):
    """A Decimal dumped as an exact string without trailing zeros of the column scale (12.800000 -> 12.8)."""

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(as_string=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        from decimal import Decimal

        return f"{Decimal(value).normalize():f}"


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=500))


class CategorySchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=60))
    name_en = fields.String(required=True)
    name_zh = fields.String(required=True)
    size_attribute = fields.String(required=True)
    size_unit = fields.String(required=True)
    source = fields.String(load_default=None, allow_none=True)


class TestModeSchema(Schema):
    code = fields.String(required=True)
    name_en = fields.String(load_default=None)
    name_zh = fields.String(load_default=None)
    weight = fields.Raw(required=True)


class TestMethodSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True)
    category = fields.Raw(required=True, metadata={"description": "category code or id"})
    unit = fields.String(required=True)
    title = fields.String(load_default=None)
    version = fields.Integer(dump_only=True)
    source = fields.String(load_default=None, allow_none=True)
    modes = fields.List(fields.Nested(TestModeSchema), required=True)


class TestMethodOutSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    category = fields.Function(lambda m: m.category.code)
    unit = fields.String()
    title = fields.String()
    version = fields.Integer()
    source = fields.String()
    modes = fields.Function(
        lambda m: [
            {"code": x.code, "name_en": x.name_en, "name_zh": x.name_zh, "weight": str(x.weight.normalize())}
            for x in m.modes
        ]
    )


class BaselineClassSchema(Schema):
    id = fields.Integer(dump_only=True)
    category = fields.Raw(required=True)
    lower = fields.Raw(required=True)
    upper = fields.Raw(load_default=None, allow_none=True)
    baseline_value = fields.Raw(required=True)
    unit = fields.String(required=True)
    source = fields.String(load_default=None, allow_none=True)


class BaselineClassOutSchema(Schema):
    id = fields.Integer()
    category = fields.Function(lambda c: c.category.code)
    lower = Dec()
    upper = Dec(allow_none=True)
    baseline_value = Dec()
    unit = fields.String()
    label = fields.String()
    illustrative = fields.Boolean()


class BaselineSetSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True)
    title = fields.String(load_default=None)
    effective_from = fields.Date(required=True)
    full_grade_label = fields.String(required=True)
    source = fields.String(load_default=None, allow_none=True)
    classes = fields.List(fields.Nested(BaselineClassSchema), required=True)


class BaselineSetOutSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    title = fields.String()
    version = fields.Integer()
    effective_from = fields.Date()
    full_grade_label = fields.String()
    active = fields.Boolean()
    source = fields.String()
    classes = fields.List(fields.Nested(BaselineClassOutSchema))


class MachineModelSchema(Schema):
    id = fields.Integer()
    maker_id = fields.Integer()
    category = fields.Function(lambda m: m.category.code)
    type_designation = fields.String()
    catalogue_names = fields.List(fields.String())
    drive = fields.String()
    rated_power_kw = Dec()
    mass_kg = Dec(allow_none=True)
    size_value = Dec()
    emission_stage = fields.String(allow_none=True)


class ApplicationInSchema(Schema):
    category = fields.Raw(required=True, metadata={"description": "category code or id"})
    baseline_set = fields.Raw(required=True, metadata={"description": "baseline set code or id"})
    type_designation = fields.String(required=True, validate=validate.Length(min=1, max=100))
    catalogue_names = fields.List(fields.String(), load_default=list)
    drive = fields.String(required=True, validate=validate.OneOf([d.value for d in Drive]))
    rated_power_kw = fields.Raw(required=True)
    mass_kg = fields.Raw(load_default=None, allow_none=True)
    size_value = fields.Raw(required=True)
    emission_stage = fields.String(load_default=None, allow_none=True)
    measurements = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), load_default=dict)


class ApplicationPatchSchema(Schema):
    category = fields.Raw()
    baseline_set = fields.Raw()
    type_designation = fields.String(validate=validate.Length(min=1, max=100))
    catalogue_names = fields.List(fields.String())
    drive = fields.String(validate=validate.OneOf([d.value for d in Drive]))
    rated_power_kw = fields.Raw()
    mass_kg = fields.Raw(allow_none=True)
    size_value = fields.Raw()
    emission_stage = fields.String(allow_none=True)
    measurements = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))


class FactorsSchema(Schema):
    diesel_factor_value = fields.Raw(load_default=None)
    diesel_factor_label = fields.String(load_default=None)
    diesel_factor_unit = fields.String(load_default=None)
    grid_factor_value = fields.Raw(load_default=None)
    grid_factor_label = fields.String(load_default=None)
    grid_factor_unit = fields.String(load_default=None)
    reason = fields.String(load_default=None)


class ReasonSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True)


class AnswerSchema(Schema):
    message = fields.String(required=True)


class ApproveSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True)
    issued_on = fields.Date(load_default=None, allow_none=True)


class DocumentSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    original_filename = fields.String()
    sha256 = fields.String()
    size_bytes = fields.Integer()
    created_at = fields.DateTime()


class StepSchema(Schema):
    kind = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    actor_label = fields.String()
    at = fields.DateTime()


class FactorSchema(Schema):
    label = fields.String(allow_none=True)
    value = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)


class PreviewSchema(Schema):
    complete = fields.Boolean()
    evaluation_value = Dec(allow_none=True)
    evaluation_unit = fields.String(allow_none=True)
    baseline_value = Dec(allow_none=True)
    size_class = fields.String(allow_none=True)
    achievement = Dec(allow_none=True)
    co2e_achievement = Dec(allow_none=True)
    grade = fields.String(allow_none=True)
    passes = fields.Boolean()
    missing_modes = fields.List(fields.String())
    factors = fields.Dict(keys=fields.String(), values=fields.Nested(FactorSchema), allow_none=True)
    message = fields.String()


class ApplicationSchema(Schema):
    id = fields.Integer()
    maker_id = fields.Integer()
    status = fields.String()
    machine_model = fields.Nested(MachineModelSchema)
    baseline_set = fields.Function(lambda a: a.baseline_set.code)
    test_method = fields.Function(lambda a: a.test_method.code)
    measurements = fields.Dict(keys=fields.String(), values=fields.String())
    evaluation_value = Dec(allow_none=True)
    evaluation_unit = fields.String(allow_none=True)
    baseline_class_id = fields.Integer(allow_none=True)
    achievement = Dec(allow_none=True)
    co2e_achievement = Dec(allow_none=True)
    grade = fields.String(allow_none=True)
    factors_used = fields.Method("_factors")
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    documents = fields.List(fields.Nested(DocumentSchema))
    timeline = fields.List(fields.Nested(StepSchema), attribute="steps")
    certificate_number = fields.Method("_certificate")

    def _factors(self, obj):  # type: ignore[no-untyped-def]
        from gxmachinery.certification.services import factors_used

        return factors_used(obj) if obj.co2e_achievement is not None else None

    def _certificate(self, obj):  # type: ignore[no-untyped-def]
        from sqlalchemy import select

        from gxmachinery.certification.models import Certificate
        from gxmachinery.extensions import db

        return db.session.scalar(select(Certificate.number).where(Certificate.application_id == obj.id))


class ApplicationQuerySchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in ApplicationStatus]))
    category = fields.String(load_default=None)
    drive = fields.String(load_default=None, validate=validate.OneOf([d.value for d in Drive]))


class StatusChangeSchema(Schema):
    status = fields.String()
    effective_from = fields.Date()
    reason = fields.String(allow_none=True)
    recorded_at = fields.DateTime()


class RenewalSchema(Schema):
    renewed_on = fields.Date()
    previous_valid_until = fields.Date()
    new_valid_until = fields.Date()
    reason = fields.String(allow_none=True)


class NoticeSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    description = fields.String()
    changes = fields.Dict()
    outcome = fields.String()
    outcome_reason = fields.String()
    created_at = fields.DateTime()


class NoticeInSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ChangeKind]))
    description = fields.String(required=True)
    changes = fields.Dict(load_default=dict)


class EffectiveSchema(Schema):
    effective_from = fields.Date(required=True)
    reason = fields.String(required=True)


class RenewSchema(Schema):
    renewed_on = fields.Date(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)


class CertificateSchema(Schema):
    """A certificate as the owner/certifier sees it (status computed today)."""

    id = fields.Integer()
    number = fields.String()
    maker_id = fields.Integer()
    machine_model = fields.Nested(MachineModelSchema)
    baseline_set = fields.Function(lambda c: c.baseline_set.code)
    baseline_class_id = fields.Integer(allow_none=True)
    grade = fields.String()
    evaluation_value = Dec(allow_none=True)
    evaluation_unit = fields.String(allow_none=True)
    achievement = Dec(allow_none=True)
    co2e_achievement = Dec(allow_none=True)
    issued_on = fields.Date()
    valid_until = fields.Date()
    status = fields.Method("_status")
    status_changes = fields.List(fields.Nested(StatusChangeSchema))
    renewals = fields.List(fields.Nested(RenewalSchema))
    notices = fields.List(fields.Nested(NoticeSchema))

    def _status(self, obj):  # type: ignore[no-untyped-def]
        from datetime import date

        from gxmachinery.certification.services import certificate_status_on

        status = certificate_status_on(obj, date.today())
        return str(status or obj.status)


class RegisterQuerySchema(PageArgsSchema):
    category = fields.String(load_default=None)
    class_id = fields.Integer(load_default=None)
    drive = fields.String(load_default=None, validate=validate.OneOf([d.value for d in Drive]))
    grade = fields.String(load_default=None)
    maker = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in CertificateStatus]))
    baseline_set = fields.String(load_default=None)
    q = fields.String(load_default=None)
    sort = fields.String(load_default="-issued_on")


class RegisterRowSchema(Schema):
    number = fields.String()
    status = fields.String()
    grade = fields.String()
    maker = fields.String()
    maker_id = fields.Integer()
    type_designation = fields.String()
    catalogue_names = fields.String()
    category = fields.String()
    drive = fields.String()
    rated_power_kw = fields.String(allow_none=True)
    size_value = fields.String(allow_none=True)
    size_unit = fields.String()
    class_id = fields.Integer(allow_none=True)
    size_class = fields.String(allow_none=True)
    baseline_set = fields.String()
    baseline_value = fields.String(allow_none=True)
    evaluation_value = fields.String(allow_none=True)
    evaluation_unit = fields.String(allow_none=True)
    achievement = fields.String(allow_none=True)
    co2e_achievement = fields.String(allow_none=True)
    factors_used = fields.String(allow_none=True)
    issued_on = fields.String()
    valid_until = fields.String()


class RegisterPageSchema(Schema):
    items = fields.List(fields.Nested(RegisterRowSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class RegisterDetailSchema(RegisterRowSchema):
    status_history = fields.List(fields.Nested(StatusChangeSchema))
    renewals = fields.List(fields.Nested(RenewalSchema))


class CompetitionRowSchema(Schema):
    category = fields.String()
    class_id = fields.Integer()
    size_class = fields.String(allow_none=True)
    makers = fields.Integer()
    designatable = fields.Boolean()


class ReviewRowSchema(Schema):
    class_id = fields.Integer()
    size_class = fields.String(allow_none=True)
    current_baseline = fields.Float(allow_none=True)
    n_models = fields.Integer()
    n_makers = fields.Integer()
    proposal = fields.String()
    value = fields.Float()
    models_passing = fields.Integer()
    makers_passing = fields.Integer()


class ReviewQuerySchema(Schema):
    baseline_set = fields.String(load_default=None)


class ExportQuerySchema(RegisterQuerySchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx", "json"]))
