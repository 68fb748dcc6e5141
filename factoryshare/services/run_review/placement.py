"""Where a production request was placed: the bookings published runs made for it, in its
house's time; or, while it waits, why the latest plan left it out (in words for its member or
a manager).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare.access import Actor, get_scoped
from factoryshare.models import Role
from factoryshare.models.bookings import Booking
from factoryshare.models.scheduling import (
    ProductionRequest,
    RequestOperation,
    RequestStatus,
    ScheduleAssignment,
)
from factoryshare.services import solving
from factoryshare.services.run_review.common import house_time, why_words


def placement(session: Session, actor: Actor, request: ProductionRequest) -> dict[str, Any]:
    """Where a request (loaded in the caller's scope) was placed: the bookings published runs
    made for it, in its house's time; or, while it waits, why the latest plan left it out."""
    rows = session.scalars(
        select(Booking)
        .join(ScheduleAssignment, ScheduleAssignment.booking_id == Booking.id)
        .join(RequestOperation, RequestOperation.id == ScheduleAssignment.operation_id)
        .where(RequestOperation.request_id == request.id)
        .distinct()
        .order_by(Booking.start_at, Booking.id)
    )
    bookings = [
        {
            "booking_id": b.id,
            "machine_id": b.machine_id,
            "machine_name": b.machine.name,
            "start": house_time(request.house, b.start_at),
            "end": house_time(request.house, b.end_at),
            "status": b.status.value,
        }
        for b in rows
    ]
    why_not = None
    if request.status is RequestStatus.open:
        kind = solving.why_not_placed(session, [request]).get(request.id)
        if kind is not None:
            why_not = {"kind": kind, "words": why_words(kind, to_member=actor.role is Role.member)}
    return {"bookings": bookings, "why_not": why_not}


def get_request_placed(session: Session, actor: Actor, request_id: int) -> ProductionRequest:
    """The request with `request.placement` attached (a plain attribute, not stored)."""
    request = get_scoped(session, actor, ProductionRequest, request_id)
    request.placement = placement(session, actor, request)  # type: ignore[attr-defined]
    return request
