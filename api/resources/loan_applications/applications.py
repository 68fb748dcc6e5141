"""Loan applications themselves: list, create, one, edit, the schedule the amount would
repay, and every decision taken on one."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.database import db
from api.resources.loan_applications import blp
from api.schemas import (
    AwareDateTime,
    Id,
    PageArgs,
    Rupiah,
    Schema,
    Text,
    page_schema,
    paginate,
    paginate_list,
)
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.services import loans

# A term in months, as the application and the lender's decision give it.
TENOR = ma.validate.Range(min=1, max=120)


class DecisionSchema(Schema):
    id = ma.fields.Integer()
    loan_application_id = ma.fields.Integer()
    kind = ma.fields.Function(
        lambda d: d.kind.value,
        metadata={
            "description": "submitted, endorsed, changes_requested, rejected, lender_approved, "
            "lender_declined or tranche"
        },
    )
    decided_by_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "none: the service itself"}
    )
    role = ma.fields.String()
    decided_at = AwareDateTime()
    note = ma.fields.String()
    terms = ma.fields.Dict(
        metadata={
            "description": "the terms decided on: amount, rate_percent/rate_bps, tenor_months, "
            "reference, ..."
        }
    )


class ApplicationSchema(Schema):
    id = ma.fields.Integer()
    cluster_id = ma.fields.Integer()
    scheme_id = ma.fields.Integer()
    status = ma.fields.Function(lambda a: a.status.value)
    requested_amount = ma.fields.Integer()
    tenor_months = ma.fields.Integer()
    grace_months = ma.fields.Integer()
    approved_amount = ma.fields.Integer(allow_none=True)
    notes = ma.fields.String()
    created_by_id = ma.fields.Integer(allow_none=True)
    approved_by_id = ma.fields.Integer(allow_none=True)
    second_approved_by_id = ma.fields.Integer(allow_none=True)
    lender_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "the lender the application is put to"}
    )
    lender_reference = ma.fields.String(allow_none=True)
    lender_rate_percent = ma.fields.Function(
        lambda a: None if a.lender_rate_bps is None else a.lender_rate_bps / 100, allow_none=True
    )
    lender_tenor_months = ma.fields.Integer(allow_none=True)
    decisions = ma.fields.List(
        ma.fields.Nested(DecisionSchema),
        metadata={"description": "every decision taken on it, oldest first"},
    )
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class ApplicationCreate(Schema):
    cluster_id = Id(required=True)
    requested_amount = Rupiah(required=True)
    tenor_months = ma.fields.Integer(required=True, strict=True, validate=TENOR)
    grace_months = ma.fields.Integer(
        load_default=0, strict=True, validate=TENOR.__class__(min=0, max=119)
    )
    notes = Text(1000, load_default="")
    lender_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "the lender the application is put to"},
    )


class ApplicationUpdate(Schema):
    requested_amount = Rupiah()
    tenor_months = ma.fields.Integer(strict=True, validate=TENOR)
    grace_months = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=119))
    notes = Text(1000)
    lender_id = Id(allow_none=True)


class InstallmentPreview(Schema):
    number = ma.fields.Integer()
    principal = ma.fields.Integer()
    interest = ma.fields.Integer()
    amount = ma.fields.Integer()
    balance_after = ma.fields.Integer()


ApplicationPage = page_schema(ApplicationSchema, "ApplicationPage")
DecisionPage = page_schema(DecisionSchema, "DecisionPage")


@blp.route("")
class Applications(MethodView):
    @allow()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ApplicationPage)
    def get(self, args):
        """Loan applications in my scope, a page at a time, by id"""
        return paginate(db(), loans.list_applications(db(), current_actor()), args)

    @allow(Role.admin, Role.aggregator, Role.member)
    @blp.arguments(ApplicationCreate)
    @blp.response(201, ApplicationSchema)
    def post(self, data):
        """Start a draft application for a cluster (its aggregator or chair)"""
        return loans.create(db(), current_actor(), **data)


@blp.route("/<int:application_id>")
class ApplicationById(MethodView):
    @allow()
    @blp.response(200, ApplicationSchema)
    def get(self, application_id):
        """One application"""
        return loans.get(db(), current_actor(), application_id)

    @allow(Role.admin, Role.aggregator, Role.member)
    @blp.arguments(ApplicationUpdate)
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(409, description="The application is no longer editable")
    def patch(self, data, application_id):
        """Edit a draft or an application sent back for changes"""
        return loans.update(db(), current_actor(), application_id, **data)


@blp.route("/<int:application_id>/schedule")
class Schedule(MethodView):
    @allow()
    @blp.response(200, InstallmentPreview(many=True))
    def get(self, application_id):
        """The annuity schedule of the approved (or requested) amount"""
        return loans.schedule(loans.get(db(), current_actor(), application_id))


@blp.route("/<int:application_id>/decisions")
class Decisions(MethodView):
    @allow()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, DecisionPage)
    def get(self, args, application_id):
        """Every decision on the application: who, in which role, when, note and terms, a page
        at a time, oldest first (by time decided, then id)"""
        return paginate_list(loans.decisions(db(), current_actor(), application_id), args)
