"""Scope rules of bookings, weekly booking series and the waitlist.

A booking (and a series of them) is the member's: the member sees its own, the manager the
ones on machines of the houses it manages (it confirms, moves and cancels them), and an
aggregator those of the members who accepted a place in one of its clusters, whose production
it finances. A waitlist entry is a member's wish for a slot: the member and the house's
manager see it; an aggregator does not (nothing is financed by a wish).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import false

from factoryshare.access.members import cluster_member_ids
from factoryshare.access.owners import of_house_machines, owned_by_member
from factoryshare.models import Role
from factoryshare.models.booking_extras import BookingSeries, WaitlistEntry
from factoryshare.models.bookings import Booking

if TYPE_CHECKING:
    from factoryshare.access import Actor


def booking_scope(actor: Actor) -> Any:
    """A member its own bookings, a manager those on its houses' machines, an aggregator
    those of its clusters' members."""
    if actor.role is Role.member:
        return owned_by_member(actor, Booking)
    if actor.role is Role.manager:
        return of_house_machines(actor, Booking)
    if actor.role is Role.aggregator:
        return Booking.member_id.in_(cluster_member_ids(actor.aggregator_id or 0))
    return false()


def series_scope(actor: Actor) -> Any:
    """Like bookings: a member its own series, a manager those on its houses' machines, an
    aggregator those of its clusters' members."""
    if actor.role is Role.member:
        return owned_by_member(actor, BookingSeries)
    if actor.role is Role.manager:
        return of_house_machines(actor, BookingSeries)
    if actor.role is Role.aggregator:
        return BookingSeries.member_id.in_(cluster_member_ids(actor.aggregator_id or 0))
    return false()


def waitlist_scope(actor: Actor) -> Any:
    """A member its own entries, a manager those for its houses' machines."""
    if actor.role is Role.member:
        return owned_by_member(actor, WaitlistEntry)
    if actor.role is Role.manager:
        return of_house_machines(actor, WaitlistEntry)
    return false()
