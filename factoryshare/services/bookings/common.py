"""What every module of the bookings package shares: the longest booking, the scope rule of
bookings, a moment in the house's zone, the price of a slot, and how a booking is written
(`flush_guarded`, a lost race is `booking_conflict`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import nullcontext
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from factoryshare import i18n
from factoryshare.errors import Conflict
from factoryshare.i18n import N_
from factoryshare.models import Machine, ProductionHouse

# Longest single booking; longer work is several bookings. Every booking passes check_times
# (check_slot), so a booking that overlaps [start, end) starts after start - MAX_BOOKING_HOURS:
# the overlap search reads the index on (machine_id, start_at) over that window only.
MAX_BOOKING_HOURS = 24 * 7
LONGEST_BOOKING = dt.timedelta(hours=MAX_BOOKING_HOURS)


def house_moment(house: ProductionHouse, value: dt.datetime) -> str:
    """`value` inside a sentence, in the house's time zone: `Sel 3 Mar 2026 10:00 WITA`."""
    return i18n.moment(value, house.timezone)


def price_for(machine: Machine, start: dt.datetime, end: dt.datetime) -> int:
    """Hourly rate times duration, in integer rupiah rounded half-even."""
    seconds = Decimal(int((end - start).total_seconds()))
    amount = Decimal(machine.hourly_rate) * seconds / Decimal(3600)
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def flush_guarded(
    session: Session, stage: Callable[[], object] | None = None, *, savepoint: bool = True
) -> None:
    """Write a booking in a SAVEPOINT of its own, so that a lost race undoes only that write
    and the caller's transaction goes on (a series skips just that week).

    `stage` makes the change: adds the new booking, or sets a moved one's machine and times.
    It runs after the SAVEPOINT is open and without autoflush, so the INSERT or UPDATE reaches
    the database inside it. (`begin_nested()` flushes whatever is pending *before* it emits the
    SAVEPOINT: a change staged before this call is written outside it, and a violation there
    aborts the whole transaction.) On PostgreSQL the exclusion constraint turns a booking that
    lost the race for its slot into `booking_conflict`.

    `savepoint=False` (a caller whose transaction ends with the refusal): a plain flush, the
    same booking_conflict for a lost race.
    """
    try:
        with session.begin_nested() if savepoint else nullcontext():
            if stage is not None:
                with session.no_autoflush:
                    stage()
            session.flush()
    except IntegrityError as exc:
        if "excl_bookings_machine_overlap" in str(exc.orig) or "exclusion" in str(exc.orig).lower():
            raise Conflict(
                N_("This machine is already booked at that time. Please choose another slot."),
                code="booking_conflict",
            ) from None
        raise
