"""The money of a loan application once disbursed: its installments, the repayments
recorded against one, and the tranches paid out."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.database import db
from api.resources.loan_applications import blp
from api.schemas import AwareDateTime, PageArgs, Rupiah, Schema, page_schema, paginate_list
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.services import loans


class InstallmentFields(Schema):
    """The fields an installment shows here and in a loan (api/resources/loans.py)."""

    number = ma.fields.Integer()
    due_date = ma.fields.Date()
    principal = ma.fields.Integer()
    interest = ma.fields.Integer()
    amount = ma.fields.Integer()
    paid = ma.fields.Integer()


class InstallmentSchema(InstallmentFields):
    id = ma.fields.Integer()
    status = ma.fields.Function(lambda i: i.status.value)
    days_in_arrears = ma.fields.Integer()


InstallmentPage = page_schema(InstallmentSchema, "InstallmentPage")


@blp.route("/<int:application_id>/installments")
class Installments(MethodView):
    @allow()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, InstallmentPage)
    def get(self, args, application_id):
        """The installments of a disbursed loan, a page at a time, by number"""
        return paginate_list(loans.installments(db(), current_actor(), application_id), args)


class RepaymentIn(Schema):
    amount = Rupiah(required=True)
    source = ma.fields.String(
        load_default="direct", validate=ma.validate.OneOf(["direct", "offtake_purchase"])
    )
    on = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "the day the money was received (today)"},
    )


@blp.route("/<int:application_id>/installments/<int:number>/repayments")
class Repayments(MethodView):
    @allow(Role.admin, Role.aggregator)
    @blp.arguments(RepaymentIn)
    @blp.response(201, InstallmentSchema)
    def post(self, data, application_id, number):
        """Record money received for one installment"""
        return loans.record_repayment(
            db(),
            current_actor(),
            application_id,
            number,
            data["amount"],
            data["source"],
            on=data["on"],
        )


class TrancheIn(Schema):
    amount = Rupiah(required=True, validate=ma.validate.Range(min=1, max=10**15))
    on = ma.fields.Date(load_default=None, allow_none=True)


class TrancheSchema(Schema):
    id = ma.fields.Integer()
    amount = ma.fields.Integer()
    disbursed_on = ma.fields.Date()
    created_at = AwareDateTime()


TranchePage = page_schema(TrancheSchema, "TranchePage")


@blp.route("/<int:application_id>/tranches")
class Tranches(MethodView):
    @allow()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, TranchePage)
    def get(self, args, application_id):
        """The tranches paid out so far, a page at a time, by day paid out then id"""
        return paginate_list(loans.tranches(db(), current_actor(), application_id), args)

    @allow(Role.lender)
    @blp.arguments(TrancheIn)
    @blp.response(201, TrancheSchema)
    @blp.alt_response(409, description="Not disbursing, or beyond the approved amount")
    def post(self, data, application_id):
        """Pay out a tranche (never beyond the approved amount)"""
        return loans.add_tranche(
            db(), current_actor(), application_id, data["amount"], on=data["on"]
        )
