"""Marshmallow schemas of the scoring API. Decimals travel as strings (exact)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from scoring.methods import METHODS
from scoring.models import TenderStatus

_Dec = fields.Decimal


def _dec(**kw):  # type: ignore[no-untyped-def]
    return _Dec(as_string=True, allow_nan=False, **kw)


class CriterionSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_\-]{1,40}$"))
    name = fields.String(load_default="", validate=validate.Length(max=200))
    max_points = _dec(required=True)
    weight = _dec(load_default=None, allow_none=True)
    is_carbon = fields.Boolean(load_default=False)


class CarbonParamsSchema(Schema):
    w_share = _dec()
    w_red = _dec()
    target_reduction_ratio = _dec()
    alpha = _dec()
    window_months = fields.Integer()
    no_history_policy = fields.String()
    neutral_history_score = _dec()
    min_history_score = _dec(allow_none=True)


class MethodParamsSchema(Schema):
    standard_points = _dec()
    value_scale = _dec()
    price_allotment_points = _dec(allow_none=True)
    price_weight = _dec(allow_none=True)
    meat_score_scale = _dec()
    divergence_threshold_points = _dec()
    draw_seed = fields.Integer()


class LadderBandSchema(Schema):
    level = fields.Integer(required=True, validate=validate.Range(min=1, max=10))
    min_carbon_score = _dec(required=True)
    discount = _dec(required=True)


class PriceAdjustmentSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["ladder", "shadow_carbon"]))
    bands = fields.List(fields.Nested(LadderBandSchema))
    carbon_price_per_t = _dec()


class MemberSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String(attribute="user.name")
    scored_at = fields.DateTime()
    signed_at = fields.DateTime()


class TenderSchema(Schema):
    id = fields.Integer(dump_only=True)
    agency_id = fields.Integer(dump_only=True)
    project_id = fields.Integer(required=True)
    reference = fields.String(required=True, validate=validate.Length(min=1, max=60))
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    method = fields.String(required=True, validate=validate.OneOf(sorted(METHODS)))
    status = fields.String(dump_only=True)
    jurisdiction = fields.String(dump_only=True)
    ceiling_price = _dec(load_default=None, allow_none=True)
    total_points = _dec(load_default=None, allow_none=True)
    pass_mark = _dec(load_default=None, allow_none=True)
    method_params = fields.Nested(MethodParamsSchema, load_default=dict)
    carbon_params = fields.Nested(CarbonParamsSchema, load_default=dict)
    price_adjustment = fields.Nested(PriceAdjustmentSchema, load_default=None, allow_none=True)
    sanction_k = _dec(load_default=None, allow_none=True)
    evaluation_date = fields.Date(load_default=None, allow_none=True)
    criteria = fields.List(fields.Nested(CriterionSchema), required=True)
    committee_user_ids = fields.List(fields.Integer(), load_only=True, load_default=list)
    members = fields.List(fields.Nested(MemberSchema), dump_only=True)
    opened_at = fields.DateTime(dump_only=True)
    closed_at = fields.DateTime(dump_only=True)
    published_at = fields.DateTime(dump_only=True)
    awarded_at = fields.DateTime(dump_only=True)
    awarded_bid_id = fields.Integer(dump_only=True)


class TenderPatchSchema(TenderSchema):
    """Partial update of a draft tender (used with ``partial=True``)."""


class TenderQueryArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=200))
    status = fields.String(validate=validate.OneOf([s.value for s in TenderStatus]))


class CommitmentLineSchema(Schema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=60))
    drive = fields.String(
        load_default="diesel",
        validate=validate.OneOf(["diesel", "hybrid", "battery_electric", "cable_electric", "other"]),
    )
    units = fields.Integer(load_default=1)
    rated_power_kw = _dec(required=True)
    hours = _dec(required=True)
    certified = fields.Boolean(load_default=False)
    fuel_litres = _dec(load_default=None, allow_none=True)
    kwh = _dec(load_default=None, allow_none=True)
    projected_co2_kg = _dec(dump_only=True)
    reference_co2_kg = _dec(dump_only=True)


class BidSchema(Schema):
    id = fields.Integer(dump_only=True)
    tender_id = fields.Integer(dump_only=True)
    bidder_id = fields.Integer(dump_only=True)
    bidder_name = fields.String(attribute="bidder.name", dump_only=True)
    price = _dec(required=True)
    structure_points = _dec(load_default=None, allow_none=True)
    lines = fields.List(fields.Nested(CommitmentLineSchema), required=True)
    planned_hours = _dec(dump_only=True)
    planned_certified_share = _dec(dump_only=True)
    projected_co2_kg = _dec(dump_only=True)
    reference_co2_kg = _dec(dump_only=True)
    planned_reduction_ratio = _dec(dump_only=True)
    factor_refs = fields.Dict(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class SheetSchema(Schema):
    """``scores``: {bid_id: {criterion_code: points}} for every bid and scored criterion."""

    scores = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Raw()),
        required=True,
    )


class SheetOutSchema(Schema):
    member_id = fields.Integer()
    scored_at = fields.DateTime()
    signed_at = fields.DateTime()
    scores = fields.Dict()
    divergence_flags = fields.List(fields.Dict())


class SheetStatusSchema(Schema):
    member_id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()
    scored = fields.Boolean()
    signed_at = fields.DateTime()


class SheetsOverviewSchema(Schema):
    members = fields.List(fields.Nested(SheetStatusSchema))
    divergence_flags = fields.List(fields.Dict())


class EvaluationSchema(Schema):
    id = fields.Integer()
    tender_id = fields.Integer()
    method = fields.String()
    as_of = fields.Date()
    created_at = fields.DateTime()
    inputs_sha256 = fields.String()
    winner_bid_id = fields.Integer(allow_none=True)
    result = fields.Dict()
    snapshot = fields.Dict()


class ReproductionSchema(Schema):
    identical = fields.Boolean()
    differences = fields.List(fields.String())
    result = fields.Dict()


class ReportSchema(Schema):
    tender = fields.Nested(TenderSchema)
    evaluation_id = fields.Integer(allow_none=True)
    scope = fields.String(metadata={"description": "full, own (bidder) or public"})
    rows = fields.List(fields.Dict())
    tie_breaks = fields.List(fields.Dict())
    divergence_flags = fields.List(fields.Dict())


class FulfilmentSchema(Schema):
    outcome_id = fields.Integer()
    committed_share = _dec()
    actual_share = _dec()
    fulfilment = _dec()
    advantage = _dec()
    sanction_amount = _dec()


class MethodInfoSchema(Schema):
    code = fields.String()
    name = fields.String()
    local_name = fields.String()
    summary = fields.String()
    source = fields.String()
    value_label = fields.String()
    higher_is_better = fields.Boolean()
