"""What published runs booked: the booking of each operation (and lot, and piece) from the
latest published run that placed it. A re-plan starts from these; publishing and the run review
read them too."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare.models.bookings import Booking
from factoryshare.models.scheduling import RunStatus, ScheduleAssignment, ScheduleRun


def published_pieces(
    session: Session, operation_ids: list[int]
) -> dict[tuple[int, int | None, int | None], Booking]:
    """The booking of each (operation, lot, piece) from the latest published run that placed
    that operation's lot (a step that pauses overnight is booked in pieces, see results.py)."""
    found: dict[tuple[int, int | None, int | None], Booking] = {}
    latest: dict[tuple[int, int | None], int] = {}
    rows = session.execute(
        select(
            ScheduleAssignment.run_id,
            ScheduleAssignment.operation_id,
            ScheduleAssignment.lot,
            ScheduleAssignment.piece,
            Booking,
        )
        .join(ScheduleRun, ScheduleRun.id == ScheduleAssignment.run_id)
        .join(Booking, Booking.id == ScheduleAssignment.booking_id)
        .where(
            ScheduleAssignment.operation_id.in_(operation_ids),
            ScheduleRun.status == RunStatus.published,
        )
        .order_by(ScheduleRun.id.desc())
    )
    for run_id, operation_id, lot, piece, booking in rows:
        if latest.setdefault((operation_id, lot), run_id) == run_id:
            found[(operation_id, lot, piece)] = booking
    return found


def published_lot_bookings(
    session: Session, operation_ids: list[int]
) -> dict[tuple[int, int | None], list[Booking]]:
    """The bookings (its pieces, in time order) each (operation, lot) got from the latest
    published run that placed it."""
    found: dict[tuple[int, int | None], list[Booking]] = defaultdict(list)
    for (operation_id, lot, _piece), booking in published_pieces(session, operation_ids).items():
        found[(operation_id, lot)].append(booking)
    return {key: sorted(bookings, key=lambda b: b.start_at) for key, bookings in found.items()}


def published_bookings(session: Session, operation_ids: list[int]) -> dict[int, Booking]:
    """The booking each operation got from the latest published run that placed it."""
    found: dict[int, Booking] = {}
    rows = session.execute(
        select(ScheduleAssignment.operation_id, Booking)
        .join(ScheduleRun, ScheduleRun.id == ScheduleAssignment.run_id)
        .join(Booking, Booking.id == ScheduleAssignment.booking_id)
        .where(
            ScheduleAssignment.operation_id.in_(operation_ids),
            ScheduleRun.status == RunStatus.published,
        )
        .order_by(ScheduleRun.id.desc())
    )
    for operation_id, booking in rows:
        found.setdefault(operation_id, booking)
    return found
