"""Demo data is idempotent and populates the register; the CLI loads reference files and expires."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from gxmachinery.certification import services
from gxmachinery.certification.models import Application, ApplicationStatus, Certificate
from seed.accounts import load_accounts
from seed.certification import load_certification
from tests.certification.conftest import SEED


def test_demo_seed_populates_register_idempotently(app, session):
    load_accounts()
    first = load_certification()
    assert first["certificates"] >= 12
    again = load_certification()
    assert again["applications"] == 0 and again["certificates"] == 0
    today = date.today()
    statuses = [services.certificate_status_on(c, today) for c in session.scalars(select(Certificate))]
    for wanted in ("active", "suspended", "revoked", "expired"):
        assert wanted in statuses, wanted
    states = set(session.scalars(select(Application.status)))
    assert {s.value for s in ApplicationStatus} <= {str(s) for s in states}
    table = services.competition_table(today)
    assert table["designatable"].any()
    assert session.scalar(select(func.count()).select_from(Certificate)) == first["certificates"]


def test_cli_load_reference_json_and_csv(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["certification", "load-reference", str(SEED)])
    assert result.exit_code == 0, result.output
    bad = tmp_path / "b.csv"
    bad.write_text(
        "baseline_set,title,effective_from,full_grade_label,category,lower,upper,baseline_value,unit\n"
        "X,X,2030-01-01,★,bulldozer,19,37,-4,L/h\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["certification", "load-reference", str(bad)])
    assert result.exit_code != 0 and "row 2.baseline_value" in result.output


def test_cli_expire_and_review(app, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["certification", "load-reference", str(SEED)]).exit_code == 0
    result = runner.invoke(args=["certification", "expire", "--today", "2026-01-01"])
    assert result.exit_code == 0 and "expired 0" in result.output
    out = tmp_path / "review.csv"
    result = runner.invoke(args=["certification", "baseline-review", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
