"""Tender operations: create and freeze settings, bids with machinery commitments, committee sheets,
evaluation with a reproducible snapshot, publication, award and commitment fulfilment.

Formulas are never written here: carbon scores come from :mod:`scoring.carbon_score`, rankings
from :func:`scoring.methods.evaluate`, price adjustments and sanctions from :mod:`scoring.methods`,
projected CO2 from :mod:`registry.carbon`. Services flush, never commit; the API/page/CLI commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, or_, select

from gxmachinery.accounts.models import Organisation, OrganisationKind, Role, User
from gxmachinery.audit.services import record_event
from gxmachinery.db import utcnow
from gxmachinery.errors import Conflict, Forbidden, InvalidInput, NotFound
from gxmachinery.extensions import db
from registry import carbon as co2
from scoring import adjustments
from scoring import defaults as d
from scoring.carbon_score import (
    CarbonCommitment,
    CarbonHistory,
    CarbonScoreParams,
    carbon_score,
)
from scoring.methods import (
    METHODS,
    Bidder,
    EvaluationInputs,
    MethodParams,
    ScoringRuleError,
    commitment_sanction,
    decimal_str,
    evaluate,
    flag_divergent_scores,
    shadow_carbon_advantage,
    validate_criteria,
    validate_member_scores,
    validate_weights,
)
from scoring.methods import (
    Criterion as PureCriterion,
)
from scoring.models import (
    Bid,
    CommitmentLine,
    CommitteeMember,
    Criterion,
    Evaluation,
    MemberScore,
    Tender,
    TenderStatus,
)

#: Method parameters a tender may set in ``method_params`` (MethodParams fields besides the columns).
METHOD_PARAM_KEYS = (
    "standard_points",
    "value_scale",
    "price_allotment_points",
    "price_weight",
    "meat_score_scale",
    "divergence_threshold_points",
    "draw_seed",
)

_SETTING_FIELDS = (
    "reference",
    "title",
    "method",
    "jurisdiction",
    "ceiling_price",
    "total_points",
    "pass_mark",
    "method_params",
    "carbon_params",
    "price_adjustment",
    "sanction_k",
    "evaluation_date",
)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _rule_error(err: ScoringRuleError, prefix: str = "") -> InvalidInput:
    """A pure-function rule error as a 422 naming every offending field."""
    errors: dict[str, list[str]] = {}
    for fe in err.errors:
        errors.setdefault(prefix + fe.field, []).append(fe.message)
    return InvalidInput(f"{prefix}{err.field}: {err.message}", errors)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _registry() -> Any:
    # Imported late: the registry package may land its models after scoring is imported.
    from registry import models, services

    return models, services


def tender_key(bid: Bid) -> str:
    """The bidder id used in pure inputs and snapshots (stable, readable)."""
    return f"B{bid.id}"


def member_key(member: CommitteeMember) -> str:
    return f"M{member.id}"


def carbon_params_of(tender: Tender) -> CarbonScoreParams:
    """The tender's carbon score parameters (defaults: :mod:`scoring.defaults`)."""
    raw = {k: v for k, v in (tender.carbon_params or {}).items() if v is not None}
    try:
        return CarbonScoreParams(**raw)
    except ScoringRuleError as err:
        raise _rule_error(err, "carbon_params.") from None
    except TypeError as err:
        raise InvalidInput.for_field("carbon_params", str(err)) from None


def method_params_of(tender: Tender) -> MethodParams:
    """The tender's :class:`MethodParams` (pass mark, total, ceiling + ``method_params``)."""
    extra = {k: v for k, v in (tender.method_params or {}).items() if v is not None}
    try:
        return MethodParams(
            pass_mark=tender.pass_mark,
            total_points=tender.total_points,
            ceiling_price=tender.ceiling_price,
            **extra,
        )
    except ScoringRuleError as err:
        raise _rule_error(err) from None


def pure_criteria(tender: Tender) -> tuple[PureCriterion, ...]:
    return tuple(
        PureCriterion(
            code=c.code,
            max_points=c.max_points,
            name=c.name,
            weight=c.weight,
            is_carbon=c.is_carbon,
        )
        for c in tender.criteria
    )


# --------------------------------------------------------------------------------------------
# Tender settings
# --------------------------------------------------------------------------------------------


def _validate_settings(tender: Tender, criteria: Sequence[Mapping[str, Any]]) -> None:
    """All setting checks at once; raises one InvalidInput naming every field."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if tender.method not in METHODS:
        add("method", f"unknown method {tender.method!r}; choose one of {sorted(METHODS)}")
    if tender.method in {"jp_division", "jp_addition"} and tender.ceiling_price is None:
        add("ceiling_price", f"{tender.method} needs the ceiling price (予定価格)")
    if tender.ceiling_price is not None and tender.ceiling_price <= 0:
        add("ceiling_price", "ceiling price must be > 0")
    if tender.sanction_k is not None and tender.sanction_k < 0:
        add("sanction_k", "k must be >= 0")
    unknown = set(tender.method_params or {}) - set(METHOD_PARAM_KEYS)
    if unknown:
        add("method_params", f"unknown parameters {sorted(unknown)}; allowed {METHOD_PARAM_KEYS}")
    pure: list[PureCriterion] = []
    for i, c in enumerate(criteria):
        try:
            pure.append(
                PureCriterion(
                    code=c["code"],
                    max_points=c["max_points"],
                    name=c.get("name") or "",
                    weight=c.get("weight"),
                    is_carbon=bool(c.get("is_carbon")),
                )
            )
        except ScoringRuleError as err:
            add(f"criteria.{i}", err.message)
    if not criteria:
        add("criteria", "at least one criterion is required")
    elif sum(1 for c in pure if c.is_carbon) != 1:
        add("criteria", "exactly one criterion must be the system-computed carbon criterion")
    if not errors:
        try:
            validate_criteria(pure, tender.total_points)
        except ScoringRuleError as err:
            for fe in err.errors:
                field = "total_points" if fe.field == "params.total_points" else fe.field
                add(field, fe.message)
        weights: dict[str, Decimal] = {c.code: c.weight for c in pure if c.weight is not None}
        if tender.method == "meat_weighted":
            price_weight = (tender.method_params or {}).get("price_weight")
            if price_weight is None or len(weights) != len(pure):
                add("criteria", "meat_weighted needs a weight on every criterion and price_weight")
            else:
                weights["price"] = Decimal(str(price_weight))
                try:
                    validate_weights(weights, "weights")
                except ScoringRuleError as err:
                    for fe in err.errors:
                        add(fe.field, fe.message)
        elif weights:
            try:
                validate_weights(weights, "weights", must_sum_to_one=False)
            except ScoringRuleError as err:
                for fe in err.errors:
                    add(fe.field, fe.message)
        full = tender.total_points or sum((c.max_points for c in pure), Decimal(0))
        if tender.method.startswith("tw_") and not 0 <= tender.pass_mark <= full:
            add("pass_mark", f"pass mark must be within [0, {full}], got {tender.pass_mark}")
    if not errors:
        try:
            carbon_params_of(tender)
            method_params_of(tender)
            adjustments.validate_price_adjustment(tender.price_adjustment)
        except InvalidInput as err:
            for k, v in err.errors.items():
                for m in v:
                    add(k, m)
        except ScoringRuleError as err:
            add("price_adjustment." + err.field, err.message)
    if errors:
        first = next(iter(errors))
        raise InvalidInput(f"{first}: {errors[first][0]}", errors)


def _committee_users(user_ids: Iterable[int]) -> list[User]:
    users = []
    bad = []
    for uid in user_ids:
        user = db.session.get(User, uid)
        if user is None or not user.active or not user.has_role(Role.committee):
            bad.append(str(uid))
        else:
            users.append(user)
    if bad:
        raise InvalidInput(
            "committee members must be active users with the committee role",
            {"committee_user_ids": [f"not a committee user: {', '.join(bad)}"]},
        )
    return users


def _tender_state(tender: Tender) -> dict[str, Any]:
    return {
        **{f: getattr(tender, f) for f in _SETTING_FIELDS},
        "status": str(tender.status),
        "criteria": [
            {
                "code": c.code,
                "max_points": c.max_points,
                "weight": c.weight,
                "is_carbon": c.is_carbon,
            }
            for c in tender.criteria
        ],
        "committee_user_ids": [m.user_id for m in tender.members],
    }


def _apply_settings(tender: Tender, data: Mapping[str, Any]) -> None:
    for f in _SETTING_FIELDS:
        if f in data:
            value = data[f]
            if f in ("ceiling_price", "total_points", "pass_mark", "sanction_k"):
                try:
                    value = _dec(value)
                except ArithmeticError:
                    raise InvalidInput.for_field(f, f"not a number: {value!r}") from None
            setattr(tender, f, value)
    if tender.pass_mark is None:
        tender.pass_mark = d.PASS_MARK.value
    if tender.sanction_k is None:
        tender.sanction_k = d.COMMITMENT_SANCTION_FACTOR.value
    if tender.method_params is None:
        tender.method_params = {}
    if tender.carbon_params is None:
        tender.carbon_params = {}
    # JSON columns hold strings for numbers so snapshots keep exact decimals.
    tender.method_params = _json_numbers(tender.method_params)
    tender.carbon_params = _json_numbers(tender.carbon_params)
    if tender.price_adjustment is not None:
        tender.price_adjustment = _json_numbers(tender.price_adjustment)


def _json_numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return decimal_str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_numbers(v) for v in value]
    return value


def _replace_criteria(tender: Tender, criteria: Sequence[Mapping[str, Any]]) -> None:
    for old in list(tender.criteria):
        tender.criteria.remove(old)
        db.session.delete(old)  # draft settings only: no score can reference them yet
    db.session.flush()
    for i, c in enumerate(criteria):
        tender.criteria.append(
            Criterion(
                position=i,
                code=c["code"],
                name=c.get("name") or "",
                max_points=_dec(c["max_points"]),
                weight=_dec(c.get("weight")),
                is_carbon=bool(c.get("is_carbon")),
            )
        )


def create_tender(actor: User, data: Mapping[str, Any]) -> Tender:
    """Create a draft tender on one of the agency's projects (settings validated as a whole)."""
    models, _services = _registry()
    project = db.session.get(models.Project, data["project_id"])
    if project is None or (not actor.is_admin and project.agency_id != actor.organisation_id):
        raise InvalidInput.for_field("project_id", "no such project of your agency")
    if db.session.scalar(select(Tender.id).where(Tender.reference == data["reference"])):
        raise InvalidInput.for_field("reference", "a tender with this reference exists")
    tender = Tender(
        agency_id=project.agency_id,
        project_id=project.id,
        status=TenderStatus.draft,
        jurisdiction=getattr(project, "jurisdiction", None) or "TW",
    )
    _apply_settings(tender, data)
    criteria = data.get("criteria") or []
    _validate_settings(tender, criteria)
    users = _committee_users(data.get("committee_user_ids") or [])
    db.session.add(tender)
    _replace_criteria(tender, criteria)
    for user in users:
        tender.members.append(CommitteeMember(user_id=user.id))
    db.session.flush()
    record_event(
        "tender.create",
        tender,
        subject_organisation_id=tender.agency_id,
        after=_tender_state(tender),
    )
    return tender


def update_tender(tender: Tender, data: Mapping[str, Any]) -> Tender:
    """Change settings, criteria or committee while the tender is a draft; frozen afterwards
    (409, nothing changed) so every bidder is judged by the published rules."""
    if tender.status != TenderStatus.draft:
        raise Conflict(f"tender {tender.reference} is {tender.status}: settings are frozen once bids open")
    before = _tender_state(tender)
    if "reference" in data and data["reference"] != tender.reference:
        if db.session.scalar(select(Tender.id).where(Tender.reference == data["reference"])):
            raise InvalidInput.for_field("reference", "a tender with this reference exists")
    # Validate on a detached copy so a refused change leaves nothing half-applied.
    probe = Tender(**{f: getattr(tender, f) for f in _SETTING_FIELDS})
    _apply_settings(probe, data)
    criteria = (
        data["criteria"]
        if "criteria" in data
        else [
            {
                "code": c.code,
                "name": c.name,
                "max_points": c.max_points,
                "weight": c.weight,
                "is_carbon": c.is_carbon,
            }
            for c in tender.criteria
        ]
    )
    _validate_settings(probe, criteria)
    users = _committee_users(data["committee_user_ids"]) if "committee_user_ids" in data else None
    _apply_settings(tender, data)
    if "criteria" in data:
        _replace_criteria(tender, criteria)
    if users is not None:
        wanted = {u.id for u in users}
        for m in list(tender.members):
            if m.user_id not in wanted:
                tender.members.remove(m)
                db.session.delete(m)  # draft: the member has no scores yet
        have = {m.user_id for m in tender.members}
        for u in users:
            if u.id not in have:
                tender.members.append(CommitteeMember(user_id=u.id))
    db.session.flush()
    record_event(
        "tender.update",
        tender,
        subject_organisation_id=tender.agency_id,
        before=before,
        after=_tender_state(tender),
    )
    return tender


def _transition(
    tender: Tender, expected: Iterable[TenderStatus], new: TenderStatus, action: str, **after: Any
) -> None:
    expected = tuple(expected)
    if tender.status not in expected:
        raise Conflict(
            f"tender {tender.reference} is {tender.status}; this needs "
            + " or ".join(str(s) for s in expected)
        )
    before = str(tender.status)
    tender.status = new
    db.session.flush()
    record_event(
        action,
        tender,
        subject_organisation_id=tender.agency_id,
        before={"status": before},
        after={"status": str(new), **after},
    )


def open_tender(tender: Tender) -> Tender:
    """draft -> open: bids accepted, settings frozen."""
    scored = [c for c in tender.criteria if not c.is_carbon]
    if scored and not tender.members:
        raise InvalidInput.for_field(
            "committee_user_ids", "the tender has scored criteria but no committee members"
        )
    tender.opened_at = utcnow()
    _transition(tender, [TenderStatus.draft], TenderStatus.open, "tender.open")
    return tender


def close_bidding(tender: Tender) -> Tender:
    """open -> scoring: no more bids; committee members score."""
    if tender.status == TenderStatus.open and not tender.bids:
        raise Conflict(f"tender {tender.reference} has no bids to score")
    tender.closed_at = utcnow()
    if tender.evaluation_date is None:
        tender.evaluation_date = date.today()
    _transition(tender, [TenderStatus.open], TenderStatus.scoring, "tender.close_bidding")
    return tender


# --------------------------------------------------------------------------------------------
# Bids
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactorTables:
    """Emission factors and reference rates for projections, with where they came from."""

    factors: list[co2.EmissionFactor]
    rates: list[co2.ReferenceRate]
    origin: str


def factor_tables() -> FactorTables:
    """The registry's current emission factors and reference rates (database versions), or the
    registry's seed CSVs when the database holds none yet (fresh install)."""
    _models, reg = _registry()
    factors, rates = reg.current_factor_tables()
    if factors and rates:
        return FactorTables(list(factors), list(rates), "registry database")
    return FactorTables(co2.load_emission_factors(), co2.load_reference_rates(), "registry seed CSV")


@dataclass(frozen=True)
class LineProjection:
    projected_co2_kg: float
    reference_co2_kg: float
    refs: dict[str, Any]


def project_line(
    line: Mapping[str, Any], jurisdiction: str, year: int, tables: FactorTables
) -> LineProjection:
    """Projected (actual) and reference CO2 of one planned machine group with the registry's
    functions (DESIGN.md "CO2 accounting"): reference = hours × rated kW × ReferenceRate ×
    EF(diesel); actual = diesel litres × EF(diesel) + kWh × EF(grid). A line without planned
    energy is projected at the reference consumption (claims no reduction)."""
    hours = float(line["hours"]) * 1  # total operating hours of the group
    kw = float(line["rated_power_kw"])
    diesel = co2.select_factor(tables.factors, co2.DIESEL, jurisdiction, year)
    rate = co2.select_reference_rate(tables.rates, line["category"])
    reference = co2.reference_co2_kg(hours, kw, rate, diesel)
    litres = float(line.get("fuel_litres") or 0)
    kwh = float(line.get("kwh") or 0)
    refs: dict[str, Any] = {
        "diesel_factor": {"id": diesel.id, "value": diesel.value, "unit": diesel.unit},
        "reference_rate": {
            "id": rate.id,
            "category": rate.category,
            "litres_per_kwh": rate.litres_per_kwh,
            "is_default": rate.is_default,
        },
        "year": year,
        "jurisdiction": jurisdiction,
    }
    if litres == 0 and kwh == 0:
        actual = reference
        refs["projection"] = "no planned energy given: projected at the reference consumption"
    else:
        grid = co2.select_factor(tables.factors, co2.GRID_ELECTRICITY, jurisdiction, year) if kwh else None
        if grid is not None:
            refs["grid_factor"] = {"id": grid.id, "value": grid.value, "unit": grid.unit}
        actual = co2.actual_co2_kg({co2.DIESEL: litres}, kwh, {co2.DIESEL: diesel}, grid)
    return LineProjection(actual, reference, refs)


def _q(value: float, places: str = "0.001") -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(places))


def submit_bid(tender: Tender, bidder: Organisation, data: Mapping[str, Any]) -> Bid:
    """A contractor's bid with its machinery commitment; CO2 projected with the registry's
    factors. Refused (nothing saved): tender not open (409), a second bid (409), price above the
    ceiling (422 ``price``), a bad commitment line (422 ``lines.<i>.<field>``)."""
    if tender.status != TenderStatus.open:
        raise Conflict(f"tender {tender.reference} is {tender.status}; bids are accepted while open")
    if bidder.kind != OrganisationKind.contractor:
        raise Forbidden("only contractors bid")
    existing = db.session.scalar(select(Bid).where(Bid.tender_id == tender.id, Bid.bidder_id == bidder.id))
    if existing is not None:
        raise Conflict(f"{bidder.name} has already bid on tender {tender.reference}")
    price = _dec(data["price"])
    errors: dict[str, list[str]] = {}
    if price is None or price <= 0:
        errors["price"] = ["price must be > 0"]
    elif tender.ceiling_price is not None and price > tender.ceiling_price:
        errors["price"] = [
            f"price {price} is above the ceiling price {tender.ceiling_price} (予定価格 / 底價)"
        ]
    lines = list(data.get("lines") or [])
    if not lines:
        errors["lines"] = ["the machinery commitment needs at least one planned line"]
    tables = factor_tables()
    year = (tender.evaluation_date or date.today()).year
    projections: list[LineProjection] = []
    for i, line in enumerate(lines):
        for f in ("hours", "rated_power_kw", "fuel_litres", "kwh"):
            if line.get(f) is not None and Decimal(str(line[f])) < 0:
                errors.setdefault(f"lines.{i}.{f}", []).append("must be >= 0")
        if int(line.get("units") or 0) < 1:
            errors.setdefault(f"lines.{i}.units", []).append("must be >= 1")
        if any(k.startswith(f"lines.{i}.") for k in errors):
            continue
        try:
            projections.append(project_line(line, tender.jurisdiction, year, tables))
        except co2.FactorNotFoundError as err:
            errors.setdefault(f"lines.{i}.category", []).append(str(err))
        except ValueError as err:
            errors.setdefault(f"lines.{i}", []).append(str(err))
    if errors:
        first = next(iter(errors))
        raise InvalidInput(f"{first}: {errors[first][0]}", errors)
    hours = sum((Decimal(str(ln["hours"])) for ln in lines), Decimal(0))
    certified = sum((Decimal(str(ln["hours"])) for ln in lines if ln.get("certified")), Decimal(0))
    actual = sum(p.projected_co2_kg for p in projections)
    reference = sum(p.reference_co2_kg for p in projections)
    bid = Bid(
        tender_id=tender.id,
        bidder_id=bidder.id,
        price=price,
        structure_points=_dec(data.get("structure_points")) or Decimal(0),
        planned_hours=hours,
        planned_certified_hours=certified,
        planned_certified_share=(certified / hours).quantize(Decimal("0.000001")) if hours else Decimal(0),
        projected_co2_kg=_q(actual),
        reference_co2_kg=_q(reference),
        planned_reduction_ratio=_q(co2.reduction_ratio(reference, actual), "0.000001"),
        factor_refs={"origin": tables.origin, "lines": [p.refs for p in projections]},
    )
    for i, (line, p) in enumerate(zip(lines, projections, strict=True)):
        bid.lines.append(
            CommitmentLine(
                position=i,
                category=line["category"],
                drive=str(line.get("drive") or "diesel"),
                units=int(line["units"]),
                rated_power_kw=_dec(line["rated_power_kw"]),
                hours=_dec(line["hours"]),
                certified=bool(line.get("certified")),
                fuel_litres=_dec(line.get("fuel_litres")) or Decimal(0),
                kwh=_dec(line.get("kwh")) or Decimal(0),
                projected_co2_kg=_q(p.projected_co2_kg),
                reference_co2_kg=_q(p.reference_co2_kg),
            )
        )
    tender.bids.append(bid)  # keeps the loaded collection in step within one session
    db.session.add(bid)
    db.session.flush()
    record_event(
        "bid.submit",
        bid,
        subject_organisation_id=bidder.id,
        after={
            "tender_id": tender.id,
            "price": price,
            "planned_certified_share": bid.planned_certified_share,
            "projected_co2_kg": bid.projected_co2_kg,
            "planned_reduction_ratio": bid.planned_reduction_ratio,
        },
    )
    return bid


# --------------------------------------------------------------------------------------------
# Committee sheets
# --------------------------------------------------------------------------------------------


def member_for(tender: Tender, user: User) -> CommitteeMember:
    """The user's seat on the tender's committee (404 if the user is not a member)."""
    for m in tender.members:
        if m.user_id == user.id:
            return m
    raise NotFound(f"Tender {tender.id} not found.")


def sheet_of(member: CommitteeMember) -> dict[int, dict[str, Decimal]]:
    """``{bid_id: {criterion_code: points}}`` of one member."""
    codes = {c.id: c.code for c in member.tender.criteria}
    sheet: dict[int, dict[str, Decimal]] = {}
    for s in member.scores:
        sheet.setdefault(s.bid_id, {})[codes[s.criterion_id]] = s.points
    return sheet


def submit_sheet(
    member: CommitteeMember, scores: Mapping[Any, Mapping[str, Any]], *, replace: bool = False
) -> CommitteeMember:
    """Enter a member's scores for every bid on every scored criterion (the carbon criterion is
    computed). Refused, nothing saved: not in scoring (409), already signed (409), already
    scored without ``replace`` (409), a missing score, a score above the max, an unknown bid or
    criterion, or a score on the carbon criterion (422 ``scores[<bid>][<criterion>]``)."""
    tender = member.tender
    if tender.status != TenderStatus.scoring:
        raise Conflict(f"tender {tender.reference} is {tender.status}; members score in scoring")
    if member.signed_at is not None:
        raise Conflict("your score sheet is signed and can no longer change")
    if member.scores and not replace:
        raise Conflict("you have already scored this tender; replace the sheet (PUT) before signing")
    bids = {str(b.id): b for b in tender.bids}
    sheet: dict[str, dict[str, Any]] = {str(k): dict(v) for k, v in scores.items()}
    try:
        validate_member_scores({"me": sheet}, list(bids), pure_criteria(tender))
    except ScoringRuleError as err:
        errors: dict[str, list[str]] = {}
        for fe in err.errors:
            field = fe.field.replace("member_scores[me]", "scores")
            errors.setdefault(field, []).append(fe.message.replace("member me", "you"))
        first = next(iter(errors))
        raise InvalidInput(f"{first}: {errors[first][0]}", errors) from None
    before = {str(k): {c: decimal_str(p) for c, p in v.items()} for k, v in sheet_of(member).items()}
    for old in list(member.scores):
        member.scores.remove(old)
        db.session.delete(old)  # unsigned draft sheet; the audit event keeps the old values
    db.session.flush()
    by_code = {c.code: c for c in tender.criteria}
    for bid_key, by_code_points in sheet.items():
        for code, points in by_code_points.items():
            member.scores.append(
                MemberScore(bid_id=bids[bid_key].id, criterion_id=by_code[code].id, points=_dec(points))
            )
    member.scored_at = utcnow()
    db.session.flush()
    record_event(
        "tender.sheet.replace" if replace else "tender.sheet.submit",
        member,
        subject_organisation_id=tender.agency_id,
        before=before or None,
        after={k: {c: decimal_str(_dec(p)) for c, p in v.items()} for k, v in sheet.items()},
    )
    return member


def sign_sheet(member: CommitteeMember) -> CommitteeMember:
    """Sign (submit) the sheet; it is immutable afterwards."""
    tender = member.tender
    if tender.status != TenderStatus.scoring:
        raise Conflict(f"tender {tender.reference} is {tender.status}; members sign in scoring")
    if member.signed_at is not None:
        raise Conflict("your score sheet is already signed")
    scored = [c for c in tender.criteria if not c.is_carbon]
    if scored and not member.scores:
        raise InvalidInput.for_field("scores", "enter your scores before signing")
    member.signed_at = utcnow()
    db.session.flush()
    record_event(
        "tender.sheet.sign",
        member,
        subject_organisation_id=tender.agency_id,
        after={"signed_at": member.signed_at},
    )
    return member


def member_totals(tender: Tender) -> dict[str, dict[str, Decimal]]:
    """``{bid_key: {member_key: total of scored criteria}}`` over entered sheets."""
    totals: dict[str, dict[str, Decimal]] = {}
    for m in tender.members:
        for bid_id, by_code in sheet_of(m).items():
            totals.setdefault(f"B{bid_id}", {})[member_key(m)] = sum(by_code.values(), Decimal(0))
    return totals


def divergence_flags(tender: Tender) -> list[dict[str, Any]]:
    """Members whose total for a bidder is far from the others' mean (採購評選委員會審議規則 §6)."""
    threshold = method_params_of(tender).divergence_threshold_points
    return [f.to_dict() for f in flag_divergent_scores(member_totals(tender), threshold)]


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def _history_dict(summary: Any) -> dict[str, Any]:
    raw = asdict(summary) if is_dataclass(summary) and not isinstance(summary, type) else dict(vars(summary))
    return {k: _json_numbers(v.isoformat() if isinstance(v, date) else v) for k, v in raw.items()}


def _history_of(summary: Any) -> CarbonHistory | None:
    if summary is None or not summary.has_history:
        return None
    return CarbonHistory(
        certified_share=Decimal(repr(float(summary.certified_share))),
        reduction_ratio=min(Decimal(1), Decimal(repr(float(summary.reduction_ratio)))),
        average_fulfilment=Decimal(repr(float(summary.average_fulfilment))),
    )


def history_from_snapshot(data: Mapping[str, Any] | None) -> CarbonHistory | None:
    """Rebuild the history input of the carbon score from a snapshot's history figures."""
    if not data or not data.get("has_history"):
        return None
    return CarbonHistory(
        certified_share=Decimal(str(data["certified_share"])),
        reduction_ratio=min(Decimal(1), Decimal(str(data["reduction_ratio"]))),
        average_fulfilment=Decimal(str(data["average_fulfilment"])),
    )


def _all_sheets(tender: Tender) -> dict[str, dict[str, dict[str, Decimal]]]:
    """Every member's sheet in one query: ``{member_key: {bid_key: {code: points}}}``."""
    scores: dict[str, dict[str, dict[str, Decimal]]] = {member_key(m): {} for m in tender.members}
    rows = db.session.execute(
        select(MemberScore.member_id, MemberScore.bid_id, Criterion.code, MemberScore.points)
        .join(Criterion, Criterion.id == MemberScore.criterion_id)
        .join(CommitteeMember, CommitteeMember.id == MemberScore.member_id)
        .where(CommitteeMember.tender_id == tender.id)
    )
    for member_id, bid_id, code, points in rows:
        scores[f"M{member_id}"].setdefault(f"B{bid_id}", {})[code] = points
    return scores


def evaluate_tender(tender: Tender) -> Evaluation:
    """Gather every input (signed sheets, bids, carbon scores from commitments and the bidders'
    verified history as of the evaluation date), run the tender's method and store the result
    with a full snapshot. Refused before every sheet is signed (409 naming the members)."""
    if tender.status not in (TenderStatus.scoring, TenderStatus.evaluated):
        raise Conflict(f"tender {tender.reference} is {tender.status}; evaluate after bidding closes")
    unsigned = [m for m in tender.members if m.signed_at is None]
    if unsigned:
        raise Conflict(
            "every committee member must sign the score sheet before evaluation",
            {"members": [f"{m.user.name} ({m.user.email}) has not signed" for m in unsigned]},
        )
    if not tender.bids:
        raise Conflict(f"tender {tender.reference} has no bids")
    as_of = tender.evaluation_date or date.today()
    tender.evaluation_date = as_of
    params = carbon_params_of(tender)
    _models, reg = _registry()
    bids = list(tender.bids)
    summaries = reg.history_summaries([b.bidder_id for b in bids], as_of, params.window_months)
    carbon: dict[str, Any] = {}
    bidders: list[Bidder] = []
    adjust: dict[str, Any] = {}
    for bid in bids:
        key = tender_key(bid)
        commitment = CarbonCommitment(bid.planned_certified_share, bid.planned_reduction_ratio)
        summary = summaries.get(bid.bidder_id)
        history = _history_of(summary)
        try:
            breakdown = carbon_score(commitment, history, params)
        except ScoringRuleError as err:
            raise _rule_error(err, f"bids[{bid.id}].") from None
        adj = adjustments.adjust_price(tender.price_adjustment, bid.price, breakdown.s_total, bid)
        if adj is not None:
            adjust[key] = adj
        carbon[key] = {
            "commitment": {
                "planned_certified_share": decimal_str(bid.planned_certified_share),
                "planned_reduction_ratio": decimal_str(bid.planned_reduction_ratio),
                "projected_co2_kg": decimal_str(bid.projected_co2_kg),
                "reference_co2_kg": decimal_str(bid.reference_co2_kg),
                "factor_refs": bid.factor_refs,
            },
            "history": _history_dict(summary) if summary is not None else None,
            "breakdown": breakdown.to_dict(),
        }
        bidders.append(
            Bidder(
                bidder_id=key,
                price=bid.price,
                carbon_score=breakdown.s_total,
                evaluated_price=_dec(adj["evaluated_price"]) if adj else None,
                structure_points=bid.structure_points,
                exclusion_reasons=() if breakdown.eligible_by_history else (breakdown.reason or "",),
            )
        )
    scores = _all_sheets(tender)
    inputs = EvaluationInputs(
        bidders=tuple(bidders),
        criteria=pure_criteria(tender),
        member_scores=scores,
        params=method_params_of(tender),
    )
    # Evaluate exactly what the snapshot stores: database Numeric scales ("45.0000") would
    # otherwise leak into texts such as tie-break values and break reproduction.
    inputs = EvaluationInputs.from_dict(inputs.to_dict())
    try:
        result = evaluate(tender.method, inputs)
    except ScoringRuleError as err:
        raise _rule_error(err) from None
    name_rows = db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_([b.bidder_id for b in bids]))
    )
    names = {org_id: name for org_id, name in name_rows}
    snapshot: dict[str, Any] = {
        "method": tender.method,
        "as_of": as_of.isoformat(),
        "inputs": inputs.to_dict(),
        "carbon_params": params.to_dict(),
        "carbon": carbon,
        "price_adjustment": {"settings": tender.price_adjustment, "bids": adjust},
        "sanction_k": decimal_str(tender.sanction_k),
        "bidders": {
            tender_key(b): {"bid_id": b.id, "organisation_id": b.bidder_id, "name": names[b.bidder_id]}
            for b in bids
        },
        "members": {
            member_key(m): {"member_id": m.id, "user_id": m.user_id, "name": m.user.name}
            for m in tender.members
        },
        "defaults_sources": {k: v.source for k, v in d.CARBON_SCORE_DEFAULTS.items()},
    }
    winner = result.winner_id
    evaluation = Evaluation(
        tender_id=tender.id,
        agency_id=tender.agency_id,
        method=tender.method,
        as_of=as_of,
        snapshot=snapshot,
        result=result.to_dict(),
        inputs_sha256=result.inputs_sha256,
        winner_bid_id=snapshot["bidders"][winner]["bid_id"] if winner else None,
    )
    tender.evaluations.append(evaluation)
    db.session.add(evaluation)
    before = str(tender.status)
    tender.status = TenderStatus.evaluated
    db.session.flush()
    record_event(
        "tender.evaluate",
        evaluation,
        subject_organisation_id=tender.agency_id,
        before={"status": before},
        after={
            "status": "evaluated",
            "tender_id": tender.id,
            "winner_bid_id": evaluation.winner_bid_id,
            "inputs_sha256": evaluation.inputs_sha256,
        },
    )
    return evaluation


@dataclass(frozen=True)
class Reproduction:
    identical: bool
    result: dict[str, Any]
    differences: list[str]


def reproduce_evaluation(evaluation: Evaluation) -> Reproduction:
    """Re-run an evaluation from its snapshot alone (carbon scores recomputed from the stored
    commitment and history figures, then the method) and compare with the stored result."""
    snap = evaluation.snapshot
    differences: list[str] = []
    params = CarbonScoreParams(**{k: v for k, v in snap["carbon_params"].items() if v is not None})
    inputs = EvaluationInputs.from_dict(snap["inputs"])
    for b in inputs.bidders:
        c = snap["carbon"][b.bidder_id]
        commitment = CarbonCommitment(
            c["commitment"]["planned_certified_share"], c["commitment"]["planned_reduction_ratio"]
        )
        again = carbon_score(commitment, history_from_snapshot(c["history"]), params)
        if again.s_total != b.carbon_score:
            differences.append(f"{b.bidder_id}: carbon score {again.s_total} != stored {b.carbon_score}")
    result = evaluate(snap["method"], inputs).to_dict()
    if result != evaluation.result:
        differences += [f"result.{k} differs" for k in result if result.get(k) != evaluation.result.get(k)]
    return Reproduction(not differences, result, differences)


def latest_evaluation(tender: Tender) -> Evaluation:
    evaluation = tender.latest_evaluation
    if evaluation is None:
        raise Conflict(f"tender {tender.reference} has not been evaluated")
    return evaluation


def publish_results(tender: Tender) -> Tender:
    """evaluated -> published: per-bidder results become public (like Japan's 入札調書)."""
    latest_evaluation(tender)
    tender.published_at = utcnow()
    _transition(tender, [TenderStatus.evaluated], TenderStatus.published, "tender.publish")
    return tender


def award_tender(tender: Tender) -> Tender:
    """published -> awarded: the winner of the latest evaluation; the project gets the winner as
    its contractor when it has none yet."""
    evaluation = latest_evaluation(tender)
    if evaluation.winner_bid_id is None:
        raise Conflict("the evaluation has no eligible winner to award")
    models, _ = _registry()
    bid = db.session.get(Bid, evaluation.winner_bid_id)
    assert bid is not None
    project = db.session.get(models.Project, tender.project_id)
    linked = False
    if project is not None and project.contractor_id != bid.bidder_id:
        # registry.award_project refuses (409) a project already given to another contractor.
        _m, reg = _registry()
        reg.award_project(project, bid.bidder_id)
        linked = True
    tender.awarded_bid_id = bid.id
    tender.awarded_at = utcnow()
    _transition(
        tender,
        [TenderStatus.published],
        TenderStatus.awarded,
        "tender.award",
        bid_id=bid.id,
        contractor_id=bid.bidder_id,
        project_linked=linked,
    )
    return tender


@dataclass(frozen=True)
class FulfilmentResult:
    outcome: Any
    committed_share: Decimal
    actual_share: Decimal
    fulfilment: Decimal
    advantage: Decimal
    sanction_amount: Decimal


def record_fulfilment(tender: Tender) -> FulfilmentResult:
    """After award: the winner's certified share on the project's logs against its commitment
    (fulfilment = min(1, actual / committed), registry.carbon.commitment_fulfilment); a missed
    commitment carries a sanction of k × the price advantage received (scoring.methods.
    commitment_sanction, k per tender, default 1.5). Recorded once through the registry so the
    contractor's history shows it and later tenders use it."""
    if tender.status != TenderStatus.awarded or tender.awarded_bid_id is None:
        raise Conflict(f"tender {tender.reference} is {tender.status}; fulfilment needs an award")
    models, reg = _registry()
    done = db.session.scalar(
        select(models.CommitmentOutcome.id).where(models.CommitmentOutcome.tender_ref == tender.id)
    )
    if done is not None:
        raise Conflict(f"the commitment outcome of tender {tender.reference} is already recorded")
    bid = db.session.get(Bid, tender.awarded_bid_id)
    assert bid is not None
    summary = reg.project_usage_summary(tender.project_id, bid.bidder_id)
    if not summary.has_history:
        raise Conflict("no usage logs filed on the project yet; fulfilment cannot be computed")
    actual = Decimal(repr(float(summary.certified_share)))
    committed = bid.planned_certified_share
    fulfilment = Decimal(repr(co2.commitment_fulfilment(float(actual), float(committed))))
    evaluation = latest_evaluation(tender)
    stored: dict[str, Any] = evaluation.snapshot.get("price_adjustment") or {}
    adj: dict[str, Any] | None = (stored.get("bids") or {}).get(tender_key(bid))
    advantage = Decimal(0)
    if adj:
        if adj["rule"] == "shadow_carbon_price":
            advantage = shadow_carbon_advantage(
                Decimal(str(adj["detail"]["projected_tco2"])),
                Decimal(repr(float(summary.actual_co2_kg))) / 1000,
                Decimal(str(adj["detail"]["carbon_price_per_t"])),
            )
        else:
            advantage = Decimal(str(adj["advantage"]))
    sanction = commitment_sanction(advantage, fulfilment, tender.sanction_k)
    reason = (
        f"tender {tender.reference}: committed certified share {committed}, actual {actual:.4f}, "
        f"fulfilment {fulfilment:.4f}"
        + (f"; sanction {tender.sanction_k} × advantage {advantage:.2f}" if sanction else "")
    )
    outcome = reg.record_commitment_outcome(
        bid.bidder_id,
        tender.project_id,
        tender.id,
        committed,
        actual,
        sanction.quantize(Decimal("0.01")) if sanction else None,
        reason,
    )
    return FulfilmentResult(outcome, committed, actual, fulfilment, advantage, sanction)


# --------------------------------------------------------------------------------------------
# Access and queries
# --------------------------------------------------------------------------------------------


def visible_tenders(actor: User) -> Select[Any]:
    """Tenders the actor may list: the agency's own; a committee member's seats; contractors see
    tenders past draft (to bid); admins all."""
    stmt = select(Tender).order_by(Tender.id.desc())
    if actor.is_admin:
        return stmt
    conds = []
    if actor.has_role(Role.agency):
        conds.append(Tender.agency_id == actor.organisation_id)
    if actor.has_role(Role.committee):
        conds.append(
            Tender.id.in_(select(CommitteeMember.tender_id).where(CommitteeMember.user_id == actor.id))
        )
    if actor.has_role(Role.contractor):
        conds.append(Tender.status != TenderStatus.draft)
    if not conds:
        return stmt.where(Tender.id.is_(None))
    return stmt.where(or_(*conds))


def access_of(tender: Tender, actor: User) -> str:
    """'agency' (owner/admin), 'member', 'bidder' or raise NotFound (never reveal)."""
    if actor.is_admin or (actor.has_role(Role.agency) and tender.agency_id == actor.organisation_id):
        return "agency"
    if actor.has_role(Role.committee) and any(m.user_id == actor.id for m in tender.members):
        return "member"
    if actor.has_role(Role.contractor) and tender.status != TenderStatus.draft:
        return "bidder"
    raise NotFound(f"Tender {tender.id} not found.")


def get_tender(tender_id: int, actor: User, *, need: str | None = None) -> tuple[Tender, str]:
    """Load a tender the actor may see; ``need`` ('agency'/'member'/'bidder') else 404/403."""
    tender = db.session.get(Tender, tender_id)
    if tender is None:
        raise NotFound(f"Tender {tender_id} not found.")
    access = access_of(tender, actor)
    if need is not None and access != need:
        if need == "agency":
            raise NotFound(f"Tender {tender_id} not found.")
        raise Forbidden(f"this needs the {need} role on tender {tender.reference}")
    return tender, access


def own_bid(tender: Tender, organisation_id: int) -> Bid | None:
    return next((b for b in tender.bids if b.bidder_id == organisation_id), None)
