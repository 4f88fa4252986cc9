"""`gxm certification ...`: load reference data, expire certificates, baseline review export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from gxmachinery.errors import DomainError
from gxmachinery.extensions import db


def _fail(exc: DomainError) -> None:
    detail = "; ".join(f"{field}: {msgs}" for field, msgs in exc.errors.items())
    raise click.ClickException(f"{exc.message}" + (f" ({detail})" if detail else ""))


@click.group("certification", help="Certification: reference data, expiry, baseline review.")
def certification_cli() -> None:
    pass


@certification_cli.command("load-reference")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def load_reference_cmd(path: Path) -> None:
    """Load categories, test methods and baseline sets from FILE (.json, .csv or .xlsx). Idempotent."""
    from gxmachinery.certification import services

    try:
        counts = services.load_reference_file(path)
    except DomainError as exc:
        db.session.rollback()
        _fail(exc)
        return
    db.session.commit()
    click.echo(f"loaded {counts}")


@certification_cli.command("expire")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Default: today.")
@with_appcontext
def expire_cmd(today) -> None:  # type: ignore[no-untyped-def]
    """Record expiry of certificates whose validity has ended."""
    from gxmachinery.certification import services

    count = services.expire_certificates(today.date() if today else date.today())
    db.session.commit()
    click.echo(f"expired {count} certificate(s)")


@certification_cli.command("baseline-review")
@click.option("--baseline-set", default=None, help="Baseline set code (default: all).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write CSV (.csv) or XLSX (.xlsx); default: print a table.",
)
@with_appcontext
def baseline_review_cmd(baseline_set: str | None, output: Path | None) -> None:
    """Per class: proposals top-runner / p30 / p50 and how many models and makers each would pass."""
    from gxmachinery.certification import services
    from gxmachinery.exports import to_csv_bytes, to_xlsx_bytes

    try:
        chosen = services.get_baseline_set(baseline_set) if baseline_set else None
        table = services.baseline_review_table(chosen)
    except DomainError as exc:
        _fail(exc)
        return
    if output is None:
        click.echo(table.to_string(index=False) if not table.empty else "no active certificates")
        return
    data = (
        to_xlsx_bytes(table, "baseline_review") if output.suffix.lower() == ".xlsx" else to_csv_bytes(table)
    )
    output.write_bytes(data)
    click.echo(f"wrote {len(table)} rows to {output}")
