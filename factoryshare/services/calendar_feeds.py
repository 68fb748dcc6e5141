"""A member's private iCalendar feed of its bookings, for Google Calendar and the like.

The address carries a random token (256 bits); only its SHA-256 is stored, so the address is
shown once when made. Making a new one ends the old address; revoking ends it with no new one.
The feed holds the member's held, confirmed and completed bookings from 60 days back to a year
ahead, each event at its UTC time (calendar apps show it in the viewer's zone) at the house the
booking is at (the member's home house or another one): its name in the summary, its address
as the location, its local time and zone in the description; texts in the member's user's
language (Indonesian by default); a booking's UID never changes, its SEQUENCE grows with each
change, so a subscribed calendar updates moved bookings in place and drops cancelled ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare import audit, i18n, zones
from factoryshare.access import Actor
from factoryshare.db import utcnow
from factoryshare.errors import NotFound
from factoryshare.i18n import N_
from factoryshare.messages import rupiah
from factoryshare.models import Machine, Member, ProductionHouse, Role, User
from factoryshare.models.booking_extras import CalendarFeed
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.services import calendar

PAST_DAYS = 60
AHEAD_DAYS = 366
# Statuses a member still wants to see in its calendar.
SHOWN = (BookingStatus.held, BookingStatus.confirmed, BookingStatus.completed)
PRODID = "-//factoryshare//Booking feed//ID"


@dataclass(frozen=True)
class IssuedFeed:
    feed: CalendarFeed
    # The secret token, available only right after it was made.
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _own_member(actor: Actor) -> int:
    actor.require(Role.member)
    assert actor.member_id is not None
    return actor.member_id


def get_feed(session: Session, actor: Actor) -> CalendarFeed:
    member_id = _own_member(actor)
    feed = session.scalars(select(CalendarFeed).where(CalendarFeed.member_id == member_id)).first()
    if feed is None:
        raise NotFound(N_("You have no calendar feed yet; make one."))
    return feed


def issue_feed(session: Session, actor: Actor, *, now: dt.datetime | None = None) -> IssuedFeed:
    """Make the member's feed address, or a new one in place of the old (which stops working)."""
    member_id = _own_member(actor)
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    feed = session.scalars(select(CalendarFeed).where(CalendarFeed.member_id == member_id)).first()
    action = "calendar_feed.replaced" if feed is not None else "calendar_feed.created"
    if feed is None:
        feed = CalendarFeed(member_id=member_id, read_count=0)
        session.add(feed)
    feed.token_hash = _hash(token)
    feed.created_at = now
    feed.last_read_at = None
    feed.read_count = 0
    session.flush()
    audit.record(session, actor, action, feed, after=audit.snapshot(feed))
    return IssuedFeed(feed, token)


def revoke_feed(session: Session, actor: Actor) -> None:
    feed = get_feed(session, actor)
    audit.record(session, actor, "calendar_feed.revoked", feed, before=audit.snapshot(feed))
    session.delete(feed)
    session.flush()


def feed_for_token(session: Session, token: str) -> CalendarFeed:
    """The feed behind a token; NotFound for an unknown, replaced or revoked one."""
    if not token or len(token) > 200:
        raise NotFound(N_("This calendar address is unknown or no longer valid."))
    feed = session.scalars(
        select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token))
    ).first()
    if feed is None:
        raise NotFound(N_("This calendar address is unknown or no longer valid."))
    return feed


def _language(session: Session, member: Member) -> str:
    """The language the member's users read (the first active one's setting)."""
    user = session.scalars(
        select(User)
        .where(User.member_id == member.id, User.is_active.is_(True))
        .order_by(User.id)
        .limit(1)
    ).first()
    return i18n.language_or_default(user.language if user is not None else None)


def render_feed(session: Session, token: str, *, now: dt.datetime | None = None) -> bytes:
    """The .ics document of the member behind `token`; counts the read."""
    now = now or utcnow()
    feed = feed_for_token(session, token)
    member = session.get(Member, feed.member_id)
    assert member is not None
    house = session.get(ProductionHouse, member.house_id)
    assert house is not None
    language = _language(session, member)
    rows = session.execute(
        select(Booking, Machine, ProductionHouse)
        .join(Machine, Machine.id == Booking.machine_id)
        .join(ProductionHouse, ProductionHouse.id == Machine.house_id)
        .where(
            Booking.member_id == member.id,
            Booking.status.in_(SHOWN),
            Booking.end_at > now - dt.timedelta(days=PAST_DAYS),
            Booking.start_at < now + dt.timedelta(days=AHEAD_DAYS),
        )
        .order_by(Booking.start_at, Booking.id)
    ).all()

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{member.business_name} · factoryshare")
    cal.add("x-wr-timezone", house.timezone)
    # Ask subscribing apps to refresh hourly (Google decides for itself).
    cal.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for booking, machine, at_house in rows:
        zone = calendar.house_zone(at_house)
        zone_label = zones.abbreviation(at_house.timezone)
        local_start = booking.start_at.astimezone(zone)
        local_end = booking.end_at.astimezone(zone)
        event = icalendar.Event()
        event.add("uid", f"booking-{booking.id}@factoryshare")
        event.add("dtstamp", booking.updated_at or now)
        event.add("dtstart", booking.start_at.astimezone(dt.UTC))
        event.add("dtend", booking.end_at.astimezone(dt.UTC))
        event.add("sequence", max(0, (booking.version or 1) - 1))
        event.add("summary", f"{machine.name} — {at_house.name}")
        event.add("location", at_house.address or at_house.name)
        event.add("status", "TENTATIVE" if booking.status is BookingStatus.held else "CONFIRMED")
        say = i18n.translator(language)
        lines = [
            f"{local_start:%d-%m-%Y %H:%M}–{local_end:%H:%M} {zone_label} ({at_house.timezone})",
            say(N_("Status: %(status)s", status=i18n.status(booking.status))),
            say(N_("Price: %(price)s", price=rupiah(booking.price))),
        ]
        if booking.note:
            lines.append(say(booking.note))
        event.add("description", "\n".join(lines))
        cal.add_component(event)
    feed.last_read_at = now
    feed.read_count = (feed.read_count or 0) + 1
    session.flush()
    return cal.to_ical()
