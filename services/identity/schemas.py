"""HTTP bodies and RPC arguments of the identity service."""

from marshmallow import EXCLUDE, Schema, fields, validate

from services.identity.domain import NAME_MAX


class SignInSchema(Schema):
    """`sign_in(name, password)` arguments (RPC), checked before any lookup."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    password = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    source = fields.String(load_default=None, allow_none=True)


class AuditQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(load_default=None, validate=validate.Length(max=NAME_MAX))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=5000))
