from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from gxmachinery.accounts.models import Role
from gxmachinery.audit.schemas import AuditEventSchema, AuditQueryArgsSchema
from gxmachinery.audit.services import audit_query
from gxmachinery.auth import check_roles
from gxmachinery.pagination import page_schema, paginate

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Audit trail (admins)")


@blp.route("/audit-events")
class AuditEvents(MethodView):
    @blp.arguments(AuditQueryArgsSchema, location="query")
    @blp.response(200, page_schema(AuditEventSchema))
    def get(self, args):
        """Audit events, newest first, filtered by action prefix, object or organisation."""
        check_roles(Role.admin)
        stmt = audit_query(
            action=args["action"], object_type=args["object_type"], object_id=args["object_id"],
            organisation_id=args["organisation_id"],
        )
        return paginate(stmt, args["page"], args["per_page"])
