"""The production plan a loan application finances: the per-member shares and links, the
capacity check against the house's bookings and the offtake delivery dates, and the review
(the plan on its timeline, permit gaps, who decided what)."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.database import db, runtime
from api.resources.loan_applications import blp
from api.schemas import AwareDateTime, Id, Rupiah, Schema, Words
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.services import financing_capacity, loan_review, loans


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


class _Empty(Schema):
    pass


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
        return financing_capacity.check(
            db(),
            current_actor(),
            application_id,
            work_per_second=runtime().settings.solver_work_per_second,
        )


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
