"""Registry JSON API (/api/v1/registry/...): fleet, projects, logs (JSON batch, file imports,
corrections), emission factors and reference rates, CO2 recompute, history."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from gxmachinery.accounts.models import Role, User
from gxmachinery.auth import check_roles, get_or_404, get_owned
from gxmachinery.errors import InvalidInput, NotFound
from gxmachinery.extensions import db
from gxmachinery.pagination import page_schema, paginate
from registry import importers, services
from registry.models import (
    EmissionFactor,
    ImportBatch,
    ImportKind,
    ImportMode,
    ImportStatus,
    MachineUnit,
    Project,
    ReferenceRate,
)
from registry.schemas import (
    AwardSchema,
    CorrectionSchema,
    EmissionFactorSchema,
    FactorCorrectionSchema,
    HistoryQueryArgsSchema,
    HistorySchema,
    ImportBatchSchema,
    LogBatchSchema,
    LogQueryArgsSchema,
    MachineUnitSchema,
    PageArgsSchema,
    ProjectSchema,
    RateCorrectionSchema,
    RecomputeResultSchema,
    RecomputeSchema,
    ReferenceRateSchema,
    UploadArgsSchema,
    UsageLogSchema,
)

blp = Blueprint(
    "registry_api",
    __name__,
    url_prefix="/api/v1/registry",
    description="Fleet, projects, usage logs, imports, emission factors, CO2 history",
)


def contractor_for(actor: User, requested: int | None) -> int:
    """The contractor an action is for: a contractor's own organisation; an admin names one."""
    if actor.is_admin:
        if requested is None:
            raise InvalidInput.for_field("contractor_id", "An administrator must name the contractor.")
        return requested
    return actor.organisation_id


# ------------------------------------------------------------------------------------------
# Fleet
# ------------------------------------------------------------------------------------------


@blp.route("/units")
class Units(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(MachineUnitSchema))
    def get(self, args):
        """Your machine units."""
        actor = check_roles(Role.contractor)
        return paginate(
            services.units_stmt(None if actor.is_admin else actor.organisation_id),
            args["page"],
            args["per_page"],
        )

    @blp.arguments(MachineUnitSchema)
    @blp.response(201, MachineUnitSchema)
    def post(self, data):
        """Register a machine: certified (certificate_number) or uncertified (category_code,
        rated_power_kw, drive)."""
        actor = check_roles(Role.contractor)
        unit = services.register_machine_unit(
            contractor_for(actor, request.args.get("contractor_id", type=int)),
            data["serial_or_pin"],
            certificate_number=data.get("certificate_number"),
            category_code=data.get("category_code"),
            rated_power_kw=data.get("rated_power_kw"),
            drive=data.get("drive"),
            name=data.get("name"),
            hour_meter=data.get("hour_meter"),
            actor=actor,
        )
        db.session.commit()
        return unit


@blp.route("/units/<int:unit_id>")
class UnitItem(MethodView):
    @blp.response(200, MachineUnitSchema)
    def get(self, unit_id):
        """One of your machine units (another contractor's is a 404)."""
        actor = check_roles(Role.contractor)
        return get_owned(MachineUnit, unit_id, org_attr="contractor_id", actor=actor)


# ------------------------------------------------------------------------------------------
# Projects
# ------------------------------------------------------------------------------------------


@blp.route("/projects")
class Projects(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(ProjectSchema))
    def get(self, args):
        """Projects you may see: an agency its own, a contractor those awarded to it."""
        actor = check_roles(Role.agency, Role.contractor)
        return paginate(services.projects_stmt(actor), args["page"], args["per_page"])

    @blp.arguments(ProjectSchema)
    @blp.response(201, ProjectSchema)
    def post(self, data):
        """Create a project (agency)."""
        actor = check_roles(Role.agency)
        agency_id = (
            int(request.args.get("agency_id", actor.organisation_id))
            if actor.is_admin
            else actor.organisation_id
        )
        project = services.create_project(
            agency_id,
            data["contract_number"],
            data["name"],
            data["start_date"],
            data.get("end_date"),
            contractor_id=data.get("contractor_id"),
            site=data.get("site"),
            jurisdiction=data.get("jurisdiction") or "TW",
            tender_ref=data.get("tender_ref"),
            actor=actor,
        )
        db.session.commit()
        return project


@blp.route("/projects/<int:project_id>")
class ProjectItem(MethodView):
    @blp.response(200, ProjectSchema)
    def get(self, project_id):
        """One project (its agency or its contractor)."""
        actor = check_roles(Role.agency, Role.contractor)
        return services.get_visible_project(actor, project_id)


@blp.route("/projects/<int:project_id>/award")
class ProjectAward(MethodView):
    @blp.arguments(AwardSchema)
    @blp.response(200, ProjectSchema)
    def post(self, data, project_id):
        """Set the awarded contractor (the project's agency)."""
        actor = check_roles(Role.agency)
        project = get_or_404(Project, project_id)
        if not actor.is_admin and project.agency_id != actor.organisation_id:
            raise NotFound(f"Project {project_id} not found.")
        services.award_project(project, data["contractor_id"], actor)
        db.session.commit()
        return project


# ------------------------------------------------------------------------------------------
# Usage logs
# ------------------------------------------------------------------------------------------


@blp.route("/logs")
class Logs(MethodView):
    @blp.arguments(LogQueryArgsSchema, location="query")
    @blp.response(200, page_schema(UsageLogSchema))
    def get(self, args):
        """Usage logs: a contractor's own; an agency's projects' logs."""
        actor = check_roles(Role.contractor, Role.agency)
        stmt = services.logs_stmt(
            actor,
            project_id=args["project_id"],
            machine_unit_id=args["machine_unit_id"],
            date_from=args["date_from"],
            date_to=args["date_to"],
            include_superseded=args["include_superseded"],
        )
        return paginate(stmt, args["page"], args["per_page"])

    @blp.arguments(LogBatchSchema)
    @blp.response(201, ImportBatchSchema)
    @blp.alt_response(200, schema=ImportBatchSchema, description="Re-sent batch: the first result")
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": "Idempotency-Key",
                "schema": {"type": "string"},
                "description": "Re-sending the same key returns the first result.",
            }
        ]
    )
    def post(self, data):
        """File a JSON batch of logs (all_or_nothing or accept_valid). Rejected rows are named
        row/column/reason; all-or-nothing with rejected rows is a 422 and stores nothing."""
        actor = check_roles(Role.contractor)
        contractor_id = contractor_for(actor, request.args.get("contractor_id", type=int))
        key = request.headers.get("Idempotency-Key")
        batch, created = file_json_batch(contractor_id, data["logs"], ImportMode(data["mode"]), actor, key)
        db.session.commit()
        if batch.status == ImportStatus.failed:
            errors = [(e["row"], e["column"], e["reason"]) for e in (batch.error_report or [])]
            raise importers.errors_to_invalid(errors)
        return batch, 201 if created else 200


def file_json_batch(
    contractor_id: int, records: list[dict[str, Any]], mode: ImportMode, actor: User | None, key: str | None
) -> tuple[ImportBatch, bool]:
    """A JSON batch as an ImportBatch (so a re-send by key or content returns the first result)."""
    body = json.dumps(records, sort_keys=True, default=str).encode()
    sha = hashlib.sha256(body).hexdigest()
    previous = importers.find_previous_batch(contractor_id, sha, mode, key)
    if previous is not None:
        return previous, False
    batch = ImportBatch(
        contractor_id=contractor_id,
        kind=ImportKind.json,
        filename=None,
        content_sha256=sha,
        mode=mode,
        status=ImportStatus.running,
        idempotency_key=key,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(batch)
    db.session.flush()
    cleaned = [{k: v for k, v in r.items() if v is not None} for r in records]
    from registry.models import LogSource

    result = importers.file_records(
        contractor_id, cleaned, source=LogSource.api, mode=mode, actor=actor, batch_id=batch.id
    )
    stored = not (mode == ImportMode.all_or_nothing and result.errors)
    batch.rows_total = result.rows_total
    batch.rows_ok = result.rows_ok if stored else 0
    batch.rows_rejected = result.rows_rejected
    batch.rows_duplicate = result.rows_duplicate
    batch.status = ImportStatus.done if stored else ImportStatus.failed
    batch.progress = 1  # type: ignore[assignment]
    batch.error_report = [{"row": r, "column": c, "reason": m} for r, c, m in result.errors]
    if not stored:
        batch.error = f"{result.rows_rejected} row(s) rejected; all-or-nothing: nothing was stored."
    importers._store_row_errors(batch, result.errors)
    from gxmachinery.audit.services import record_event
    from gxmachinery.db import utcnow

    batch.finished_at = utcnow()
    record_event(
        "registry.import." + ("done" if stored else "failed"),
        batch,
        actor=actor,
        subject_organisation_id=contractor_id,
        reason=batch.error,
        after={
            "kind": "json",
            "mode": mode.value,
            "rows_total": batch.rows_total,
            "rows_ok": batch.rows_ok,
            "rows_rejected": batch.rows_rejected,
            "rows_duplicate": batch.rows_duplicate,
        },
    )
    return batch, True


@blp.route("/logs/<int:log_id>")
class LogItem(MethodView):
    @blp.response(200, UsageLogSchema)
    def get(self, log_id):
        """One usage log (its contractor, or the agency of its project)."""
        actor = check_roles(Role.contractor, Role.agency)
        return services.get_visible_log(actor, log_id)


@blp.route("/logs/<int:log_id>/corrections")
class LogCorrection(MethodView):
    @blp.arguments(CorrectionSchema)
    @blp.response(201, UsageLogSchema)
    def post(self, data, log_id):
        """Correct a log: files a superseding record with a reason (the old one stays)."""
        actor = check_roles(Role.contractor)
        log = services.get_visible_log(actor, log_id)
        if not actor.is_admin and log.contractor_id != actor.organisation_id:
            raise NotFound(f"UsageLog {log_id} not found.")
        reason = data.pop("reason")
        new = services.correct_usage_log(log, data, reason, actor)
        db.session.commit()
        return new


# ------------------------------------------------------------------------------------------
# File imports
# ------------------------------------------------------------------------------------------


def upload_dir() -> Path:
    return Path(current_app.config.get("UPLOAD_DIR") or current_app.instance_path) / "registry-imports"


@blp.route("/imports")
class Imports(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(ImportBatchSchema))
    def get(self, args):
        """Your import batches, newest first."""
        actor = check_roles(Role.contractor)
        stmt = select(ImportBatch).order_by(ImportBatch.id.desc())
        if not actor.is_admin:
            stmt = stmt.where(ImportBatch.contractor_id == actor.organisation_id)
        return paginate(stmt, args["page"], args["per_page"])

    @blp.arguments(UploadArgsSchema, location="query")
    @blp.response(201, ImportBatchSchema)
    @blp.alt_response(200, schema=ImportBatchSchema, description="Same file re-sent: the first batch")
    @blp.doc(
        requestBody={
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            }
        }
    )
    def post(self, args):
        """Upload a CSV / XLSX / JSON file or an ISO 15143-3 snapshot (XML or JSON, with project_id).
        The response is the batch with its report; a malformed file is a 422 and stores nothing."""
        actor = check_roles(Role.contractor)
        contractor_id = contractor_for(actor, args["contractor_id"])
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise InvalidInput.for_field("file", "Attach the file as multipart field 'file'.")
        kind = ImportKind(args["kind"]) if args["kind"] else importers.guess_kind(upload.filename)
        path = importers.open_upload(upload.stream, upload_dir(), Path(upload.filename).suffix)
        try:
            batch, created = importers.import_file(
                contractor_id,
                path,
                upload.filename,
                ImportMode(args["mode"]),
                kind=kind,
                actor=actor,
                idempotency_key=request.headers.get("Idempotency-Key"),
                project_id=args["project_id"],
            )
            db.session.commit()
        finally:
            path.unlink(missing_ok=True)
        if batch.status == ImportStatus.failed and batch.rows_total == 0 and batch.error:
            raise InvalidInput(batch.error, {"file": [batch.error]})
        return batch, 201 if created else 200


@blp.route("/imports/<int:batch_id>")
class ImportItem(MethodView):
    @blp.response(200, ImportBatchSchema)
    def get(self, batch_id):
        """One import batch: status, progress, counts, first rejected rows."""
        actor = check_roles(Role.contractor)
        return get_owned(ImportBatch, batch_id, org_attr="contractor_id", actor=actor)


# ------------------------------------------------------------------------------------------
# Emission factors, reference rates, recompute (admin)
# ------------------------------------------------------------------------------------------


@blp.route("/factors")
class Factors(MethodView):
    @blp.response(200, EmissionFactorSchema(many=True))
    def get(self):
        """All emission factor versions (public data with sources)."""
        return db.session.scalars(
            select(EmissionFactor).order_by(
                EmissionFactor.carrier,
                EmissionFactor.jurisdiction,
                EmissionFactor.year,
                EmissionFactor.version,
            )
        )

    @blp.arguments(EmissionFactorSchema)
    @blp.response(201, EmissionFactorSchema)
    def post(self, data):
        """Add an emission factor (admin)."""
        actor = check_roles(Role.admin)
        factor = services.create_emission_factor(
            data["carrier"],
            data["jurisdiction"],
            data["year"],
            data["value"],
            data["unit"],
            data["source"],
            reason=data.get("reason"),
            actor=actor,
        )
        db.session.commit()
        return factor


@blp.route("/factors/<int:factor_id>/corrections")
class FactorCorrection(MethodView):
    @blp.arguments(FactorCorrectionSchema)
    @blp.response(201, EmissionFactorSchema)
    def post(self, data, factor_id):
        """Correct a factor: a new version; logs keep the old one until a recompute (admin)."""
        actor = check_roles(Role.admin)
        factor = get_or_404(EmissionFactor, factor_id)
        new = services.correct_emission_factor(factor, data["value"], data["source"], data["reason"], actor)
        db.session.commit()
        return new


@blp.route("/reference-rates")
class Rates(MethodView):
    @blp.response(200, ReferenceRateSchema(many=True))
    def get(self):
        """All reference rate versions."""
        return db.session.scalars(
            select(ReferenceRate).order_by(ReferenceRate.category_code, ReferenceRate.version)
        )


@blp.route("/reference-rates/<int:rate_id>/corrections")
class RateCorrection(MethodView):
    @blp.arguments(RateCorrectionSchema)
    @blp.response(201, ReferenceRateSchema)
    def post(self, data, rate_id):
        """Correct a reference rate: a new version (admin)."""
        actor = check_roles(Role.admin)
        rate = get_or_404(ReferenceRate, rate_id)
        new = services.correct_reference_rate(
            rate, data["litres_per_kwh"], data["source"], data["reason"], actor
        )
        db.session.commit()
        return new


@blp.route("/recompute")
class Recompute(MethodView):
    @blp.arguments(RecomputeSchema)
    @blp.response(200, RecomputeResultSchema)
    def post(self, data):
        """Recompute CO2 of logs with the current factor versions (explicit, audited; admin)."""
        actor = check_roles(Role.admin)
        out = services.recompute_usage_co2(
            contractor_id=data["contractor_id"],
            only_stale=data["only_stale"],
            reason=data["reason"],
            actor=actor,
        )
        db.session.commit()
        return {
            "reason": data["reason"],
            "contractor_id": data["contractor_id"],
            "only_stale": data["only_stale"],
            **out,
        }


# ------------------------------------------------------------------------------------------
# History
# ------------------------------------------------------------------------------------------


def history_payload(
    contractor_id: int, as_of: date, window_months: int, project_ids: list[int] | None = None
) -> dict[str, Any]:
    table = services.history_table([contractor_id], project_ids)
    return {
        "contractor_id": contractor_id,
        "summary": services.history_summary(contractor_id, as_of, window_months),
        "rows": table.to_dict("records"),
        "outcomes": services.commitment_outcomes([contractor_id], project_ids),
    }


def agency_project_ids(actor: User) -> list[int]:
    return list(db.session.scalars(select(Project.id).where(Project.agency_id == actor.organisation_id)))


@blp.route("/history")
class History(MethodView):
    @blp.arguments(HistoryQueryArgsSchema, location="query")
    @blp.response(200, HistorySchema)
    def get(self, args):
        """A contractor's history: rolling-window summary, per project × year table, outcomes.
        A contractor sees its own; an agency names a contractor on its projects (and sees only
        those projects' rows)."""
        actor = check_roles(Role.contractor, Role.agency)
        as_of = args["as_of"] or date.today()
        if actor.is_admin or actor.has_role(Role.contractor):
            contractor_id = (
                contractor_for(actor, args["contractor_id"]) if actor.is_admin else actor.organisation_id
            )
            return history_payload(contractor_id, as_of, args["window_months"])
        projects = agency_project_ids(actor)
        contractor_id = args["contractor_id"]
        on_mine = db.session.scalar(
            select(Project.id)
            .where(Project.id.in_(projects), Project.contractor_id == contractor_id)
            .limit(1)
        )
        if contractor_id is None or on_mine is None:
            raise NotFound("Contractor not found on your projects.")
        payload = history_payload(contractor_id, as_of, args["window_months"], projects)
        return payload
