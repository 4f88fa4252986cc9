"""``gxm registry ...``: import logs with a progress bar, load factor tables, recompute CO2,
export history."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from gxmachinery.cli import _fail
from gxmachinery.extensions import db


@click.group("registry", help="Usage-log registry: imports, factors, CO2 recompute, history.")
def registry_cli() -> None:
    pass


def _contractor_id(value: str) -> int:
    from gxmachinery.accounts.models import Organisation, OrganisationKind

    org = db.session.scalar(
        select(Organisation).where(
            (Organisation.name == value)
            | (Organisation.registration_no == value)
            | (Organisation.id == (int(value) if value.isdigit() else -1))
        )
    )
    if org is None or org.kind != OrganisationKind.contractor:
        raise click.ClickException(f"No contractor {value!r} (give its id, name or registration no.).")
    return org.id


@registry_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--contractor", required=True, help="Contractor id, name or registration no.")
@click.option(
    "--mode",
    type=click.Choice(["all_or_nothing", "accept_valid"]),
    default="all_or_nothing",
    show_default=True,
)
@click.option(
    "--kind",
    type=click.Choice(["csv", "xlsx", "json", "iso15143"]),
    default=None,
    help="Default: from the file name.",
)
@click.option(
    "--project", "contract_number", default=None, help="ISO 15143-3: contract number of the project."
)
@with_appcontext
def import_command(
    file: Path, contractor: str, mode: str, kind: str | None, contract_number: str | None
) -> None:
    """Import usage logs from FILE (streamed in chunks, progress bar, one transaction)."""
    from registry import importers
    from registry.models import ImportKind, ImportMode, Project

    contractor_id = _contractor_id(contractor)
    project_id = None
    if contract_number:
        project_id = db.session.scalar(select(Project.id).where(Project.contract_number == contract_number))
        if project_id is None:
            raise click.ClickException(f"No project {contract_number}.")
    try:
        size = file.stat().st_size
        with click.progressbar(length=size, label="Importing", show_pos=False, show_percent=True) as bar:
            done = {"rows": 0}
            total_rows = _estimate_rows(file, kind)

            def step(rows: int) -> None:
                done["rows"] += rows
                bar.update(int(size * rows / total_rows) if total_rows else 0)

            batch, ran = importers.import_file(
                contractor_id,
                file,
                file.name,
                ImportMode(mode),
                kind=ImportKind(kind) if kind else None,
                project_id=project_id,
                progress=step,
            )
            bar.update(size)
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        _fail(exc)
    if not ran:
        click.echo(f"Already imported as batch {batch.id}: the first result is shown; nothing changed.")
    click.echo(
        f"batch {batch.id}: {batch.status.value} — rows {batch.rows_total}, stored {batch.rows_ok}, "
        f"rejected {batch.rows_rejected}, duplicates {batch.rows_duplicate}"
    )
    if batch.error:
        click.echo(batch.error)
    for error in (batch.error_report or [])[:20]:
        click.echo(f"  row {error['row']} {error['column']}: {error['reason']}")
    if batch.rows_rejected > 20:
        click.echo(f"  … see the full report on the import page (batch {batch.id}).")
    if batch.status.value == "failed":
        raise SystemExit(1)


def _estimate_rows(file: Path, kind: str | None) -> int:
    """Data rows of a CSV (line count, cheap); other kinds report per chunk."""
    if (kind or file.suffix.lower().lstrip(".")) != "csv":
        return 0
    with file.open("rb") as handle:
        return max(1, sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b"")) - 1)


@registry_cli.command("load-factors")
@with_appcontext
def load_factors_command() -> None:
    """Load emission factors and reference rates from registry/data/*.csv (idempotent)."""
    from registry.services import load_factor_tables

    counts = load_factor_tables()
    db.session.commit()
    click.echo(
        f"added {counts['emission_factors']} emission factors, {counts['reference_rates']} reference rates"
    )


@registry_cli.command("recompute")
@click.option("--reason", required=True, help="Why (recorded in the audit trail).")
@click.option("--contractor", default=None, help="Only this contractor (id, name or registration no.).")
@click.option(
    "--all", "all_logs", is_flag=True, help="All effective logs, not only those with retired factors."
)
@with_appcontext
def recompute_command(reason: str, contractor: str | None, all_logs: bool) -> None:
    """Recompute CO2 of logs with the current factor/rate versions (explicit, audited)."""
    from registry.services import recompute_usage_co2

    try:
        out = recompute_usage_co2(
            contractor_id=_contractor_id(contractor) if contractor else None,
            only_stale=not all_logs,
            reason=reason,
        )
        db.session.commit()
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        _fail(exc)
    click.echo(f"recomputed {out['logs']} logs")


@registry_cli.command("history")
@click.option("--contractor", required=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write CSV (.csv) or XLSX (.xlsx); default: print.",
)
@with_appcontext
def history_command(contractor: str, output: Path | None) -> None:
    """Print or export a contractor's history per project × year."""
    from registry.services import history_table

    table = history_table([_contractor_id(contractor)])
    if output is None:
        click.echo(table.to_string(index=False))
    elif output.suffix.lower() == ".xlsx":
        table.to_excel(output, index=False, engine="xlsxwriter")
    else:
        table.to_csv(output, index=False, encoding="utf-8-sig")


@registry_cli.command("template")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
def template_command(output: Path) -> None:
    """Write the CSV or XLSX import template."""
    from registry.importers import template_bytes

    output.write_bytes(template_bytes("xlsx" if output.suffix.lower() == ".xlsx" else "csv"))
    click.echo(f"wrote {output}")
