"""Production requests: a member asks for a quantity of a product between two dates.

The request's operations are expanded from the product's routing when it is made (minutes =
setup + per unit x quantity), so a later change to the routing does not alter a request
already in the queue. Members act for their own business, managers for their houses' members.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from factoryshare import audit, i18n, locking
from factoryshare.access import (
    Actor,
    get_scoped,
    scoped,
)
from factoryshare.db import utcnow
from factoryshare.errors import Conflict, Forbidden, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Member, Product, Role
from factoryshare.models.scheduling import ProductionRequest, RequestOperation, RequestStatus
from factoryshare.services import permits

MAX_QUANTITY = 1_000_000
MAX_OPERATION_MINUTES = 60 * 24 * 366
MAX_PRIORITY = 10


def _aware(field: str, value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationFailed(
            N_("Give a date and time with its offset."),
            errors={field: [N_("Give a date and time with its offset.")]},
        )
    return value.astimezone(dt.UTC)


def _snapshot(request: ProductionRequest) -> dict[str, Any]:
    return audit.snapshot(
        request,
        extra={
            "operations": [
                {
                    "position": o.position,
                    "capability_id": o.capability_id,
                    "minutes": o.minutes,
                    "min_lag_minutes": o.min_lag_minutes,
                }
                for o in request.operations
            ]
        },
    )


@dataclass(frozen=True)
class Asked:
    """A request that passed the checks, before anything is stored: what create_request makes
    and request_estimate estimates."""

    product: Product
    member: Member
    quantity: int
    earliest_start: dt.datetime
    due: dt.datetime
    # The size of its lots when it is planned in lots, else None (see planned_lot_size).
    lot_size: int | None


def planned_lot_size(product: Product, quantity: int, lot_size: int | None) -> int | None:
    """Planned in lots when the quantity exceeds what one run of a machine should take: the
    smallest max_lot of the product's steps, or the member's own lot size if smaller."""
    limits = [s.max_lot for s in product.routing if s.max_lot] + ([lot_size] if lot_size else [])
    return min(limits) if limits and quantity > min(limits) else None


def check_request(
    session: Session,
    actor: Actor,
    *,
    product_id: int,
    quantity: Any,
    earliest_start: Any,
    due: Any,
    lot_size: Any = None,
    priority: Any = 1,
) -> Asked:
    """The checks a production request passes, whether it is made or only estimated: the
    caller acts for the product's member, the quantity and the priority (an estimate has
    none: 1) in range, the dates aware and in order, a routing to make it by, a whole lot size, the
    product's permits over the window, and no step longer than a year on one machine."""
    actor.require(Role.admin, Role.manager, Role.member)
    product = get_scoped(session, actor, Product, product_id)
    member = session.get(Member, product.member_id)
    assert member is not None
    if not (
        (actor.role is Role.member and actor.member_id == member.id)
        or actor.manages(member.house_id)
    ):
        raise Forbidden(N_("Your role may not request production for this member."))
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationFailed(
            N_("The quantity is out of range."),
            errors={"quantity": [N_("Between 1 and %(max_quantity)s.", max_quantity=MAX_QUANTITY)]},
        )
    if not isinstance(priority, int) or not 1 <= priority <= MAX_PRIORITY:
        raise ValidationFailed(
            N_("The priority is out of range."),
            errors={"priority": [N_("Between 1 and %(max_priority)s.", max_priority=MAX_PRIORITY)]},
        )
    start = _aware("earliest_start", earliest_start)
    due = _aware("due", due)
    if due <= start:
        raise ValidationFailed(
            N_("The due date must come after the earliest start."),
            errors={"due": [N_("Must be after earliest_start.")]},
        )
    if not product.routing:
        raise ValidationFailed(
            N_("This product has no routing to produce it by."),
            errors={"product_id": [N_("The product has no routing.")]},
        )
    if lot_size is not None and (
        not isinstance(lot_size, int)
        or isinstance(lot_size, bool)
        or not 1 <= lot_size <= MAX_QUANTITY
    ):
        raise ValidationFailed(
            N_("Must be a whole number between 1 and %(upper)s.", upper=MAX_QUANTITY),
            errors={
                "lot_size": [
                    N_("Must be a whole number between 1 and %(upper)s.", upper=MAX_QUANTITY)
                ]
            },
        )
    permits.require_permits(session, product, start, due)
    if any(
        step.setup_minutes + step.minutes_per_unit * quantity > MAX_OPERATION_MINUTES
        for step in product.routing
    ):
        raise ValidationFailed(
            N_("This quantity would take more than a year on one machine."),
            errors={"quantity": [N_("Too large for one request.")]},
        )
    return Asked(
        product=product,
        member=member,
        quantity=quantity,
        earliest_start=start,
        due=due,
        lot_size=planned_lot_size(product, quantity, lot_size),
    )


def create_request(session: Session, actor: Actor, data: dict[str, Any]) -> ProductionRequest:
    priority = data.get("priority", 1)
    asked = check_request(
        session,
        actor,
        product_id=data["product_id"],
        quantity=data["quantity"],
        earliest_start=data["earliest_start"],
        due=data["due"],
        lot_size=data.get("lot_size"),
        priority=priority,
    )
    product, member, quantity = asked.product, asked.member, asked.quantity
    operations = []
    for step in product.routing:
        minutes = step.setup_minutes + step.minutes_per_unit * quantity
        operations.append(
            RequestOperation(
                position=step.position,
                capability_id=step.capability_id,
                minutes=max(minutes, 1),
                min_lag_minutes=step.min_lag_minutes,
                setup_minutes=step.setup_minutes,
            )
        )
    request = ProductionRequest(
        member_id=member.id,
        house_id=member.house_id,
        product_id=product.id,
        quantity=quantity,
        earliest_start=asked.earliest_start,
        due=asked.due,
        priority=priority,
        status=RequestStatus.open,
        lot_size=asked.lot_size,
        created_by_id=actor.user_id,
    )
    request.operations = operations
    session.add(request)
    session.flush()
    audit.record(session, actor, "production_request.created", request, after=_snapshot(request))
    return request


def list_requests(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    member_id: int | None = None,
    house_id: int | None = None,
) -> Select[tuple[ProductionRequest]]:
    stmt = scoped(actor, ProductionRequest)
    if status is not None:
        stmt = stmt.where(ProductionRequest.status == RequestStatus(status))
    if member_id is not None:
        stmt = stmt.where(ProductionRequest.member_id == member_id)
    if house_id is not None:
        stmt = stmt.where(ProductionRequest.house_id == house_id)
    # What a list shows of each request, loaded with the page instead of row by row.
    stmt = stmt.options(
        joinedload(ProductionRequest.house),
        joinedload(ProductionRequest.product),
        selectinload(ProductionRequest.operations).joinedload(RequestOperation.capability),
    )
    return stmt.order_by(ProductionRequest.due, ProductionRequest.id)


def get_request(session: Session, actor: Actor, request_id: int) -> ProductionRequest:
    return get_scoped(session, actor, ProductionRequest, request_id)


# A request can be withdrawn until its work is done or it was withdrawn already.
WITHDRAWABLE = (RequestStatus.open, RequestStatus.scheduled)


def withdrawable(request: ProductionRequest) -> bool:
    """Whether the member may still withdraw the request (the page offers it only then)."""
    return request.status in WITHDRAWABLE


def cancel_request(session: Session, actor: Actor, request_id: int) -> ProductionRequest:
    request = get_scoped(session, actor, ProductionRequest, request_id)
    actor.require(Role.admin, Role.manager, Role.member)
    if not (
        (actor.role is Role.member and actor.member_id == request.member_id)
        or actor.manages(request.house_id)
    ):
        raise Forbidden(N_("Your role may not cancel this request."))
    if not withdrawable(request):
        raise Conflict(
            N_("A %(status)s request cannot be cancelled.", status=i18n.status(request.status)),
            code="request_not_cancellable",
        )
    before = _snapshot(request)
    request.status = RequestStatus.cancelled
    request.cancelled_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "production_request.cancelled",
        request,
        before=before,
        after=_snapshot(request),
    )
    return request


def open_requests(session: Session, house_id: int) -> list[ProductionRequest]:
    """The house's open requests, in due order (the scheduler's input)."""
    return list(
        session.scalars(
            select(ProductionRequest)
            .where(
                ProductionRequest.house_id == house_id,
                ProductionRequest.status == RequestStatus.open,
            )
            .order_by(ProductionRequest.due, ProductionRequest.id)
        )
    )


def done_when_complete(session: Session, actor: Actor, booking_id: int) -> list[ProductionRequest]:
    """A booking was just completed: each scheduled request it is planned work of becomes
    `done` once the bookings the latest published plan gave every step of every lot (each
    piece of a step that pauses overnight) are completed -- only then. A cancelled or no-show
    booking is no done work, so its request stays scheduled. Called from
    bookings.complete_booking, the one place a booking becomes completed; the requests' rows
    are locked, so two last bookings completed at once make the request done once."""
    from factoryshare.models.bookings import BookingStatus
    from factoryshare.models.scheduling import ScheduleAssignment
    from factoryshare.services import solving

    ids = set(
        session.scalars(
            select(RequestOperation.request_id)
            .join(ScheduleAssignment, ScheduleAssignment.operation_id == RequestOperation.id)
            .where(ScheduleAssignment.booking_id == booking_id)
        )
    )
    done = []
    for request in locking.rows_for_update(session, ProductionRequest, ids):
        if request.status is not RequestStatus.scheduled:
            continue
        lots = [lot for lot, _quantity in solving.request_lots(request)]
        bookings = solving.published_lot_bookings(session, [op.id for op in request.operations])
        planned = [bookings.get((op.id, lot), []) for op in request.operations for lot in lots]
        if not all(
            pieces and all(b.status is BookingStatus.completed for b in pieces)
            for pieces in planned
        ):
            continue
        before = _snapshot(request)
        request.status = RequestStatus.done
        session.flush()
        audit.record(
            session,
            actor,
            "production_request.completed",
            request,
            before=before,
            after=_snapshot(request),
        )
        done.append(request)
    return done
