"""Migrations: an empty database upgrades to the single head, and no model change lacks a migration."""

from __future__ import annotations

import os

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gxmachinery import create_app
from gxmachinery.extensions import db
from tests.conftest import TEST_CONFIG


def _empty_database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    url = os.environ.get("GXM_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    parsed = make_url(url)
    name = f"{parsed.database}_mig_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def test_upgrade_to_single_head_and_models_match(tmp_path):
    app = create_app(dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=_empty_database_url(tmp_path)))
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
        assert len(heads) == 1, f"migrations must have one head, found {heads}"
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == heads[0]
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models differ from migrations (run `gxm db migrate`): {diff}"
        res = app.test_client().get("/api/v1/health").get_json()
        assert res["up_to_date"] is True and res["database_revision"] == heads[0]
        db.engine.dispose()
