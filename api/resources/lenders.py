"""Lenders: the banks and cooperatives that decide KUR credit; admins keep them, applicants
read them to choose the lender an application is put to, a lender's officer reads its own."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Id, PageArgs, Schema, Text, page_schema, paginate
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.services import lenders

URL_PREFIX = "/lenders"
blp = Blueprint("lenders", __name__, description="Lenders (banks and cooperatives)")

KINDS = ["bank", "cooperative"]


class LenderUpdate(Schema):
    name = Text(120, min_length=1)
    kind = ma.fields.String(validate=validate.OneOf(KINDS))


class LenderCreate(LenderUpdate):
    name = Text(120, min_length=1, required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(KINDS))


class LenderSchema(Schema):
    id = Id(dump_only=True)
    name = ma.fields.String(dump_only=True)
    kind = ma.fields.Function(lambda lender: lender.kind.value, dump_only=True)
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)


LenderPage = page_schema(LenderSchema, "LenderPage")


@blp.route("")
class Lenders(MethodView):
    @allow(Role.admin, Role.aggregator, Role.member, Role.lender)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, LenderPage)
    def get(self, args):
        """Lenders in my scope (a lender's officer: its own institution)"""
        return paginate(db(), lenders.list_lenders(db(), current_actor()), args)

    @allow(Role.admin)
    @blp.arguments(LenderCreate)
    @blp.response(201, LenderSchema)
    @blp.alt_response(409, description="The name is taken")
    def post(self, data):
        """Set up a lender (admin)"""
        return lenders.create_lender(db(), current_actor(), **data)


@blp.route("/<int:lender_id>")
class LenderById(MethodView):
    @allow(Role.admin, Role.aggregator, Role.member, Role.lender)
    @blp.response(200, LenderSchema)
    def get(self, lender_id):
        """One lender"""
        return lenders.get_lender(db(), current_actor(), lender_id)

    @allow(Role.admin)
    @blp.arguments(LenderUpdate)
    @blp.response(200, LenderSchema)
    @blp.alt_response(409, description="The name is taken")
    def patch(self, data, lender_id):
        """Change a lender (admin)"""
        return lenders.update_lender(db(), current_actor(), lender_id, data)

    @allow(Role.admin)
    @blp.response(204)
    @blp.alt_response(409, description="Accounts or applications still refer to it")
    def delete(self, lender_id):
        """Remove a lender no account or application refers to (admin)"""
        lenders.delete_lender(db(), current_actor(), lender_id)
