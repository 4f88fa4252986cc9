"""The one function every decision calls to leave an audit trail."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select

from gxmachinery.accounts.models import User
from gxmachinery.audit.models import AuditEvent
from gxmachinery.extensions import db
from gxmachinery.logging import current_request_id


def _jsonable(value: Any) -> Any:
    """Before/after summaries must survive a JSON column on SQLite and PostgreSQL."""
    return json.loads(json.dumps(value, default=_default)) if value is not None else None


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def record_event(
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    actor: User | None = None,
    subject_organisation_id: int | None = None,
    reason: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an audit event (who, organisation, action, object, reason, before/after, request id).

    ``actor`` defaults to the user of the current request; CLI and system jobs pass none and are
    recorded as "system". Flushes, never commits.
    """
    if actor is None:
        from gxmachinery.auth import current_actor

        actor = current_actor()
    if obj is not None:
        db.session.flush()
        object_type = object_type or type(obj).__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    event = AuditEvent(
        actor_user_id=actor.id if actor else None,
        actor_organisation_id=actor.organisation_id if actor else None,
        actor_label=actor.email if actor else "system",
        action=action,
        object_type=object_type or "unknown",
        object_id=str(object_id),
        subject_organisation_id=subject_organisation_id,
        reason=reason,
        before=_jsonable(before),
        after=_jsonable(after),
        request_id=current_request_id(),
    )
    db.session.add(event)
    db.session.flush()
    return event


def audit_query(
    *,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    organisation_id: int | None = None,
) -> Select[Any]:
    stmt = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action.like(f"{action}%"))
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == str(object_id))
    if organisation_id is not None:
        stmt = stmt.where(
            (AuditEvent.actor_organisation_id == organisation_id)
            | (AuditEvent.subject_organisation_id == organisation_id)
        )
    return stmt


def events_for(object_type: str, object_id: Any) -> list[AuditEvent]:
    """The trail of one object, oldest first (shown to its owner, e.g. a maker's application)."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return list(db.session.scalars(stmt))
