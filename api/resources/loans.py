"""Loans: applications whose money is being paid out, repaid, or has been repaid in full."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from api.database import db
from api.schemas import Schema
from api.security import allow, current_actor
from factoryshare.services import loans

URL_PREFIX = "/loans"
blp = Blueprint("loans", __name__, description="Disbursed, repaying and closed KUR Klaster loans")


class LoanArgs(Schema):
    status = ma.fields.String(validate=ma.validate.OneOf([s.value for s in loans.LOAN_STATUSES]))


class LoanSchema(Schema):
    id = ma.fields.Function(lambda v: v.application.id)
    cluster_id = ma.fields.Function(lambda v: v.application.cluster_id)
    status = ma.fields.Function(lambda v: v.application.status.value)
    approved_amount = ma.fields.Function(lambda v: v.application.approved_amount)
    tenor_months = ma.fields.Function(lambda v: v.application.tenor_months)
    disbursed = ma.fields.Integer()
    repaid = ma.fields.Integer()
    outstanding = ma.fields.Integer(metadata={"description": "installments still to pay"})
    next_due_date = ma.fields.Date(allow_none=True)
    linked_booking_ids = ma.fields.List(ma.fields.Integer())
    my_share = ma.fields.Integer(allow_none=True, metadata={"description": "a member's own share"})


@blp.route("")
class Loans(MethodView):
    @allow()
    @blp.arguments(LoanArgs, location="query")
    @blp.response(200, LoanSchema(many=True))
    def get(self, args):
        """Loans in my scope (managers: those funding their houses' bookings)"""
        return loans.list_loans(db(), current_actor(), **args)


@blp.route("/<int:loan_id>")
class LoanById(MethodView):
    @allow()
    @blp.response(200, LoanSchema)
    def get(self, loan_id):
        """One loan with what was disbursed, repaid and is still owed"""
        return loans.get_loan(db(), current_actor(), loan_id)
