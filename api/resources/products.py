"""Products of member businesses and their routings."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Id, PageArgs, Schema, Text, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import ProductKind, Role, Sector
from factoryshare.services import products

URL_PREFIX = "/products"
blp = Blueprint("products", __name__, description="Products and their routings")

SECTORS = [s.value for s in Sector]
KINDS = [k.value for k in ProductKind]
MINUTES = validate.Range(min=0, max=products.MAX_MINUTES)


class ProductArgs(PageArgs):
    member_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    sector = ma.fields.String(validate=validate.OneOf(SECTORS))


class RoutingStepIn(Schema):
    capability = Text(50, min_length=1, required=True, metadata={"description": "capability code"})
    setup_minutes = ma.fields.Integer(strict=True, load_default=0, validate=MINUTES)
    minutes_per_unit = ma.fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=products.MAX_MINUTES)
    )
    min_lag_minutes = ma.fields.Integer(strict=True, load_default=0, validate=MINUTES)
    max_lot = ma.fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=products.MAX_LOT),
        metadata={
            "description": "at most this many units in one run of a "
            "machine; a larger request is planned in lots"
        },
    )


class RoutingStepOut(Schema):
    position = ma.fields.Integer()
    capability = ma.fields.Function(lambda s: s.capability.code)
    setup_minutes = ma.fields.Integer()
    minutes_per_unit = ma.fields.Integer()
    min_lag_minutes = ma.fields.Integer()
    max_lot = ma.fields.Integer(allow_none=True)


class ProductUpdate(Schema):
    name = Text(160, min_length=1)
    sector = ma.fields.String(validate=validate.OneOf(SECTORS))
    kind = ma.fields.String(validate=validate.OneOf(KINDS))
    unit = Text(20, min_length=1)
    family = Text(40, allow_none=True, metadata={"description": "e.g. halal, non_halal"})
    description = Text(4000)
    routing = ma.fields.List(
        ma.fields.Nested(RoutingStepIn), validate=validate.Length(min=1, max=50)
    )


class ProductCreate(ProductUpdate):
    member_id = Id(metadata={"description": "a member user's own business when left out"})
    name = Text(160, min_length=1, required=True)
    sector = ma.fields.String(required=True, validate=validate.OneOf(SECTORS))
    routing = ma.fields.List(
        ma.fields.Nested(RoutingStepIn), required=True, validate=validate.Length(min=1, max=50)
    )


class RoutingReplace(Schema):
    steps = ma.fields.List(
        ma.fields.Nested(RoutingStepIn), required=True, validate=validate.Length(min=1, max=50)
    )


class ProductSchema(Schema):
    id = Id(dump_only=True)
    member_id = Id(dump_only=True)
    name = ma.fields.String(dump_only=True)
    sector = ma.fields.Function(lambda p: p.sector.value, dump_only=True)
    kind = ma.fields.Function(lambda p: p.kind.value, dump_only=True)
    unit = ma.fields.String(dump_only=True)
    family = ma.fields.String(dump_only=True, allow_none=True)
    description = ma.fields.String(dump_only=True)
    routing = ma.fields.List(ma.fields.Nested(RoutingStepOut), dump_only=True)
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)


ProductPage = page_schema(ProductSchema, "ProductPage")


@blp.route("")
class Products(MethodView):
    @allow()
    @blp.arguments(ProductArgs, location="query")
    @blp.response(200, ProductPage)
    def get(self, args):
        """Products in my scope"""
        filters, paging = strip_page(args)
        return paginate(db(), products.list_products(db(), current_actor(), **filters), paging)

    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(ProductCreate)
    @blp.response(201, ProductSchema)
    @blp.alt_response(409, description="The member already has a product with this name")
    def post(self, data):
        """Add a product with its routing"""
        return products.create_product(db(), current_actor(), data)


@blp.route("/<int:product_id>")
class ProductById(MethodView):
    @allow()
    @blp.response(200, ProductSchema)
    def get(self, product_id):
        """One product with its routing"""
        return products.get_product(db(), current_actor(), product_id)

    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(ProductUpdate)
    @blp.response(200, ProductSchema)
    @blp.alt_response(409, description="The member already has a product with this name")
    def patch(self, data, product_id):
        """Change a product (a routing given replaces the whole routing)"""
        return products.update_product(db(), current_actor(), product_id, data)

    @allow(Role.admin, Role.manager, Role.member)
    @blp.response(204)
    @blp.alt_response(409, description="The product is still in use")
    def delete(self, product_id):
        """Remove a product and its routing"""
        products.delete_product(db(), current_actor(), product_id)


@blp.route("/<int:product_id>/routing")
class ProductRouting(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(RoutingReplace)
    @blp.response(200, ProductSchema)
    def put(self, data, product_id):
        """Replace the whole routing in one step"""
        return products.replace_routing(db(), current_actor(), product_id, data["steps"])
