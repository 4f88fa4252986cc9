"""Carbon score of a bid (0–100), DESIGN.md "Carbon score of a bid". Pure functions.

    S_commit  = 100 × (w_share × planned_certified_share
                       + w_red × clamp(planned_reduction_ratio / target, 0, 1))
    S_history = 100 × (w_share × certified_share + w_red × clamp(reduction_ratio / target, 0, 1))
                × average fulfilment            (verified history in the rolling window)
    S         = α × S_commit + (1 − α) × S_history

A bidder with no history in the window is scored by the tender's policy: ``commitment_only``
(S = S_commit), ``zero`` (S_history = 0) or ``neutral`` (S_history = neutral score, default 50).
A tender may also set a minimum history score as an eligibility threshold (large tenders; seed
000 §5.3.2: 履歷 as 評選技術門檻 / 特定資格要求); a bidder without verified history cannot meet it.

Numbers are ``Decimal`` in :data:`scoring.methods.DECIMAL_CONTEXT`, like the evaluation methods,
so S feeds the carbon criterion (``max_points × S / 100``) without float noise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from scoring import defaults as d
from scoring.methods import (
    Number,
    ScoringRuleError,
    decimal_str,
    optional_decimal,
    to_decimal,
    with_decimal_context,
)

NO_HISTORY_POLICIES = ("commitment_only", "zero", "neutral")

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


def _set(obj: object, name: str, value: object) -> None:
    # Frozen dataclasses normalise their own fields once, in __post_init__.
    object.__setattr__(obj, name, value)


def _clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(high, value))


@dataclass(frozen=True)
class CarbonScoreParams:
    """Per-tender carbon score parameters (defaults and sources: :mod:`scoring.defaults`).

    Validated on construction; each error names its parameter.
    """

    w_share: Decimal = d.CARBON_W_SHARE.value
    w_red: Decimal = d.CARBON_W_RED.value
    target_reduction_ratio: Decimal = d.CARBON_TARGET_REDUCTION_RATIO.value
    alpha: Decimal = d.CARBON_ALPHA.value
    window_months: int = d.CARBON_WINDOW_MONTHS.value
    no_history_policy: str = d.CARBON_NO_HISTORY_POLICY.value
    neutral_history_score: Decimal = d.CARBON_NEUTRAL_HISTORY_SCORE.value
    min_history_score: Decimal | None = None

    def __post_init__(self) -> None:
        for name in (
            "w_share",
            "w_red",
            "target_reduction_ratio",
            "alpha",
            "neutral_history_score",
        ):
            _set(self, name, to_decimal(getattr(self, name), name))
        _set(self, "min_history_score", optional_decimal(self.min_history_score, "min_history_score"))
        self.validate()

    @with_decimal_context
    def validate(self) -> None:
        """Weights in [0, 1] summing to 1, 0 ≤ α ≤ 1, target > 0, a known no-history policy,
        scores within [0, 100], a positive window."""
        for name in ("w_share", "w_red"):
            value = getattr(self, name)
            if not _ZERO <= value <= _ONE:
                raise ScoringRuleError(f"{name} must be within [0, 1], got {value}", name)
        total = self.w_share + self.w_red
        if abs(total - _ONE) > d.WEIGHT_SUM_TOLERANCE.value:
            raise ScoringRuleError(f"w_share + w_red must equal 1, got {total}", "w_share")
        if not _ZERO <= self.alpha <= _ONE:
            raise ScoringRuleError(f"alpha must be within [0, 1], got {self.alpha}", "alpha")
        if self.target_reduction_ratio <= 0:
            raise ScoringRuleError(
                f"target_reduction_ratio must be > 0, got {self.target_reduction_ratio}",
                "target_reduction_ratio",
            )
        if (
            isinstance(self.window_months, bool)
            or not isinstance(self.window_months, int)
            or self.window_months <= 0
        ):
            raise ScoringRuleError(
                f"window_months must be a positive integer, got {self.window_months!r}",
                "window_months",
            )
        if self.no_history_policy not in NO_HISTORY_POLICIES:
            raise ScoringRuleError(
                f"no_history_policy must be one of {NO_HISTORY_POLICIES}, got {self.no_history_policy!r}",
                "no_history_policy",
            )
        for name in ("neutral_history_score", "min_history_score"):
            value = getattr(self, name)
            if value is not None and not _ZERO <= value <= _HUNDRED:
                raise ScoringRuleError(f"{name} must be within [0, 100], got {value}", name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "w_share": decimal_str(self.w_share),
            "w_red": decimal_str(self.w_red),
            "target_reduction_ratio": decimal_str(self.target_reduction_ratio),
            "alpha": decimal_str(self.alpha),
            "window_months": self.window_months,
            "no_history_policy": self.no_history_policy,
            "neutral_history_score": decimal_str(self.neutral_history_score),
            "min_history_score": decimal_str(self.min_history_score),
        }


def _check_share(value: Decimal, field: str) -> None:
    if not _ZERO <= value <= _ONE:
        raise ScoringRuleError(f"{field} must be within [0, 1], got {value}", field)


def _check_ratio(value: Decimal, field: str) -> None:
    # reduction = (reference − actual) / reference ≤ 1; negative means more CO2 than reference.
    if value > _ONE:
        raise ScoringRuleError(f"{field} cannot exceed 1, got {value}", field)


@dataclass(frozen=True)
class CarbonCommitment:
    """A bid's machinery commitment: planned certified-machine share of hours (0–1) and planned
    CO2 reduction ratio against the reference consumption (≤ 1)."""

    planned_certified_share: Decimal
    planned_reduction_ratio: Decimal

    def __post_init__(self) -> None:
        share = to_decimal(self.planned_certified_share, "planned_certified_share")
        ratio = to_decimal(self.planned_reduction_ratio, "planned_reduction_ratio")
        _check_share(share, "planned_certified_share")
        _check_ratio(ratio, "planned_reduction_ratio")
        _set(self, "planned_certified_share", share)
        _set(self, "planned_reduction_ratio", ratio)


@dataclass(frozen=True)
class CarbonHistory:
    """Verified history of a contractor over the window (see :func:`summarise_history`)."""

    certified_share: Decimal
    reduction_ratio: Decimal
    average_fulfilment: Decimal

    def __post_init__(self) -> None:
        share = to_decimal(self.certified_share, "certified_share")
        ratio = to_decimal(self.reduction_ratio, "reduction_ratio")
        fulfilment = to_decimal(self.average_fulfilment, "average_fulfilment")
        _check_share(share, "certified_share")
        _check_ratio(ratio, "reduction_ratio")
        _check_share(fulfilment, "average_fulfilment")
        _set(self, "certified_share", share)
        _set(self, "reduction_ratio", ratio)
        _set(self, "average_fulfilment", fulfilment)


@dataclass(frozen=True)
class CarbonScoreBreakdown:
    """How S was made. ``s_history`` is None when no history was used under the
    ``commitment_only`` policy; ``fulfilment`` is None without history.
    ``eligible_by_history``/``reason``: the tender's minimum history score check."""

    s_commit: Decimal
    s_history: Decimal | None
    fulfilment: Decimal | None
    s_total: Decimal
    history_used: bool
    eligible_by_history: bool
    reason: str | None
    policy: str
    params: CarbonScoreParams

    def to_dict(self) -> dict[str, Any]:
        return {
            "s_commit": decimal_str(self.s_commit),
            "s_history": decimal_str(self.s_history),
            "fulfilment": decimal_str(self.fulfilment),
            "s_total": decimal_str(self.s_total),
            "history_used": self.history_used,
            "eligible_by_history": self.eligible_by_history,
            "reason": self.reason,
            "policy": self.policy,
            "params": self.params.to_dict(),
        }


@with_decimal_context
def component_score(certified_share: Number, reduction_ratio: Number, params: CarbonScoreParams) -> Decimal:
    """``100 × (w_share × certified_share + w_red × clamp(reduction_ratio / target, 0, 1))``,
    the common part of S_commit and S_history (DESIGN.md "Carbon score of a bid")."""
    share = to_decimal(certified_share, "certified_share")
    ratio = to_decimal(reduction_ratio, "reduction_ratio")
    _check_share(share, "certified_share")
    _check_ratio(ratio, "reduction_ratio")
    reduction_part = _clamp(ratio / params.target_reduction_ratio, _ZERO, _ONE)
    return _HUNDRED * (params.w_share * share + params.w_red * reduction_part)


@with_decimal_context
def carbon_score(
    commitment: CarbonCommitment,
    history: CarbonHistory | None,
    params: CarbonScoreParams | None = None,
) -> CarbonScoreBreakdown:
    """Carbon score S (0–100) of a bid from its commitment and the bidder's verified history
    (DESIGN.md "Carbon score of a bid"; history from 公共工程履歷 as proposed in seed 000
    §5.3.2). ``history`` None means no verified history in the window: the tender's
    ``no_history_policy`` applies, and a set ``min_history_score`` is not met."""
    p = params or CarbonScoreParams()
    s_commit = component_score(commitment.planned_certified_share, commitment.planned_reduction_ratio, p)
    fulfilment: Decimal | None = None
    s_history: Decimal | None
    if history is not None:
        fulfilment = history.average_fulfilment
        s_history = component_score(history.certified_share, history.reduction_ratio, p) * (fulfilment)
        s_total = p.alpha * s_commit + (_ONE - p.alpha) * s_history
    elif p.no_history_policy == "commitment_only":
        s_history = None
        s_total = s_commit
    else:
        s_history = _ZERO if p.no_history_policy == "zero" else p.neutral_history_score
        s_total = p.alpha * s_commit + (_ONE - p.alpha) * s_history

    eligible = True
    reason: str | None = None
    if p.min_history_score is not None:
        if history is None:
            eligible = False
            reason = (
                f"no verified history in the last {p.window_months} months; the tender "
                f"requires a history score of at least {p.min_history_score}"
            )
        elif s_history is not None and s_history < p.min_history_score:
            eligible = False
            reason = f"history score {s_history} is below the tender's minimum {p.min_history_score}"
    return CarbonScoreBreakdown(
        s_commit=s_commit,
        s_history=s_history,
        fulfilment=fulfilment,
        s_total=s_total,
        history_used=history is not None,
        eligible_by_history=eligible,
        reason=reason,
        policy=p.no_history_policy,
        params=p,
    )


@dataclass(frozen=True)
class HistoryRecord:
    """One verified history row (contractor × project × period) as the registry computes it.

    ``fulfilment``: ``min(1, actual certified share / committed share)`` for a project with a
    commitment, None for a project without one.
    """

    period_end: date
    hours: Decimal
    certified_hours: Decimal
    reference_co2_kg: Decimal
    actual_co2_kg: Decimal
    fulfilment: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("hours", "certified_hours", "reference_co2_kg", "actual_co2_kg"):
            value = to_decimal(getattr(self, name), name)
            if value < 0:
                raise ScoringRuleError(f"{name} must be >= 0, got {value}", name)
            _set(self, name, value)
        if self.certified_hours > self.hours:
            raise ScoringRuleError("certified hours cannot exceed hours", "certified_hours")
        fulfilment = optional_decimal(self.fulfilment, "fulfilment")
        if fulfilment is not None:
            _check_share(fulfilment, "fulfilment")
        _set(self, "fulfilment", fulfilment)


def _months_before(day: date, months: int) -> date:
    total = day.year * 12 + (day.month - 1) - months
    year, month0 = divmod(total, 12)
    # Clamp the day (e.g. 31 May − 3 months -> 28/29 Feb).
    for dd in (day.day, 30, 29, 28):
        try:
            return date(year, month0 + 1, dd)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


@with_decimal_context
def summarise_history(
    records: Iterable[HistoryRecord], as_of: date, window_months: int
) -> CarbonHistory | None:
    """Aggregate verified history rows whose period ends in ``(as_of − window, as_of]``
    (DESIGN.md "Contractor history": rolling window, default 36 months).

    certified share = Σ certified hours / Σ hours; reduction ratio = Σ (reference − actual) /
    Σ reference (totals, so a big project weighs more than a small one); average fulfilment =
    hours-weighted mean over rows with a commitment, 1 when none had one (nothing promised,
    nothing missed). Returns None when the window holds no hours (no history).
    """
    if isinstance(window_months, bool) or not isinstance(window_months, int) or window_months <= 0:
        raise ScoringRuleError("window_months must be a positive integer", "window_months")
    start = _months_before(as_of, window_months)
    rows = [r for r in records if start < r.period_end <= as_of]
    hours = sum((r.hours for r in rows), _ZERO)
    if hours == 0:
        return None
    certified = sum((r.certified_hours for r in rows), _ZERO)
    reference = sum((r.reference_co2_kg for r in rows), _ZERO)
    actual = sum((r.actual_co2_kg for r in rows), _ZERO)
    ratio = (reference - actual) / reference if reference > 0 else _ZERO
    committed = [r for r in rows if r.fulfilment is not None]
    committed_hours = sum((r.hours for r in committed), _ZERO)
    if committed_hours > 0:
        fulfilment = sum((r.hours * (r.fulfilment or _ZERO) for r in committed), _ZERO) / committed_hours
    elif committed:
        # Commitments on rows without hours: plain mean.
        fulfilment = sum((r.fulfilment or _ZERO for r in committed), _ZERO) / len(committed)
    else:
        fulfilment = _ONE
    return CarbonHistory(certified / hours, ratio, fulfilment)
