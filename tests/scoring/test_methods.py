"""Tender evaluation methods: hand-computed examples per method, tie-breaks, validation,
price adjustments, reproducibility and hypothesis properties."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal as D
from decimal import localcontext

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import defaults
from scoring.carbon_score import CarbonCommitment, carbon_score
from scoring.methods import (
    METHODS,
    Bidder,
    Criterion,
    EvaluationInputs,
    EvaluationResult,
    MethodParams,
    ScoringRuleError,
    commitment_sanction,
    evaluate,
    evaluate_tw_total,
    flag_divergent_scores,
    ladder_evaluated_price,
    mean_ranks,
    shadow_carbon_advantage,
    shadow_carbon_evaluated_price,
    validate_criteria,
    validate_member_scores,
    validate_weights,
)

PROPS = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # autouse no-op fixtures
)


def scores(rows: dict[str, dict[str, tuple[int | str, ...]]], codes: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """{member: {bidder: (points per code …)}} -> member_scores mapping."""
    return {
        m: {b: {c: D(str(p)) for c, p in zip(codes, pts, strict=True)} for b, pts in by_b.items()}
        for m, by_b in rows.items()
    }


# ------------------------------------------------------------------------------ 總評分法


TW_CRITERIA = (
    Criterion("tech", D(50), name="技術能力"),
    Criterion("schedule", D(30), name="時程管理"),
    Criterion("co2", D(20), name="低碳機具", is_carbon=True),
)


def tw_total_inputs(**params: object) -> EvaluationInputs:
    # Carbon points = 20 × S / 100: A 75 → 15, B 50 → 10, C 25 → 5 (same for every member).
    bidders = (
        Bidder("A", D(9_000_000), carbon_score=D(75)),
        Bidder("B", D(9_500_000), carbon_score=D(50)),
        Bidder("C", D(8_000_000), carbon_score=D(25)),
    )
    member_scores = scores(
        {
            "m1": {"A": (40, 20), "B": (45, 25), "C": (30, 20)},
            "m2": {"A": (42, 22), "B": (44, 24), "C": (35, 20)},
            "m3": {"A": (38, 21), "B": (46, 26), "C": (30, 25)},
        },
        ("tech", "schedule"),
    )
    settings_ = {"total_points": D(100), **params}
    return EvaluationInputs(bidders, TW_CRITERIA, member_scores, MethodParams(**settings_))  # type: ignore[arg-type]


def test_tw_total_worked_example() -> None:
    # A: m1 40+20+15 = 75, m2 42+22+15 = 79, m3 38+21+15 = 74 → mean 228 / 3 = 76
    # B: m1 45+25+10 = 80, m2 44+24+10 = 78, m3 46+26+10 = 82 → mean 240 / 3 = 80 → wins
    # C: m1 30+20+5 = 55, m2 35+20+5 = 60, m3 30+25+5 = 60 → mean 175 / 3 = 58.33 < 70 → out
    result = evaluate("tw_total", tw_total_inputs())
    a, b, c = result.bidder("A"), result.bidder("B"), result.bidder("C")
    assert a.member_totals == {"m1": D(75), "m2": D(79), "m3": D(74)}
    assert a.carbon_points == D(15)
    assert (a.total, b.total) == (D(76), D(80))
    assert c.total == D(175) / 3
    assert result.winner_id == "B"
    assert (b.position, a.position, c.position) == (1, 2, None)
    assert b.winner and not a.winner
    assert c.eligible is False and "pass mark 70" in c.reasons[0]
    assert [r.bidder_id for r in result.bidders] == ["B", "A", "C"]
    assert result.tie_breaks == ()


def test_tw_total_pass_mark_is_a_parameter() -> None:
    result = evaluate("tw_total", tw_total_inputs(pass_mark=D(55)))
    assert result.bidder("C").eligible and result.bidder("C").position == 3


def test_tw_total_ceiling_price_excludes() -> None:
    result = evaluate("tw_total", tw_total_inputs(ceiling_price=D(9_200_000)))
    b = result.bidder("B")
    assert not b.eligible and "ceiling" in b.reasons[0]
    assert result.winner_id == "A"


def test_carbon_score_feeds_the_carbon_criterion() -> None:
    # S = 65.25 (worked example in test_carbon_score) → 20 × 65.25 / 100 = 13.05 points
    s = carbon_score(
        CarbonCommitment(D("0.6"), D("0.15")),
        None,
    ).s_total  # commitment_only → 67.5
    inputs = tw_total_inputs()
    bidders = (Bidder("A", D(9_000_000), carbon_score=s),) + inputs.bidders[1:]
    result = evaluate(
        "tw_total", EvaluationInputs(bidders, inputs.criteria, inputs.member_scores, inputs.params)
    )
    # 20 × 67.5 / 100 = 13.5 per member
    assert result.bidder("A").carbon_points == D("13.5")
    assert result.bidder("A").member_totals["m1"] == D("73.5")


# ------------------------------------------------------------------------------ 序位法


RANK_CRITERIA = (
    Criterion("tech", D(50)),
    Criterion("mgmt", D(30)),
    Criterion("co2", D(20), is_carbon=True),
)


def test_tw_rank_tie_broken_by_highest_weighted_criterion() -> None:
    # Carbon S = 50 for all → 10 points each. Member totals (non-carbon + 10):
    #        A               B               C
    # m1  48+27+10 = 85   42+28+10 = 80   40+25+10 = 75   ranks A1 B2 C3
    # m2  45+23+10 = 78   44+28+10 = 82   40+24+10 = 74   ranks B1 A2 C3
    # m3  46+24+10 = 80   43+27+10 = 80   41+25+10 = 76   ranks A1.5 B1.5 C3 (shared)
    # rank sums: A 4.5, B 4.5, C 9 → A and B tie.
    # §15-1(2): tech (50, highest points) sums A 48+45+46 = 139 > B 42+44+43 = 129 → A.
    bidders = tuple(Bidder(x, D(1_000_000), carbon_score=D(50)) for x in "ABC")
    ms = scores(
        {
            "m1": {"A": (48, 27), "B": (42, 28), "C": (40, 25)},
            "m2": {"A": (45, 23), "B": (44, 28), "C": (40, 24)},
            "m3": {"A": (46, 24), "B": (43, 27), "C": (41, 25)},
        },
        ("tech", "mgmt"),
    )
    result = evaluate("tw_rank", EvaluationInputs(bidders, RANK_CRITERIA, ms))
    a, b, c = result.bidder("A"), result.bidder("B"), result.bidder("C")
    assert a.member_ranks == {"m1": D(1), "m2": D(2), "m3": D("1.5")}
    assert b.member_ranks == {"m1": D(2), "m2": D(1), "m3": D("1.5")}
    assert (a.rank_sum, b.rank_sum, c.rank_sum) == (D("4.5"), D("4.5"), D(9))
    assert (a.first_places, b.first_places) == (1, 1)
    assert result.winner_id == "A"
    assert (a.position, b.position, c.position) == (1, 2, 3)
    assert a.tie_break == b.tie_break == "highest_weighted_criterion:tech"
    assert c.tie_break is None
    (record,) = result.tie_breaks
    assert record.bidder_ids == ("A", "B")
    assert record.method_value == D("4.5")
    (step,) = record.steps
    assert step.values == {"A": "139", "B": "129"}
    assert "§15-1" in step.source
    assert record.draw_seed is None


def first_places_inputs(symmetric: bool, seed: int = 0) -> EvaluationInputs:
    crit = (Criterion("tech", D(60)), Criterion("mgmt", D(40)))
    if not symmetric:
        # m1: A 55+35 = 90, B 50+35 = 85, C 50+30 = 80 → A1 B2 C3
        # m2: A 54+34 = 88, B 50+34 = 84, C 48+32 = 80 → A1 B2 C3
        # m3: A 40+30 = 70, B 49+37 = 86, C 45+30 = 75 → B1 C2 A3
        # rank sums A 5, B 5, C 8; tech sums A 149 = B 149 → §15-1(3) first places A 2 > B 1.
        rows = {
            "m1": {"A": (55, 35), "B": (50, 35), "C": (50, 30)},
            "m2": {"A": (54, 34), "B": (50, 34), "C": (48, 32)},
            "m3": {"A": (40, 30), "B": (49, 37), "C": (45, 30)},
        }
    else:
        # m1: A 90, B 85; m2: A 85, B 90 → rank sums 3 and 3, tech 105 = 105, first places
        # 1 = 1 → draw.
        rows = {
            "m1": {"A": (55, 35), "B": (50, 35), "C": (45, 30)},
            "m2": {"A": (50, 35), "B": (55, 35), "C": (45, 30)},
        }
    bidders = tuple(Bidder(x, D(1_000_000)) for x in "ABC")
    return EvaluationInputs(bidders, crit, scores(rows, ("tech", "mgmt")), MethodParams(draw_seed=seed))


def test_tw_rank_falls_through_to_first_places() -> None:
    result = evaluate("tw_rank", first_places_inputs(symmetric=False))
    a, b = result.bidder("A"), result.bidder("B")
    assert (a.rank_sum, b.rank_sum) == (D(5), D(5))
    assert (a.first_places, b.first_places) == (2, 1)
    assert result.winner_id == "A"
    assert a.tie_break == "first_places"
    (record,) = result.tie_breaks
    assert [s.rule for s in record.steps] == ["highest_weighted_criterion:tech", "first_places"]
    assert record.steps[0].groups == (("A", "B"),)  # tech sums equal: still tied
    assert record.steps[1].values == {"A": "2", "B": "1"}
    # The same bids under 總評分法: B has the higher mean (85 vs 82.67) — the methods differ.
    assert evaluate("tw_total", first_places_inputs(symmetric=False)).winner_id == "B"


def _expected_draw_order(seed: int, ids: list[str]) -> list[str]:
    return sorted(ids, key=lambda b: hashlib.sha256(f"{seed}:{b}".encode()).hexdigest())


def test_tw_rank_falls_through_to_a_recorded_draw() -> None:
    winners = set()
    for seed in range(6):
        result = evaluate("tw_rank", first_places_inputs(symmetric=True, seed=seed))
        (record,) = result.tie_breaks
        assert [s.rule for s in record.steps] == ["highest_weighted_criterion:tech", "first_places", "draw"]
        assert record.draw_seed == seed
        expected = _expected_draw_order(seed, ["A", "B"])
        assert list(record.order) == expected
        assert result.winner_id == expected[0]
        assert result.bidder("A").tie_break == result.bidder("B").tie_break == "draw"
        assert result.to_dict()["tie_breaks"][0]["draw_seed"] == seed
        winners.add(result.winner_id)
        # Reproducible: the same seed gives the same draw.
        assert evaluate("tw_rank", first_places_inputs(True, seed)).to_dict() == result.to_dict()
    assert winners == {"A", "B"}  # the seed really decides (both outcomes occur in 0..5)


def test_tw_rank_ranks_only_eligible_bidders() -> None:
    # C's totals are 55/60/60 (mean 58.3 < 70): it gets no ranks and does not push A or B down.
    result = evaluate("tw_rank", tw_total_inputs())
    c = result.bidder("C")
    assert not c.eligible and c.member_ranks == {} and c.rank_sum is None
    # m1 B 80 > A 75; m2 B 78 < A 79; m3 B 82 > A 74 → B 1+2+1 = 4, A 2+1+2 = 5
    assert result.bidder("B").rank_sum == D(4) and result.bidder("A").rank_sum == D(5)
    assert result.winner_id == "B"


def test_mean_ranks_share_ties() -> None:
    assert mean_ranks({"A": 90, "B": 80, "C": 80, "D": 70}) == {
        "A": D(1),
        "B": D("2.5"),
        "C": D("2.5"),
        "D": D(4),
    }
    assert mean_ranks({"A": 5, "B": 5, "C": 5}) == {"A": D(2), "B": D(2), "C": D(2)}
    assert mean_ranks({"A": 1, "B": 2}, higher_is_better=False) == {"A": D(1), "B": D(2)}


# ------------------------------------------------------------------------------ 評分單價法


def test_tw_price_per_score_with_section_14_tie() -> None:
    # tech 80 points, carbon 20 points (S: A 50 → 10, B 25 → 5, C 0 → 0, D 100 → 20).
    # A: tech 80, 80 → mean 80 + 10 = 90; 9,000,000 / 90 = 100,000 per point
    # B: tech 70, 70 → 70 + 5 = 75;       8,000,000 / 75 = 106,666.67
    # C: tech 60, 70 → 65 + 0 = 65 < 70 → not eligible although cheapest (6,000,000 / 65)
    # D: tech 64, 66 → 65 + 20 = 85;      8,500,000 / 85 = 100,000 → ties with A
    # §14(2): tech (highest points) sums A 160 > D 130 → A first, D second, B third.
    crit = (Criterion("tech", D(80)), Criterion("co2", D(20), is_carbon=True))
    bidders = (
        Bidder("A", D(9_000_000), carbon_score=D(50)),
        Bidder("B", D(8_000_000), carbon_score=D(25)),
        Bidder("C", D(6_000_000), carbon_score=D(0)),
        Bidder("D", D(8_500_000), carbon_score=D(100)),
    )
    ms = scores(
        {
            "m1": {"A": (80,), "B": (70,), "C": (60,), "D": (64,)},
            "m2": {"A": (80,), "B": (70,), "C": (70,), "D": (66,)},
        },
        ("tech",),
    )
    result = evaluate("tw_price_per_score", EvaluationInputs(bidders, crit, ms))
    assert result.bidder("A").method_value == D(100_000)
    assert result.bidder("D").method_value == D(100_000)
    assert result.bidder("B").method_value == D(8_000_000) / D(75)
    assert [r.bidder_id for r in result.bidders] == ["A", "D", "B", "C"]
    assert result.winner_id == "A"
    assert result.bidder("C").eligible is False
    assert result.bidder("A").tie_break == "highest_weighted_criterion:tech"
    assert result.tie_breaks[0].steps[0].values == {"A": "160", "D": "130"}
    assert "§14" in result.tie_breaks[0].steps[0].source


# ------------------------------------------------------------------------------ 除算方式


def jp_division_inputs() -> EvaluationInputs:
    # Ceiling (予定価格) 500,000,000 JPY. Criteria: proposal 30 points, carbon 10 points.
    # Added points (加算点) = mean of members' totals (carbon included):
    #   A: proposal 24, 26 → 25; S 50 → 5  → 30
    #   B: proposal 28, 28 → 28; S 100 → 10 → 38   (price 520,000,000 > ceiling)
    #   C: proposal 3, 3 → 3;    S 0 → 0    → 3    (price 480,000,000, but a shadow carbon cost
    #      of 2,500 t × 20,000 JPY/t = 50,000,000 gives an evaluated price of 530,000,000)
    #   D: proposal 30, 30 → 30; S 50 → 5  → 35
    crit = (Criterion("proposal", D(30)), Criterion("co2", D(10), is_carbon=True))
    shadow = shadow_carbon_evaluated_price(D(480_000_000), D(2_500), D(20_000))
    bidders = (
        Bidder("A", D(450_000_000), carbon_score=D(50)),
        Bidder("B", D(520_000_000), carbon_score=D(100)),
        Bidder("C", D(480_000_000), carbon_score=D(0), evaluated_price=shadow.evaluated_price),
        Bidder("D", D(490_000_000), carbon_score=D(50)),
    )
    ms = scores(
        {
            "m1": {"A": (24,), "B": (28,), "C": (3,), "D": (30,)},
            "m2": {"A": (26,), "B": (28,), "C": (3,), "D": (30,)},
        },
        ("proposal",),
    )
    return EvaluationInputs(bidders, crit, ms, MethodParams(ceiling_price=D(500_000_000)))


def test_jp_division_worked_example() -> None:
    # A: (100 + 30) / 450,000,000 × 10^8 = 28.888…  → highest eligible → wins
    # D: (100 + 35) / 490,000,000 × 10^8 = 27.551…
    # B: (100 + 38) / 520,000,000 × 10^8 = 26.538…, but 520,000,000 > 予定価格 → out
    # C: (100 + 3) / 530,000,000 × 10^8 = 19.433… < 基準評価値 → out
    # 基準評価値 = 100 / 500,000,000 × 10^8 = 20
    result = evaluate("jp_division", jp_division_inputs())
    a, b, c, d = (result.bidder(x) for x in "ABCD")
    assert a.components["added_points"] == D(30)
    assert a.components["technical_points"] == D(130)
    assert a.method_value == D(130) / D(450_000_000) * D(10) ** 8
    assert str(a.method_value).startswith("28.888888")
    assert a.components["threshold_value"] == D(20)
    assert d.method_value == D(135) / D(490_000_000) * D(10) ** 8
    assert result.winner_id == "A"
    assert (a.position, d.position) == (1, 2)
    assert not b.eligible and "ceiling" in b.reasons[0]
    assert not c.eligible and "基準評価値" in c.reasons[0]
    assert c.evaluated_price == D(530_000_000) and c.price == D(480_000_000)
    assert c.method_value is not None and c.method_value < D(20)
    assert result.to_dict()["bidders"][0]["components"]["threshold_value"] == "20"


def test_jp_division_structure_points_and_ceiling_required() -> None:
    inputs = jp_division_inputs()
    # D with 施工体制評価点 10: (100 + 35 + 10) / 490,000,000 × 10^8 = 29.59… > A's 28.89
    bidders = tuple(
        Bidder(
            b.bidder_id,
            b.price,
            b.carbon_score,
            b.evaluated_price,
            structure_points=D(10) if b.bidder_id == "D" else D(0),
        )
        for b in inputs.bidders
    )
    result = evaluate(
        "jp_division", EvaluationInputs(bidders, inputs.criteria, inputs.member_scores, inputs.params)
    )
    assert result.winner_id == "D"
    with pytest.raises(ScoringRuleError) as info:
        evaluate(
            "jp_division",
            EvaluationInputs(inputs.bidders, inputs.criteria, inputs.member_scores, MethodParams()),
        )
    assert info.value.field == "params.ceiling_price"


# ------------------------------------------------------------------------------ 加算方式


def test_jp_addition_worked_example() -> None:
    # Ceiling 100,000,000, price allotment 50 points; technical = mean total.
    # A: 80,000,000, technical 40 → price 50 × (1 − 0.8) = 10 → 50
    # B: 90,000,000, technical 48 → price 50 × (1 − 0.9) = 5  → 53 → wins
    # C: 110,000,000 > ceiling → not eligible
    crit = (Criterion("tech", D(50)),)
    bidders = (Bidder("A", D(80_000_000)), Bidder("B", D(90_000_000)), Bidder("C", D(110_000_000)))
    ms = scores({"m1": {"A": (40,), "B": (48,), "C": (50,)}}, ("tech",))
    params = MethodParams(ceiling_price=D(100_000_000), price_allotment_points=D(50))
    result = evaluate("jp_addition", EvaluationInputs(bidders, crit, ms, params))
    assert result.bidder("A").components == {"technical_points": D(40), "price_points": D(10)}
    assert result.bidder("A").method_value == D(50)
    assert result.bidder("B").method_value == D(53)
    assert result.winner_id == "B"
    assert not result.bidder("C").eligible
    with pytest.raises(ScoringRuleError) as info:
        evaluate(
            "jp_addition", EvaluationInputs(bidders, crit, ms, MethodParams(ceiling_price=D(100_000_000)))
        )
    assert info.value.field == "params.price_allotment_points"


# ------------------------------------------------------------------------------ MEAT


def test_meat_weighted_worked_example() -> None:
    # w_price 0.4, quality (max 10) weight 0.4, carbon (max 10, S) weight 0.2; ceiling 1,500,000.
    # Lowest price among eligible bids = A's 1,000,000 (E is cheaper but excluded).
    # A: price 0.4 × 1.0 × 100 = 40; quality 0.4 × 8/10 × 100 = 32; carbon 0.2 × 0.5 × 100 = 10
    #    → 82
    # B: price 0.4 × 1,000,000 / 1,250,000 × 100 = 32; quality 40; carbon 0.2 × 1 × 100 = 20
    #    → 92 → wins
    # C: 1,600,000 > ceiling → not eligible;  E: excluded (documents incomplete)
    crit = (
        Criterion("quality", D(10), weight=D("0.4")),
        Criterion("co2", D(10), weight=D("0.2"), is_carbon=True),
    )
    bidders = (
        Bidder("A", D(1_000_000), carbon_score=D(50)),
        Bidder("B", D(1_250_000), carbon_score=D(100)),
        Bidder("C", D(1_600_000), carbon_score=D(100)),
        Bidder("E", D(900_000), carbon_score=D(100), exclusion_reasons=("documents incomplete",)),
    )
    ms = scores(
        {
            "m1": {"A": (8,), "B": (10,), "C": (10,), "E": (10,)},
            "m2": {"A": (8,), "B": (10,), "C": (10,), "E": (10,)},
        },
        ("quality",),
    )
    params = MethodParams(price_weight=D("0.4"), ceiling_price=D(1_500_000))
    result = evaluate("meat_weighted", EvaluationInputs(bidders, crit, ms, params))
    a, b = result.bidder("A"), result.bidder("B")
    assert a.components["price_score"] == D(40) and a.components["quality_score"] == D(42)
    assert a.method_value == D(82)
    assert b.method_value == D(92)
    assert result.winner_id == "B"
    assert result.bidder("E").reasons == ("documents incomplete",)
    assert result.bidder("E").method_value is None
    assert not result.bidder("C").eligible


def test_meat_weights_must_sum_to_one() -> None:
    crit = (Criterion("quality", D(10), weight=D("0.5")),)
    bidders = (Bidder("A", D(1)),)
    ms = scores({"m1": {"A": (5,)}}, ("quality",))
    with pytest.raises(ScoringRuleError) as info:
        evaluate("meat_weighted", EvaluationInputs(bidders, crit, ms, MethodParams(price_weight=D("0.4"))))
    assert info.value.field == "weights" and "0.9" in info.value.message


# ------------------------------------------------------------------------------ validation


def test_missing_score_names_member_bidder_and_criterion() -> None:
    inputs = tw_total_inputs()
    ms = {m: {b: dict(c) for b, c in by_b.items()} for m, by_b in inputs.member_scores.items()}
    del ms["m2"]["B"]["schedule"]
    ms["m3"]["A"]["tech"] = D(51)  # above 50
    with pytest.raises(ScoringRuleError) as info:
        evaluate("tw_total", EvaluationInputs(inputs.bidders, inputs.criteria, ms, inputs.params))
    fields = [e.field for e in info.value.errors]
    assert "member_scores[m2][B][schedule]" in fields
    assert "member_scores[m3][A][tech]" in fields
    missing = next(e for e in info.value.errors if e.field == "member_scores[m2][B][schedule]")
    assert "m2" in missing.message and "B" in missing.message and "schedule" in missing.message
    with pytest.raises(ScoringRuleError) as info:
        validate_member_scores(ms, ["A", "B", "C"], inputs.criteria)
    assert info.value.field == "member_scores[m2][B][schedule]"


def test_members_must_not_score_the_carbon_criterion() -> None:
    inputs = tw_total_inputs()
    ms = {m: {b: dict(c) for b, c in by_b.items()} for m, by_b in inputs.member_scores.items()}
    ms["m1"]["A"]["co2"] = D(20)
    with pytest.raises(ScoringRuleError) as info:
        evaluate("tw_total", EvaluationInputs(inputs.bidders, inputs.criteria, ms, inputs.params))
    assert info.value.field == "member_scores[m1][A][co2]"


def test_carbon_criterion_needs_every_carbon_score() -> None:
    inputs = tw_total_inputs()
    bidders = (Bidder("A", D(9_000_000)),) + inputs.bidders[1:]
    with pytest.raises(ScoringRuleError) as info:
        evaluate("tw_total", EvaluationInputs(bidders, inputs.criteria, inputs.member_scores))
    assert info.value.field == "bidders[A].carbon_score"


def test_criteria_points_must_sum_to_declared_total() -> None:
    validate_criteria(TW_CRITERIA, D(100))
    with pytest.raises(ScoringRuleError) as info:
        validate_criteria(TW_CRITERIA, D(90))
    assert info.value.field == "params.total_points" and "100" in info.value.message
    with pytest.raises(ScoringRuleError) as info:
        evaluate("tw_total", tw_total_inputs(total_points=D(95)))
    assert info.value.field == "params.total_points"


def test_weights_validation() -> None:
    validate_weights({"a": D("0.25"), "b": D("0.75")})
    validate_weights({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})  # within the sum tolerance
    with pytest.raises(ScoringRuleError) as info:
        validate_weights({"a": D("1.2"), "b": D("-0.2")})
    assert info.value.field == "weights[a]"
    with pytest.raises(ScoringRuleError) as info:
        validate_weights({"a": D("0.5"), "b": D("0.4")})
    assert info.value.field == "weights"
    validate_weights({"a": D("0.5")}, must_sum_to_one=False)


def test_other_input_errors() -> None:
    with pytest.raises(ScoringRuleError) as info:
        evaluate("lowest_price", tw_total_inputs())
    assert info.value.field == "method"
    with pytest.raises(ScoringRuleError) as info:
        Bidder("A", "not a number")  # type: ignore[arg-type]
    assert info.value.field == "bidders[A].price"
    with pytest.raises(ScoringRuleError) as info:
        evaluate("tw_total", EvaluationInputs((Bidder("A", D(0)),), ()))
    assert info.value.field == "bidders[A].price"
    with pytest.raises(ScoringRuleError) as info:
        evaluate("tw_total", tw_total_inputs(pass_mark=D(120)))
    assert info.value.field == "params.pass_mark"


# ------------------------------------------------------------------------------ member difference


def test_flag_divergent_scores() -> None:
    # m3 gives A 50; the others' mean is (80 + 82) / 2 = 81 → −31, beyond 20 → flagged.
    # m1: 80 − (82 + 50) / 2 = 14; m2: 82 − 65 = 17 → within 20.
    flags = flag_divergent_scores({"A": {"m1": 80, "m2": 82, "m3": 50}, "B": {"m1": 70}})
    assert [(f.bidder_id, f.member_id) for f in flags] == [("A", "m3")]
    assert flags[0].others_mean == D(81) and flags[0].difference == D(-31)
    assert flags[0].threshold_points == defaults.DIVERGENCE_THRESHOLD_POINTS.value
    # A lower threshold flags more: 15 adds m2 (17), 13 adds m1 (14) too.
    assert len(flag_divergent_scores({"A": {"m1": 80, "m2": 82, "m3": 50}}, 15)) == 2
    assert len(flag_divergent_scores({"A": {"m1": 80, "m2": 82, "m3": 50}}, 13)) == 3


def test_evaluation_reports_divergent_members() -> None:
    inputs = tw_total_inputs()
    ms = {m: {b: dict(c) for b, c in by_b.items()} for m, by_b in inputs.member_scores.items()}
    # m3's B total 30 + 15 + 10 = 55 vs the others' mean (80 + 78) / 2 = 79 → −24 > 20.
    # m1: 80 − (78 + 55) / 2 = 13.5 and m2: 78 − (80 + 55) / 2 = 10.5 stay unflagged.
    ms["m3"]["B"] = {"tech": D(30), "schedule": D(15)}
    result = evaluate("tw_total", EvaluationInputs(inputs.bidders, inputs.criteria, ms, inputs.params))
    assert [(f.bidder_id, f.member_id) for f in result.divergence_flags] == [("B", "m3")]


# ------------------------------------------------------------------------------ carbon prices


def test_ladder_discount_and_sanction() -> None:
    # Level 3 → 3 %: 10,000,000 × 0.97 = 9,700,000; advantage 300,000
    adj = ladder_evaluated_price(D(10_000_000), 3)
    assert adj.evaluated_price == D(9_700_000) and adj.advantage == D(300_000)
    assert "ProRail" in adj.source
    assert ladder_evaluated_price(D(10_000_000), None).advantage == 0
    # Commitment missed (fulfilment 0.8 < 1): 1.5 × 300,000 = 450,000
    assert commitment_sanction(adj.advantage, D("0.8")) == D(450_000)
    assert commitment_sanction(adj.advantage, D(1)) == 0
    # Proportional option: 1.5 × 300,000 × (1 − 0.8) = 90,000
    assert commitment_sanction(adj.advantage, D("0.8"), proportional=True) == D(90_000)
    assert commitment_sanction(adj.advantage, D("0.8"), k=2) == D(600_000)
    # A tender's own table.
    own = ladder_evaluated_price(D(1_000), 2, {1: D("0.005"), 2: D("0.01")})
    assert own.evaluated_price == D(990)
    with pytest.raises(ScoringRuleError) as info:
        ladder_evaluated_price(D(1_000), 6)
    assert info.value.field == "level"
    with pytest.raises(ScoringRuleError) as info:
        commitment_sanction(D(1), D("1.2"))
    assert info.value.field == "fulfilment"


def test_shadow_carbon_price() -> None:
    # 10,000,000 + 120 t × 3,000 = 10,360,000
    adj = shadow_carbon_evaluated_price(D(10_000_000), D(120), D(3_000))
    assert adj.evaluated_price == D(10_360_000) and adj.advantage == D(-360_000)
    # Emitted 150 t instead of 120: advantage (150 − 120) × 3,000 = 90,000; sanction 135,000
    advantage = shadow_carbon_advantage(D(120), D(150), D(3_000))
    assert advantage == D(90_000)
    assert commitment_sanction(advantage, D("0.5")) == D(135_000)
    assert shadow_carbon_advantage(D(120), D(100), D(3_000)) == 0


# ------------------------------------------------------------------------------ reproducibility


def test_registry_lists_every_method_with_source() -> None:
    assert set(METHODS) == {
        "tw_total",
        "tw_rank",
        "tw_price_per_score",
        "jp_division",
        "jp_addition",
        "meat_weighted",
    }
    for code, info in METHODS.items():
        assert info.code == code and info.source and info.summary
        assert json.dumps(info.to_dict(), ensure_ascii=False)


def test_result_is_json_and_recomputes_from_snapshot() -> None:
    inputs = jp_division_inputs()
    result = evaluate("jp_division", inputs)
    snapshot = json.loads(json.dumps({"inputs": inputs.to_dict(), "result": result.to_dict()}))
    again = evaluate("jp_division", EvaluationInputs.from_dict(snapshot["inputs"]))
    assert again.to_dict() == snapshot["result"]
    assert again.inputs_sha256 == result.inputs_sha256


def test_result_ignores_the_callers_decimal_context() -> None:
    expected = evaluate("jp_division", jp_division_inputs()).to_dict()
    with localcontext() as ctx:
        ctx.prec = 5
        assert evaluate("jp_division", jp_division_inputs()).to_dict() == expected


# ------------------------------------------------------------------------------ properties

PROP_CRITERIA = (
    Criterion("tech", D(50), weight=D("0.3")),
    Criterion("mgmt", D(30), weight=D("0.2")),
    Criterion("co2", D(20), weight=D("0.1"), is_carbon=True),
)
PROP_PARAMS = MethodParams(
    ceiling_price=D(1_000), price_allotment_points=D(40), price_weight=D("0.4"), pass_mark=D(40), draw_seed=7
)


@st.composite
def evaluation_inputs(draw: st.DrawFn) -> EvaluationInputs:
    # Coarse values on purpose so ties (and the tie-break/draw paths) happen often.
    n_bidders = draw(st.integers(2, 5))
    n_members = draw(st.integers(1, 4))
    ids = [f"b{i}" for i in range(n_bidders)]
    bidders = tuple(
        Bidder(
            bid,
            D(draw(st.sampled_from([600, 800, 900, 1_000, 1_100]))),
            carbon_score=D(draw(st.sampled_from([0, 25, 50, 100]))),
        )
        for bid in ids
    )
    ms = {
        f"m{j}": {
            bid: {
                "tech": D(draw(st.sampled_from([20, 30, 40, 50]))),
                "mgmt": D(draw(st.sampled_from([10, 20, 30]))),
            }
            for bid in ids
        }
        for j in range(n_members)
    }
    return EvaluationInputs(bidders, PROP_CRITERIA, ms, PROP_PARAMS)


@PROPS
@given(evaluation_inputs(), st.randoms(use_true_random=False), st.sampled_from(sorted(METHODS)))
def test_results_do_not_depend_on_input_order(inputs: EvaluationInputs, rnd: object, method: str) -> None:
    bidders = list(inputs.bidders)
    rnd.shuffle(bidders)  # type: ignore[attr-defined]
    members = list(inputs.member_scores.items())
    rnd.shuffle(members)  # type: ignore[attr-defined]
    shuffled = EvaluationInputs(tuple(bidders), inputs.criteria, dict(members), inputs.params)
    assert evaluate(method, shuffled).to_dict() == evaluate(method, inputs).to_dict()


def _position(result: EvaluationResult, bidder_id: str) -> int:
    pos = result.bidder(bidder_id).position
    return len(result.bidders) + 1 if pos is None else pos


@PROPS
@given(evaluation_inputs(), st.data())
def test_tw_total_raising_scores_never_lowers_position(inputs: EvaluationInputs, data: st.DataObject) -> None:
    bid = data.draw(st.sampled_from([b.bidder_id for b in inputs.bidders]))
    member = data.draw(st.sampled_from(sorted(inputs.member_scores)))
    code = data.draw(st.sampled_from(["tech", "mgmt"]))
    cap = next(c.max_points for c in inputs.criteria if c.code == code)
    ms = {m: {b: dict(c) for b, c in by_b.items()} for m, by_b in inputs.member_scores.items()}
    ms[member][bid][code] = min(cap, ms[member][bid][code] + data.draw(st.integers(1, 30)))
    before = evaluate_tw_total(inputs)
    after = evaluate_tw_total(EvaluationInputs(inputs.bidders, inputs.criteria, ms, inputs.params))
    assert _position(after, bid) <= _position(before, bid)
    assert after.bidder(bid).total >= before.bidder(bid).total


@PROPS
@given(
    st.integers(1, 500_000_000),
    st.integers(1, 500_000_000),
    st.integers(0, 60),
)
def test_jp_division_value_decreases_with_price(p1: int, p2: int, added: int) -> None:
    if p1 == p2:
        return
    lo, hi = sorted((p1, p2))
    crit = (Criterion("proposal", D(60)),)
    ms = {"m1": {"X": {"proposal": D(added)}, "Y": {"proposal": D(added)}}}
    params = MethodParams(ceiling_price=D(500_000_000))
    result = evaluate(
        "jp_division", EvaluationInputs((Bidder("X", D(lo)), Bidder("Y", D(hi))), crit, ms, params)
    )
    x, y = result.bidder("X"), result.bidder("Y")
    assert x.method_value is not None and y.method_value is not None
    assert x.method_value > y.method_value
    assert result.winner_id == "X"
