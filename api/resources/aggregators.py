"""Aggregators: offtaker organisations, set up by admins and read by their own users."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Id, PageArgs, Rupiah, Schema, Text, page_schema, paginate
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.services import aggregators

URL_PREFIX = "/aggregators"
blp = Blueprint("aggregators", __name__, description="Aggregators (offtakers)")


class AggregatorUpdate(Schema):
    name = Text(160, min_length=1)
    nib = Text(30, min_length=1, allow_none=True)
    address = Text(300)
    phone = Text(30)
    email = ma.fields.Email(validate=validate.Length(max=254))
    approval_limit = Rupiah(
        metadata={"description": "rupiah; above it a second approver is needed"}
    )


class AggregatorCreate(AggregatorUpdate):
    name = Text(160, min_length=1, required=True)


class AggregatorSchema(Schema):
    id = Id(dump_only=True)
    name = ma.fields.String(dump_only=True)
    nib = ma.fields.String(dump_only=True, allow_none=True)
    address = ma.fields.String(dump_only=True)
    phone = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True)
    approval_limit = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)


AggregatorPage = page_schema(AggregatorSchema, "AggregatorPage")


@blp.route("")
class Aggregators(MethodView):
    @allow(Role.admin, Role.aggregator)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, AggregatorPage)
    def get(self, args):
        """Aggregators in my scope (an aggregator user: its own)"""
        return paginate(db(), aggregators.list_aggregators(db(), current_actor()), args)

    @allow(Role.admin)
    @blp.arguments(AggregatorCreate)
    @blp.response(201, AggregatorSchema)
    @blp.alt_response(409, description="The name or NIB is taken")
    def post(self, data):
        """Set up an aggregator"""
        return aggregators.create_aggregator(db(), current_actor(), data)


@blp.route("/<int:aggregator_id>")
class AggregatorById(MethodView):
    @allow(Role.admin, Role.aggregator)
    @blp.response(200, AggregatorSchema)
    def get(self, aggregator_id):
        """One aggregator"""
        return aggregators.get_aggregator(db(), current_actor(), aggregator_id)

    @allow(Role.admin)
    @blp.arguments(AggregatorUpdate)
    @blp.response(200, AggregatorSchema)
    @blp.alt_response(409, description="The name or NIB is taken")
    def patch(self, data, aggregator_id):
        """Change an aggregator"""
        return aggregators.update_aggregator(db(), current_actor(), aggregator_id, data)
