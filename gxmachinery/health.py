"""Health endpoint: database connectivity and migration head."""

from __future__ import annotations

from pathlib import Path

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text

from gxmachinery.extensions import db

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Service health")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class HealthSchema(Schema):
    status = fields.String()
    database = fields.String()
    database_revision = fields.String(allow_none=True)
    migration_head = fields.String(allow_none=True)
    up_to_date = fields.Boolean()


def migration_head() -> str | None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    if not (MIGRATIONS_DIR / "env.py").exists():
        return None
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    return ",".join(sorted(heads)) or None


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema)
    def get(self):
        """Is the database reachable and migrated to the head revision? No login needed."""
        head = migration_head()
        try:
            db.session.execute(text("SELECT 1"))
            try:
                revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except Exception:  # noqa: BLE001 - no alembic table yet means "not migrated"
                db.session.rollback()
                revision = None
            database = "ok"
        except Exception:  # noqa: BLE001
            db.session.rollback()
            return {"status": "error", "database": "unreachable", "database_revision": None,
                    "migration_head": head, "up_to_date": False}, 503
        up_to_date = head is None or revision == head
        return {"status": "ok" if up_to_date else "degraded", "database": database,
                "database_revision": revision, "migration_head": head, "up_to_date": up_to_date}
