"""Tender scoring API: tenders, bids, committee sheets, evaluations, reports, award, fulfilment."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from gxmachinery.accounts.models import Role
from gxmachinery.auth import check_roles, require_actor
from gxmachinery.errors import Conflict, NotFound
from gxmachinery.extensions import db
from gxmachinery.pagination import page_schema, paginate
from scoring import reports, services
from scoring.methods import METHODS
from scoring.models import Bid, Evaluation, Tender, TenderStatus
from scoring.schemas import (
    BidSchema,
    EvaluationSchema,
    FulfilmentSchema,
    MethodInfoSchema,
    ReportSchema,
    ReproductionSchema,
    SheetOutSchema,
    SheetSchema,
    SheetsOverviewSchema,
    TenderPatchSchema,
    TenderQueryArgsSchema,
    TenderSchema,
)

blp = Blueprint("scoring", __name__, url_prefix="/api/v1", description="Tenders, bids, committee scoring")

_PUBLISHED = (TenderStatus.published, TenderStatus.awarded)


@blp.route("/tender-methods")
class Methods(MethodView):
    @blp.response(200, MethodInfoSchema(many=True))
    def get(self):
        """Evaluation methods a tender can use, with their rules and sources (public)."""
        return [m.to_dict() for m in METHODS.values()]


@blp.route("/tenders")
class Tenders(MethodView):
    @blp.arguments(TenderQueryArgsSchema, location="query")
    @blp.response(200, page_schema(TenderSchema))
    def get(self, args):
        """Tenders you may see: your agency's, your committee seats, or open ones to bid on."""
        actor = require_actor()
        stmt = services.visible_tenders(actor)
        if args.get("status"):
            stmt = stmt.where(Tender.status == args["status"])
        return paginate(stmt, args["page"], args["per_page"])

    @blp.arguments(TenderSchema)
    @blp.response(201, TenderSchema)
    def post(self, data):
        """Create a draft tender on one of your agency's projects."""
        actor = check_roles(Role.agency)
        tender = services.create_tender(actor, data)
        db.session.commit()
        return tender


@blp.route("/tenders/<int:tender_id>")
class TenderItem(MethodView):
    @blp.response(200, TenderSchema)
    def get(self, tender_id):
        """One tender (settings, criteria, committee, status)."""
        tender, _access = services.get_tender(tender_id, require_actor())
        return tender

    @blp.arguments(TenderPatchSchema(partial=True))
    @blp.response(200, TenderSchema)
    def patch(self, data, tender_id):
        """Change a draft tender's settings; frozen once bids open (409)."""
        check_roles(Role.agency)
        tender, _ = services.get_tender(tender_id, require_actor(), need="agency")
        services.update_tender(tender, data)
        db.session.commit()
        return tender


def _agency_tender(tender_id: int) -> Tender:
    actor = check_roles(Role.agency)
    tender, _ = services.get_tender(tender_id, actor, need="agency")
    return tender


_ACTIONS = {
    "open": services.open_tender,
    "close": services.close_bidding,
    "publish": services.publish_results,
    "award": services.award_tender,
}


@blp.route("/tenders/<int:tender_id>/<any(open, close, publish, award):action>")
class TenderAction(MethodView):
    @blp.response(200, TenderSchema)
    def post(self, tender_id, action):
        """Lifecycle step: open (bids), close (bidding -> scoring), publish results, award."""
        tender = _agency_tender(tender_id)
        _ACTIONS[action](tender)
        db.session.commit()
        return tender


@blp.route("/tenders/<int:tender_id>/bids")
class Bids(MethodView):
    @blp.response(200, BidSchema(many=True))
    def get(self, tender_id):
        """Bids: the agency and committee see all; a bidder sees only its own."""
        actor = require_actor()
        tender, access = services.get_tender(tender_id, actor)
        if access == "bidder":
            own = services.own_bid(tender, actor.organisation_id)
            return [own] if own else []
        return tender.bids

    @blp.arguments(BidSchema)
    @blp.response(201, BidSchema)
    def post(self, data, tender_id):
        """Submit your organisation's bid with its machinery commitment (once per tender)."""
        actor = check_roles(Role.contractor)
        tender, _ = services.get_tender(tender_id, actor)
        bid = services.submit_bid(tender, actor.organisation, data)
        db.session.commit()
        return bid


@blp.route("/tenders/<int:tender_id>/bids/<int:bid_id>")
class BidItem(MethodView):
    @blp.response(200, BidSchema)
    def get(self, tender_id, bid_id):
        """One bid (a bidder may read only its own)."""
        actor = require_actor()
        tender, access = services.get_tender(tender_id, actor)
        bid = db.session.get(Bid, bid_id)
        if bid is None or bid.tender_id != tender.id:
            raise NotFound(f"Bid {bid_id} not found.")
        if access == "bidder" and bid.bidder_id != actor.organisation_id:
            raise NotFound(f"Bid {bid_id} not found.")
        return bid


def _my_seat(tender_id: int) -> Any:
    actor = check_roles(Role.committee)
    tender, _ = services.get_tender(tender_id, actor)
    return services.member_for(tender, actor)


def _sheet_out(member: Any) -> dict[str, Any]:
    return {
        "member_id": member.id,
        "scored_at": member.scored_at,
        "signed_at": member.signed_at,
        "scores": {str(b): {c: str(p) for c, p in v.items()} for b, v in services.sheet_of(member).items()},
        "divergence_flags": services.divergence_flags(member.tender),
    }


@blp.route("/tenders/<int:tender_id>/sheets/me")
class MySheet(MethodView):
    @blp.response(200, SheetOutSchema)
    def get(self, tender_id):
        """Your score sheet on this tender (committee member)."""
        return _sheet_out(_my_seat(tender_id))

    @blp.arguments(SheetSchema)
    @blp.response(201, SheetOutSchema)
    def post(self, data, tender_id):
        """Enter your scores: every bid × every scored criterion (a second entry is 409)."""
        member = services.submit_sheet(_my_seat(tender_id), data["scores"])
        db.session.commit()
        return _sheet_out(member)

    @blp.arguments(SheetSchema)
    @blp.response(200, SheetOutSchema)
    def put(self, data, tender_id):
        """Replace your unsigned sheet (audited); 409 once signed."""
        member = services.submit_sheet(_my_seat(tender_id), data["scores"], replace=True)
        db.session.commit()
        return _sheet_out(member)


@blp.route("/tenders/<int:tender_id>/sheets/me/sign")
class SignSheet(MethodView):
    @blp.response(200, SheetOutSchema)
    def post(self, tender_id):
        """Sign your sheet; it can no longer change."""
        member = services.sign_sheet(_my_seat(tender_id))
        db.session.commit()
        return _sheet_out(member)


@blp.route("/tenders/<int:tender_id>/sheets")
class Sheets(MethodView):
    @blp.response(200, SheetsOverviewSchema)
    def get(self, tender_id):
        """Who has scored and signed, with member-difference flags (agency, committee)."""
        actor = require_actor()
        tender, access = services.get_tender(tender_id, actor)
        if access == "bidder":
            raise NotFound(f"Tender {tender_id} not found.")
        return {
            "members": [
                {
                    "member_id": m.id,
                    "user_id": m.user_id,
                    "name": m.user.name,
                    "scored": bool(m.scores),
                    "signed_at": m.signed_at,
                }
                for m in tender.members
            ],
            "divergence_flags": services.divergence_flags(tender),
        }


@blp.route("/tenders/<int:tender_id>/evaluate")
class Evaluate(MethodView):
    @blp.response(201, EvaluationSchema)
    def post(self, tender_id):
        """Evaluate with the tender's method once every sheet is signed; stores a snapshot."""
        evaluation = services.evaluate_tender(_agency_tender(tender_id))
        db.session.commit()
        return evaluation


@blp.route("/tenders/<int:tender_id>/evaluations")
class Evaluations(MethodView):
    @blp.response(200, EvaluationSchema(many=True))
    def get(self, tender_id):
        """Every evaluation of the tender, oldest first (agency)."""
        return _agency_tender(tender_id).evaluations


def _evaluation(tender_id: int, evaluation_id: int) -> Evaluation:
    tender = _agency_tender(tender_id)
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None or evaluation.tender_id != tender.id:
        raise NotFound(f"Evaluation {evaluation_id} not found.")
    return evaluation


@blp.route("/tenders/<int:tender_id>/evaluations/<int:evaluation_id>")
class EvaluationItem(MethodView):
    @blp.response(200, EvaluationSchema)
    def get(self, tender_id, evaluation_id):
        """One evaluation with its full input snapshot and result."""
        return _evaluation(tender_id, evaluation_id)


@blp.route("/tenders/<int:tender_id>/evaluations/<int:evaluation_id>/reproduce")
class Reproduce(MethodView):
    @blp.response(200, ReproductionSchema)
    def post(self, tender_id, evaluation_id):
        """Re-run the evaluation from its snapshot and compare with the stored result."""
        evaluation = _evaluation(tender_id, evaluation_id)
        out = services.reproduce_evaluation(evaluation)
        from gxmachinery.audit.services import record_event

        record_event(
            "tender.evaluation.reproduce",
            evaluation,
            subject_organisation_id=evaluation.agency_id,
            after={"identical": out.identical, "differences": out.differences},
        )
        db.session.commit()
        return out


def report_for(tender: Tender, actor: Any, access: str) -> dict[str, Any]:
    """The report the viewer may see: full (agency/member), own row (bidder), public rows."""
    evaluation = tender.latest_evaluation
    if evaluation is None:
        raise Conflict(f"tender {tender.reference} has not been evaluated")
    if access == "bidder":
        scope = "public" if tender.status in _PUBLISHED else "own"
    else:
        scope = "full"
    rows = reports.report_rows(
        tender,
        evaluation,
        scope="own" if scope == "own" else scope,
        own_organisation_id=actor.organisation_id if actor else None,
    )
    full = scope == "full"
    return {
        "tender": tender,
        "evaluation_id": evaluation.id,
        "scope": scope,
        "rows": rows,
        "tie_breaks": evaluation.result["tie_breaks"] if full else [],
        "divergence_flags": evaluation.result["divergence_flags"] if full else [],
    }


@blp.route("/tenders/<int:tender_id>/report")
class Report(MethodView):
    @blp.response(200, ReportSchema)
    def get(self, tender_id):
        """Evaluation report. Agency/committee: every bidder's breakdown; a bidder: its own
        breakdown only, and the published results once the agency publishes them."""
        actor = require_actor()
        tender, access = services.get_tender(tender_id, actor)
        if access == "bidder" and services.own_bid(tender, actor.organisation_id) is None:
            if tender.status not in _PUBLISHED:
                raise NotFound(f"Tender {tender_id} not found.")
        return report_for(tender, actor, access)


@blp.route("/tenders/<int:tender_id>/fulfilment")
class Fulfilment(MethodView):
    @blp.response(201, FulfilmentSchema)
    def post(self, tender_id):
        """After award: compute the winner's commitment fulfilment from the project's logs and
        record it (with any sanction) in the contractor's history."""
        out = services.record_fulfilment(_agency_tender(tender_id))
        db.session.commit()
        return {
            "outcome_id": out.outcome.id,
            "committed_share": out.committed_share,
            "actual_share": out.actual_share,
            "fulfilment": out.fulfilment,
            "advantage": out.advantage,
            "sanction_amount": out.sanction_amount,
        }


@blp.route("/public/tender-results")
class PublicResults(MethodView):
    @blp.arguments(TenderQueryArgsSchema, location="query")
    @blp.response(200, page_schema(TenderSchema))
    def get(self, args):
        """Published tenders (public, no sign-in)."""
        stmt = select(Tender).where(Tender.status.in_(_PUBLISHED)).order_by(Tender.id.desc())
        return paginate(stmt, args["page"], args["per_page"])


@blp.route("/public/tender-results/<int:tender_id>")
class PublicResult(MethodView):
    @blp.response(200, ReportSchema)
    def get(self, tender_id):
        """Published results of one tender: per-bidder technical points, price, value, rank."""
        tender = db.session.get(Tender, tender_id)
        if tender is None or tender.status not in _PUBLISHED:
            raise NotFound(f"Tender {tender_id} not found.")
        return public_report(tender)


def public_report(tender: Tender) -> dict[str, Any]:
    evaluation = services.latest_evaluation(tender)
    return {
        "tender": tender,
        "evaluation_id": evaluation.id,
        "scope": "public",
        "rows": reports.report_rows(tender, evaluation, scope="public"),
        "tie_breaks": [],
        "divergence_flags": [],
    }
