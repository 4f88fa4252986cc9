"""Certification API (/api/v1/certification/...) and the public register (/api/v1/register/...)."""

from __future__ import annotations

from datetime import date

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from gxmachinery.auth import check_roles, scope_to_organisation
from gxmachinery.certification import services
from gxmachinery.certification.models import (
    Application,
    ApplicationDocument,
    BaselineSet,
    Category,
    Certificate,
    TestMethod,
)
from gxmachinery.certification.schemas import (
    AnswerSchema,
    ApplicationInSchema,
    ApplicationPatchSchema,
    ApplicationQuerySchema,
    ApplicationSchema,
    ApproveSchema,
    BaselineSetOutSchema,
    BaselineSetSchema,
    CategorySchema,
    CertificateSchema,
    CompetitionRowSchema,
    DocumentSchema,
    EffectiveSchema,
    ExportQuerySchema,
    FactorsSchema,
    NoticeInSchema,
    NoticeSchema,
    PageArgsSchema,
    PreviewSchema,
    ReasonSchema,
    RegisterDetailSchema,
    RegisterPageSchema,
    RegisterQuerySchema,
    RenewSchema,
    ReviewQuerySchema,
    ReviewRowSchema,
    TestMethodOutSchema,
    TestMethodSchema,
)
from gxmachinery.errors import InvalidInput
from gxmachinery.exports import download_response
from gxmachinery.extensions import db
from gxmachinery.pagination import Page, page_schema, paginate

blp = Blueprint(
    "certification_api",
    __name__,
    url_prefix="/api/v1/certification",
    description="Certification: reference data, applications, review, certificates",
)
register_blp = Blueprint(
    "register_api",
    __name__,
    url_prefix="/api/v1/register",
    description="Public register of certified models (no login)",
)


# ---- reference data -------------------------------------------------------------------------


@blp.route("/categories")
class Categories(MethodView):
    @blp.response(200, CategorySchema(many=True))
    def get(self):
        """Machine categories with their size attribute (public)."""
        return db.session.scalars(select(Category).order_by(Category.code))

    @blp.arguments(CategorySchema)
    @blp.response(201, CategorySchema)
    def post(self, data):
        """Create or update a category by code (admin, audited)."""
        actor = check_roles("admin")
        category = services.save_category(data, actor)
        db.session.commit()
        return category


@blp.route("/test-methods")
class TestMethods(MethodView):
    @blp.response(200, TestMethodOutSchema(many=True))
    def get(self):
        """Test methods with work modes and weights (public)."""
        return db.session.scalars(select(TestMethod).order_by(TestMethod.code))

    @blp.arguments(TestMethodSchema)
    @blp.response(201, TestMethodOutSchema)
    def post(self, data):
        """Create or update a test method; weights must sum to 1 (admin, audited, versioned)."""
        actor = check_roles("admin")
        method = services.save_test_method(data, actor)
        db.session.commit()
        return method


@blp.route("/baseline-sets")
class BaselineSets(MethodView):
    @blp.response(200, BaselineSetOutSchema(many=True))
    def get(self):
        """Baseline sets with their classes (public)."""
        return db.session.scalars(select(BaselineSet).order_by(BaselineSet.effective_from, BaselineSet.code))

    @blp.arguments(BaselineSetSchema)
    @blp.response(201, BaselineSetOutSchema)
    def post(self, data):
        """Create a baseline set (or replace one no application uses yet; admin, audited)."""
        actor = check_roles("admin")
        baseline_set = services.save_baseline_set(data, actor)
        db.session.commit()
        return baseline_set


@blp.route("/baseline-sets/<int:set_id>")
class BaselineSetItem(MethodView):
    @blp.response(200, BaselineSetOutSchema)
    def get(self, set_id):
        """One baseline set with its classes (public)."""
        return services.get_baseline_set(set_id)


@blp.route("/reference")
class Reference(MethodView):
    @blp.response(200)
    def post(self):
        """Load reference data in the reference_seed.json shape (admin, idempotent, audited)."""
        actor = check_roles("admin")
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            raise InvalidInput.for_field(
                "body", "send a JSON object with categories, test_methods, baseline_sets"
            )
        counts = services.load_reference(payload, actor)
        db.session.commit()
        return counts


# ---- applications ---------------------------------------------------------------------------


@blp.route("/applications")
class Applications(MethodView):
    @blp.arguments(ApplicationQuerySchema, location="query")
    @blp.response(200, page_schema(ApplicationSchema))
    def get(self, args):
        """Your organisation's applications (makers; admins see all)."""
        actor = check_roles("maker")
        stmt = scope_to_organisation(select(Application), Application.maker_id, actor)
        if args.get("status"):
            stmt = stmt.where(Application.status == args["status"])
        return paginate(stmt.order_by(Application.id.desc()), args["page"], args["per_page"])

    @blp.arguments(ApplicationInSchema)
    @blp.response(201, ApplicationSchema)
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
    def post(self, data):
        """Draft an application: model data, baseline set, measurements per mode (maker).

        Send an Idempotency-Key header to make a resent create return the first application."""
        actor = check_roles("maker")
        key = (request.headers.get("Idempotency-Key") or "").strip()[:100] or None
        if key:
            existing = db.session.scalar(
                select(Application).where(
                    Application.maker_id == actor.organisation_id, Application.idempotency_key == key
                )
            )
            if existing is not None:
                return existing
        application = services.create_application(actor, data)
        application.idempotency_key = key
        db.session.commit()
        return application


def _maker_application(application_id: int) -> Application:
    actor = check_roles("maker")
    application = services.get_application_for(actor, application_id)
    if not actor.is_admin and application.maker_id != actor.organisation_id:
        from gxmachinery.errors import NotFound

        raise NotFound(f"Application {application_id} not found.")
    return application


@blp.route("/applications/<int:application_id>")
class ApplicationItem(MethodView):
    @blp.response(200, ApplicationSchema)
    def get(self, application_id):
        """One application with its timeline (the maker's own; certifiers see submitted ones)."""
        actor = check_roles("maker", "certifier")
        return services.get_application_for(actor, application_id)

    @blp.arguments(ApplicationPatchSchema)
    @blp.response(200, ApplicationSchema)
    def patch(self, data, application_id):
        """Edit a draft (or an application with an information request) (maker)."""
        actor = check_roles("maker")
        application = services.update_application(actor, _maker_application(application_id), data)
        db.session.commit()
        return application


@blp.route("/applications/<int:application_id>/preview")
class ApplicationPreview(MethodView):
    @blp.response(200, PreviewSchema)
    def get(self, application_id):
        """Would it pass? Evaluation value, size class, achievement and grade before submitting."""
        actor = check_roles("maker", "certifier")
        return services.preview(services.get_application_for(actor, application_id))


def _maker_action(application_id: int, action: str, data: dict) -> Application:  # type: ignore[type-arg]
    actor = check_roles("maker")
    application = _maker_application(application_id)
    if action == "submit":
        services.submit_application(actor, application)
    elif action == "withdraw":
        services.withdraw_application(actor, application, data.get("reason"))
    elif action == "answer":
        services.answer_information(actor, application, data.get("message"))
    db.session.commit()
    return application


@blp.route("/applications/<int:application_id>/submit")
class ApplicationSubmit(MethodView):
    @blp.response(200, ApplicationSchema)
    def post(self, application_id):
        """draft -> submitted (all modes measured, a test report attached)."""
        return _maker_action(application_id, "submit", {})


@blp.route("/applications/<int:application_id>/withdraw")
class ApplicationWithdraw(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, data, application_id):
        """Withdraw an undecided application (maker)."""
        return _maker_action(application_id, "withdraw", data)


@blp.route("/applications/<int:application_id>/answer")
class ApplicationAnswer(MethodView):
    @blp.arguments(AnswerSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, data, application_id):
        """Answer an information request: info_requested -> under_review (maker)."""
        return _maker_action(application_id, "answer", data)


@blp.route("/applications/<int:application_id>/documents")
class ApplicationDocuments(MethodView):
    @blp.response(200, DocumentSchema(many=True))
    def get(self, application_id):
        """Documents of an application."""
        actor = check_roles("maker", "certifier")
        return services.get_application_for(actor, application_id).documents

    @blp.response(201, DocumentSchema)
    @blp.doc(
        requestBody={
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "kind": {"type": "string", "enum": ["test_report", "lab_accreditation", "other"]},
                        },
                    }
                }
            }
        }
    )
    def post(self, application_id):
        """Upload a PDF (multipart field `file`, `kind`); checked for %PDF magic bytes and size (maker)."""
        actor = check_roles("maker")
        application = _maker_application(application_id)
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput.for_field("file", "attach a file in the multipart field 'file'")
        document = services.store_document(
            actor, application, request.form.get("kind", "test_report"), upload.filename or "", upload.stream
        )
        db.session.commit()
        return document


@blp.route("/applications/<int:application_id>/documents/<int:document_id>")
class ApplicationDocumentFile(MethodView):
    @blp.response(200)
    def get(self, application_id, document_id):
        """Download a document (the maker and certifiers)."""
        actor = check_roles("maker", "certifier")
        application = services.get_application_for(actor, application_id)
        document = db.session.get(ApplicationDocument, document_id)
        if document is None or document.application_id != application.id:
            from gxmachinery.errors import NotFound

            raise NotFound(f"Document {document_id} not found.")
        return services.document_response(document)


# ---- review ---------------------------------------------------------------------------------


@blp.route("/review-queue")
class ReviewQueue(MethodView):
    @blp.arguments(ApplicationQuerySchema, location="query")
    @blp.response(200, page_schema(ApplicationSchema))
    def get(self, args):
        """Applications waiting for review, oldest first (certifier); filter by status/category/drive."""
        actor = check_roles("certifier")
        return paginate(services.review_queue(args, actor), args["page"], args["per_page"])


def _certifier_action(application_id: int, action: str, data: dict):  # type: ignore[no-untyped-def,type-arg]
    actor = check_roles("certifier")
    application = services.get_application_for(actor, application_id)
    result: object = application
    if action == "start":
        services.start_review(actor, application)
    elif action == "request":
        services.request_information(actor, application, data.get("reason"))
    elif action == "reject":
        services.reject_application(actor, application, data.get("reason"))
    elif action == "approve":
        result = services.approve_application(actor, application, data.get("reason"), data.get("issued_on"))
    elif action == "factors":
        services._check_reviewer(actor, application)
        services.set_factors(actor, application, data)
    db.session.commit()
    return result


@blp.route("/applications/<int:application_id>/start-review")
class StartReview(MethodView):
    @blp.response(200, ApplicationSchema)
    def post(self, application_id):
        """submitted -> under_review (certifier, not of the maker's organisation)."""
        return _certifier_action(application_id, "start", {})


@blp.route("/applications/<int:application_id>/request-information")
class RequestInformation(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, data, application_id):
        """under_review -> info_requested with the question (certifier)."""
        return _certifier_action(application_id, "request", data)


@blp.route("/applications/<int:application_id>/reject")
class Reject(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, data, application_id):
        """under_review -> rejected with the reason (certifier)."""
        return _certifier_action(application_id, "reject", data)


@blp.route("/applications/<int:application_id>/approve")
class Approve(MethodView):
    @blp.arguments(ApproveSchema)
    @blp.response(201, CertificateSchema)
    def post(self, data, application_id):
        """under_review -> approved; issues the certificate (certifier)."""
        return _certifier_action(application_id, "approve", data)


@blp.route("/applications/<int:application_id>/factors")
class Factors(MethodView):
    @blp.arguments(FactorsSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, data, application_id):
        """Override the diesel/grid factors used for the GX CO2e achievement (certifier/admin)."""
        return _certifier_action(application_id, "factors", data)


# ---- certificates ---------------------------------------------------------------------------


@blp.route("/certificates")
class Certificates(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(CertificateSchema))
    def get(self, args):
        """Certificates: a maker's own; certifiers and admins see all."""
        actor = check_roles("maker", "certifier")
        stmt = select(Certificate).order_by(Certificate.id.desc())
        if not actor.has_role("certifier"):
            stmt = scope_to_organisation(stmt, Certificate.maker_id, actor)
        return paginate(stmt, args["page"], args["per_page"])


def _certificate_for(certificate_id: int, *roles: str) -> tuple[object, Certificate]:
    actor = check_roles(*roles)
    certificate = services.get_certificate(certificate_id)
    if not (actor.is_admin or actor.has_role("certifier")) and certificate.maker_id != actor.organisation_id:
        from gxmachinery.errors import NotFound

        raise NotFound(f"Certificate {certificate_id} not found.")
    return actor, certificate


@blp.route("/certificates/<int:certificate_id>")
class CertificateItem(MethodView):
    @blp.response(200, CertificateSchema)
    def get(self, certificate_id):
        """One certificate with status history, renewals and type-change notices."""
        return _certificate_for(certificate_id, "maker", "certifier")[1]


@blp.route("/certificates/<int:certificate_id>/renew")
class CertificateRenew(MethodView):
    @blp.arguments(RenewSchema)
    @blp.response(200, CertificateSchema)
    def post(self, data, certificate_id):
        """Renew: a new validity (3 years by default) for an active or expired certificate."""
        actor, certificate = _certificate_for(certificate_id, "maker", "certifier")
        services.renew_certificate(actor, certificate, data.get("renewed_on"), data.get("reason"))  # type: ignore[arg-type]
        db.session.commit()
        return certificate


@blp.route("/certificates/<int:certificate_id>/notices")
class CertificateNotices(MethodView):
    @blp.arguments(NoticeInSchema)
    @blp.response(201, NoticeSchema)
    def post(self, data, certificate_id):
        """File a type-change notice (maker): minor -> kept; drive/power change -> needs a new application."""
        actor, certificate = _certificate_for(certificate_id, "maker")
        notice = services.file_type_change_notice(
            actor,
            certificate,
            data["kind"],
            data["description"],  # type: ignore[arg-type]
            data.get("changes"),
        )
        db.session.commit()
        return notice


def _status_action(certificate_id: int, data: dict, action: str) -> Certificate:  # type: ignore[type-arg]
    actor, certificate = _certificate_for(certificate_id, "certifier")
    fn = {
        "suspend": services.suspend_certificate,
        "reinstate": services.reinstate_certificate,
        "revoke": services.revoke_certificate,
    }[action]
    fn(actor, certificate, data["effective_from"], data["reason"])  # type: ignore[arg-type]
    db.session.commit()
    return certificate


@blp.route("/certificates/<int:certificate_id>/suspend")
class CertificateSuspend(MethodView):
    @blp.arguments(EffectiveSchema)
    @blp.response(200, CertificateSchema)
    def post(self, data, certificate_id):
        """Suspend from an effective date with a reason (certifier)."""
        return _status_action(certificate_id, data, "suspend")


@blp.route("/certificates/<int:certificate_id>/reinstate")
class CertificateReinstate(MethodView):
    @blp.arguments(EffectiveSchema)
    @blp.response(200, CertificateSchema)
    def post(self, data, certificate_id):
        """Lift a suspension from an effective date (certifier)."""
        return _status_action(certificate_id, data, "reinstate")


@blp.route("/certificates/<int:certificate_id>/revoke")
class CertificateRevoke(MethodView):
    @blp.arguments(EffectiveSchema)
    @blp.response(200, CertificateSchema)
    def post(self, data, certificate_id):
        """Revoke from an effective date with a reason; never retroactive before it (certifier)."""
        return _status_action(certificate_id, data, "revoke")


@blp.route("/expire")
class Expire(MethodView):
    @blp.response(200)
    def post(self):
        """Record expiry of certificates past valid_until (admin; also `gxm certification expire`)."""
        check_roles("admin")
        count = services.expire_certificates(date.today())
        db.session.commit()
        return {"expired": count}


@blp.route("/baseline-review")
class BaselineReview(MethodView):
    @blp.arguments(ReviewQuerySchema, location="query")
    @blp.response(200, ReviewRowSchema(many=True))
    def get(self, args):
        """Per class: proposals top-runner / p30 / p50 and models/makers passing each (admin)."""
        check_roles("admin")
        baseline_set = services.get_baseline_set(args["baseline_set"]) if args.get("baseline_set") else None
        return services.baseline_review_table(baseline_set).to_dict("records")


# ---- public register ------------------------------------------------------------------------


@register_blp.route("/certificates")
class RegisterList(MethodView):
    @register_blp.arguments(RegisterQuerySchema, location="query")
    @register_blp.response(200, RegisterPageSchema)
    def get(self, args):
        """Search certified models: category, class, drive, grade, maker, status (computed today)."""
        page = paginate(services.register_query(args), args["page"], args["per_page"])
        return Page(
            items=services.register_rows(page.items), total=page.total, page=page.page, per_page=page.per_page
        )


@register_blp.route("/certificates/<string:number>")
class RegisterDetail(MethodView):
    @register_blp.response(200, RegisterDetailSchema)
    def get(self, number):
        """One certificate by number with its status history and renewals."""
        certificate = (
            services.get_certificate(number) if not number.isdigit() else services.get_certificate(number)
        )
        row = services.register_rows([certificate])[0]
        row["status_history"] = certificate.status_changes
        row["renewals"] = certificate.renewals
        return row


@register_blp.route("/export")
class RegisterExport(MethodView):
    @register_blp.arguments(ExportQuerySchema, location="query")
    @register_blp.response(200)
    def get(self, args):
        """Open data: the (filtered) register as CSV, XLSX or JSON."""
        frame = services.register_frame(args)
        if args["format"] == "json":
            from flask import jsonify

            return jsonify(frame.to_dict("records") if "status" in frame.columns else [])
        return download_response(frame, f"gx-register-{date.today().isoformat()}", args["format"])


@register_blp.route("/competition")
class RegisterCompetition(MethodView):
    @register_blp.response(200, CompetitionRowSchema(many=True))
    def get(self):
        """Per category/class: distinct makers with active certificates; designatable if >= 3."""
        return services.competition_table().to_dict("records")
