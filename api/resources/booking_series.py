"""Weekly booking series: the same slot every week over a date range."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.idempotency import HEADER_DOC, idempotent
from api.resources.bookings import CONFLICT_CODES, BookingSchema
from api.schemas import AwareDateTime, Id, PageArgs, Schema, Text, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import Role
from factoryshare.services import booking_series

URL_PREFIX = "/booking-series"
blp = Blueprint("booking_series", __name__, description="Weekly booking series")


class SkippedSchema(Schema):
    date = ma.fields.String()
    start = ma.fields.String()
    end = ma.fields.String()
    code = ma.fields.String(metadata={"description": f"why: {CONFLICT_CODES}, permit_missing"})
    message = ma.fields.String()


class SeriesSchema(Schema):
    id = Id(dump_only=True)
    machine_id = Id(dump_only=True)
    member_id = Id(dump_only=True)
    product_id = ma.fields.Integer(dump_only=True, allow_none=True)
    weekday = ma.fields.Function(lambda s: s.first_date.strftime("%A").lower(), dump_only=True)
    first_date = ma.fields.Date(dump_only=True)
    last_date = ma.fields.Date(dump_only=True)
    start_time = ma.fields.Function(
        lambda s: s.start_time.strftime("%H:%M"),
        dump_only=True,
        metadata={"description": "house-local time"},
    )
    end_time = ma.fields.Function(lambda s: s.end_time.strftime("%H:%M"), dump_only=True)
    timezone = ma.fields.Function(lambda s: s.machine.house.timezone, dump_only=True)
    note = ma.fields.String(dump_only=True)
    status = ma.fields.Function(lambda s: s.status.value, dump_only=True)
    skip_conflicts = ma.fields.Boolean(dump_only=True)
    skipped = ma.fields.List(
        ma.fields.Nested(SkippedSchema),
        dump_only=True,
        metadata={"description": "occurrences not booked, with why"},
    )
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)


class SeriesWithBookings(SeriesSchema):
    bookings = ma.fields.List(ma.fields.Nested(BookingSchema), dump_only=True)


class SeriesCancelled(Schema):
    series = ma.fields.Nested(SeriesSchema)
    cancelled = ma.fields.List(
        ma.fields.Nested(BookingSchema),
        metadata={"description": "the future occurrences cancelled"},
    )


SeriesPage = page_schema(SeriesSchema, "BookingSeriesPage")


class SeriesCreate(Schema):
    machine_id = Id(required=True)
    start = AwareDateTime(required=True, metadata={"description": "the first occurrence"})
    end = AwareDateTime(required=True)
    until = ma.fields.Date(
        required=True,
        metadata={"description": "last day (house-local, included) on which the slot repeats"},
    )
    member_id = Id(metadata={"description": "managers: the member booked for"})
    product_id = Id()
    note = Text(500)
    skip_conflicts = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "book the other weeks when some cannot be booked (otherwise nothing is "
            "booked and 409 series_conflicts lists each)"
        },
    )


class SeriesCancel(Schema):
    reason = Text(300)


class SeriesArgs(PageArgs):
    member_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    machine_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


def _with_bookings(series, booked=None):  # type: ignore[no-untyped-def]
    series.bookings = booked if booked is not None else booking_series.series_bookings(db(), series)
    return series


@blp.route("")
class SeriesList(MethodView):
    @allow()
    @blp.arguments(SeriesArgs, location="query")
    @blp.response(200, SeriesPage)
    def get(self, args):
        """Booking series in my scope"""
        filters, paging = strip_page(args)
        return paginate(db(), booking_series.list_series(db(), current_actor(), **filters), paging)

    @idempotent
    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(SeriesCreate)
    @blp.response(201, SeriesWithBookings)
    @blp.alt_response(
        409,
        description="series_conflicts: details.conflicts lists each week "
        "that cannot be booked (date, start, end, code, message)",
    )
    @blp.doc(parameters=[HEADER_DOC])
    def post(self, data):
        """Book the same slot every week up to a date"""
        series, booked = booking_series.create_series(db(), current_actor(), **data)
        return _with_bookings(series, booked)


@blp.route("/<int:series_id>")
class SeriesById(MethodView):
    @allow()
    @blp.response(200, SeriesWithBookings)
    def get(self, series_id):
        """One series with its bookings"""
        return _with_bookings(booking_series.get_series(db(), current_actor(), series_id))


@blp.route("/<int:series_id>/cancel")
class SeriesCancelView(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(SeriesCancel)
    @blp.response(200, SeriesCancelled)
    def post(self, data, series_id):
        """Cancel the series: its occurrences not started yet are cancelled"""
        series, cancelled = booking_series.cancel_series(db(), current_actor(), series_id, **data)
        return {"series": series, "cancelled": cancelled}
