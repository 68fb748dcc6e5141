"""Offtake agreements (aggregator buys a cluster's product) and the purchases that repay loans."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import (
    AwareDateTime,
    Id,
    PageArgs,
    Rupiah,
    Schema,
    Text,
    page_schema,
    paginate,
    strip_page,
)
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import Role
from factoryshare.services import offtake

URL_PREFIX = "/offtake-agreements"
blp = Blueprint("offtake_agreements", __name__, description="Offtake agreements and purchases")

_QUANTITY = validate.Range(min=1, max=offtake.MAX_QUANTITY)


class DeliveryIn(Schema):
    due_on = ma.fields.Date(required=True)
    quantity = ma.fields.Integer(required=True, strict=True, validate=_QUANTITY)


class DeliveryOut(Schema):
    due_on = ma.fields.Date()
    quantity = ma.fields.Integer()


class AgreementCreate(Schema):
    cluster_id = Id(required=True)
    product_id = Id(required=True)
    quantity = ma.fields.Integer(required=True, strict=True, validate=_QUANTITY)
    unit_price = Rupiah(required=True, validate=validate.Range(min=1, max=offtake.MAX_UNIT_PRICE))
    deliveries = ma.fields.List(
        ma.fields.Nested(DeliveryIn),
        required=True,
        validate=validate.Length(min=1, max=offtake.MAX_DELIVERIES),
    )
    notes = Text(1000, load_default="")


class AgreementSchema(Schema):
    id = ma.fields.Integer()
    cluster_id = ma.fields.Integer()
    aggregator_id = ma.fields.Integer()
    product_id = ma.fields.Integer()
    quantity = ma.fields.Integer()
    unit_price = ma.fields.Integer()
    value = ma.fields.Function(lambda a: a.quantity * a.unit_price)
    deliveries = ma.fields.List(ma.fields.Nested(DeliveryOut))
    notes = ma.fields.String()
    created_at = AwareDateTime()


AgreementPage = page_schema(AgreementSchema, "AgreementPage")


class AgreementArgs(PageArgs):
    # a query string carries text: not `Id()`, whose strict integer refuses "1"
    cluster_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class PurchaseIn(Schema):
    delivered_on = ma.fields.Date(required=True)
    quantity = ma.fields.Integer(required=True, strict=True, validate=_QUANTITY)
    amount = Rupiah(
        load_default=None,
        allow_none=True,
        metadata={"description": "paid in rupiah; quantity x unit price when left out"},
    )


class PurchaseSchema(Schema):
    id = ma.fields.Integer()
    agreement_id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    loan_application_id = ma.fields.Integer(allow_none=True)
    delivered_on = ma.fields.Date()
    quantity = ma.fields.Integer()
    amount = ma.fields.Integer()
    repaid = ma.fields.Integer(metadata={"description": "taken for the loan's installments"})
    paid_to_member = ma.fields.Function(offtake.member_payout)
    recorded_at = AwareDateTime()


PurchasePage = page_schema(PurchaseSchema, "PurchasePage")


@blp.route("")
class Agreements(MethodView):
    @allow()
    @blp.arguments(AgreementArgs, location="query")
    @blp.response(200, AgreementPage)
    def get(self, args):
        """Offtake agreements in my scope (of one cluster with `cluster_id`), a page at a time,
        by id"""
        filters, paging = strip_page(args)
        return paginate(db(), offtake.list_agreements(db(), current_actor(), **filters), paging)

    @allow(Role.admin, Role.aggregator)
    @blp.arguments(AgreementCreate)
    @blp.response(201, AgreementSchema)
    def post(self, data):
        """Record an agreement to buy a cluster member's product (the cluster's aggregator)"""
        return offtake.create_agreement(db(), current_actor(), data)


@blp.route("/<int:agreement_id>")
class AgreementById(MethodView):
    @allow()
    @blp.response(200, AgreementSchema)
    def get(self, agreement_id):
        """One offtake agreement"""
        return offtake.get_agreement(db(), current_actor(), agreement_id)


@blp.route("/<int:agreement_id>/purchases")
class Purchases(MethodView):
    @allow()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PurchasePage)
    def get(self, args, agreement_id):
        """Purchases made under the agreement (a member: its own), a page at a time, by delivery
        day then id"""
        return paginate(db(), offtake.list_purchases(db(), current_actor(), agreement_id), args)

    @allow(Role.admin, Role.aggregator)
    @blp.arguments(PurchaseIn)
    @blp.response(201, PurchaseSchema)
    def post(self, data, agreement_id):
        """Record goods bought; the loan's installments due are deducted from the payment"""
        return offtake.record_purchase(db(), current_actor(), agreement_id, data)
