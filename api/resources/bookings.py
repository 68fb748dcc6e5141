"""Bookings of machine time: create (idempotent), list, read, move, cancel, confirm,
complete, no-show. Times are answered in the house's zone with their offset."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.idempotency import HEADER_DOC, idempotent
from api.schemas import (
    AwareDateTime,
    CursorCodec,
    Id,
    PageArgs,
    Schema,
    Text,
    Words,
    aware,
    cursor_args,
    cursor_envelope,
    cursor_page_schema,
)
from api.security import allow, current_actor
from factoryshare import zones
from factoryshare.db import MAX_ID
from factoryshare.models import Role
from factoryshare.models.bookings import BookingSource, BookingStatus
from factoryshare.services import bookings, calendar

URL_PREFIX = "/bookings"
blp = Blueprint("bookings", __name__, description="Machine bookings")

STATUSES = [s.value for s in BookingStatus]
CONFLICT_CODES = (
    "booking_conflict, outside_opening_hours, holiday, house_closed, machine_downtime, "
    "machine_unavailable, quota_exceeded (details.hours_left), too_far_ahead, in_the_past"
)


def _local(booking, value):  # type: ignore[no-untyped-def]
    if value is None:
        return None
    return value.astimezone(calendar.house_zone(booking.machine.house)).isoformat()


class BookingSchema(Schema):
    id = Id(dump_only=True)
    machine_id = Id(dump_only=True)
    house_id = ma.fields.Function(lambda b: b.machine.house_id, dump_only=True)
    member_id = Id(dump_only=True)
    product_id = ma.fields.Integer(dump_only=True, allow_none=True)
    start = ma.fields.Function(
        lambda b: _local(b, b.start_at),
        dump_only=True,
        metadata={"description": "house-local time with offset"},
    )
    end = ma.fields.Function(lambda b: _local(b, b.end_at), dump_only=True)
    timezone = ma.fields.Function(lambda b: b.machine.house.timezone, dump_only=True)
    zone = ma.fields.Function(
        lambda b: zones.abbreviation(b.machine.house.timezone),
        dump_only=True,
        metadata={"description": "WIB, WITA or WIT"},
    )
    status = ma.fields.Function(lambda b: b.status.value, dump_only=True)
    source = ma.fields.Function(lambda b: b.source.value, dump_only=True)
    price = ma.fields.Integer(dump_only=True, metadata={"description": "integer rupiah"})
    hourly_rate = ma.fields.Integer(dump_only=True)
    note = Words(dump_only=True)
    hold_expires_at = ma.fields.Function(
        lambda b: _local(b, b.hold_expires_at), dump_only=True, allow_none=True
    )
    cancelled_reason = Words(
        dump_only=True, allow_none=True, metadata={"description": "in the reader's language"}
    )
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)
    updated_at = ma.fields.AwareDateTime(format="iso", dump_only=True)


BookingPage = cursor_page_schema(BookingSchema, "BookingPage")

# A position in the list (bookings.page_of_bookings): the walk's now, its part, start, id.
CURSOR = CursorCodec(
    "bookings",
    dump=lambda p: [p[0].isoformat(), p[1], p[2].isoformat(), p[3]],
    load=lambda v: (aware(v[0]), int(v[1]), aware(v[2]), int(v[3])),
)


class BookingCreate(Schema):
    machine_id = Id(required=True)
    start = AwareDateTime(required=True)
    end = AwareDateTime(required=True)
    member_id = Id(metadata={"description": "managers: the member booked for"})
    product_id = Id()
    note = Text(500)


class BookingMove(Schema):
    machine_id = Id()
    start = AwareDateTime()
    end = AwareDateTime()
    note = Text(500)


class BookingCancel(Schema):
    reason = Text(300)


def _query_id() -> ma.fields.Integer:
    return ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class BookingArgs(PageArgs):
    house_id = _query_id()
    machine_id = _query_id()
    member_id = _query_id()
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    start = AwareDateTime()
    end = AwareDateTime()
    cursor = CURSOR.field()


@blp.route("")
class Bookings(MethodView):
    @allow()
    @blp.arguments(BookingArgs, location="query")
    @blp.response(200, BookingPage)
    def get(self, args):
        """Bookings in my scope, upcoming first (soonest first), then past ones (latest first);
        filterable by house, machine, member, status and time range.

        Every page hands out `next`: passed back as `cursor` it gives the page after, however
        deep, at the cost of the first page (the walk keeps the moment of its first page, so
        each booking comes once). A page by number counts `total` up to 10,000 and reaches
        100,000 bookings deep at most; a page by cursor counts nothing (`total` null)."""
        filters, paging = cursor_args(args)
        listed = bookings.page_of_bookings(db(), current_actor(), **paging, **filters)
        return cursor_envelope(listed, CURSOR, paging)

    @idempotent
    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(BookingCreate)
    @blp.response(201, BookingSchema)
    @blp.alt_response(409, description=f"The slot cannot be booked: {CONFLICT_CODES}")
    @blp.doc(parameters=[HEADER_DOC])
    def post(self, data):
        """Book a machine slot (a retry with the same Idempotency-Key replays the answer)"""
        # One booking per request: a refusal ends the transaction, no SAVEPOINT needed.
        return bookings.create_booking(
            db(), current_actor(), source=BookingSource.direct, savepoint=False, **data
        )


@blp.route("/<int:booking_id>")
class BookingById(MethodView):
    @allow()
    @blp.response(200, BookingSchema)
    def get(self, booking_id):
        """One booking"""
        return bookings.get_booking(db(), current_actor(), booking_id)

    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(BookingMove)
    @blp.response(200, BookingSchema)
    @blp.alt_response(409, description=f"The new slot cannot be booked: {CONFLICT_CODES}")
    def patch(self, data, booking_id):
        """Move a booking (same checks as booking)"""
        return bookings.move_booking(db(), current_actor(), booking_id, **data)


@blp.route("/<int:booking_id>/cancel")
class BookingCancelView(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(BookingCancel)
    @blp.response(200, BookingSchema)
    @blp.alt_response(409, description="The booking is no longer live")
    def post(self, data, booking_id):
        """Cancel a booking (its member or the house's manager)"""
        return bookings.cancel_booking(db(), current_actor(), booking_id, reason=data.get("reason"))


class BookingReject(Schema):
    reason = Text(
        300,
        min_length=1,
        required=True,
        metadata={"description": "why the hold is turned down, shown to the member"},
    )


@blp.route("/<int:booking_id>/reject")
class BookingRejectView(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.arguments(BookingReject)
    @blp.response(200, BookingSchema)
    @blp.alt_response(409, description="The booking is not held (any more)")
    def post(self, data, booking_id):
        """Reject a held booking, with the reason (the house's managers)"""
        return bookings.reject_booking(db(), current_actor(), booking_id, reason=data["reason"])


def _manager_action(name, func, summary):  # type: ignore[no-untyped-def]
    class View(MethodView):
        @allow(Role.admin, Role.manager)
        @blp.response(200, BookingSchema)
        @blp.alt_response(409, description="The booking is not in a state that allows this")
        def post(self, booking_id):
            return func(db(), current_actor(), booking_id)

    View.post.__doc__ = summary
    View.__name__ = f"Booking{name.title().replace('_', '')}"
    blp.route(f"/<int:booking_id>/{name}")(View)


_manager_action("confirm", bookings.confirm_booking, "Confirm a held booking (managers)")
_manager_action("complete", bookings.complete_booking, "Mark a booking completed (managers)")
_manager_action("no_show", bookings.mark_no_show, "Mark a booking as a no-show (managers)")
