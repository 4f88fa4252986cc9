from __future__ import annotations

import click
from flask.cli import with_appcontext

from gxmachinery.extensions import db


@click.group("seed", help="Demo data.")
def seed_cli() -> None:
    pass


@seed_cli.command("demo")
@with_appcontext
def seed_demo() -> None:
    """Load the demo data set once (idempotent: running it again adds nothing)."""
    from seed.accounts import DEMO_PASSWORD, USERS
    from seed.demo import load_demo

    counts = load_demo()
    db.session.commit()
    for name, n in counts.items():
        click.echo(f"{name}: {n} new")
    click.echo(f"Demo logins (password {DEMO_PASSWORD}): " + ", ".join(u[0] for u in USERS))
