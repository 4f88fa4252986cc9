"""Carbon score of a bid (DESIGN.md "Carbon score of a bid"): worked examples and properties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.carbon_score import (
    CarbonCommitment,
    CarbonHistory,
    CarbonScoreParams,
    HistoryRecord,
    carbon_score,
    component_score,
    summarise_history,
)
from scoring.defaults import CARBON_SCORE_DEFAULTS
from scoring.methods import ScoringRuleError

PROPS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # autouse no-op fixtures
)

COMMIT = CarbonCommitment(planned_certified_share=D("0.6"), planned_reduction_ratio=D("0.15"))
HISTORY = CarbonHistory(certified_share=D("0.4"), reduction_ratio=D("0.25"), average_fulfilment=D("0.9"))


def test_defaults_carry_sources() -> None:
    params = CarbonScoreParams()
    for name, default in CARBON_SCORE_DEFAULTS.items():
        assert default.source
        assert getattr(params, name) == default.value


def test_worked_example_with_history() -> None:
    # Defaults: w_share = w_red = 0.5, target 0.20, α = 0.5.
    # S_commit  = 100 × (0.5 × 0.6 + 0.5 × clamp(0.15 / 0.20 = 0.75)) = 100 × 0.675 = 67.5
    # S_history = 100 × (0.5 × 0.4 + 0.5 × clamp(0.25 / 0.20 = 1.25 → 1)) × 0.9 = 70 × 0.9 = 63
    # S         = 0.5 × 67.5 + 0.5 × 63 = 65.25
    result = carbon_score(COMMIT, HISTORY)
    assert result.s_commit == D("67.5")
    assert result.s_history == D("63")
    assert result.fulfilment == D("0.9")
    assert result.s_total == D("65.25")
    assert result.history_used is True
    assert result.eligible_by_history is True
    assert result.reason is None
    assert result.to_dict()["s_total"] == "65.25"


@pytest.mark.parametrize(
    ("policy", "s_history", "s_total"),
    [
        # commitment_only: S = S_commit = 67.5 (no history term at all)
        ("commitment_only", None, D("67.5")),
        # zero: S = 0.5 × 67.5 + 0.5 × 0 = 33.75
        ("zero", D("0"), D("33.75")),
        # neutral: S = 0.5 × 67.5 + 0.5 × 50 = 58.75
        ("neutral", D("50"), D("58.75")),
    ],
)
def test_no_history_policies(policy: str, s_history: D | None, s_total: D) -> None:
    result = carbon_score(COMMIT, None, CarbonScoreParams(no_history_policy=policy))
    assert result.s_history == s_history
    assert result.s_total == s_total
    assert result.history_used is False
    assert result.fulfilment is None


def test_minimum_history_score_threshold() -> None:
    # S_history = 63 (worked example above)
    assert carbon_score(COMMIT, HISTORY, CarbonScoreParams(min_history_score=60)).eligible_by_history
    below = carbon_score(COMMIT, HISTORY, CarbonScoreParams(min_history_score=65))
    assert below.eligible_by_history is False
    assert "63" in (below.reason or "") and "65" in (below.reason or "")
    # No verified history cannot meet a minimum, whatever the scoring policy.
    none = carbon_score(COMMIT, None, CarbonScoreParams(min_history_score=10, no_history_policy="neutral"))
    assert none.eligible_by_history is False
    assert "36 months" in (none.reason or "")


def test_negative_reduction_clamps_to_zero_and_alpha_extremes() -> None:
    # More CO2 than the reference: reduction part clamps to 0 → 100 × 0.5 × 0.6 = 30
    worse = CarbonCommitment(planned_certified_share=D("0.6"), planned_reduction_ratio=D("-0.3"))
    assert carbon_score(worse, None).s_total == D("30")
    # α = 1 → commitment only even with history; α = 0 → history only.
    assert carbon_score(COMMIT, HISTORY, CarbonScoreParams(alpha=1)).s_total == D("67.5")
    assert carbon_score(COMMIT, HISTORY, CarbonScoreParams(alpha=0)).s_total == D("63")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"w_share": D("0.6"), "w_red": D("0.5")}, "w_share"),
        ({"w_share": D("1.2"), "w_red": D("-0.2")}, "w_share"),
        ({"alpha": D("1.2")}, "alpha"),
        ({"alpha": D("-0.1")}, "alpha"),
        ({"target_reduction_ratio": 0}, "target_reduction_ratio"),
        ({"no_history_policy": "optimistic"}, "no_history_policy"),
        ({"window_months": 0}, "window_months"),
        ({"neutral_history_score": 120}, "neutral_history_score"),
        ({"min_history_score": -1}, "min_history_score"),
        ({"alpha": "abc"}, "alpha"),
    ],
)
def test_parameter_errors_name_the_parameter(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ScoringRuleError) as info:
        CarbonScoreParams(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_input_errors_name_the_field() -> None:
    with pytest.raises(ScoringRuleError) as info:
        CarbonCommitment(planned_certified_share=D("1.1"), planned_reduction_ratio=D("0.1"))
    assert info.value.field == "planned_certified_share"
    with pytest.raises(ScoringRuleError) as info:
        CarbonHistory(certified_share=D("0.5"), reduction_ratio=D("0.1"), average_fulfilment=D("1.5"))
    assert info.value.field == "average_fulfilment"


def test_summarise_history_window_and_weights() -> None:
    # as_of 2025-06-30, 36 months → window (2022-06-30, 2025-06-30]
    rows = [
        # on the window's open start: excluded
        HistoryRecord(date(2022, 6, 30), D("500"), D("500"), D("5000"), D("1000"), D("1")),
        HistoryRecord(date(2023, 3, 31), D("1000"), D("600"), D("10000"), D("8000"), D("1")),
        HistoryRecord(date(2024, 12, 31), D("3000"), D("1500"), D("30000"), D("27000"), D("0.8")),
        # no commitment on this project: no fulfilment figure, counts for shares only
        HistoryRecord(date(2025, 6, 30), D("1000"), D("0"), D("10000"), D("10000"), None),
        # after as_of: excluded
        HistoryRecord(date(2025, 7, 31), D("9999"), D("9999"), D("1"), D("0"), D("0")),
    ]
    history = summarise_history(rows, date(2025, 6, 30), 36)
    assert history is not None
    # certified share = (600 + 1500 + 0) / (1000 + 3000 + 1000) = 2100 / 5000 = 0.42
    assert history.certified_share == D("0.42")
    # reduction = (50000 − 45000) / 50000 = 0.1
    assert history.reduction_ratio == D("0.1")
    # fulfilment, hours-weighted over committed rows = (1000 × 1 + 3000 × 0.8) / 4000 = 0.85
    assert history.average_fulfilment == D("0.85")
    assert summarise_history(rows, date(2019, 1, 1), 36) is None
    # Month-end clamping: 31 May − 3 months → 28 Feb; a row on 28 Feb is outside the window.
    feb = HistoryRecord(date(2025, 2, 28), D("10"), D("10"), D("1"), D("1"), None)
    assert summarise_history([feb], date(2025, 5, 31), 3) is None
    mar = HistoryRecord(date(2025, 3, 1), D("10"), D("10"), D("1"), D("1"), None)
    only_mar = summarise_history([mar], date(2025, 5, 31), 3)
    assert only_mar is not None and only_mar.average_fulfilment == D("1")


def test_history_record_rejects_impossible_rows() -> None:
    with pytest.raises(ScoringRuleError) as info:
        HistoryRecord(date(2024, 1, 31), D("10"), D("11"), D("1"), D("1"))
    assert info.value.field == "certified_hours"


# ---------------------------------------------------------------------------------- properties

shares = st.decimals(min_value=0, max_value=1, places=3)
ratios = st.decimals(min_value=-1, max_value=1, places=3)
weights = st.decimals(min_value=0, max_value=1, places=2)


@st.composite
def params_strategy(draw: st.DrawFn) -> CarbonScoreParams:
    w_share = draw(weights)
    return CarbonScoreParams(
        w_share=w_share,
        w_red=1 - w_share,
        target_reduction_ratio=draw(st.decimals(min_value="0.01", max_value=1, places=2)),
        alpha=draw(weights),
        no_history_policy=draw(st.sampled_from(["commitment_only", "zero", "neutral"])),
        neutral_history_score=draw(st.decimals(min_value=0, max_value=100, places=1)),
    )


@PROPS
@given(params_strategy(), shares, ratios, st.none() | st.tuples(shares, ratios, shares))
def test_score_is_within_0_and_100(
    params: CarbonScoreParams, share: D, ratio: D, hist: tuple[D, D, D] | None
) -> None:
    history = None if hist is None else CarbonHistory(*hist)
    result = carbon_score(CarbonCommitment(share, ratio), history, params)
    assert D(0) <= result.s_commit <= D(100)
    assert D(0) <= result.s_total <= D(100)
    if result.s_history is not None:
        assert D(0) <= result.s_history <= D(100)


@PROPS
@given(params_strategy(), shares, shares, ratios, ratios, st.tuples(shares, ratios, shares))
def test_score_is_monotone_in_share_and_reduction(
    params: CarbonScoreParams, s1: D, s2: D, r1: D, r2: D, hist: tuple[D, D, D]
) -> None:
    lo_s, hi_s = sorted((s1, s2))
    lo_r, hi_r = sorted((r1, r2))
    history = CarbonHistory(*hist)
    base = carbon_score(CarbonCommitment(lo_s, lo_r), history, params).s_total
    assert carbon_score(CarbonCommitment(hi_s, lo_r), history, params).s_total >= base
    assert carbon_score(CarbonCommitment(lo_s, hi_r), history, params).s_total >= base
    # The same on the verified history side.
    commit = CarbonCommitment(s1, r1)
    h_base = carbon_score(commit, CarbonHistory(lo_s, lo_r, hist[2]), params).s_total
    assert carbon_score(commit, CarbonHistory(hi_s, lo_r, hist[2]), params).s_total >= h_base
    assert carbon_score(commit, CarbonHistory(lo_s, hi_r, hist[2]), params).s_total >= h_base


@PROPS
@given(params_strategy(), shares, ratios)
def test_component_score_strictly_rewards_share_when_weighted(
    params: CarbonScoreParams, share: D, ratio: D
) -> None:
    if params.w_share == 0 or share == 1:
        return
    more = min(D(1), share + D("0.1"))
    assert component_score(more, ratio, params) > component_score(share, ratio, params)
