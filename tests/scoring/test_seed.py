"""The scoring demo data loads through the real services and is idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from registry.models import CommitmentOutcome
from scoring.models import Tender, TenderStatus
from seed.accounts import demo_organisations, load_accounts
from seed.scoring import load_scoring
from tests.scoring.factories import MachineUnitFactory


def test_demo_tenders_load_once(session):
    load_accounts()
    polaris, coastline = demo_organisations()[5], demo_organisations()[6]
    for org in (polaris, coastline):
        MachineUnitFactory(contractor_id=org.id, category__code=f"demo_cat_{org.id}")
    counts = load_scoring()
    assert counts["tenders"] == 3 and counts["evaluations"] == 3
    assert counts["commitment_outcomes"] == 1
    tenders = session.scalars(select(Tender).order_by(Tender.id)).all()
    assert {t.method for t in tenders} == {"tw_total", "tw_rank", "jp_division"}
    assert sum(t.status == TenderStatus.awarded for t in tenders) == 1
    assert all(m.signed_at for t in tenders for m in t.members)
    assert all(t.latest_evaluation.winner_bid_id for t in tenders)
    again = load_scoring()
    assert again == {"tenders": 0, "bids": 0, "evaluations": 0, "commitment_outcomes": 0}
    assert session.scalar(select(func.count()).select_from(Tender)) == 3
    assert session.scalar(select(func.count()).select_from(CommitmentOutcome)) == 1


def test_cli_reproduces_a_demo_evaluation(app, session):
    load_accounts()
    load_scoring()
    evaluation = session.scalars(select(Tender)).first().latest_evaluation
    runner = app.test_cli_runner()
    out = runner.invoke(args=["scoring", "reproduce", str(evaluation.id)])
    assert out.exit_code == 0 and "identical" in out.output
    out = runner.invoke(args=["scoring", "reproduce", "999999"])
    assert out.exit_code != 0 and "not found" in out.output
