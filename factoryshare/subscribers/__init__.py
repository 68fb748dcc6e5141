"""Who hears of a change: the subscribers that turn domain events into notifications.

One module per area (bookings, scheduling, financing), each subscribed by name in
factoryshare/events.py. Every subscriber runs in the transaction of the change it reports, so
a message exists exactly when the change was committed. The rule they all keep: a change
reaches every person it concerns except the one who made it (`people(...)` drops the actor).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.models import User
from factoryshare.models.bookings import Booking


@functools.cache
def _member_users_statement() -> Any:
    """Built once with bound parameters: every booking, move and cancellation asks it."""
    return (
        select(User.id)
        .where(
            User.member_id.in_(bindparam("member_ids", expanding=True)), User.is_active.is_(True)
        )
        .order_by(User.id)
    )


def member_users(session: Session, member_ids: Iterable[int | None]) -> list[int]:
    """The active users of these members, in id order."""
    wanted = sorted({m for m in member_ids if m is not None})
    if not wanted:
        return []
    return list(session.scalars(_member_users_statement(), {"member_ids": wanted}))


def aggregator_users(session: Session, aggregator_id: int | None) -> list[int]:
    if aggregator_id is None:
        return []
    return list(
        session.scalars(
            select(User.id)
            .where(User.aggregator_id == aggregator_id, User.is_active.is_(True))
            .order_by(User.id)
        )
    )


def people(user_ids: Iterable[int], actor: Actor | None) -> list[int]:
    """The users to tell: everyone concerned but the one who made the change."""
    me = actor.user_id if actor is not None else None
    return [u for u in dict.fromkeys(user_ids) if u != me]


def by(session: Session, actor: Actor | None) -> dict[str, Any]:
    """Who made the change, for the message (nothing when the service itself did)."""
    if actor is None or actor.user_id is None:
        return {}
    name = session.scalar(select(User.name).where(User.id == actor.user_id))
    return {"by": name, "by_role": actor.role.value} if name else {}


def booking_context(booking: Booking) -> dict[str, Any]:
    """A booking as the templates read it; times are shown in its house's zone."""
    machine = booking.machine
    house = machine.house
    return {
        "booking_id": booking.id,
        "machine": machine.name,
        "house": house.name,
        "start": booking.start_at,
        "end": booking.end_at,
        "price": booking.price,
        "timezone": house.timezone,
    }
