"""The one CLI entry point: ``gxm`` (same as ``flask --app wsgi``)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from gxmachinery.extensions import db


def register_cli(app: Flask) -> None:
    app.cli.add_command(org_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(token_cli)
    app.cli.add_command(i18n_cli)


def _fail(exc: Exception) -> None:
    from gxmachinery.errors import DomainError

    if isinstance(exc, DomainError):
        details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.errors.items())
        raise click.ClickException(exc.message + (f" ({details})" if details else ""))
    raise exc


@click.group("org", help="Organisations.")
def org_cli() -> None:
    pass


@org_cli.command("create")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(["maker", "contractor", "agency", "certifier", "admin"]))
@click.option("--registration-no", default=None)
@with_appcontext
def org_create(name: str, kind: str, registration_no: str | None) -> None:
    from gxmachinery.accounts.services import create_organisation

    try:
        org = create_organisation(name, kind, registration_no)
        db.session.commit()
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        _fail(exc)
    click.echo(f"organisation {org.id} {org.name} ({org.kind.value})")


@click.group("user", help="Users.")
def user_cli() -> None:
    pass


@user_cli.command("create")
@click.argument("email")
@click.option("--org", "org_name", required=True, help="Organisation name.")
@click.option("--name", default="")
@click.option("--role", "roles", multiple=True, required=True)
@click.password_option(prompt=True, confirmation_prompt=True)
@with_appcontext
def user_create(email: str, org_name: str, name: str, roles: tuple[str, ...], password: str) -> None:
    from gxmachinery.accounts.services import create_user, find_organisation

    try:
        user = create_user(find_organisation(org_name), email, name or email, list(roles), password)
        db.session.commit()
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        _fail(exc)
    click.echo(f"user {user.id} {user.email} roles={','.join(user.roles)}")


@click.group("token", help="API tokens.")
def token_cli() -> None:
    pass


@token_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What will use the token.")
@with_appcontext
def token_create(email: str, name: str) -> None:
    """Issue a token; the secret is printed once and never stored."""
    from gxmachinery.accounts.services import find_user, issue_token

    try:
        _token, secret = issue_token(find_user(email), name)
        db.session.commit()
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        _fail(exc)
    click.echo(secret)


@token_cli.command("revoke")
@click.argument("prefix")
@click.option("--reason", default=None)
@with_appcontext
def token_revoke(prefix: str, reason: str | None) -> None:
    from sqlalchemy import select

    from gxmachinery.accounts.models import ApiToken
    from gxmachinery.accounts.services import revoke_token

    tokens = db.session.scalars(select(ApiToken).where(ApiToken.prefix == prefix[:12])).all()
    if len(tokens) != 1:
        raise click.ClickException(f"{len(tokens)} tokens match {prefix!r}; give the first 12 characters.")
    try:
        revoke_token(tokens[0], reason)
        db.session.commit()
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        _fail(exc)
    click.echo(f"revoked {tokens[0].prefix}")


@click.group("i18n", help="Translations.")
def i18n_cli() -> None:
    pass


@i18n_cli.command("compile")
def i18n_compile() -> None:
    """Compile every package's messages.po into messages.mo."""
    from gxmachinery.i18n import compile_catalogs

    for path in compile_catalogs():
        click.echo(f"compiled {path}")


def main() -> None:
    from gxmachinery import create_app
    from seed.cli import seed_cli

    cli = FlaskGroup(create_app=lambda: create_app(), help="GX Machinery command line.")
    cli.add_command(seed_cli)
    cli()
