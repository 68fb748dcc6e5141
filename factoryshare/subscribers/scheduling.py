"""Schedules: a published plan tells each member what it placed and what it left out.

`request_placed`: the request's machines and times (in the house's zone). `request_left_out`:
why, in words (factoryshare/services/solving/ `why_not_placed`: no machine can do a step,
a step longer than one opening, its deadline or a permit, the member's share of scarce
machines, or the machines are taken). Each once per request and run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.models import Machine
from factoryshare.models.bookings import Booking
from factoryshare.models.scheduling import (
    ProductionRequest,
    RequestOperation,
    ScheduleAssignment,
    ScheduleRun,
)
from factoryshare.services.notifications import notify
from factoryshare.subscribers import by, member_users, people


def _context(session: Session, request: ProductionRequest, actor: Actor | None) -> dict[str, Any]:
    house = request.house
    return {
        "request": request.id,
        "product": request.product.name,
        "quantity": request.quantity,
        "house": house.name,
        "timezone": house.timezone,
        **by(session, actor),
    }


def _steps(
    session: Session, request: ProductionRequest, run: ScheduleRun | None, bookings: Any
) -> list[dict[str, Any]]:
    if bookings is not None:
        rows = [(b.machine_id, b.start_at, b.end_at) for b in bookings]
    elif run is not None:
        rows = list(
            session.execute(
                select(
                    ScheduleAssignment.machine_id,
                    ScheduleAssignment.start_at,
                    ScheduleAssignment.end_at,
                )
                .join(RequestOperation, RequestOperation.id == ScheduleAssignment.operation_id)
                .where(
                    ScheduleAssignment.run_id == run.id, RequestOperation.request_id == request.id
                )
            )
        )
    else:
        rows = []
    names = (
        {
            m.id: m.name
            for m in session.scalars(select(Machine).where(Machine.id.in_({r[0] for r in rows})))
        }
        if rows
        else {}
    )
    return [
        {"machine": names.get(m, str(m)), "start": s, "end": e}
        for m, s, e in sorted(rows, key=lambda r: (r[1], r[0]))
    ]


def on_request_placed(
    session: Session,
    *,
    request: ProductionRequest,
    run: ScheduleRun | None = None,
    actor: Actor | None = None,
    bookings: list[Booking] | None = None,
    **_: Any,
) -> None:
    user_ids = people(member_users(session, [request.member_id]), actor)
    if not user_ids:
        return
    context = {
        **_context(session, request, actor),
        "steps": _steps(session, request, run, bookings),
    }
    key = f"request:{request.id}:placed:run:{run.id}" if run is not None else None
    notify(session, user_ids=user_ids, template="request_placed", context=context, key=key)


def on_request_left_out(
    session: Session,
    *,
    request: ProductionRequest,
    run: ScheduleRun | None = None,
    actor: Actor | None = None,
    why: str | None = None,
    kind: str | None = None,
    **_: Any,
) -> None:
    user_ids = people(member_users(session, [request.member_id]), actor)
    if not user_ids:
        return
    why = why or kind
    if why is None:
        from factoryshare.services.solving import why_not_placed

        why = why_not_placed(session, [request]).get(request.id, "capacity")
    context = {**_context(session, request, actor), "why": why}
    key = f"request:{request.id}:left_out:run:{run.id}" if run is not None else None
    notify(session, user_ids=user_ids, template="request_left_out", context=context, key=key)
