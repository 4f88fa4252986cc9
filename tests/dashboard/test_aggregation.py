"""Pure dashboard aggregations against hand-computed figures, plus hypothesis properties."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.dashboard import queries as q
from scoring.methods import Bidder, Criterion, EvaluationInputs, MethodParams

pytestmark = pytest.mark.nodb


# --- certificates --------------------------------------------------------------------------


def _certs() -> pd.DataFrame:
    rows = [
        # id, number, model, type, maker_id, maker, category, size_class, drive, grade, issued, valid_until
        (
            1,
            "C-1",
            1,
            "EX-1",
            10,
            "A",
            "excavator",
            "X",
            "diesel",
            "★★★",
            date(2024, 1, 10),
            date(2027, 1, 10),
        ),
        (2, "C-2", 2, "EX-2", 20, "B", "excavator", "X", "hybrid", "★★", date(2024, 3, 1), date(2027, 3, 1)),
        (
            3,
            "C-3",
            3,
            "WL-3",
            30,
            "C",
            "wheel_loader",
            "Y",
            "battery_electric",
            "★★★★",
            date(2025, 2, 1),
            date(2028, 2, 1),
        ),
        (
            4,
            "C-4",
            2,
            "EX-2",
            20,
            "B",
            "excavator",
            "X2",
            "hybrid",
            "★★★★",
            date(2025, 5, 1),
            date(2028, 5, 1),
        ),
        (
            5,
            "C-5",
            5,
            "EX-5",
            10,
            "A",
            "excavator",
            "X",
            "diesel",
            "★★",
            date(2022, 11, 30),
            date(2025, 11, 30),
        ),
    ]
    return pd.DataFrame(rows, columns=list(q.CERTIFICATE_COLUMNS))


def _intervals() -> pd.DataFrame:
    rows = [
        (1, date(2024, 1, 10), date(2025, 6, 1)),  # revoked from 2025-06-01
        (2, date(2024, 3, 1), date(2025, 8, 1)),  # suspended 2025-08-01 ...
        (2, date(2025, 9, 1), date(2027, 3, 1)),  # ... reinstated 2025-09-01
        (3, date(2025, 2, 1), date(2028, 2, 1)),
        (4, date(2025, 5, 1), date(2028, 5, 1)),
        (5, date(2022, 11, 30), date(2025, 11, 30)),  # expired at valid_until (no recorded change)
    ]
    return pd.DataFrame(rows, columns=list(q.INTERVAL_COLUMNS))


def _as_dict(frame: pd.DataFrame, key: str, value: str) -> dict:
    return {row[key]: row[value] for row in frame.to_dict("records")}


def test_active_on_respects_half_open_periods():
    certs, intervals = _certs(), _intervals()
    # 2025-06-01: C-1 revoked that day (end excluded); C-2, C-3, C-4, C-5 active.
    ids = set(q.active_certificates_on(certs, intervals, date(2025, 6, 1))["certificate_id"])
    assert ids == {2, 3, 4, 5}
    # 2025-08-15: C-2 suspended; 2025-11-30: C-5 expired that day.
    assert set(q.active_certificates_on(certs, intervals, date(2025, 8, 15))["certificate_id"]) == {3, 4, 5}
    assert set(q.active_certificates_on(certs, intervals, date(2025, 11, 30))["certificate_id"]) == {2, 3, 4}


def test_certified_models_over_time_by_category_and_grade():
    certs, intervals = _certs(), _intervals()
    dates = [date(2024, 12, 31), date(2025, 12, 31)]
    by_cat = q.certified_models_over_time(certs, intervals, dates, "category")
    # 2024-12-31: active C-1 (model 1), C-2 (model 2), C-5 (model 5) -> excavator 3 models.
    # 2025-12-31: C-2 and C-4 are both model 2 -> excavator 1 distinct model; C-3 -> wheel_loader 1.
    assert by_cat.to_dict("records") == [
        {"as_of": date(2024, 12, 31), "category": "excavator", "models": 3},
        {"as_of": date(2025, 12, 31), "category": "excavator", "models": 1},
        {"as_of": date(2025, 12, 31), "category": "wheel_loader", "models": 1},
    ]
    by_grade = q.certified_models_over_time(certs, intervals, dates[1:], "grade")
    # 2025-12-31: ★★ C-2 (model 2); ★★★★ C-3 (model 3) and C-4 (model 2) -> 2 models.
    assert _as_dict(by_grade, "grade", "models") == {"★★": 1, "★★★★": 2}
    with pytest.raises(ValueError):
        q.certified_models_over_time(certs, intervals, dates, "colour")


def test_makers_per_class_and_designatable():
    certs, intervals = _certs(), _intervals()
    extra = pd.DataFrame(
        [
            (
                6,
                "C-6",
                6,
                "EX-6",
                40,
                "D",
                "excavator",
                "X",
                "diesel",
                "★★★",
                date(2024, 6, 1),
                date(2027, 6, 1),
            ),
        ],
        columns=list(q.CERTIFICATE_COLUMNS),
    )
    certs = pd.concat([certs, extra], ignore_index=True)
    intervals = pd.concat(
        [
            intervals,
            pd.DataFrame([(6, date(2024, 6, 1), date(2027, 6, 1))], columns=list(q.INTERVAL_COLUMNS)),
        ],
        ignore_index=True,
    )
    classes = pd.DataFrame(
        [("excavator", "X"), ("excavator", "X2"), ("wheel_loader", "Y"), ("bulldozer", "Z")],
        columns=["category", "size_class"],
    )
    # 2025-01-31, class X: C-1 (maker 10), C-2 (maker 20), C-5 (maker 10), C-6 (maker 40) -> 3 makers.
    table = q.makers_per_class(certs, intervals, date(2025, 1, 31), classes)
    got = {
        (r["category"], r["size_class"]): (r["makers"], r["designatable"]) for r in table.to_dict("records")
    }
    assert got == {
        ("bulldozer", "Z"): (0, False),
        ("excavator", "X"): (3, True),
        ("excavator", "X2"): (0, False),
        ("wheel_loader", "Y"): (0, False),
    }
    # 2025-08-15: C-1 revoked, C-2 suspended -> X: makers 10 (C-5) and 40 (C-6) = 2 -> not designatable.
    later = q.makers_per_class(certs, intervals, date(2025, 8, 15), classes)
    assert _as_dict(later, "size_class", "makers")["X"] == 2
    assert not _as_dict(later, "size_class", "designatable")["X"]


def test_register_changes_in_a_fiscal_year():
    certs = _certs()
    changes = pd.DataFrame(
        [
            (1, "active", date(2024, 1, 10), None),
            (1, "revoked", date(2025, 6, 1), "false test report"),
            (2, "suspended", date(2025, 8, 1), "inspection"),
            (2, "active", date(2025, 9, 1), "reinstated"),
        ],
        columns=["certificate_id", "status", "effective_from", "reason"],
    )
    renewals = pd.DataFrame(
        [(2, date(2025, 10, 1), "renewal")], columns=["certificate_id", "renewed_on", "reason"]
    )
    start, end = q.fiscal_year_bounds(2025)
    out = q.register_changes(certs, changes, renewals, start, end, today=date(2026, 1, 15))
    # new: C-3 (2025-02-01), C-4 (2025-05-01); revoked C-1; suspended C-2; renewed C-2;
    # expired: C-5 at its valid_until 2025-11-30 (no recorded change).
    assert [(r["kind"], r["number"], r["on"]) for r in out.to_dict("records")] == [
        ("new", "C-3", date(2025, 2, 1)),
        ("new", "C-4", date(2025, 5, 1)),
        ("revoked", "C-1", date(2025, 6, 1)),
        ("suspended", "C-2", date(2025, 8, 1)),
        ("renewed", "C-2", date(2025, 10, 1)),
        ("expired", "C-5", date(2025, 11, 30)),
    ]
    counts = _as_dict(q.register_change_counts(out), "kind", "certificates")
    assert counts == {"new": 2, "renewed": 1, "suspended": 1, "revoked": 1, "expired": 1}
    # Before C-5's validity ended (today 2025-11-01) it is not yet expired.
    early = q.register_changes(certs, changes, renewals, start, end, today=date(2025, 11, 1))
    assert "expired" not in set(early["kind"])


def test_register_change_counts_list_every_kind_when_empty():
    empty = q.register_changes(
        _certs().iloc[0:0],
        pd.DataFrame(columns=["certificate_id", "status", "effective_from", "reason"]),
        pd.DataFrame(columns=["certificate_id", "renewed_on", "reason"]),
        date(2025, 1, 1),
        date(2025, 12, 31),
    )
    assert q.register_change_counts(empty)["certificates"].tolist() == [0, 0, 0, 0, 0]


def test_fiscal_year_rule_and_snapshot_dates():
    assert q.fiscal_year_bounds(2025) == (date(2025, 1, 1), date(2025, 12, 31))
    assert q.fiscal_year_of(date(2025, 12, 31)) == 2025
    japan = q.FiscalYearRule(4, 1, "財政法 §11 (April to March)")
    assert q.fiscal_year_of(date(2026, 3, 31), japan) == 2025
    assert q.fiscal_year_bounds(2025, japan) == (date(2025, 4, 1), date(2026, 3, 31))
    assert q.snapshot_dates(date(2024, 1, 1), date(2026, 5, 1)) == [
        date(2024, 12, 31),
        date(2025, 12, 31),
        date(2026, 5, 1),
    ]


# --- usage ---------------------------------------------------------------------------------


def _usage() -> pd.DataFrame:
    rows = [
        (date(2024, 5, 1), 2024, 1, "A1", 11, "P1", 21, "K1", 8.0, True, 100.0, 150.0),
        (date(2024, 5, 2), 2024, 1, "A1", 11, "P1", 21, "K1", 6.0, False, 120.0, 110.0),
        (date(2025, 3, 1), 2025, 2, "A2", 12, "P2", 22, "K2", 10.0, True, 50.0, 200.0),
    ]
    return pd.DataFrame(rows, columns=list(q.USAGE_COLUMNS))


def test_usage_summary_by_year_hand_computed():
    out = q.usage_summary(_usage(), ["fiscal_year"]).set_index("fiscal_year")
    # 2024: hours 8 + 6 = 14, certified 8 -> share 8/14; CO2 actual 220, reference 260,
    #       reduction 40, ratio 40/260.
    y24 = out.loc[2024]
    assert (y24["logs"], y24["hours"], y24["certified_hours"]) == (2, 14.0, 8.0)
    assert y24["certified_share"] == pytest.approx(8 / 14)
    assert (y24["actual_co2_kg"], y24["reference_co2_kg"], y24["reduction_co2_kg"]) == (220.0, 260.0, 40.0)
    assert y24["reduction_ratio"] == pytest.approx(40 / 260)
    # 2025: 10 h all certified; reduction 200 - 50 = 150, ratio 0.75.
    assert out.loc[2025, "certified_share"] == 1.0
    assert out.loc[2025, "reduction_ratio"] == pytest.approx(0.75)


def test_usage_summary_total_is_ratio_of_sums():
    total = q.usage_summary(_usage()).iloc[0]
    # hours 24, certified 18 -> 0.75 (not the mean of per-year shares (8/14 + 1)/2).
    assert total["hours"] == 24.0
    assert total["certified_share"] == pytest.approx(0.75)
    # reduction 460 - 270 = 190, ratio 190/460.
    assert total["reduction_co2_kg"] == 190.0
    assert total["reduction_ratio"] == pytest.approx(190 / 460)


def test_usage_summary_empty_and_zero_reference():
    empty = q.usage_summary(_usage().iloc[0:0]).iloc[0]
    assert empty["logs"] == 0 and empty["hours"] == 0.0
    assert math.isnan(empty["certified_share"]) and math.isnan(empty["reduction_ratio"])


_row = st.tuples(
    st.integers(2023, 2026),
    st.sampled_from(["A1", "A2", "A3"]),
    st.floats(0, 24, allow_nan=False),
    st.booleans(),
    st.floats(0, 5000, allow_nan=False),
    st.floats(0.001, 5000, allow_nan=False),
)


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [(date(y, 6, 1), y, 1, a, 1, "P", 1, "K", h, c, act, ref) for y, a, h, c, act, ref in rows],
        columns=list(q.USAGE_COLUMNS),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(_row, min_size=1, max_size=25), st.randoms(use_true_random=False))
def test_usage_summary_properties(rows, rnd):
    frame = _frame(rows)
    by_agency = q.usage_summary(frame, ["agency"])
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    again = q.usage_summary(_frame(shuffled), ["agency"])
    # Invariant to row order.
    pd.testing.assert_frame_equal(by_agency, again, check_exact=False, rtol=1e-9)
    # Groups add up to the total; shares lie in [0, 1].
    total = q.usage_summary(frame).iloc[0]
    assert by_agency["hours"].sum() == pytest.approx(total["hours"])
    assert by_agency["logs"].sum() == total["logs"] == len(rows)
    shares = by_agency["certified_share"].dropna()
    assert ((shares >= 0) & (shares <= 1 + 1e-12)).all()
    # Reduction ratio never exceeds 1 (actual CO2 is not negative).
    assert (by_agency["reduction_ratio"].dropna() <= 1 + 1e-12).all()


# --- carbon effect -------------------------------------------------------------------------


def _snapshot(quality_a: int, quality_b: int, carbon_a: int, carbon_b: int, **extra) -> dict:
    inputs = EvaluationInputs(
        bidders=(
            Bidder("A", Decimal(1000), Decimal(carbon_a)),
            Bidder("B", Decimal(1000), Decimal(carbon_b)),
        ),
        criteria=(Criterion("quality", Decimal(80)), Criterion("carbon", Decimal(20), is_carbon=True)),
        member_scores={"M1": {"A": {"quality": quality_a}, "B": {"quality": quality_b}}},
        params=MethodParams(pass_mark=Decimal(70), total_points=Decimal(100)),
    )
    snap = {
        "method": "tw_total",
        "inputs": inputs.to_dict(),
        "bidders": {"A": {"name": "Alpha"}, "B": {"name": "Beta"}},
        "carbon": {},
        "price_adjustment": {"settings": None},
    }
    snap.update(extra)
    return snap


def test_carbon_changed_the_winner():
    # With carbon: A 60 + 20×100/100 = 80, B 65 + 0 = 65 -> A wins.
    # Without: A 60, B 65 against a pass mark 70 × 80/100 = 56 -> B wins: carbon changed it.
    effect = q.carbon_effect(_snapshot(60, 65, 100, 0), "A")
    assert effect == q.CarbonEffect(True, "A", "B", True)


def test_carbon_did_not_change_the_winner():
    # With carbon: A 70 + 20 = 90, B 60 + 0 = 60 (below 70). Without: A 70, B 60 (pass 56) -> A.
    effect = q.carbon_effect(_snapshot(70, 60, 100, 0), "A")
    assert (effect.winner_without_carbon, effect.changed) == ("A", False)


def test_inputs_without_carbon_scale_pass_mark_and_total():
    inputs = q.inputs_without_carbon(_snapshot(60, 65, 100, 0))
    assert [c.code for c in inputs.criteria] == ["quality"]
    assert inputs.params.total_points == Decimal(80)
    assert inputs.params.pass_mark == Decimal(56)
    assert all(b.carbon_score is None and b.evaluated_price is None for b in inputs.bidders)


def test_history_threshold_exclusion_is_carbon_and_dropped():
    snap = _snapshot(60, 65, 100, 0)
    snap["inputs"]["bidders"][1]["exclusion_reasons"] = ["history score below minimum"]
    snap["carbon"] = {
        "B": {"breakdown": {"eligible_by_history": False, "reason": "history score below minimum"}}
    }
    inputs = q.inputs_without_carbon(snap)
    assert inputs.bidders[1].exclusion_reasons == ()


def test_tender_without_carbon_is_not_counted():
    snap = _snapshot(60, 65, 100, 0)
    snap["inputs"]["criteria"] = [{"code": "quality", "max_points": "100", "is_carbon": False}]
    assert not q.uses_carbon(snap)
    assert q.carbon_effect(snap, "B") == q.CarbonEffect(False, "B", "B", False)


def test_tender_table_and_summary():
    evaluations = pd.DataFrame(
        [
            (1, "T-1", "t1", "A1", "tw_total", "awarded", date(2025, 3, 1), _snapshot(60, 65, 100, 0), "A"),
            (2, "T-2", "t2", "A1", "tw_total", "evaluated", date(2025, 4, 1), _snapshot(70, 60, 100, 0), "A"),
            (
                3,
                "T-3",
                "t3",
                "A2",
                "tw_total",
                "published",
                date(2025, 5, 1),
                {"method": "nope", "inputs": {"criteria": [{"is_carbon": True}]}},
                None,
            ),
        ],
        columns=[
            "tender_id",
            "reference",
            "title",
            "agency",
            "method",
            "status",
            "as_of",
            "snapshot",
            "winner_key",
        ],
    )
    table = q.tender_carbon_table(evaluations)
    assert table["winner"].tolist()[:2] == ["Alpha", "Alpha"]
    assert table["winner_without_carbon"].tolist()[:2] == ["Beta", "Alpha"]
    assert table["carbon_changed_winner"].tolist()[:2] == [True, False]
    assert table.loc[2, "carbon_changed_winner"] is None and "cannot re-evaluate" in table.loc[2, "note"]
    summary = q.carbon_effect_summary(table).iloc[0].to_dict()
    # 3 evaluated, 3 with carbon, 1 changed, 1 undetermined -> share 1 / 2.
    assert summary == {
        "tenders_evaluated": 3,
        "tenders_with_carbon_scoring": 3,
        "carbon_changed_winner": 1,
        "undetermined": 1,
        "share_changed": 0.5,
    }
