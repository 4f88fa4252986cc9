"""Tender evaluation methods: pure functions over plain inputs.

A tender picks one method (DESIGN.md "Tender evaluation methods"):

* ``tw_total`` 總評分法 (最有利標評選辦法 §12, ties §14)
* ``tw_rank`` 序位法 (最有利標評選辦法 §15, ties §15-1)
* ``tw_price_per_score`` 評分單價法 (最有利標評選辦法 §13, ties §14)
* ``jp_division`` 除算方式 (国土交通省 総合評価落札方式)
* ``jp_addition`` 加算方式 (国土交通省 総合評価落札方式)
* ``meat_weighted`` price-quality ratio (EU Directive 2014/24/EU Art. 67)

Inputs are plain dataclasses (bidders with prices and carbon scores S, criteria with max points and
weights, committee scores ``member -> bidder -> criterion -> points``). The carbon criterion's
points are computed by the system, ``max_points × S / 100``, and injected identically for every
member. Results are dataclasses with ``to_dict()`` (JSON-safe) so an evaluation can be stored as a
snapshot and recomputed to prove it is reproducible.

Arithmetic: every number is a ``Decimal`` evaluated in :data:`DECIMAL_CONTEXT` (28 significant
digits, half-even), whatever the caller's thread context. Floats given by a caller are read through
``repr`` (the shortest decimal that round-trips), so ``82.5`` is exactly ``Decimal("82.5")``.
Decimal
arithmetic keeps ties exact (two bidders with the same score sums tie, whatever the summation
order), which matters because a tie changes who wins. ``to_dict()`` writes decimals as strings so
nothing is lost in JSON; parse them back with ``Decimal``.

No Flask, no database: services, API, CLI, reports and benchmarks reuse these functions.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from scoring import defaults as d

Number = Decimal | int | float | str

#: Decimal context used by every public function of the scoring package.
DECIMAL_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)

_P = ParamSpec("_P")
_R = TypeVar("_R")


# --------------------------------------------------------------------------------------------
# Errors and number handling
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field (a path such as ``member_scores[m1][B][q]``)."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class ScoringRuleError(ValueError):
    """An input breaks a scoring rule. ``field`` names the (first) offending input.

    ``errors`` lists every problem found, so an API can answer 422 with all fields at once.
    """

    def __init__(self, message: str, field: str, errors: Sequence[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors: tuple[FieldError, ...] = tuple(errors) if errors else (FieldError(field, message),)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _raise_if(errors: Sequence[FieldError]) -> None:
    if not errors:
        return
    first = errors[0]
    message = first.message if len(errors) == 1 else f"{first.message} (+{len(errors) - 1} more)"
    raise ScoringRuleError(message, first.field, errors)


def to_decimal(value: Number | None, field: str) -> Decimal:
    """Read a number as a finite ``Decimal``; floats via ``repr``. Errors name ``field``."""
    if isinstance(value, bool) or value is None:
        raise ScoringRuleError(f"a number is required, got {value!r}", field)
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ScoringRuleError(f"must be a finite number, got {value!r}", field)
            result = Decimal(repr(value))
        else:
            result = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise ScoringRuleError(f"not a number: {value!r}", field) from None
    if not result.is_finite():
        raise ScoringRuleError(f"must be a finite number, got {value!r}", field)
    return result


def optional_decimal(value: Number | None, field: str) -> Decimal | None:
    """:func:`to_decimal`, passing None through."""
    return None if value is None else to_decimal(value, field)


def with_decimal_context(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``fn`` in :data:`DECIMAL_CONTEXT` so results never depend on the caller's context."""

    @wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(DECIMAL_CONTEXT):
            return fn(*args, **kwargs)

    return wrapper


def decimal_str(value: Decimal | None) -> str | None:
    """Decimal -> exact plain JSON string without trailing zeros ("20", "28.5"); None stays None."""
    if value is None:
        return None
    if value == 0:
        return "0"
    return format(value.normalize(DECIMAL_CONTEXT), "f")


def _set(obj: object, name: str, value: object) -> None:
    # Frozen dataclasses normalise their own fields once, in __post_init__.
    object.__setattr__(obj, name, value)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    """An evaluation criterion (評選項目) with its points (配分) and optional weight (權重).

    ``is_carbon``: the system computes this criterion as ``max_points × S / 100`` from the
    bidder's carbon score S; committee members do not score it.
    """

    code: str
    max_points: Decimal
    name: str = ""
    weight: Decimal | None = None
    is_carbon: bool = False

    def __post_init__(self) -> None:
        _set(self, "max_points", to_decimal(self.max_points, f"criteria[{self.code}].max_points"))
        _set(self, "weight", optional_decimal(self.weight, f"criteria[{self.code}].weight"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "max_points": decimal_str(self.max_points),
            "weight": decimal_str(self.weight),
            "is_carbon": self.is_carbon,
        }


@dataclass(frozen=True)
class Bidder:
    """A bid: price (標價 / 入札価格) and the inputs the system computes points from.

    ``carbon_score``: S (0–100) from :func:`scoring.carbon_score.carbon_score`.
    ``evaluated_price``: the price used for ranking after optional carbon adjustments
    (CO2-ladder discount, shadow carbon price); the ceiling check always uses ``price``.
    ``structure_points``: 施工体制評価点 (MLIT), added to the technical score by the jp methods.
    ``exclusion_reasons``: reasons found elsewhere (documents, minimum history score …) that make
    the bid ineligible; they are reported with the method's own reasons.
    """

    bidder_id: str
    price: Decimal
    carbon_score: Decimal | None = None
    evaluated_price: Decimal | None = None
    structure_points: Decimal = _ZERO
    exclusion_reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        prefix = f"bidders[{self.bidder_id}]"
        _set(self, "price", to_decimal(self.price, f"{prefix}.price"))
        _set(self, "carbon_score", optional_decimal(self.carbon_score, f"{prefix}.carbon_score"))
        _set(
            self,
            "evaluated_price",
            optional_decimal(self.evaluated_price, f"{prefix}.evaluated_price"),
        )
        _set(
            self,
            "structure_points",
            to_decimal(self.structure_points, f"{prefix}.structure_points"),
        )
        _set(self, "exclusion_reasons", tuple(self.exclusion_reasons))

    @property
    def ranking_price(self) -> Decimal:
        """The price the method ranks on: the evaluated price when one is given."""
        return self.price if self.evaluated_price is None else self.evaluated_price

    def to_dict(self) -> dict[str, Any]:
        return {
            "bidder_id": self.bidder_id,
            "price": decimal_str(self.price),
            "carbon_score": decimal_str(self.carbon_score),
            "evaluated_price": decimal_str(self.evaluated_price),
            "structure_points": decimal_str(self.structure_points),
            "exclusion_reasons": list(self.exclusion_reasons),
        }


@dataclass(frozen=True)
class MethodParams:
    """Per-tender method parameters; defaults and their sources are in :mod:`scoring.defaults`.

    ``pass_mark`` applies to the tw_* methods (及格分數, on the mean total).
    ``total_points``: declared 總滿分; when set, criteria points must add up to it.
    ``ceiling_price``: 予定価格 / 底價 or budget; required by jp_*; optional elsewhere.
    ``price_allotment_points``: 価格評価点の満点 (jp_addition).
    ``price_weight``: weight of price in meat_weighted (criteria weights + price weight = 1).
    """

    pass_mark: Decimal = d.PASS_MARK.value
    total_points: Decimal | None = None
    ceiling_price: Decimal | None = None
    standard_points: Decimal = d.JP_STANDARD_POINTS.value
    value_scale: Decimal = d.JP_VALUE_SCALE.value
    price_allotment_points: Decimal | None = None
    price_weight: Decimal | None = None
    meat_score_scale: Decimal = d.MEAT_SCORE_SCALE.value
    divergence_threshold_points: Decimal = d.DIVERGENCE_THRESHOLD_POINTS.value
    draw_seed: int = d.DRAW_SEED.value

    def __post_init__(self) -> None:
        for name in (
            "pass_mark",
            "standard_points",
            "value_scale",
            "meat_score_scale",
            "divergence_threshold_points",
        ):
            _set(self, name, to_decimal(getattr(self, name), f"params.{name}"))
        for name in ("total_points", "ceiling_price", "price_allotment_points", "price_weight"):
            _set(self, name, optional_decimal(getattr(self, name), f"params.{name}"))
        if isinstance(self.draw_seed, bool) or not isinstance(self.draw_seed, int):
            raise ScoringRuleError("must be an integer", "params.draw_seed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "pass_mark": decimal_str(self.pass_mark),
            "total_points": decimal_str(self.total_points),
            "ceiling_price": decimal_str(self.ceiling_price),
            "standard_points": decimal_str(self.standard_points),
            "value_scale": decimal_str(self.value_scale),
            "price_allotment_points": decimal_str(self.price_allotment_points),
            "price_weight": decimal_str(self.price_weight),
            "meat_score_scale": decimal_str(self.meat_score_scale),
            "divergence_threshold_points": decimal_str(self.divergence_threshold_points),
            "draw_seed": self.draw_seed,
        }


MemberScores = Mapping[str, Mapping[str, Mapping[str, Decimal]]]


@dataclass(frozen=True)
class EvaluationInputs:
    """Everything an evaluation needs; ``member_scores[member][bidder][criterion] = points``."""

    bidders: tuple[Bidder, ...]
    criteria: tuple[Criterion, ...]
    member_scores: MemberScores = field(default_factory=dict)
    params: MethodParams = field(default_factory=MethodParams)

    def __post_init__(self) -> None:
        _set(self, "bidders", tuple(self.bidders))
        _set(self, "criteria", tuple(self.criteria))
        scores: dict[str, dict[str, dict[str, Decimal]]] = {}
        for member, by_bidder in self.member_scores.items():
            scores[member] = {}
            for bidder, by_criterion in by_bidder.items():
                scores[member][bidder] = {
                    code: to_decimal(points, f"member_scores[{member}][{bidder}][{code}]")
                    for code, points in by_criterion.items()
                }
        _set(self, "member_scores", scores)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe snapshot (sorted keys where order carries no meaning)."""
        return {
            "bidders": [b.to_dict() for b in sorted(self.bidders, key=lambda b: b.bidder_id)],
            "criteria": [c.to_dict() for c in self.criteria],
            "member_scores": {
                member: {
                    bidder: {code: decimal_str(pts) for code, pts in sorted(by_c.items())}
                    for bidder, by_c in sorted(by_b.items())
                }
                for member, by_b in sorted(self.member_scores.items())
            },
            "params": self.params.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationInputs:
        """Rebuild inputs from :meth:`to_dict` output (a stored snapshot)."""
        params = dict(data.get("params") or {})
        return cls(
            bidders=tuple(
                Bidder(
                    bidder_id=b["bidder_id"],
                    price=b["price"],
                    carbon_score=b.get("carbon_score"),
                    evaluated_price=b.get("evaluated_price"),
                    structure_points=b.get("structure_points") or _ZERO,
                    exclusion_reasons=tuple(b.get("exclusion_reasons") or ()),
                )
                for b in data["bidders"]
            ),
            criteria=tuple(
                Criterion(
                    code=c["code"],
                    max_points=c["max_points"],
                    name=c.get("name", ""),
                    weight=c.get("weight"),
                    is_carbon=bool(c.get("is_carbon", False)),
                )
                for c in data["criteria"]
            ),
            member_scores=data.get("member_scores") or {},
            params=MethodParams(**{k: v for k, v in params.items() if v is not None}),
        )

    def sha256(self) -> str:
        """Digest of the canonical JSON snapshot; stored with the result to tie it to its inputs."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _check_weights(
    weights: Mapping[str, Decimal], field_prefix: str, *, must_sum_to_one: bool
) -> list[FieldError]:
    errors = [
        FieldError(f"{field_prefix}[{key}]", f"weight must be within [0, 1], got {w}")
        for key, w in weights.items()
        if not _ZERO <= w <= _ONE
    ]
    if must_sum_to_one and not errors:
        total = sum(weights.values(), _ZERO)
        if abs(total - _ONE) > d.WEIGHT_SUM_TOLERANCE.value:
            errors.append(FieldError(field_prefix, f"weights must sum to 1, they sum to {total}"))
    return errors


@with_decimal_context
def validate_weights(
    weights: Mapping[str, Number], field: str = "weights", *, must_sum_to_one: bool = True
) -> None:
    """Weights (權重) must lie in [0, 1] and, where they split a whole, sum to 1.

    Rule: 最有利標評選辦法 §7 (配分或權重應能適當反應其重要性); EU 2014/24 Art. 67(5).
    """
    decimals = {k: to_decimal(w, f"{field}[{k}]") for k, w in weights.items()}
    _raise_if(_check_weights(decimals, field, must_sum_to_one=must_sum_to_one))


def _check_criteria(criteria: Sequence[Criterion], total_points: Decimal | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if not criteria:
        return errors
    seen: set[str] = set()
    for c in criteria:
        if c.code in seen:
            errors.append(FieldError(f"criteria[{c.code}]", "duplicate criterion code"))
        seen.add(c.code)
        if c.max_points <= 0:
            errors.append(
                FieldError(f"criteria[{c.code}].max_points", f"max points must be > 0, got {c.max_points}")
            )
        if c.weight is not None and not _ZERO <= c.weight <= _ONE:
            errors.append(
                FieldError(f"criteria[{c.code}].weight", f"weight must be within [0, 1], got {c.weight}")
            )
    carbon = [c.code for c in criteria if c.is_carbon]
    if len(carbon) > 1:
        errors.append(FieldError("criteria", f"at most one carbon criterion, got {carbon}"))
    if total_points is not None:
        points = sum((c.max_points for c in criteria), _ZERO)
        if points != total_points:
            errors.append(
                FieldError(
                    "params.total_points",
                    f"criteria points sum to {points}, not the declared total {total_points} "
                    "(最有利標評選辦法 §3 總滿分)",
                )
            )
    return errors


@with_decimal_context
def validate_criteria(criteria: Sequence[Criterion], total_points: Number | None = None) -> None:
    """Criteria: unique codes, positive points, at most one carbon criterion, and points that
    add up to the declared 總滿分 (最有利標評選辦法 §3) when one is declared."""
    _raise_if(_check_criteria(criteria, optional_decimal(total_points, "total_points")))


def _check_member_scores(
    member_scores: MemberScores,
    bidder_ids: Sequence[str],
    criteria: Sequence[Criterion],
) -> list[FieldError]:
    errors: list[FieldError] = []
    by_code = {c.code: c for c in criteria}
    scored = [c for c in criteria if not c.is_carbon]
    known_bidders = set(bidder_ids)
    if scored and not member_scores:
        errors.append(FieldError("member_scores", "no committee member scores were given"))
    for member in sorted(member_scores):
        by_bidder = member_scores[member]
        for bidder in sorted(set(by_bidder) - known_bidders):
            errors.append(
                FieldError(
                    f"member_scores[{member}][{bidder}]",
                    f"member {member} scored unknown bidder {bidder}",
                )
            )
        for bidder in bidder_ids:
            given = by_bidder.get(bidder, {})
            for code in sorted(set(given) - set(by_code)):
                errors.append(
                    FieldError(
                        f"member_scores[{member}][{bidder}][{code}]",
                        f"member {member} scored unknown criterion {code} for bidder {bidder}",
                    )
                )
            for c in criteria:
                where = f"member_scores[{member}][{bidder}][{c.code}]"
                if c.is_carbon:
                    if c.code in given:
                        errors.append(
                            FieldError(
                                where,
                                f"criterion {c.code} is the carbon criterion, computed by the "
                                "system "
                                f"(max_points × S / 100); member {member} must not score it",
                            )
                        )
                    continue
                if c.code not in given:
                    errors.append(
                        FieldError(
                            where,
                            f"member {member} has no score for bidder {bidder} on criterion {c.code}",
                        )
                    )
                    continue
                pts = given[c.code]
                if not _ZERO <= pts <= c.max_points:
                    errors.append(
                        FieldError(
                            where,
                            f"member {member}'s score {pts} for bidder {bidder} on criterion "
                            f"{c.code} is outside [0, {c.max_points}]",
                        )
                    )
    return errors


@with_decimal_context
def validate_member_scores(
    member_scores: MemberScores, bidder_ids: Sequence[str], criteria: Sequence[Criterion]
) -> None:
    """Every member scores every bidder on every non-carbon criterion, within [0, max points]
    (最有利標評選辦法 §19: scores follow the criteria and points in the tender documents).
    Errors name member, bidder and criterion."""
    decimals = EvaluationInputs(bidders=(), criteria=(), member_scores=member_scores).member_scores
    _raise_if(_check_member_scores(decimals, bidder_ids, criteria))


_NEEDS_CEILING = {"jp_division", "jp_addition"}


def _check_inputs(method: str, inputs: EvaluationInputs) -> list[FieldError]:
    errors: list[FieldError] = []
    p = inputs.params
    if not inputs.bidders:
        errors.append(FieldError("bidders", "at least one bidder is required"))
    ids = [b.bidder_id for b in inputs.bidders]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        errors.append(FieldError(f"bidders[{dup}]", "duplicate bidder id"))
    has_carbon = any(c.is_carbon for c in inputs.criteria)
    for b in inputs.bidders:
        prefix = f"bidders[{b.bidder_id}]"
        if b.price <= 0:
            errors.append(FieldError(f"{prefix}.price", f"price must be > 0, got {b.price}"))
        if b.evaluated_price is not None and b.evaluated_price <= 0:
            errors.append(
                FieldError(
                    f"{prefix}.evaluated_price",
                    f"evaluated price must be > 0, got {b.evaluated_price}",
                )
            )
        if b.structure_points < 0:
            errors.append(FieldError(f"{prefix}.structure_points", f"must be >= 0, got {b.structure_points}"))
        if b.carbon_score is not None and not _ZERO <= b.carbon_score <= _HUNDRED:
            errors.append(
                FieldError(
                    f"{prefix}.carbon_score",
                    f"carbon score must be within [0, 100], got {b.carbon_score}",
                )
            )
        if has_carbon and b.carbon_score is None:
            errors.append(
                FieldError(
                    f"{prefix}.carbon_score",
                    "the tender has a carbon criterion; a carbon score is needed",
                )
            )
    errors += _check_criteria(inputs.criteria, p.total_points)
    errors += _check_member_scores(inputs.member_scores, ids, inputs.criteria)
    if method == "tw_rank" and not inputs.member_scores:
        errors.append(FieldError("member_scores", "序位法 needs committee members' scores"))
    full = (
        p.total_points if p.total_points is not None else sum((c.max_points for c in inputs.criteria), _ZERO)
    )
    if method.startswith("tw_") and not _ZERO <= p.pass_mark <= full:
        errors.append(
            FieldError("params.pass_mark", f"pass mark must be within [0, {full}], got {p.pass_mark}")
        )
    if p.ceiling_price is not None and p.ceiling_price <= 0:
        errors.append(FieldError("params.ceiling_price", "ceiling price must be > 0"))
    if method in _NEEDS_CEILING and p.ceiling_price is None:
        errors.append(FieldError("params.ceiling_price", f"{method} needs the ceiling price (予定価格)"))
    if p.divergence_threshold_points < 0:
        errors.append(FieldError("params.divergence_threshold_points", "must be >= 0"))
    if method == "jp_division":
        if p.standard_points <= 0:
            errors.append(FieldError("params.standard_points", "standard points must be > 0"))
        if p.value_scale <= 0:
            errors.append(FieldError("params.value_scale", "value scale must be > 0"))
    if method == "jp_addition":
        if p.price_allotment_points is None:
            errors.append(
                FieldError(
                    "params.price_allotment_points",
                    "jp_addition needs the price allotment (価格評価点の満点)",
                )
            )
        elif p.price_allotment_points < 0:
            errors.append(FieldError("params.price_allotment_points", "must be >= 0"))
    if method == "meat_weighted":
        errors += _check_meat_weights(inputs)
    return errors


def _check_meat_weights(inputs: EvaluationInputs) -> list[FieldError]:
    p = inputs.params
    if p.price_weight is None:
        return [FieldError("params.price_weight", "meat_weighted needs the price weight")]
    errors = [
        FieldError(f"criteria[{c.code}].weight", "meat_weighted needs a weight on every criterion")
        for c in inputs.criteria
        if c.weight is None
    ]
    if errors:
        return errors
    weights = {"price": p.price_weight}
    weights.update({c.code: c.weight for c in inputs.criteria if c.weight is not None})
    return _check_weights(weights, "weights", must_sum_to_one=True)


@with_decimal_context
def validate_inputs(method: str, inputs: EvaluationInputs) -> None:
    """Check inputs against the rules of ``method``; raise one :class:`ScoringRuleError` listing
    every problem (each naming its field: member, bidder, criterion or parameter)."""
    if method not in METHODS:
        raise ScoringRuleError(
            f"unknown evaluation method {method!r}; choose one of {sorted(METHODS)}", "method"
        )
    _raise_if(_check_inputs(method, inputs))


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TieBreakStep:
    """One step of a tie-break: the rule applied, to whom, the values compared, and the groups
    it left (in order; a group of several bidders is still tied after this step)."""

    rule: str
    source: str
    among: tuple[str, ...]
    values: Mapping[str, str]
    groups: tuple[tuple[str, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "source": self.source,
            "among": list(self.among),
            "values": dict(sorted(self.values.items())),
            "groups": [list(g) for g in self.groups],
        }


@dataclass(frozen=True)
class TieBreakRecord:
    """How one group of bidders with the same method value was put in order."""

    bidder_ids: tuple[str, ...]
    method_value: Decimal
    steps: tuple[TieBreakStep, ...]
    order: tuple[str, ...]
    draw_seed: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "bidder_ids": list(self.bidder_ids),
            "method_value": decimal_str(self.method_value),
            "steps": [s.to_dict() for s in self.steps],
            "order": list(self.order),
            "draw_seed": self.draw_seed,
        }


@dataclass(frozen=True)
class DivergenceFlag:
    """A member's total for a bidder is far from the other members' mean
    (採購評選委員會審議規則 §6 ¶2: 明顯差異 → committee decision or 複評)."""

    bidder_id: str
    member_id: str
    member_total: Decimal
    others_mean: Decimal
    difference: Decimal
    threshold_points: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "bidder_id": self.bidder_id,
            "member_id": self.member_id,
            "member_total": decimal_str(self.member_total),
            "others_mean": decimal_str(self.others_mean),
            "difference": decimal_str(self.difference),
            "threshold_points": decimal_str(self.threshold_points),
        }


@dataclass(frozen=True)
class BidderResult:
    """One bidder's outcome.

    ``total``: mean of the members' totals (總評分; 加算点 for the jp methods), carbon points
    included. ``components``: the method's parts (e.g. price_points, technical_points).
    ``method_value``: the figure the method ranks on (None when not computed because the bid is
    ineligible before it could be). ``position``: 1 = winner; None when ineligible.
    ``tie_break``: the rule that finally set this bidder's place within a tie, if it was tied.
    """

    bidder_id: str
    price: Decimal
    evaluated_price: Decimal
    carbon_score: Decimal | None
    carbon_points: Decimal | None
    member_totals: Mapping[str, Decimal]
    total: Decimal
    member_ranks: Mapping[str, Decimal]
    rank_sum: Decimal | None
    first_places: int | None
    components: Mapping[str, Decimal]
    method_value: Decimal | None
    eligible: bool
    reasons: tuple[str, ...]
    position: int | None
    winner: bool
    tie_break: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "bidder_id": self.bidder_id,
            "price": decimal_str(self.price),
            "evaluated_price": decimal_str(self.evaluated_price),
            "carbon_score": decimal_str(self.carbon_score),
            "carbon_points": decimal_str(self.carbon_points),
            "member_totals": {m: decimal_str(v) for m, v in sorted(self.member_totals.items())},
            "total": decimal_str(self.total),
            "member_ranks": {m: decimal_str(v) for m, v in sorted(self.member_ranks.items())},
            "rank_sum": decimal_str(self.rank_sum),
            "first_places": self.first_places,
            "components": {k: decimal_str(v) for k, v in sorted(self.components.items())},
            "method_value": decimal_str(self.method_value),
            "eligible": self.eligible,
            "reasons": list(self.reasons),
            "position": self.position,
            "winner": self.winner,
            "tie_break": self.tie_break,
        }


@dataclass(frozen=True)
class EvaluationResult:
    """The outcome of one evaluation: per-bidder results ordered by position (ineligible bidders
    last, by id), the winner, every tie-break and every member-difference flag."""

    method: str
    method_name: str
    source: str
    value_label: str
    higher_is_better: bool
    params: MethodParams
    bidders: tuple[BidderResult, ...]
    winner_id: str | None
    tie_breaks: tuple[TieBreakRecord, ...]
    divergence_flags: tuple[DivergenceFlag, ...]
    inputs_sha256: str

    def bidder(self, bidder_id: str) -> BidderResult:
        """The result of one bidder (KeyError if unknown)."""
        for r in self.bidders:
            if r.bidder_id == bidder_id:
                return r
        raise KeyError(bidder_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "method_name": self.method_name,
            "source": self.source,
            "value_label": self.value_label,
            "higher_is_better": self.higher_is_better,
            "params": self.params.to_dict(),
            "bidders": [b.to_dict() for b in self.bidders],
            "winner_id": self.winner_id,
            "tie_breaks": [t.to_dict() for t in self.tie_breaks],
            "divergence_flags": [f.to_dict() for f in self.divergence_flags],
            "inputs_sha256": self.inputs_sha256,
        }


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------


@with_decimal_context
def mean_ranks(values: Mapping[str, Number], *, higher_is_better: bool = True) -> dict[str, Decimal]:
    """Rank keys by value, 1 = best; tied keys share the mean of the ranks they occupy
    (two tied for 2nd both get 2.5). 序位法 per member (最有利標評選辦法 §15)."""
    decimals = {k: to_decimal(v, f"values[{k}]") for k, v in values.items()}
    ordered = sorted(decimals, key=lambda k: -decimals[k] if higher_is_better else decimals[k])
    ranks: dict[str, Decimal] = {}
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and decimals[ordered[j + 1]] == decimals[ordered[i]]:
            j += 1
        shared = Decimal(i + 1 + j + 1) / 2  # mean of ranks i+1 .. j+1
        for k in ordered[i : j + 1]:
            ranks[k] = shared
        i = j + 1
    return ranks


@with_decimal_context
def flag_divergent_scores(
    member_totals: Mapping[str, Mapping[str, Number]],
    threshold_points: Number | None = None,
) -> list[DivergenceFlag]:
    """Flag each member whose total for a bidder differs from the mean of the *other* members'
    totals for that bidder by more than ``threshold_points`` (default
    :data:`scoring.defaults.DIVERGENCE_THRESHOLD_POINTS`, 20).

    ``member_totals``: ``{bidder_id: {member_id: total}}``. Leaving the member out of the mean
    keeps one outlier from hiding itself by pulling the mean. Committees have 5–17 members
    (採購評選委員會組織準則 §4); with only 3, one far outlier also moves the others' means and
    they may be flagged as well. Rule: 採購評選委員會審議規則 §6 ¶2 (明顯差異 → the convener
    puts it to the committee or orders a 複評); the rule gives no number.
    """
    threshold = to_decimal(
        d.DIVERGENCE_THRESHOLD_POINTS.value if threshold_points is None else threshold_points,
        "threshold_points",
    )
    if threshold < 0:
        raise ScoringRuleError("threshold must be >= 0", "threshold_points")
    flags: list[DivergenceFlag] = []
    for bidder in sorted(member_totals):
        totals = {m: to_decimal(v, f"member_totals[{bidder}][{m}]") for m, v in member_totals[bidder].items()}
        if len(totals) < 2:
            continue
        grand = sum(totals.values(), _ZERO)
        for member in sorted(totals):
            others_mean = (grand - totals[member]) / (len(totals) - 1)
            diff = totals[member] - others_mean
            if abs(diff) > threshold:
                flags.append(DivergenceFlag(bidder, member, totals[member], others_mean, diff, threshold))
    return flags


@dataclass(frozen=True)
class _Sheet:
    """Scores assembled once per evaluation (carbon points injected for every member)."""

    members: tuple[str, ...]
    carbon_points: dict[str, Decimal | None]
    member_totals: dict[str, dict[str, Decimal]]
    criterion_sums: dict[str, dict[str, Decimal]]  # Σ over members (得分合計值)
    totals: dict[str, Decimal]

    def criterion_mean(self, bidder: str, code: str) -> Decimal:
        n = len(self.members)
        return self.criterion_sums[bidder][code] / n if n else self.criterion_sums[bidder][code]


def _build_sheet(inputs: EvaluationInputs) -> _Sheet:
    members = tuple(sorted(inputs.member_scores))
    carbon = next((c for c in inputs.criteria if c.is_carbon), None)
    carbon_points: dict[str, Decimal | None] = {}
    member_totals: dict[str, dict[str, Decimal]] = {}
    criterion_sums: dict[str, dict[str, Decimal]] = {}
    totals: dict[str, Decimal] = {}
    for b in inputs.bidders:
        cp: Decimal | None = None
        if carbon is not None and b.carbon_score is not None:
            cp = carbon.max_points * b.carbon_score / _HUNDRED
        carbon_points[b.bidder_id] = cp
        sums: dict[str, Decimal] = {}
        for c in inputs.criteria:
            if c.is_carbon:
                # Identical for every member, so the sum is n × points (one "member" if none).
                sums[c.code] = (cp or _ZERO) * max(len(members), 1)
            else:
                sums[c.code] = sum((inputs.member_scores[m][b.bidder_id][c.code] for m in members), _ZERO)
        per_member = {
            m: sum(
                (inputs.member_scores[m][b.bidder_id][c.code] for c in inputs.criteria if not c.is_carbon),
                _ZERO,
            )
            + (cp or _ZERO)
            for m in members
        }
        member_totals[b.bidder_id] = per_member
        criterion_sums[b.bidder_id] = sums
        totals[b.bidder_id] = sum(per_member.values(), _ZERO) / len(members) if members else (cp or _ZERO)
    return _Sheet(members, carbon_points, member_totals, criterion_sums, totals)


@dataclass(frozen=True)
class _TieRule:
    name: str
    source: str
    value: Callable[[str], Decimal]
    higher_is_better: bool = True


_DRAW_SOURCE = (
    "最有利標評選辦法 §14, §15-1 (抽籤決定之) / 予算決算及び会計令 §83 (くじ): recorded draw; "
    "order = ascending sha256('<seed>:<bidder_id>')"
)


def _draw_key(seed: int, bidder_id: str) -> str:
    # A hash of seed and id: reproducible, independent of input order, and explainable.
    return hashlib.sha256(f"{seed}:{bidder_id}".encode()).hexdigest()


def _group_by_value(
    ids: Iterable[str], values: Mapping[str, Decimal], higher_is_better: bool
) -> list[list[str]]:
    ordered = sorted(ids, key=lambda b: (-values[b] if higher_is_better else values[b], b))
    groups: list[list[str]] = []
    for b in ordered:
        if groups and values[groups[-1][0]] == values[b]:
            groups[-1].append(b)
        else:
            groups.append([b])
    return groups


def _resolve_tie(
    group: list[str],
    rules: Sequence[_TieRule],
    seed: int,
    steps: list[TieBreakStep],
    decided_by: dict[str, str],
) -> list[str]:
    if len(group) == 1:
        return group
    among = tuple(sorted(group))
    if not rules:
        keys = {b: _draw_key(seed, b) for b in group}
        drawn = sorted(group, key=lambda b: (keys[b], b))
        steps.append(TieBreakStep("draw", _DRAW_SOURCE, among, keys, tuple((b,) for b in drawn)))
        decided_by.update(dict.fromkeys(group, "draw"))
        return drawn
    rule = rules[0]
    values = {b: rule.value(b) for b in group}
    subgroups = _group_by_value(group, values, rule.higher_is_better)
    steps.append(
        TieBreakStep(
            rule.name,
            rule.source,
            among,
            {b: str(v) for b, v in values.items()},
            tuple(tuple(g) for g in subgroups),
        )
    )
    order: list[str] = []
    for sub in subgroups:
        if len(sub) == 1:
            decided_by[sub[0]] = rule.name
        order += _resolve_tie(sub, rules[1:], seed, steps, decided_by)
    return order


def _order_eligible(
    values: Mapping[str, Decimal],
    higher_is_better: bool,
    rules: Sequence[_TieRule],
    seed: int,
) -> tuple[list[str], list[TieBreakRecord], dict[str, str]]:
    """Order eligible bidders by method value; resolve every tied group with ``rules`` then a
    recorded draw. Every tied group is resolved (not only first place) so the report shows a
    full order, e.g. for 次優 negotiation; the rules cited speak of first place."""
    order: list[str] = []
    records: list[TieBreakRecord] = []
    decided_by: dict[str, str] = {}
    for group in _group_by_value(values, values, higher_is_better):
        if len(group) == 1:
            order += group
            continue
        steps: list[TieBreakStep] = []
        resolved = _resolve_tie(group, rules, seed, steps, decided_by)
        drew = any(s.rule == "draw" for s in steps)
        records.append(
            TieBreakRecord(
                tuple(sorted(group)),
                values[group[0]],
                tuple(steps),
                tuple(resolved),
                seed if drew else None,
            )
        )
        order += resolved
    return order, records, decided_by


def _top_criteria(criteria: Sequence[Criterion], *, by_weight: bool) -> list[Criterion]:
    """配分最高之評選項目: the criteria with the highest points (or weight); if several share the
    top, their scores are added (documented interpretation)."""
    if not criteria:
        return []

    def key(c: Criterion) -> Decimal:
        return (c.weight or _ZERO) if by_weight else c.max_points

    top = max(key(c) for c in criteria)
    return [c for c in criteria if key(c) == top]


def _top_criterion_rule(
    inputs: EvaluationInputs, sheet: _Sheet, source: str, *, by_weight: bool = False
) -> _TieRule | None:
    top = _top_criteria(inputs.criteria, by_weight=by_weight)
    if not top:
        return None
    codes = [c.code for c in top]

    def value(bidder: str) -> Decimal:
        return sum((sheet.criterion_sums[bidder][code] for code in codes), _ZERO)

    return _TieRule(f"highest_weighted_criterion:{'+'.join(codes)}", source, value)


def _base_reasons(inputs: EvaluationInputs, b: Bidder) -> list[str]:
    reasons = list(b.exclusion_reasons)
    ceiling = inputs.params.ceiling_price
    if ceiling is not None and b.price > ceiling:
        reasons.append(f"price {b.price} is above the ceiling price {ceiling} (予定価格 / 底價)")
    return reasons


def _pass_mark_reason(total: Decimal, pass_mark: Decimal) -> str | None:
    if total < pass_mark:
        return f"mean total {total} is below the pass mark {pass_mark} (最有利標評選辦法 §16 及格分數)"
    return None


def _assemble(
    method: str,
    inputs: EvaluationInputs,
    sheet: _Sheet,
    *,
    eligible_values: Mapping[str, Decimal],
    all_values: Mapping[str, Decimal | None],
    reasons: Mapping[str, list[str]],
    components: Mapping[str, Mapping[str, Decimal]],
    tie_rules: Sequence[_TieRule],
    member_ranks: Mapping[str, Mapping[str, Decimal]] | None = None,
    first_places: Mapping[str, int] | None = None,
) -> EvaluationResult:
    info = METHODS[method]
    order, records, decided_by = _order_eligible(
        eligible_values, info.higher_is_better, tie_rules, inputs.params.draw_seed
    )
    position = {b: i + 1 for i, b in enumerate(order)}
    tied = {b for r in records for b in r.bidder_ids}
    results: list[BidderResult] = []
    for b in inputs.bidders:
        bid = b.bidder_id
        ranks = dict(member_ranks.get(bid, {})) if member_ranks else {}
        results.append(
            BidderResult(
                bidder_id=bid,
                price=b.price,
                evaluated_price=b.ranking_price,
                carbon_score=b.carbon_score,
                carbon_points=sheet.carbon_points[bid],
                member_totals=dict(sheet.member_totals[bid]),
                total=sheet.totals[bid],
                member_ranks=ranks,
                rank_sum=sum(ranks.values(), _ZERO) if ranks else None,
                first_places=first_places.get(bid) if first_places is not None else None,
                components=dict(components.get(bid, {})),
                method_value=all_values.get(bid),
                eligible=bid in position,
                reasons=tuple(reasons.get(bid, [])),
                position=position.get(bid),
                winner=position.get(bid) == 1,
                tie_break=decided_by.get(bid) if bid in tied else None,
            )
        )
    results.sort(key=lambda r: (r.position is None, r.position or 0, r.bidder_id))
    flags = flag_divergent_scores(
        sheet.member_totals,
        inputs.params.divergence_threshold_points,
    )
    return EvaluationResult(
        method=method,
        method_name=info.name,
        source=info.source,
        value_label=info.value_label,
        higher_is_better=info.higher_is_better,
        params=inputs.params,
        bidders=tuple(results),
        winner_id=order[0] if order else None,
        tie_breaks=tuple(records),
        divergence_flags=tuple(flags),
        inputs_sha256=inputs.sha256(),
    )


def _required(value: Decimal | None, field: str) -> Decimal:
    # _prepare has already reported a missing parameter; this narrows the type.
    if value is None:
        raise ScoringRuleError("required parameter is missing", field)
    return value


def _prepare(method: str, inputs: EvaluationInputs) -> _Sheet:
    _raise_if(_check_inputs(method, inputs))
    return _build_sheet(inputs)


_SRC_14 = "最有利標評選辦法 §14(2): 配分最高之評選項目之得分合計值較高者"
_SRC_15_1_2 = "最有利標評選辦法 §15-1(2): 配分最高之評選項目之得分合計值較高者"
_SRC_15_1_3 = "最有利標評選辦法 §15-1(3): 獲得評選委員評定序位第一較多者"


# --------------------------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------------------------


@with_decimal_context
def evaluate_tw_total(inputs: EvaluationInputs) -> EvaluationResult:
    """總評分法 (最有利標評選辦法 §12; ties §14).

    Each member scores every criterion; the carbon criterion is ``max_points × S / 100`` for every
    member; a bidder's total is the mean of the members' totals; a mean below the pass mark
    (及格分數, default 70) is not eligible; the highest total wins. Ties: higher sum of scores on
    the highest-points criterion, then a recorded draw.
    """
    sheet = _prepare("tw_total", inputs)
    reasons: dict[str, list[str]] = {}
    values: dict[str, Decimal] = {}
    for b in inputs.bidders:
        r = _base_reasons(inputs, b)
        total = sheet.totals[b.bidder_id]
        if (why := _pass_mark_reason(total, inputs.params.pass_mark)) is not None:
            r.append(why)
        reasons[b.bidder_id] = r
        if not r:
            values[b.bidder_id] = total
    rule = _top_criterion_rule(inputs, sheet, _SRC_14)
    return _assemble(
        "tw_total",
        inputs,
        sheet,
        eligible_values=values,
        all_values=dict(sheet.totals),
        reasons=reasons,
        components={},
        tie_rules=[rule] if rule else [],
    )


@with_decimal_context
def evaluate_tw_rank(inputs: EvaluationInputs) -> EvaluationResult:
    """序位法 (最有利標評選辦法 §15; ties §15-1).

    Each member ranks the bidders by that member's total (1 = best; ties share the mean rank);
    the lowest sum of ranks wins. Only eligible bidders are ranked: eligibility is the mean total
    at or above the pass mark (the tender may set a 及格分數, §16) and price within the ceiling when
    one is set; ranking ineligible bids would let them shift the others' ranks.
    Ties (§15-1 options 2 and 3, applied in turn, then 抽籤): higher sum of scores on the
    highest-points criterion, then more first places (a shared first place, rank 1.5, does not
    count), then a recorded draw.
    """
    sheet = _prepare("tw_rank", inputs)
    reasons: dict[str, list[str]] = {}
    eligible: list[str] = []
    for b in inputs.bidders:
        r = _base_reasons(inputs, b)
        if why := _pass_mark_reason(sheet.totals[b.bidder_id], inputs.params.pass_mark):
            r.append(why)
        reasons[b.bidder_id] = r
        if not r:
            eligible.append(b.bidder_id)
    member_ranks: dict[str, dict[str, Decimal]] = {b: {} for b in eligible}
    for m in sheet.members:
        ranks = mean_ranks({bid: sheet.member_totals[bid][m] for bid in eligible})
        for bid, rank in ranks.items():
            member_ranks[bid][m] = rank
    rank_sums = {b: sum(member_ranks[b].values(), _ZERO) for b in eligible}
    first_places = {b: sum(1 for v in member_ranks[b].values() if v == _ONE) for b in eligible}
    rules: list[_TieRule] = []
    if (top := _top_criterion_rule(inputs, sheet, _SRC_15_1_2)) is not None:
        rules.append(top)
    rules.append(_TieRule("first_places", _SRC_15_1_3, lambda b: Decimal(first_places[b])))
    return _assemble(
        "tw_rank",
        inputs,
        sheet,
        eligible_values=rank_sums,
        all_values=dict(rank_sums),
        reasons=reasons,
        components={},
        tie_rules=rules,
        member_ranks=member_ranks,
        first_places=first_places,
    )


@with_decimal_context
def evaluate_tw_price_per_score(inputs: EvaluationInputs) -> EvaluationResult:
    """評分單價法 (最有利標評選辦法 §13; ties §14).

    Price is not scored; among eligible bidders (mean total at or above the pass mark, price
    within the ceiling when one is set) the lowest ``price ÷ total`` wins. Ties: higher sum of
    scores on the highest-points criterion, then a recorded draw.
    """
    sheet = _prepare("tw_price_per_score", inputs)
    reasons: dict[str, list[str]] = {}
    values: dict[str, Decimal] = {}
    all_values: dict[str, Decimal | None] = {}
    for b in inputs.bidders:
        bid = b.bidder_id
        r = _base_reasons(inputs, b)
        total = sheet.totals[bid]
        if (why := _pass_mark_reason(total, inputs.params.pass_mark)) is not None:
            r.append(why)
        if total <= 0:
            r.append("total score is 0; price per score is undefined")
            all_values[bid] = None
        else:
            all_values[bid] = b.ranking_price / total
        reasons[bid] = r
        if not r:
            values[bid] = b.ranking_price / total
    rule = _top_criterion_rule(inputs, sheet, _SRC_14)
    return _assemble(
        "tw_price_per_score",
        inputs,
        sheet,
        eligible_values=values,
        all_values=all_values,
        reasons=reasons,
        components={},
        tie_rules=[rule] if rule else [],
    )


@with_decimal_context
def evaluate_jp_division(inputs: EvaluationInputs) -> EvaluationResult:
    """除算方式 (国土交通省 総合評価落札方式; 予算決算及び会計令 §91 ②, 総合評価ガイドライン).

    ``value = (standard_points + added_points + structure_points) / price × 10^8`` where
    added_points (加算点) is the committee's mean total (carbon points included) and
    structure_points is the bidder's 施工体制評価点. Eligible only if ``price ≤ ceiling`` (予定価格)
    and ``value ≥ standard_points / ceiling × 10^8`` (基準評価値). Highest value wins; equal
    values go to a recorded draw (くじ, 予決令 §83).

    The ceiling check uses the bid price; the value uses the evaluated price when a carbon
    adjustment set one. With non-negative added points the 基準評価値 check can only fail when
    the evaluated price is above the ceiling (e.g. a shadow carbon cost).

    Worked example (ceiling 500,000,000 JPY): bidder A price 450,000,000 with 30 added points →
    (100 + 30) / 450,000,000 × 10^8 = 28.888…; 基準評価値 = 100 / 500,000,000 × 10^8 = 20.
    """
    sheet = _prepare("jp_division", inputs)
    p = inputs.params
    ceiling = _required(p.ceiling_price, "params.ceiling_price")
    threshold = p.standard_points / ceiling * p.value_scale
    reasons: dict[str, list[str]] = {}
    values: dict[str, Decimal] = {}
    all_values: dict[str, Decimal | None] = {}
    components: dict[str, dict[str, Decimal]] = {}
    for b in inputs.bidders:
        bid = b.bidder_id
        added = sheet.totals[bid]
        technical = p.standard_points + added + b.structure_points
        value = technical / b.ranking_price * p.value_scale
        components[bid] = {
            "standard_points": p.standard_points,
            "added_points": added,
            "structure_points": b.structure_points,
            "technical_points": technical,
            "threshold_value": threshold,
        }
        r = _base_reasons(inputs, b)
        if value < threshold:
            r.append(
                f"value {value} is below the 基準評価値 {threshold} "
                f"(標準点 {p.standard_points} / 予定価格 {ceiling} × {p.value_scale})"
            )
        reasons[bid] = r
        all_values[bid] = value
        if not r:
            values[bid] = value
    return _assemble(
        "jp_division",
        inputs,
        sheet,
        eligible_values=values,
        all_values=all_values,
        reasons=reasons,
        components=components,
        tie_rules=[],
    )


@with_decimal_context
def evaluate_jp_addition(inputs: EvaluationInputs) -> EvaluationResult:
    """加算方式 (国土交通省 総合評価落札方式, 総合評価ガイドライン).

    ``price_points = allotment × (1 − price / ceiling)``; ``total = technical_points +
    price_points`` with technical_points = the committee's mean total (carbon points included) +
    施工体制評価点. A price above the ceiling (予定価格) is not eligible. Highest total wins;
    equal totals go to a recorded draw (くじ, 予決令 §83).
    """
    sheet = _prepare("jp_addition", inputs)
    p = inputs.params
    ceiling = _required(p.ceiling_price, "params.ceiling_price")
    allotment = _required(p.price_allotment_points, "params.price_allotment_points")
    reasons: dict[str, list[str]] = {}
    values: dict[str, Decimal] = {}
    components: dict[str, dict[str, Decimal]] = {}
    all_values: dict[str, Decimal | None] = {}
    for b in inputs.bidders:
        bid = b.bidder_id
        technical = sheet.totals[bid] + b.structure_points
        price_points = allotment * (_ONE - b.ranking_price / ceiling)
        total = technical + price_points
        components[bid] = {"technical_points": technical, "price_points": price_points}
        reasons[bid] = _base_reasons(inputs, b)
        all_values[bid] = total
        if not reasons[bid]:
            values[bid] = total
    return _assemble(
        "jp_addition",
        inputs,
        sheet,
        eligible_values=values,
        all_values=all_values,
        reasons=reasons,
        components=components,
        tie_rules=[],
    )


@with_decimal_context
def evaluate_meat_weighted(inputs: EvaluationInputs) -> EvaluationResult:
    """Most economically advantageous tender, price-quality ratio (EU 2014/24 Art. 67).

    ``price_score = w_price × lowest_price / price × 100`` (lowest among eligible bids);
    ``quality_score = Σ w_c × mean_member_score_c / max_points_c × 100`` (carbon criterion:
    S / 100); ``total = price_score + quality_score`` on a 0–100 scale (the ×100 is
    ``params.meat_score_scale``). Price weight + criteria weights = 1. A price above the ceiling
    (when set) is not eligible. Ties: higher weighted score on the highest-weighted criterion,
    then a recorded draw.
    """
    sheet = _prepare("meat_weighted", inputs)
    p = inputs.params
    price_weight = _required(p.price_weight, "params.price_weight")
    reasons = {b.bidder_id: _base_reasons(inputs, b) for b in inputs.bidders}
    eligible = [b for b in inputs.bidders if not reasons[b.bidder_id]]
    eligible_ids = {b.bidder_id for b in eligible}
    lowest = min((b.ranking_price for b in eligible), default=None)
    components: dict[str, dict[str, Decimal]] = {}
    values: dict[str, Decimal] = {}
    all_values: dict[str, Decimal | None] = {}
    for b in inputs.bidders:
        bid = b.bidder_id
        quality = (
            sum(
                (
                    (c.weight or _ZERO) * sheet.criterion_mean(bid, c.code) / c.max_points
                    for c in inputs.criteria
                ),
                _ZERO,
            )
            * p.meat_score_scale
        )
        comp = {"quality_score": quality}
        if lowest is not None and bid in eligible_ids:
            price_score = price_weight * lowest / b.ranking_price * p.meat_score_scale
            comp["price_score"] = price_score
            comp["lowest_price"] = lowest
            values[bid] = all_values[bid] = price_score + quality
        else:
            # No price score for an ineligible bid: one against the others' lowest would mislead.
            all_values[bid] = None
        components[bid] = comp
    rule = _top_criterion_rule(
        inputs,
        sheet,
        "highest-weighted criterion (as 最有利標評選辦法 §14(2)), then draw",
        by_weight=True,
    )
    return _assemble(
        "meat_weighted",
        inputs,
        sheet,
        eligible_values=values,
        all_values=all_values,
        reasons=reasons,
        components=components,
        tie_rules=[rule] if rule else [],
    )


# --------------------------------------------------------------------------------------------
# Registry and dispatcher
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodInfo:
    """A registered evaluation method, with the doc and source the README and UI show."""

    code: str
    name: str
    local_name: str
    summary: str
    source: str
    value_label: str
    higher_is_better: bool
    function: Callable[[EvaluationInputs], EvaluationResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "local_name": self.local_name,
            "summary": self.summary,
            "source": self.source,
            "value_label": self.value_label,
            "higher_is_better": self.higher_is_better,
        }


METHODS: dict[str, MethodInfo] = {
    info.code: info
    for info in (
        MethodInfo(
            "tw_total",
            "Total score",
            "總評分法",
            "Mean of members' totals (carbon points computed); below the pass mark (default 70) "
            "not eligible; highest total wins; ties: highest-points criterion, then draw.",
            "最有利標評選辦法 §12 (總評分法), §14 (同分), §16 (及格分數)",
            "mean total",
            True,
            evaluate_tw_total,
        ),
        MethodInfo(
            "tw_rank",
            "Rank order",
            "序位法",
            "Each member ranks the eligible bidders by total (ties share the mean rank); lowest "
            "rank sum wins; ties: highest-points criterion, more first places, then draw.",
            "最有利標評選辦法 §15 (序位法), §15-1 (序位合計值相同)",
            "sum of ranks",
            False,
            evaluate_tw_rank,
        ),
        MethodInfo(
            "tw_price_per_score",
            "Price per score",
            "評分單價法",
            "Price not scored; among bidders at or above the pass mark, lowest price ÷ mean total "
            "wins; ties: highest-points criterion, then draw.",
            "最有利標評選辦法 §13 (評分單價法), §14 (同分)",
            "price per point",
            False,
            evaluate_tw_price_per_score,
        ),
        MethodInfo(
            "jp_division",
            "Division method",
            "除算方式",
            "(標準点 + 加算点 + 施工体制評価点) / price × 10^8; price ≤ 予定価格 and value ≥ "
            "基準評価値 (標準点 / 予定価格 × 10^8); highest wins; ties: draw.",
            "国土交通省 総合評価落札方式 (予算決算及び会計令 §91 ②; 公共工事における総合評価方式"
            "活用ガイドライン); くじ 予決令 §83",
            "評価値",
            True,
            evaluate_jp_division,
        ),
        MethodInfo(
            "jp_addition",
            "Addition method",
            "加算方式",
            "technical points + price allotment × (1 − price / 予定価格); price above 予定価格 not "
            "eligible; highest wins; ties: draw.",
            "国土交通省 総合評価落札方式 加算方式 (総合評価方式活用ガイドライン); くじ 予決令 §83",
            "総合評価点",
            True,
            evaluate_jp_addition,
        ),
        MethodInfo(
            "meat_weighted",
            "MEAT price-quality",
            "MEAT",
            "w_price × lowest price / price × 100 + Σ w_c × score_c / max_c × 100; highest wins; "
            "ties: highest-weighted criterion, then draw.",
            "EU Directive 2014/24/EU Art. 67 (most economically advantageous tender)",
            "weighted score",
            True,
            evaluate_meat_weighted,
        ),
    )
}


def evaluate(method: str, inputs: EvaluationInputs) -> EvaluationResult:
    """Evaluate ``inputs`` with the registered ``method`` (see :data:`METHODS`).

    Raises :class:`ScoringRuleError` (field ``method``) for an unknown method, or naming the
    offending input when the inputs break the method's rules.
    """
    info = METHODS.get(method)
    if info is None:
        raise ScoringRuleError(
            f"unknown evaluation method {method!r}; choose one of {sorted(METHODS)}", "method"
        )
    return info.function(inputs)


# --------------------------------------------------------------------------------------------
# Price adjustments by carbon (optional)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceAdjustment:
    """A carbon price adjustment: ``advantage = price − evaluated_price`` (positive = the bid
    looks cheaper in the evaluation than it is)."""

    price: Decimal
    evaluated_price: Decimal
    advantage: Decimal
    rule: str
    source: str
    detail: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "price": decimal_str(self.price),
            "evaluated_price": decimal_str(self.evaluated_price),
            "advantage": decimal_str(self.advantage),
            "rule": self.rule,
            "source": self.source,
            "detail": dict(sorted(self.detail.items())),
        }


@with_decimal_context
def ladder_evaluated_price(
    price: Number,
    level: int | None,
    discounts: Mapping[int, Number] | None = None,
) -> PriceAdjustment:
    """CO2-ladder notional discount: ``evaluated_price = price × (1 − discount(level))``.

    ``discounts`` is the tender's table (level -> fraction); default
    :data:`scoring.defaults.CO2_LADDER_DISCOUNTS` (ProRail CO2-Prestatieladder
    gunningsvoordeel: level 1..5 -> 1 %..5 %). ``level`` None or 0: no discount.
    The discount only affects the evaluation; the contract price stays ``price``.
    """
    p = to_decimal(price, "price")
    if p <= 0:
        raise ScoringRuleError("price must be > 0", "price")
    table_src = d.CO2_LADDER_DISCOUNTS.value if discounts is None else discounts
    table = {int(k): to_decimal(v, f"discounts[{k}]") for k, v in table_src.items()}
    for k, v in table.items():
        if not _ZERO <= v < _ONE:
            raise ScoringRuleError(f"discount must be within [0, 1), got {v}", f"discounts[{k}]")
    if level is None or level == 0:
        discount = _ZERO
    elif level in table:
        discount = table[level]
    else:
        raise ScoringRuleError(
            f"no discount for ladder level {level}; the table has {sorted(table)}", "level"
        )
    evaluated = p * (_ONE - discount)
    return PriceAdjustment(
        price=p,
        evaluated_price=evaluated,
        advantage=p - evaluated,
        rule="co2_ladder_discount",
        source=d.CO2_LADDER_DISCOUNTS.source if discounts is None else "tender ladder table",
        detail={"level": str(level), "discount": str(discount)},
    )


@with_decimal_context
def shadow_carbon_evaluated_price(
    price: Number, projected_tco2: Number, carbon_price_per_t: Number
) -> PriceAdjustment:
    """Shadow carbon price: ``evaluated_price = price + projected_tco2 × carbon_price_per_t``
    (DESIGN.md "Price adjustments by carbon"). The advantage is negative (a cost added); a bid
    with lower projected CO2 gains relative to the others."""
    p = to_decimal(price, "price")
    t = to_decimal(projected_tco2, "projected_tco2")
    cp = to_decimal(carbon_price_per_t, "carbon_price_per_t")
    if p <= 0:
        raise ScoringRuleError("price must be > 0", "price")
    if t < 0:
        raise ScoringRuleError("projected tCO2 must be >= 0", "projected_tco2")
    if cp < 0:
        raise ScoringRuleError("carbon price must be >= 0", "carbon_price_per_t")
    evaluated = p + t * cp
    return PriceAdjustment(
        price=p,
        evaluated_price=evaluated,
        advantage=p - evaluated,
        rule="shadow_carbon_price",
        source="DESIGN.md 'Price adjustments by carbon': evaluated price = price + projected "
        "tCO2 × carbon price",
        detail={"projected_tco2": str(t), "carbon_price_per_t": str(cp)},
    )


@with_decimal_context
def shadow_carbon_advantage(
    projected_tco2: Number, actual_tco2: Number, carbon_price_per_t: Number
) -> Decimal:
    """Advantage received under a shadow carbon price when the work emitted more than projected:
    ``max(0, actual − projected) × carbon_price_per_t`` (the shadow cost the bid avoided)."""
    t = to_decimal(projected_tco2, "projected_tco2")
    a = to_decimal(actual_tco2, "actual_tco2")
    cp = to_decimal(carbon_price_per_t, "carbon_price_per_t")
    if t < 0 or a < 0:
        raise ScoringRuleError("tCO2 must be >= 0", "actual_tco2" if a < 0 else "projected_tco2")
    if cp < 0:
        raise ScoringRuleError("carbon price must be >= 0", "carbon_price_per_t")
    return max(_ZERO, a - t) * cp


@with_decimal_context
def commitment_sanction(
    advantage: Number,
    fulfilment: Number,
    k: Number | None = None,
    *,
    proportional: bool = False,
) -> Decimal:
    """Sanction after award when the carbon commitment is missed (fulfilment < 1):
    ``k × advantage`` (default k = 1.5, :data:`scoring.defaults.COMMITMENT_SANCTION_FACTOR`,
    Rijkswaterstaat / CO2-Prestatieladder practice). Price-based: ``advantage`` is the price
    advantage received (``PriceAdjustment.advantage`` or :func:`shadow_carbon_advantage`);
    a negative advantage counts as none. ``proportional=True`` scales by the shortfall,
    ``k × advantage × (1 − fulfilment)``, for tenders that choose it. No sanction when
    fulfilment = 1.
    """
    adv = to_decimal(advantage, "advantage")
    f = to_decimal(fulfilment, "fulfilment")
    factor = to_decimal(d.COMMITMENT_SANCTION_FACTOR.value if k is None else k, "k")
    if not _ZERO <= f <= _ONE:
        raise ScoringRuleError(f"fulfilment must be within [0, 1], got {f}", "fulfilment")
    if factor < 0:
        raise ScoringRuleError("k must be >= 0", "k")
    if f >= _ONE or adv <= 0:
        return _ZERO
    base = factor * adv
    return base * (_ONE - f) if proportional else base
