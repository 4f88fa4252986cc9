"""Grades vs hand calculations through the service/API path, including the MLIT 第三条 boundary:
evaluation ≤ baseline → full grade; ≤ baseline ÷ 0.85 → ★★; above → not certifiable."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gxmachinery.certification import services

BASE = "/api/v1/certification"
_SERIAL = itertools.count()  # hypothesis examples share one database transaction

# Wheel loader 40–56 kW, MLIT_2030 baseline 6.8 L/h (★★★★); JCMAS H022 weights 0.60 / 0.25 / 0.15.
# 6.8 ÷ 0.85 = 8.0 exactly, so all modes at 8.0 give an evaluation value of exactly 8.0.
LOADER = {
    "category": "wheel_loader",
    "baseline_set": "MLIT_2030",
    "type_designation": "WA50",
    "drive": "diesel",
    "rated_power_kw": "45",
    "size_value": "45",
}


@pytest.mark.parametrize(
    ("values", "evaluation", "achievement", "grade"),
    [
        # 0.6×6.8 + 0.25×6.8 + 0.15×6.8 = 6.8 = baseline → ★★★★ ; 6.8/6.8 = 1.0000
        (("6.8", "6.8", "6.8"), "6.8", "1", "★★★★"),
        # 0.6×6 + 0.25×8 + 0.15×7 = 3.6 + 2 + 1.05 = 6.65 → ★★★★ ; 6.8/6.65 = 1.02255… → 1.0226
        (("6", "8", "7"), "6.65", "1.0226", "★★★★"),
        # exactly baseline ÷ 0.85 = 8.0 → ★★ ; 6.8/8 = 0.85
        (("8", "8", "8"), "8", "0.85", "★★"),
        # 8.01 > 8.0 → not certifiable ; 6.8/8.01 = 0.84893… → 0.8489
        (("8.01", "8.01", "8.01"), "8.01", "0.8489", None),
        # just above the baseline: 0.6×6.9 + 0.25×6.8 + 0.15×6.8 = 4.14 + 1.7 + 1.02 = 6.86 → ★★
        (("6.9", "6.8", "6.8"), "6.86", "0.9913", "★★"),
    ],
)
def test_mlit_rule_boundaries(api, maker, reference, values, evaluation, achievement, grade):
    measurements = dict(zip(("v_shape_loading", "load_and_carry", "idling"), values, strict=True))
    res = api(maker).post(f"{BASE}/applications", json=dict(LOADER, measurements=measurements))
    assert res.status_code == 201, res.get_json()
    body = res.get_json()
    assert Decimal(body["evaluation_value"]) == Decimal(evaluation)
    assert Decimal(body["achievement"]) == Decimal(achievement)
    assert body["grade"] == grade


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.decimals(min_value="0.5", max_value="20", places=2),
    bump=st.decimals(min_value="0.01", max_value="5", places=2),
)
def test_worse_measurements_never_improve_the_grade(app, maker, reference, base, bump):
    """Monotonicity: raising one mode's fuel use never raises the grade."""
    order = {"★★★★": 2, "★★": 1, None: 0}
    grades = []
    for idling in (base, base + bump):
        data = dict(
            LOADER,
            type_designation=f"H-{next(_SERIAL)}",
            measurements={"v_shape_loading": str(base), "load_and_carry": str(base), "idling": str(idling)},
        )
        application = services.create_application(maker, data)
        grades.append(order[application.grade])
    assert grades[1] <= grades[0]


def test_category_page_shows_its_modes(client, login, maker, reference):
    login(maker)
    page = client.get("/certification/applications/new?category=wheel_loader").get_data(as_text=True)
    assert 'name="m_v_shape_loading"' in page and 'name="m_digging_loading"' not in page


def test_every_step_is_audited(api, admin, certify):
    _app, cert = certify(
        dict(LOADER, measurements={"v_shape_loading": "6", "load_and_carry": "6", "idling": "6"})
    )
    events = api(admin).get("/api/v1/audit-events?per_page=200").get_json()["items"]
    actions = {e["action"] for e in events}
    for wanted in (
        "application.create",
        "application.document",
        "application.submit",
        "application.start_review",
        "application.approve",
        "certificate.issue",
        "baseline_set.create",
        "test_method.create",
    ):
        assert wanted in actions, wanted


def test_reference_xlsx_with_sheets(app, admin, reference, tmp_path, session):
    import pandas as pd

    from gxmachinery.certification.models import BaselineSet

    path = tmp_path / "ref.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        pd.DataFrame(
            [
                {
                    "test_method": "JCMAS_H021",
                    "category": "bulldozer",
                    "unit": "L/h",
                    "title": "H021",
                    "code": "dozing",
                    "name_en": "Dozing",
                    "name_zh": "推土",
                    "weight": "0.7",
                },
                {
                    "test_method": "JCMAS_H021",
                    "category": "bulldozer",
                    "unit": "L/h",
                    "title": "H021",
                    "code": "idling",
                    "name_en": "Idling",
                    "name_zh": "怠速",
                    "weight": "0.3",
                },
            ]
        ).to_excel(writer, sheet_name="test_modes", index=False)
        pd.DataFrame(
            [
                {
                    "baseline_set": "X_2035",
                    "title": "x",
                    "effective_from": "2035-01-01",
                    "full_grade_label": "★★★★★",
                    "category": "bulldozer",
                    "lower": "19",
                    "upper": "",
                    "baseline_value": "4.1",
                    "unit": "L/h",
                }
            ]
        ).to_excel(writer, sheet_name="baseline_classes", index=False)
    counts = services.load_reference_file(path, admin)
    assert counts["baseline_sets"] == 1
    method = services.test_method_for(services.get_category("bulldozer"))
    assert method.version == 2 and [m.code for m in method.modes] == ["dozing", "idling"]
    new_set = services.get_baseline_set("X_2035")
    assert isinstance(new_set, BaselineSet) and new_set.classes[0].upper is None
