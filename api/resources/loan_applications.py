"""KUR Klaster loan applications: create, edit, and the workflow's action endpoints."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from api.database import db
from api.schemas import (
    AwareDateTime,
    Id,
    PageArgs,
    Rupiah,
    Schema,
    Text,
    Words,
    page_schema,
    paginate,
    paginate_list,
)
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.services import financing_capacity, loan_review, loans

URL_PREFIX = "/loan-applications"
blp = Blueprint("loan_applications", __name__, description="KUR Klaster loan applications")

_TENOR = ma.validate.Range(min=1, max=120)


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
    tenor_months = ma.fields.Integer(required=True, strict=True, validate=_TENOR)
    grace_months = ma.fields.Integer(
        load_default=0, strict=True, validate=_TENOR.__class__(min=0, max=119)
    )
    notes = Text(1000, load_default="")
    lender_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "the lender the application is put to"},
    )


class ApplicationUpdate(Schema):
    requested_amount = Rupiah()
    tenor_months = ma.fields.Integer(strict=True, validate=_TENOR)
    grace_months = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=119))
    notes = Text(1000)
    lender_id = Id(allow_none=True)


class Approval(Schema):
    approved_amount = Rupiah(load_default=None, allow_none=True)


class Reason(Schema):
    reason = Text(1000, load_default="")


class SubmitIn(Schema):
    lender_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "put the application to this lender"},
    )


class LenderDecision(Schema):
    approved = ma.fields.Boolean(required=True)
    reference = Text(
        60,
        min_length=1,
        required=True,
        metadata={"description": "the lender's reference number of the decision"},
    )
    approved_amount = Rupiah(
        load_default=None,
        allow_none=True,
        metadata={"description": "at most the endorsed amount (default)"},
    )
    rate_percent = ma.fields.Decimal(
        load_default=None,
        allow_none=True,
        as_string=False,
        validate=ma.validate.Range(min=0, max=100),
        # numbers in the OpenAPI document: apispec would write the
        # Decimal field's bounds as strings
        metadata={
            "description": "yearly rate (default: the scheme's)",
            "minimum": 0,
            "maximum": 100,
        },
    )
    tenor_months = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=_TENOR
    )
    note = Text(1000, load_default="")


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


def _action(path, roles, schema, doc, call):
    @blp.route(f"/<int:application_id>/{path}", endpoint=f"action_{path.replace('-', '_')}")
    class Action(MethodView):
        @allow(*roles)
        @blp.arguments(schema)
        @blp.response(200, ApplicationSchema)
        @blp.alt_response(409, description="The application is not in a state that allows this")
        def post(self, data, application_id):
            return call(application_id, data)

    Action.post.__doc__ = doc
    Action.__name__ = f"Action_{path}"
    return Action


class _Empty(Schema):
    pass


_action(
    "submit",
    (Role.admin, Role.aggregator, Role.member),
    SubmitIn,
    "Submit to the aggregator",
    lambda i, d: loans.submit(db(), current_actor(), i, lender_id=d["lender_id"]),
)
_action(
    "approve",
    (Role.admin, Role.aggregator),
    Approval,
    "Endorse (two approvers above the limit)",
    lambda i, d: loans.approve(db(), current_actor(), i, d["approved_amount"]),
)
_action(
    "reject",
    (Role.admin, Role.aggregator),
    Reason,
    "Reject",
    lambda i, d: loans.reject(db(), current_actor(), i, d["reason"]),
)
_action(
    "request-changes",
    (Role.admin, Role.aggregator),
    Reason,
    "Send back for changes",
    lambda i, d: loans.request_changes(db(), current_actor(), i, d["reason"]),
)
_action(
    "lender-decision",
    (Role.lender,),
    LenderDecision,
    "Record the lender's credit decision (the lender the application is put to)",
    lambda i, d: loans.lender_decision(db(), current_actor(), i, **d),
)


class DisburseIn(Schema):
    amount = Rupiah(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=10**15),
        metadata={"description": "a first tranche paid out at once"},
    )
    on = ma.fields.Date(load_default=None, allow_none=True)


_action(
    "disburse",
    (Role.lender,),
    DisburseIn,
    "Start disbursing the lender-approved loan",
    lambda i, d: loans.disburse(db(), current_actor(), i, on=d["on"], amount=d["amount"]),
)


class MaterialCost(Schema):
    member_id = Id(required=True)
    amount = Rupiah(required=True)


class PlanIn(Schema):
    production_request_ids = ma.fields.List(
        Id(), load_default=list, validate=ma.validate.Length(max=loans.MAX_PLAN_ITEMS)
    )
    booking_ids = ma.fields.List(
        Id(), load_default=list, validate=ma.validate.Length(max=loans.MAX_PLAN_ITEMS)
    )
    material_costs = ma.fields.List(
        ma.fields.Nested(MaterialCost),
        load_default=list,
        validate=ma.validate.Length(max=loans.MAX_PLAN_ITEMS),
    )


class ShareSchema(Schema):
    member_id = ma.fields.Integer()
    machine_minutes = ma.fields.Integer()
    machine_hours = ma.fields.Function(lambda s: round(s.machine_minutes / 60, 2))
    machine_cost = ma.fields.Integer()
    material_cost = ma.fields.Integer()
    amount = ma.fields.Integer()


class LinkSchema(Schema):
    production_request_id = ma.fields.Integer(allow_none=True)
    booking_id = ma.fields.Integer(allow_none=True)
    linked_by = ma.fields.String()


class PlanSchema(Schema):
    shares = ma.fields.List(ma.fields.Nested(ShareSchema))
    links = ma.fields.List(ma.fields.Nested(LinkSchema))
    cost_estimate = ma.fields.Integer(
        metadata={"description": "the whole plan: machine time and materials"}
    )


def _plan(application_id):
    shares = loans.shares(db(), current_actor(), application_id)
    return {
        "shares": shares,
        "links": loans.plan_links(db(), current_actor(), application_id),
        "cost_estimate": loans.cost_estimate(db(), current_actor(), application_id),
    }


@blp.route("/<int:application_id>/plan")
class Plan(MethodView):
    @allow()
    @blp.response(200, PlanSchema)
    def get(self, application_id):
        """The production plan financed: per-member shares (a member sees its own) and links"""
        return _plan(application_id)

    @allow(Role.admin, Role.aggregator, Role.member)
    @blp.arguments(PlanIn)
    @blp.response(200, PlanSchema)
    @blp.alt_response(409, description="The application is no longer editable")
    def put(self, data, application_id):
        """Build the application from the cluster's requests and bookings (replaces the plan)"""
        materials: dict[int, int] = {}
        for item in data["material_costs"]:
            materials[item["member_id"]] = materials.get(item["member_id"], 0) + item["amount"]
        loans.set_plan(
            db(),
            current_actor(),
            application_id,
            production_request_ids=data["production_request_ids"],
            booking_ids=data["booking_ids"],
            material_costs=materials,
        )
        return _plan(application_id)


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


class DeliveryCheckSchema(Schema):
    agreement_id = ma.fields.Integer()
    product_id = ma.fields.Integer()
    due_on = ma.fields.Date()
    quantity = ma.fields.Integer()
    cumulative_quantity = ma.fields.Integer(metadata={"description": "agreed up to this date"})
    planned_quantity = ma.fields.Integer(metadata={"description": "the plan finishes by this date"})
    met = ma.fields.Boolean()
    late_request_ids = ma.fields.List(ma.fields.Integer())
    reasons = ma.fields.List(
        Words(), metadata={"description": "why the plan falls short by this date"}
    )


class CapacityReportSchema(Schema):
    house_id = ma.fields.Integer()
    solver_status = ma.fields.String()
    checked_at = AwareDateTime()
    all_met = ma.fields.Boolean()
    deliveries = ma.fields.List(ma.fields.Nested(DeliveryCheckSchema))
    unplaced_request_ids = ma.fields.List(ma.fields.Integer())


@blp.route("/<int:application_id>/capacity-check")
class CapacityCheck(MethodView):
    @allow(Role.admin, Role.aggregator, Role.manager, Role.member)
    @blp.arguments(_Empty)
    @blp.response(200, CapacityReportSchema)
    def post(self, data, application_id):
        """Solve the house's bookings plus the plan: which offtake delivery dates can be met"""
        return financing_capacity.check(db(), current_actor(), application_id)


@blp.route("/<int:application_id>/decisions")
class Decisions(MethodView):
    @allow()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, DecisionPage)
    def get(self, args, application_id):
        """Every decision on the application: who, in which role, when, note and terms, a page
        at a time, oldest first (by time decided, then id)"""
        return paginate_list(loans.decisions(db(), current_actor(), application_id), args)


class PlanItemSchema(Schema):
    member_id = ma.fields.Integer()
    kind = ma.fields.String(
        metadata={
            "description": "booked, held, planned (placed by the "
            "published schedule) or window (not yet placed)"
        }
    )
    start = AwareDateTime()
    end = AwareDateTime()
    what = Words()
    product_id = ma.fields.Integer(allow_none=True)


class HistoryEntrySchema(Schema):
    kind = ma.fields.Function(lambda d: d.kind.value)
    role = ma.fields.String()
    decided_at = AwareDateTime()
    decided_by = Words(
        allow_none=True, metadata={"description": "the person's name; none: the service itself"}
    )
    note = ma.fields.String()
    terms = ma.fields.Dict()


class ReviewSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(PlanItemSchema))
    permit_flags = ma.fields.List(
        Words(),
        metadata={
            "description": "what keeps a planned product from being made over its planned time"
        },
    )
    history = ma.fields.List(ma.fields.Nested(HistoryEntrySchema))


@blp.route("/<int:application_id>/review")
class Review(MethodView):
    @allow()
    @blp.response(200, ReviewSchema)
    def get(self, application_id):
        """What a reviewer reads: the plan on its timeline, permit gaps, who decided what"""
        items = loan_review.plan_items(db(), current_actor(), application_id)
        return {
            "items": items,
            "permit_flags": loan_review.permit_flags(db(), current_actor(), application_id, items),
            "history": loan_review.decision_history(db(), current_actor(), application_id),
        }
