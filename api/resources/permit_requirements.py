"""Izin edar reference data: which products need which permit types (by sector, kind or
product, with exceptions and groups of alternatives)."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.resources.permit_types import CODE
from api.schemas import Id, PageArgs, Schema, Text, page_schema, paginate
from api.security import allow, current_actor
from factoryshare.models import ProductKind, Role, Sector
from factoryshare.services import permits

URL_PREFIX = "/permit-requirements"
blp = Blueprint(
    "permit_requirements", __name__, description="Which products need which permit types"
)


class RequirementUpdate(Schema):
    permit_type = ma.fields.String(validate=CODE)
    sector = ma.fields.String(allow_none=True, validate=validate.OneOf([s.value for s in Sector]))
    kind = ma.fields.String(
        allow_none=True, validate=validate.OneOf([k.value for k in ProductKind])
    )
    product_id = Id(allow_none=True)
    unless_family = Text(40, allow_none=True)
    one_of = Text(
        40, min_length=1, metadata={"description": "rows sharing a group are alternatives"}
    )
    note = Text(300)


class RequirementCreate(RequirementUpdate):
    permit_type = ma.fields.String(required=True, validate=CODE)


class RequirementSchema(Schema):
    id = Id(dump_only=True)
    permit_type = ma.fields.Function(lambda r: r.permit_type.code, dump_only=True)
    sector = ma.fields.String(dump_only=True, allow_none=True)
    kind = ma.fields.String(dump_only=True, allow_none=True)
    product_id = ma.fields.Integer(dump_only=True, allow_none=True)
    unless_family = ma.fields.String(dump_only=True, allow_none=True)
    one_of = ma.fields.String(dump_only=True)
    note = ma.fields.String(dump_only=True)


RequirementPage = page_schema(RequirementSchema, "RequirementPage")


@blp.route("")
class PermitRequirements(MethodView):
    @allow()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, RequirementPage)
    def get(self, args):
        """Every requirement row, a page at a time, by group (`one_of`) then id"""
        return paginate(db(), permits.list_requirements(db(), current_actor()), args)

    @allow(Role.admin)
    @blp.arguments(RequirementCreate)
    @blp.response(201, RequirementSchema)
    def post(self, data):
        """Add a requirement (e.g. SNI for a product on the mandatory list)"""
        return permits.create_requirement(db(), current_actor(), data)


@blp.route("/<int:requirement_id>")
class PermitRequirementById(MethodView):
    @allow()
    @blp.response(200, RequirementSchema)
    def get(self, requirement_id):
        """One requirement row"""
        return permits.get_requirement(db(), current_actor(), requirement_id)

    @allow(Role.admin)
    @blp.arguments(RequirementUpdate)
    @blp.response(200, RequirementSchema)
    def patch(self, data, requirement_id):
        """Change a requirement"""
        return permits.update_requirement(db(), current_actor(), requirement_id, data)

    @allow(Role.admin)
    @blp.response(204)
    def delete(self, requirement_id):
        """Remove a requirement"""
        permits.delete_requirement(db(), current_actor(), requirement_id)
