"""Marshmallow schemas of the registry API. Quantities are dumped as decimal strings."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gxmachinery.certification.models import Drive
from registry.models import ImportMode


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class MachineUnitSchema(Schema):
    id = fields.Integer(dump_only=True)
    contractor_id = fields.Integer(dump_only=True)
    serial_or_pin = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name = fields.String(load_default=None, allow_none=True)
    certificate_number = fields.String(load_only=True, load_default=None, allow_none=True)
    category_code = fields.String(load_only=True, load_default=None, allow_none=True)
    rated_power_kw = fields.Decimal(as_string=True, load_default=None, allow_none=True)
    drive = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf([d.value for d in Drive])
    )
    hour_meter = fields.Decimal(as_string=True, load_default=None, allow_none=True)
    certificate_id = fields.Integer(dump_only=True)
    machine_model_id = fields.Integer(dump_only=True)
    category_id = fields.Integer(dump_only=True)


class ProjectSchema(Schema):
    id = fields.Integer(dump_only=True)
    agency_id = fields.Integer(dump_only=True)
    contractor_id = fields.Integer(load_default=None, allow_none=True)
    contract_number = fields.String(required=True, validate=validate.Length(min=1, max=60))
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    site = fields.String(load_default=None, allow_none=True)
    jurisdiction = fields.String(load_default="TW", validate=validate.Length(min=2, max=8))
    start_date = fields.Date(required=True)
    end_date = fields.Date(load_default=None, allow_none=True)
    tender_ref = fields.Integer(load_default=None, allow_none=True)


class AwardSchema(Schema):
    contractor_id = fields.Integer(required=True)


class UsageLogSchema(Schema):
    id = fields.Integer(dump_only=True)
    contractor_id = fields.Integer(dump_only=True)
    machine_unit_id = fields.Integer(dump_only=True)
    project_id = fields.Integer(dump_only=True)
    log_date = fields.Date(dump_only=True)
    runtime_h = fields.Decimal(as_string=True, dump_only=True)
    hour_meter_start = fields.Decimal(as_string=True, dump_only=True)
    hour_meter_end = fields.Decimal(as_string=True, dump_only=True)
    fuel_litres = fields.Decimal(as_string=True, dump_only=True)
    fuel_type = fields.String(dump_only=True)
    kwh = fields.Decimal(as_string=True, dump_only=True)
    source = fields.String(dump_only=True)
    source_ref = fields.String(dump_only=True)
    import_batch_id = fields.Integer(dump_only=True)
    supersedes_id = fields.Integer(dump_only=True)
    superseded = fields.Boolean(dump_only=True)
    correction_reason = fields.String(dump_only=True)
    certified = fields.Boolean(dump_only=True)
    actual_co2_kg = fields.Decimal(as_string=True, dump_only=True)
    reference_co2_kg = fields.Decimal(as_string=True, dump_only=True)
    reduction_co2_kg = fields.Decimal(as_string=True, dump_only=True)
    fuel_factor_id = fields.Integer(dump_only=True)
    grid_factor_id = fields.Integer(dump_only=True)
    diesel_factor_id = fields.Integer(dump_only=True)
    reference_rate_id = fields.Integer(dump_only=True)


class LogRecordSchema(Schema):
    """One record of a JSON batch: ids or the template's natural keys."""

    machine_unit_id = fields.Integer(load_default=None)
    serial_or_pin = fields.String(load_default=None)
    project_id = fields.Integer(load_default=None)
    contract_number = fields.String(load_default=None)
    log_date = fields.String(required=True)
    runtime_h = fields.Raw(load_default=None)
    hour_meter_start = fields.Raw(load_default=None)
    hour_meter_end = fields.Raw(load_default=None)
    fuel_type = fields.String(load_default=None)
    fuel_litres = fields.Raw(load_default=None)
    fuel_unit = fields.String(load_default=None)
    kwh = fields.Raw(load_default=None)
    energy_unit = fields.String(load_default=None)
    source_ref = fields.String(load_default=None, validate=validate.Length(max=200))


class LogBatchSchema(Schema):
    mode = fields.String(
        load_default=ImportMode.all_or_nothing.value, validate=validate.OneOf([m.value for m in ImportMode])
    )
    logs = fields.List(
        fields.Nested(LogRecordSchema), required=True, validate=validate.Length(min=1, max=10_000)
    )


class RowErrorSchema(Schema):
    row = fields.Integer()
    column = fields.String()
    reason = fields.String()


class ImportBatchSchema(Schema):
    id = fields.Integer()
    contractor_id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    content_sha256 = fields.String()
    mode = fields.String()
    status = fields.String()
    rows_total = fields.Integer()
    rows_ok = fields.Integer()
    rows_rejected = fields.Integer()
    rows_duplicate = fields.Integer()
    progress = fields.Float()
    error = fields.String()
    error_report = fields.List(fields.Nested(RowErrorSchema))
    idempotency_key = fields.String()
    project_id = fields.Integer()
    created_at = fields.DateTime()
    finished_at = fields.DateTime()


class UploadArgsSchema(Schema):
    contractor_id = fields.Integer(load_default=None, metadata={"description": "admin only"})
    mode = fields.String(
        load_default=ImportMode.all_or_nothing.value, validate=validate.OneOf([m.value for m in ImportMode])
    )
    project_id = fields.Integer(load_default=None, metadata={"description": "ISO 15143-3: the project"})
    kind = fields.String(load_default=None, validate=validate.OneOf(["csv", "xlsx", "json", "iso15143"]))


class CorrectionSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1))
    log_date = fields.Date()
    runtime_h = fields.Decimal()
    hour_meter_start = fields.Decimal(allow_none=True)
    hour_meter_end = fields.Decimal(allow_none=True)
    fuel_litres = fields.Decimal(allow_none=True)
    fuel_type = fields.String(allow_none=True)
    kwh = fields.Decimal(allow_none=True)


class LogQueryArgsSchema(PageArgsSchema):
    project_id = fields.Integer(load_default=None)
    machine_unit_id = fields.Integer(load_default=None)
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    include_superseded = fields.Boolean(load_default=True)


class EmissionFactorSchema(Schema):
    id = fields.Integer(dump_only=True)
    carrier = fields.String(required=True)
    jurisdiction = fields.String(required=True)
    year = fields.Integer(required=True)
    version = fields.Integer(dump_only=True)
    value = fields.Decimal(as_string=True, required=True)
    unit = fields.String(required=True)
    source = fields.String(required=True)
    is_current = fields.Boolean(dump_only=True)
    reason = fields.String(load_default=None, allow_none=True)


class FactorCorrectionSchema(Schema):
    value = fields.Decimal(as_string=True, required=True)
    source = fields.String(load_default="")
    reason = fields.String(required=True, validate=validate.Length(min=1))


class ReferenceRateSchema(Schema):
    id = fields.Integer(dump_only=True)
    category_code = fields.String()
    version = fields.Integer()
    litres_per_kwh = fields.Decimal(as_string=True)
    source = fields.String()
    is_default = fields.Boolean()
    is_current = fields.Boolean()


class RateCorrectionSchema(Schema):
    litres_per_kwh = fields.Decimal(as_string=True, required=True)
    source = fields.String(load_default="")
    reason = fields.String(required=True, validate=validate.Length(min=1))


class RecomputeSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1))
    contractor_id = fields.Integer(load_default=None)
    only_stale = fields.Boolean(load_default=True)


class RecomputeResultSchema(Schema):
    reason = fields.String()
    contractor_id = fields.Integer(allow_none=True)
    only_stale = fields.Boolean()
    logs = fields.Integer()


class HistoryQueryArgsSchema(Schema):
    contractor_id = fields.Integer(load_default=None)
    as_of = fields.Date(load_default=None)
    window_months = fields.Integer(load_default=36, validate=validate.Range(min=1, max=240))
    project_id = fields.Integer(load_default=None)


class Co2FiguresSchema(Schema):
    """The hours and CO2 figures shared by the rolling summary and the per project × year rows."""

    hours = fields.Float()
    certified_hours = fields.Float()
    certified_share = fields.Float()
    actual_co2_kg = fields.Float()
    reference_co2_kg = fields.Float()
    reduction_co2_kg = fields.Float()
    reduction_ratio = fields.Float()


class HistorySummarySchema(Co2FiguresSchema):
    has_history = fields.Boolean()
    average_fulfilment = fields.Float()
    logs_count = fields.Integer()
    window_start = fields.Date()
    window_end = fields.Date()


class HistoryRowSchema(Co2FiguresSchema):
    contractor_id = fields.Integer()
    project_id = fields.Integer()
    contract_number = fields.String()
    year = fields.Integer()


class CommitmentOutcomeSchema(Schema):
    id = fields.Integer()
    contractor_id = fields.Integer()
    project_id = fields.Integer()
    tender_ref = fields.Integer()
    committed_certified_share = fields.Decimal(as_string=True)
    actual_certified_share = fields.Decimal(as_string=True)
    fulfilment = fields.Decimal(as_string=True)
    sanction_amount = fields.Decimal(as_string=True)
    reason = fields.String()
    recorded_at = fields.DateTime()


class HistorySchema(Schema):
    contractor_id = fields.Integer()
    summary = fields.Nested(HistorySummarySchema)
    rows = fields.List(fields.Nested(HistoryRowSchema))
    outcomes = fields.List(fields.Nested(CommitmentOutcomeSchema))
