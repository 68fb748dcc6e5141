"""Production requests: members ask for a quantity of a product between two dates."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.idempotency import HEADER_DOC, idempotent
from api.schemas import (
    AwareDateTime,
    Id,
    PageArgs,
    Schema,
    Words,
    page_schema,
    paginate,
    strip_page,
)
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import Role
from factoryshare.models.scheduling import RequestStatus
from factoryshare.services import production_requests as service
from factoryshare.services import request_estimate, run_review
from factoryshare.services.solving import lot_quantities

URL_PREFIX = "/production-requests"
blp = Blueprint("production_requests", __name__, description="Production requests")

STATUSES = [s.value for s in RequestStatus]


def _local(request, value):  # type: ignore[no-untyped-def]
    return value.astimezone(ZoneInfo(request.house.timezone)).isoformat()


class RequestArgs(PageArgs):
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    member_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    house_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class RequestCreate(Schema):
    product_id = Id(required=True)
    quantity = ma.fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=service.MAX_QUANTITY)
    )
    earliest_start = AwareDateTime(required=True)
    due = AwareDateTime(required=True)
    priority = ma.fields.Integer(
        strict=True,
        load_default=1,
        validate=validate.Range(min=1, max=service.MAX_PRIORITY),
        metadata={"description": "weight of lateness, 1 (normal) to 10"},
    )
    lot_size = ma.fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=service.MAX_QUANTITY),
        metadata={
            "description": "plan in lots of at most this many units (a step's max_lot applies too)"
        },
    )


class OperationOut(Schema):
    position = ma.fields.Integer()
    capability = ma.fields.Function(lambda o: o.capability.code)
    minutes = ma.fields.Integer()
    min_lag_minutes = ma.fields.Integer()


class RequestSchema(Schema):
    id = Id(dump_only=True)
    member_id = Id(dump_only=True)
    house_id = Id(dump_only=True)
    product_id = Id(dump_only=True)
    product_name = ma.fields.Function(lambda r: r.product.name, dump_only=True)
    quantity = ma.fields.Integer(dump_only=True)
    earliest_start = ma.fields.Function(
        lambda r: _local(r, r.earliest_start),
        dump_only=True,
        metadata={"description": "in the house's time zone"},
    )
    due = ma.fields.Function(
        lambda r: _local(r, r.due),
        dump_only=True,
        metadata={"description": "in the house's time zone"},
    )
    priority = ma.fields.Integer(dump_only=True)
    lot_size = ma.fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "planned in lots of at most this many units; null: in one"},
    )
    lots = ma.fields.Function(
        lambda r: lot_quantities(r),
        dump_only=True,
        metadata={"description": "the quantity of each lot"},
    )
    status = ma.fields.Function(lambda r: r.status.value, dump_only=True)
    operations = ma.fields.List(ma.fields.Nested(OperationOut), dump_only=True)
    created_at = ma.fields.Function(lambda r: _local(r, r.created_at), dump_only=True)


RequestPage = page_schema(RequestSchema, "ProductionRequestPage")


class PlacedBookingOut(Schema):
    booking_id = ma.fields.Integer()
    machine_id = ma.fields.Integer()
    machine_name = ma.fields.String()
    start = ma.fields.DateTime(metadata={"description": "in the house's time zone"})
    end = ma.fields.DateTime(metadata={"description": "in the house's time zone"})
    status = ma.fields.String()


class WhyNotPlacedOut(Schema):
    kind = ma.fields.String(
        metadata={"description": "no_machine, no_window, deadline, share_cap, capacity or unknown"}
    )
    words = Words()


class PlacementOut(Schema):
    bookings = ma.fields.List(
        ma.fields.Nested(PlacedBookingOut),
        metadata={"description": "the bookings published plans made for it"},
    )
    why_not = ma.fields.Nested(
        WhyNotPlacedOut,
        allow_none=True,
        metadata={"description": "while it is open: why the latest plan of its house left it out"},
    )


class RequestDetail(RequestSchema):
    placement = ma.fields.Nested(PlacementOut, dump_only=True)


@blp.route("")
class ProductionRequests(MethodView):
    @allow()
    @blp.arguments(RequestArgs, location="query")
    @blp.response(200, RequestPage)
    def get(self, args):
        """Production requests in my scope, by due date"""
        filters, paging = strip_page(args)
        return paginate(db(), service.list_requests(db(), current_actor(), **filters), paging)

    @idempotent
    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(RequestCreate)
    @blp.response(201, RequestSchema)
    @blp.alt_response(409, description="The same Idempotency-Key is still being answered")
    @blp.doc(parameters=[HEADER_DOC])
    def post(self, data):
        """Ask for production of a product (a retry with the same Idempotency-Key replays)"""
        return service.create_request(db(), current_actor(), data)


class EstimateArgs(Schema):
    product_id = Id(required=True)
    quantity = ma.fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=service.MAX_QUANTITY)
    )
    earliest_start = AwareDateTime(required=True)
    due = AwareDateTime(required=True)
    lot_size = ma.fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=service.MAX_QUANTITY),
    )


class StepEstimateOut(Schema):
    position = ma.fields.Integer()
    capability = ma.fields.Function(lambda s: s.capability.code)
    minutes = ma.fields.Integer(metadata={"description": "working minutes over all lots"})
    machine_id = ma.fields.Function(lambda s: s.machine.id if s.machine else None, allow_none=True)
    machine_name = ma.fields.Function(
        lambda s: s.machine.name if s.machine else None, allow_none=True
    )
    price = ma.fields.Integer(metadata={"description": "rupiah"})
    start = ma.fields.Function(lambda s: s.start.isoformat() if s.start else None, allow_none=True)
    end = ma.fields.Function(lambda s: s.end.isoformat() if s.end else None, allow_none=True)


class EstimateOut(Schema):
    product_id = ma.fields.Function(lambda e: e.product.id)
    quantity = ma.fields.Integer()
    lots = ma.fields.List(ma.fields.Integer())
    minutes = ma.fields.Integer(metadata={"description": "machine minutes of every step"})
    price = ma.fields.Integer(metadata={"description": "rupiah, at the rates of the machines used"})
    finish = ma.fields.Function(
        lambda e: _local(e, e.finish) if e.finish else None,
        allow_none=True,
        metadata={
            "description": "when the schedule as it stands could "
            "finish it, in the house's time zone"
        },
    )
    meets_due = ma.fields.Boolean()
    lateness_minutes = ma.fields.Integer()
    why_not = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "why it could not be placed at all (no_machine, no_window, deadline, "
            "capacity, ...)"
        },
    )
    steps = ma.fields.List(ma.fields.Nested(StepEstimateOut))


@blp.route("/estimate")
class ProductionRequestEstimate(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(EstimateArgs)
    @blp.response(200, EstimateOut)
    def post(self, data):
        """What a request would take: machine hours, price, and whether the schedule as it
        stands could meet its due date (nothing is stored)"""
        return request_estimate.estimate_request(db(), current_actor(), **data)


@blp.route("/<int:request_id>")
class ProductionRequestById(MethodView):
    @allow()
    @blp.response(200, RequestDetail)
    def get(self, request_id):
        """One production request with its operations, where it was placed or why not"""
        return run_review.get_request_placed(db(), current_actor(), request_id)


@blp.route("/<int:request_id>/cancel")
class ProductionRequestCancel(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.response(200, RequestSchema)
    @blp.alt_response(409, description="The request is already cancelled or done")
    def post(self, request_id):
        """Cancel an open or scheduled request"""
        return service.cancel_request(db(), current_actor(), request_id)
