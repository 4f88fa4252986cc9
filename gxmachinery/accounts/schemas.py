from __future__ import annotations

from marshmallow import Schema, fields, validate

from gxmachinery.accounts.models import OrganisationKind, Role


class OrganisationSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in OrganisationKind]))
    registration_no = fields.String(allow_none=True, load_default=None)
    is_demo = fields.Boolean(dump_only=True)


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    organisation_id = fields.Integer(required=True, load_only=True)
    organisation = fields.Nested(OrganisationSchema, dump_only=True)
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    roles = fields.List(
        fields.String(validate=validate.OneOf([r.value for r in Role])), required=True
    )
    password = fields.String(load_only=True, load_default=None)
    active = fields.Boolean(dump_only=True)


class TokenSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    prefix = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    last_used_at = fields.DateTime(dump_only=True)
    expires_at = fields.DateTime(load_default=None, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(dump_only=True, metadata={"description": "The secret; shown only once."})


class RevokeSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True)


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
