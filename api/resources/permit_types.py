"""Izin edar reference data: the permit types (NIB, PIRT, BPOM, halal, SNI ...) with their
validity, renewal window and grace."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Id, PageArgs, Schema, Text, page_schema, paginate
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.models.permits import Expiry, PermitLevel
from factoryshare.services import permits

URL_PREFIX = "/permit-types"
blp = Blueprint("permit_types", __name__, description="Permit types (reference data)")

# A type's code, as the requirements name it too.
CODE = validate.Regexp(r"^[a-z][a-z0-9_]{1,19}$")


class PermitTypeUpdate(Schema):
    name = Text(120, min_length=1)
    level = ma.fields.String(validate=validate.OneOf([v.value for v in PermitLevel]))
    expiry = ma.fields.String(validate=validate.OneOf([v.value for v in Expiry]))
    validity_years = ma.fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=100)
    )
    renewal_window_days = ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=3650))
    grace_days = ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=3650))
    issuer = Text(160)
    note = Text(4000)


class PermitTypeCreate(PermitTypeUpdate):
    code = ma.fields.String(required=True, validate=CODE)
    name = Text(120, min_length=1, required=True)
    level = ma.fields.String(required=True, validate=validate.OneOf([v.value for v in PermitLevel]))
    expiry = ma.fields.String(required=True, validate=validate.OneOf([v.value for v in Expiry]))


class PermitTypeSchema(Schema):
    id = Id(dump_only=True)
    code = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    level = ma.fields.Function(lambda t: t.level.value, dump_only=True)
    expiry = ma.fields.Function(lambda t: t.expiry.value, dump_only=True)
    validity_years = ma.fields.Integer(dump_only=True, allow_none=True)
    renewal_window_days = ma.fields.Integer(dump_only=True)
    grace_days = ma.fields.Integer(dump_only=True)
    issuer = ma.fields.String(dump_only=True)
    note = ma.fields.String(dump_only=True)


PermitTypePage = page_schema(PermitTypeSchema, "PermitTypePage")


@blp.route("")
class PermitTypes(MethodView):
    @allow()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PermitTypePage)
    def get(self, args):
        """Every permit type, a page at a time, by code"""
        return paginate(db(), permits.list_types(db(), current_actor()), args)

    @allow(Role.admin)
    @blp.arguments(PermitTypeCreate)
    @blp.response(201, PermitTypeSchema)
    def post(self, data):
        """Add a permit type"""
        return permits.create_type(db(), current_actor(), data)


@blp.route("/<int:type_id>")
class PermitTypeById(MethodView):
    @allow()
    @blp.response(200, PermitTypeSchema)
    def get(self, type_id):
        """One permit type"""
        return permits.get_type(db(), current_actor(), type_id)

    @allow(Role.admin)
    @blp.arguments(PermitTypeUpdate)
    @blp.response(200, PermitTypeSchema)
    def patch(self, data, type_id):
        """Change a permit type's validity, renewal window or grace (the code stays)"""
        return permits.update_type(db(), current_actor(), type_id, data)
