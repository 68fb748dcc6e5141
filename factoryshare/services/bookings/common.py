"""What every module of the bookings package shares: the longest booking, the scope rule of
bookings, a moment in the house's zone and the price of a slot.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import false

from factoryshare import i18n
from factoryshare.access import (
    Actor,
    cluster_member_ids,
    of_house_machines,
    owned_by_member,
    register_scope,
)
from factoryshare.models import Machine, ProductionHouse, Role
from factoryshare.models.bookings import Booking

# Longest single booking; longer work is several bookings. Every booking passes check_times
# (check_slot), so a booking that overlaps [start, end) starts after start - MAX_BOOKING_HOURS:
# the overlap search reads the index on (machine_id, start_at) over that window only.
MAX_BOOKING_HOURS = 24 * 7
LONGEST_BOOKING = dt.timedelta(hours=MAX_BOOKING_HOURS)


def _booking_scope(actor: Actor) -> Any:
    if actor.role is Role.member:
        return owned_by_member(actor, Booking)
    if actor.role is Role.manager:
        return of_house_machines(actor, Booking)
    if actor.role is Role.aggregator:
        return Booking.member_id.in_(cluster_member_ids(actor.aggregator_id or 0))
    return false()


register_scope(Booking, _booking_scope)


def house_moment(house: ProductionHouse, value: dt.datetime) -> str:
    """`value` inside a sentence, in the house's time zone: `Sel 3 Mar 2026 10:00 WITA`."""
    return i18n.moment(value, house.timezone)


def price_for(machine: Machine, start: dt.datetime, end: dt.datetime) -> int:
    """Hourly rate times duration, in integer rupiah rounded half-even."""
    seconds = Decimal(int((end - start).total_seconds()))
    amount = Decimal(machine.hourly_rate) * seconds / Decimal(3600)
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
