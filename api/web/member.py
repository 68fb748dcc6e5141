"""A member's pages: find a free slot and book it, my bookings (cancel, move), my production
requests and where the solver placed them. Every rule lives in the services called here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from api.database import db
from api.web import actor, add_nav, bp, flash_error, page, said
from factoryshare.db import utcnow
from factoryshare.errors import DomainError, NotFound
from factoryshare.i18n import N_
from factoryshare.models import Machine, Member, ProductionHouse, Role
from factoryshare.models.bookings import LIVE_STATUSES, Booking
from factoryshare.services import bookings, calendar, machines, production_requests, solving

add_nav("web.find_slot", _l("Book a machine"), roles={Role.member})
add_nav("web.my_bookings", _l("My bookings"), roles={Role.member})
add_nav("web.my_requests", _l("My production"), roles={Role.member})

DURATIONS = (30, 60, 90, 120, 180, 240, 360, 480)
SLOTS_PER_MACHINE = 16


def _my_house() -> ProductionHouse:
    me = actor()
    member = db().get(Member, me.member_id) if me.member_id is not None else None
    house = db().get(ProductionHouse, member.house_id) if member is not None else None
    if house is None:
        raise NotFound(N_("Your account is not linked to a member business."))
    return house


def _today(house: ProductionHouse) -> dt.date:
    return utcnow().astimezone(calendar.house_zone(house)).date()


def _parse_day(value: str | None, house: ProductionHouse) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else _today(house)
    except ValueError:
        return _today(house)


def _day_bounds(house: ProductionHouse, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = calendar.house_zone(house)
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)
    return start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)


def _parse_moment(value: str | None) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _parse_int(value: str | None, default: int | None = None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return default
    return number if 0 < number < 2**31 else default


def _durations(house: ProductionHouse) -> list[int]:
    return [d for d in DURATIONS if d % house.slot_minutes == 0]


def _starts(house: ProductionHouse, windows: list[calendar.Window], duration: dt.timedelta,
            limit: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """Bookable (start, end) pairs on the house's slot grid inside free windows."""
    step = dt.timedelta(minutes=house.slot_minutes)
    found: list[tuple[dt.datetime, dt.datetime]] = []
    for w_start, w_end in windows:
        start = w_start
        while start + duration <= w_end and len(found) < limit:
            found.append((start, start + duration))
            start += step
    return found


def _capabilities(house: ProductionHouse) -> list[Any]:
    seen: dict[str, Any] = {}
    for machine in db().scalars(machines.list_machines(db(), actor(), house_id=house.id)):
        for cap in machine.capabilities:
            seen.setdefault(cap.code, cap)
    return sorted(seen.values(), key=lambda c: c.name.lower())


@bp.route("/slots")
@page(Role.member)
def find_slot():  # type: ignore[no-untyped-def]
    house = _my_house()
    capabilities = _capabilities(house)
    codes = {c.code for c in capabilities}
    capability = request.args.get("capability") or None
    if capability not in codes:
        capability = None
    day = _parse_day(request.args.get("day"), house)
    durations = _durations(house)
    duration = _parse_int(request.args.get("duration"), 60)
    if duration not in durations:
        duration = durations[0] if durations else house.slot_minutes
    searched = "day" in request.args
    results: list[dict[str, Any]] = []
    if searched:
        start, end = _day_bounds(house, day)
        _house, per_machine = bookings.availability(
            db(), actor(), house.id, start=start, end=end, capability=capability,
            duration_minutes=duration,
        )
        span = dt.timedelta(minutes=duration)
        for machine, windows in per_machine:
            slots = [
                {"start": s, "end": e, "price": bookings.price_for(machine, s, e)}
                for s, e in _starts(house, windows, span, SLOTS_PER_MACHINE)
            ]
            if slots:
                results.append({"machine": machine, "slots": slots})
    return render_template(
        "member/find_slot.html", house=house, capabilities=capabilities, capability=capability,
        day=day, duration=duration, durations=durations, searched=searched, results=results,
        holiday=said(calendar.holiday_name(day)),
    )


@bp.route("/bookings", methods=["POST"])
@page(Role.member)
def book():  # type: ignore[no-untyped-def]
    machine_id = _parse_int(request.form.get("machine_id"))
    start = _parse_moment(request.form.get("start"))
    end = _parse_moment(request.form.get("end"))
    back = url_for("web.find_slot", capability=request.form.get("capability") or None,
                   day=request.form.get("day") or None, duration=request.form.get("duration") or None)
    if machine_id is None or start is None or end is None:
        flash(_("Pick a slot from the list."), "error")
        return redirect(back)
    try:
        booking = bookings.create_booking(db(), actor(), machine_id=machine_id, start=start, end=end)
    except DomainError as err:
        db().rollback()
        flash_error(err)
        return redirect(back)
    house = booking.machine.house
    from api.web import when

    if booking.status.value == "held":
        flash(_("Held: %(machine)s, %(when)s. The house will confirm it.",
                machine=booking.machine.name, when=when(booking.start_at, house)), "ok")
    else:
        flash(_("Booked: %(machine)s, %(when)s.",
                machine=booking.machine.name, when=when(booking.start_at, house)), "ok")
    return redirect(url_for("web.my_bookings"))


@bp.route("/bookings")
@page(Role.member)
def my_bookings():  # type: ignore[no-untyped-def]
    now = utcnow()
    everything = bookings.list_bookings(db(), actor())
    upcoming = [b for b in everything if b.end_at > now]
    past = [b for b in everything if b.end_at <= now][-20:][::-1]
    return render_template("member/bookings.html", upcoming=upcoming, past=past,
                           live=LIVE_STATUSES)


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@page(Role.member)
def cancel(booking_id: int):  # type: ignore[no-untyped-def]
    try:
        bookings.cancel_booking(db(), actor(), booking_id, reason=N_("cancelled by the member"))
    except DomainError as err:
        db().rollback()
        flash_error(err)
    else:
        flash(_("The booking is cancelled."), "ok")
    return redirect(url_for("web.my_bookings"))


@bp.route("/bookings/<int:booking_id>/move", methods=["GET", "POST"])
@page(Role.member)
def move(booking_id: int):  # type: ignore[no-untyped-def]
    booking: Booking = bookings.get_booking(db(), actor(), booking_id)
    house = booking.machine.house
    if request.method == "POST":
        start = _parse_moment(request.form.get("start"))
        end = _parse_moment(request.form.get("end"))
        if start is None or end is None:
            flash(_("Pick a slot from the list."), "error")
            return redirect(url_for("web.move", booking_id=booking_id))
        try:
            bookings.move_booking(db(), actor(), booking_id, start=start, end=end)
        except DomainError as err:
            db().rollback()
            flash_error(err)
            return redirect(url_for("web.move", booking_id=booking_id,
                                    day=request.form.get("day") or None))
        flash(_("The booking is moved."), "ok")
        return redirect(url_for("web.my_bookings"))
    day = _parse_day(request.args.get("day") or
                     booking.start_at.astimezone(calendar.house_zone(house)).date().isoformat(), house)
    start, end = _day_bounds(house, day)
    span = booking.end_at - booking.start_at
    machine: Machine = booking.machine
    windows = bookings.free_windows(db(), machine, start, end, duration=span)
    slots = [{"start": s, "end": e, "price": bookings.price_for(machine, s, e)}
             for s, e in _starts(house, windows, span, 24)]
    return render_template("member/move.html", booking=booking, house=house, day=day,
                           slots=slots, movable=booking.status in LIVE_STATUSES,
                           holiday=said(calendar.holiday_name(day)))


@bp.route("/production")
@page(Role.member)
def my_requests():  # type: ignore[no-untyped-def]
    requests_ = list(db().scalars(production_requests.list_requests(db(), actor())))
    operation_ids = [op.id for r in requests_ for op in r.operations]
    placed = solving.published_bookings(db(), operation_ids) if operation_ids else {}
    return render_template("member/requests.html", requests=requests_, placed=placed,
                           why_not=solving.why_not_placed(db(), requests_))
