from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from gxmachinery.accounts import services
from gxmachinery.accounts.models import ApiToken, Organisation, Role, User
from gxmachinery.accounts.schemas import (
    NewTokenSchema,
    OrganisationSchema,
    PageArgsSchema,
    RevokeSchema,
    TokenSchema,
    UserSchema,
)
from gxmachinery.auth import check_roles, get_or_404, require_actor
from gxmachinery.extensions import db
from gxmachinery.pagination import page_schema, paginate

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Organisations, users, tokens")


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        """The user the token belongs to, with its organisation and roles."""
        return require_actor()


@blp.route("/organisations")
class Organisations(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(OrganisationSchema))
    def get(self, args):
        """All organisations (admin)."""
        check_roles(Role.admin)
        return paginate(select(Organisation).order_by(Organisation.id), args["page"], args["per_page"])

    @blp.arguments(OrganisationSchema)
    @blp.response(201, OrganisationSchema)
    def post(self, data):
        """Register an organisation (admin)."""
        check_roles(Role.admin)
        org = services.create_organisation(data["name"], data["kind"], data.get("registration_no"))
        db.session.commit()
        return org


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(UserSchema))
    def get(self, args):
        """All users (admin)."""
        check_roles(Role.admin)
        return paginate(select(User).order_by(User.id), args["page"], args["per_page"])

    @blp.arguments(UserSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a user in an organisation (admin)."""
        check_roles(Role.admin)
        org = get_or_404(Organisation, data["organisation_id"])
        user = services.create_user(org, data["email"], data["name"], data["roles"], data.get("password"))
        db.session.commit()
        return user


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.response(200, TokenSchema(many=True))
    def get(self):
        """Your API tokens (secrets are never shown again)."""
        actor = require_actor()
        return db.session.scalars(select(ApiToken).where(ApiToken.user_id == actor.id).order_by(ApiToken.id))

    @blp.arguments(TokenSchema)
    @blp.response(201, NewTokenSchema)
    def post(self, data):
        """Issue a new token for yourself; the response holds the secret once."""
        actor = require_actor()
        token, secret = services.issue_token(actor, data["name"], data.get("expires_at"))
        db.session.commit()
        token.token = secret  # type: ignore[attr-defined]
        return token


@blp.route("/tokens/<int:token_id>/revoke")
class TokenRevoke(MethodView):
    @blp.arguments(RevokeSchema)
    @blp.response(200, TokenSchema)
    def post(self, data, token_id):
        """Revoke one of your tokens; it stops working at once."""
        actor = require_actor()
        token = services.revoke_token(services.get_token_for(actor, token_id), data.get("reason"))
        db.session.commit()
        return token
