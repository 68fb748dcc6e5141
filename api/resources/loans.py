"""Loans: applications whose money is being paid out, repaid, or has been repaid in full.

`outstanding` is the principal outstanding (disbursed less the principal repaid); days past
due and the collectability (kolektibilitas 1-5) are as of `on` (today where the loan is when
left out). Early repayments: `POST /loans/{id}/prepayments`.
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from api.database import db
from api.resources.loan_applications.money import InstallmentFields
from api.schemas import (
    AwareDateTime,
    PageArgs,
    Rupiah,
    Schema,
    page_schema,
    strip_page,
)
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.models.financing import PrepaymentMode
from factoryshare.services import loans

URL_PREFIX = "/loans"
blp = Blueprint("loans", __name__, description="Disbursed, repaying and closed KUR Klaster loans")


class LoanArgs(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf([s.value for s in loans.LOAN_STATUSES]))
    on = ma.fields.Date(metadata={"description": "days past due as of this day (default today)"})


class OnArgs(Schema):
    on = ma.fields.Date(metadata={"description": "days past due as of this day (default today)"})


class LoanInstallmentSchema(InstallmentFields):
    status = ma.fields.String()
    days_past_due = ma.fields.Integer(metadata={"description": "as of the loan's `as_of`"})


class PrepaymentSchema(Schema):
    id = ma.fields.Integer()
    paid_on = ma.fields.Date()
    amount = ma.fields.Integer()
    principal = ma.fields.Integer()
    interest = ma.fields.Integer(metadata={"description": "accrued interest (full repayment)"})
    mode = ma.fields.Function(lambda p: p.mode.value)
    recorded_at = AwareDateTime()


class LoanSchema(Schema):
    id = ma.fields.Function(lambda v: v.application.id)
    cluster_id = ma.fields.Function(lambda v: v.application.cluster_id)
    status = ma.fields.Function(lambda v: v.application.status.value)
    approved_amount = ma.fields.Function(lambda v: v.application.approved_amount)
    tenor_months = ma.fields.Function(lambda v: v.application.tenor_months)
    as_of = ma.fields.Date(metadata={"description": "the day days past due are counted on"})
    disbursed = ma.fields.Integer(metadata={"description": "principal paid out"})
    repaid = ma.fields.Integer(metadata={"description": "all money received"})
    principal_repaid = ma.fields.Integer()
    interest_paid = ma.fields.Integer()
    outstanding = ma.fields.Integer(
        metadata={"description": "principal outstanding: disbursed less principal repaid"}
    )
    scheduled_remaining = ma.fields.Integer(
        metadata={"description": "installments still to pay, principal and interest"}
    )
    next_due_date = ma.fields.Date(allow_none=True)
    days_past_due = ma.fields.Integer(metadata={"description": "of the oldest unpaid installment"})
    collectability = ma.fields.Integer(
        metadata={"description": "kolektibilitas 1 (lancar) to 5 (macet), POJK 40/2019"}
    )
    collectability_label = ma.fields.String()
    installments = ma.fields.List(ma.fields.Nested(LoanInstallmentSchema))
    prepayments = ma.fields.List(ma.fields.Nested(PrepaymentSchema))
    linked_booking_ids = ma.fields.List(ma.fields.Integer())
    my_share = ma.fields.Integer(allow_none=True, metadata={"description": "a member's own share"})


LoanPage = page_schema(LoanSchema, "LoanPage")


class PrepaymentIn(Schema):
    amount = Rupiah(required=True, validate=ma.validate.Range(min=1, max=10**15))
    on = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "the day the money was received (today)"},
    )
    mode = ma.fields.String(
        load_default=PrepaymentMode.shorten_term.value,
        validate=ma.validate.OneOf([m.value for m in PrepaymentMode]),
        metadata={"description": "shorten_term, lower_installment or full"},
    )


class PayoffSchema(Schema):
    on = ma.fields.Date()
    principal = ma.fields.Integer()
    interest = ma.fields.Integer(metadata={"description": "accrued to `on`"})
    amount = ma.fields.Integer(metadata={"description": "principal and interest: closes the loan"})
    installments_due = ma.fields.Integer(
        metadata={"description": "installments already due, to be paid first"}
    )


@blp.route("")
class Loans(MethodView):
    @allow()
    @blp.arguments(LoanArgs, location="query")
    @blp.response(200, LoanPage)
    def get(self, args):
        """Loans in my scope (managers: those funding their houses' bookings), a page at a time,
        by id"""
        filters, paging = strip_page(args)
        page, size = paging.get("page", 1), paging.get("page_size", 20)
        items, total = loans.page_of_loans(
            db(), current_actor(), page=page, page_size=size, **filters
        )
        return {"items": items, "page": page, "page_size": size, "total": total}


@blp.route("/<int:loan_id>")
class LoanById(MethodView):
    @allow()
    @blp.arguments(OnArgs, location="query")
    @blp.response(200, LoanSchema)
    def get(self, args, loan_id):
        """One loan: disbursed, repaid, principal outstanding, days past due, collectability"""
        return loans.get_loan(db(), current_actor(), loan_id, **args)


@blp.route("/<int:loan_id>/payoff")
class Payoff(MethodView):
    @allow()
    @blp.arguments(OnArgs, location="query")
    @blp.response(200, PayoffSchema)
    def get(self, args, loan_id):
        """What repaying the loan in full on a day takes (principal and accrued interest)"""
        return loans.payoff(db(), current_actor(), loan_id, args.get("on"))


@blp.route("/<int:loan_id>/prepayments")
class Prepayments(MethodView):
    @allow(Role.admin, Role.aggregator)
    @blp.arguments(PrepaymentIn)
    @blp.response(201, LoanSchema)
    @blp.alt_response(409, description="Installments due first, or nothing left to repay")
    def post(self, data, loan_id):
        """Repay early: shorten the term, lower the installment, or in full (closes the loan)"""
        loans.prepay(
            db(), current_actor(), loan_id, data["amount"], on=data["on"], mode=data["mode"]
        )
        return loans.get_loan(db(), current_actor(), loan_id, on=data["on"])
