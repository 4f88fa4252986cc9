"""``flask scoring ...``: evaluate a tender and reproduce a stored evaluation from the shell."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from gxmachinery.errors import DomainError
from gxmachinery.extensions import db
from scoring import services
from scoring.models import Evaluation, Tender


@click.group("scoring")
def scoring() -> None:
    """Tender scoring: evaluate, reproduce."""


def _tender(tender_id: int) -> Tender:
    tender = db.session.get(Tender, tender_id)
    if tender is None:
        raise click.ClickException(f"tender {tender_id} not found")
    return tender


@scoring.command("evaluate")
@click.argument("tender_id", type=int)
@with_appcontext
def evaluate_cmd(tender_id: int) -> None:
    """Evaluate TENDER_ID (all sheets must be signed) and print the ranking."""
    try:
        evaluation = services.evaluate_tender(_tender(tender_id))
    except DomainError as err:
        raise click.ClickException(f"{err.message} {json.dumps(err.errors, ensure_ascii=False)}") from None
    db.session.commit()
    for r in evaluation.result["bidders"]:
        click.echo(
            f"{r['position'] or '-':>3} {r['bidder_id']:<8} {r['method_value']} {'; '.join(r['reasons'])}"
        )


@scoring.command("reproduce")
@click.argument("evaluation_id", type=int)
@with_appcontext
def reproduce_cmd(evaluation_id: int) -> None:
    """Re-run EVALUATION_ID from its snapshot; exit 1 if the result differs."""
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise click.ClickException(f"evaluation {evaluation_id} not found")
    out = services.reproduce_evaluation(evaluation)
    click.echo("identical" if out.identical else "DIFFERENT: " + "; ".join(out.differences))
    if not out.identical:
        raise SystemExit(1)
