"""The house timeline: machines down, time across (the shared renderer api.web.gantt), a day
or a week that fits the screen or is zoomed; a click on a booking opens it with its actions
(confirm, reject, move, cancel), and the manager's move and cancel pages those actions use."""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_date
from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from api.database import db
from api.web import HouseTime, actor, bp, flash_error, page, safe_next, said, when
from api.web.gantt import Chart, Timeline, tick_step
from api.web.manager.common import (
    house_in_view,
    local_midnight,
    members_by_id,
    parse_day,
    today,
)
from factoryshare import zones
from factoryshare.db import utcnow
from factoryshare.errors import DomainError, NotFound
from factoryshare.i18n import N_
from factoryshare.models import Downtime, Machine, Member, ProductionHouse, Role
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.services import bookings, calendar, downtimes, machines

# Statuses drawn on the timeline; cancelled and expired bookings free their slot and are left out.
SHOWN_STATUSES = (
    BookingStatus.held,
    BookingStatus.confirmed,
    BookingStatus.completed,
    BookingStatus.no_show,
)

# The run page draws a day this wide when its horizon is short (pixels).
DAY_VIEW_WIDTH = 900
# The narrowest a chart that fits its box gets (rem); below it the chart scrolls (phones).
DAY_MIN_REM = 36
WEEK_MIN_REM = 56
MAX_REASON = 300
MOVE_SUGGESTIONS = 24


def _display_hours(house: ProductionHouse, days: list[dt.date]) -> tuple[int, int]:
    """The hours of a day the chart shows: from the earliest opening to the latest closing of
    any weekday of the week of `days[0]`, so that a day is not mostly night; the whole day
    when the house sets no hours."""
    zone = calendar.house_zone(house)
    monday = days[0] - dt.timedelta(days=days[0].weekday())
    opens, closes = 24 * 60, 0
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        for start, end in calendar.day_intervals(house, day):
            opens = min(opens, int((start.astimezone(zone) - midnight).total_seconds() // 60))
            closes = max(closes, int((end.astimezone(zone) - midnight).total_seconds() // 60))
    if closes <= opens:
        return 0, 24
    return opens // 60, min(24, -(-closes // 60))


def _status_words() -> dict[str, str]:
    return {
        "held": _("held"),
        "confirmed": _("confirmed"),
        "completed": _("completed"),
        "no_show": _("no-show"),
        "cancelled": _("cancelled"),
        "expired": _("expired"),
    }


def downtime_kind_words() -> dict[str, str]:
    """The words for each kind of downtime, in the reader's language."""
    return {"maintenance": _("maintenance"), "breakdown": _("breakdown")}


def _closed_name(house: ProductionHouse, day: dt.date) -> str | None:
    """Why the house is shut all of `day`: the holiday's name or the closure's reason."""
    holiday = said(calendar.holiday_name(day))
    if holiday:
        return holiday
    closure = calendar.closure_on(db(), house, day)
    return (closure.reason or _("Closed")) if closure else None


def _house_bookings(house: ProductionHouse, start: dt.datetime, end: dt.datetime) -> list[Booking]:
    """The house's bookings over [start, end) that hold their machine (SHOWN_STATUSES), each
    with its machine read in the same statement (the page names it; no query per booking)."""
    stmt = (
        bookings.booking_query(actor(), house_id=house.id, start=start, end=end)
        .where(Booking.status.in_(SHOWN_STATUSES))
        .options(joinedload(Booking.machine))
    )
    return list(db().scalars(stmt).unique())


def house_machines(house: ProductionHouse) -> list[Machine]:
    """The house's machines in the caller's scope, retired ones left out."""
    return [
        m
        for m in db().scalars(machines.list_machines(db(), actor(), house_id=house.id))
        if m.status.value != "retired"
    ]


def house_timeline(
    house: ProductionHouse,
    days: list[dt.date],
    day_width: float | None,
    proposal: list[tuple[Any, str, str, str]] | None = None,
    *,
    zoom: int = 1,
    chart_id: str | None = None,
    links: bool = False,
) -> tuple[Chart, list[Booking], list[Downtime], dict[int, Member]]:
    """The published schedule of `house` over `days`: machines as rows, bookings as bars,
    downtimes and closed times shaded, and the now-line. `day_width` draws each day that many
    pixels wide (the chart scrolls); None fits the chart to its box, `zoom` times as wide.
    `proposal` adds a run's proposed slots as (assignment, kind, title, label) bars over the
    same background; `links` makes each booking's bar a link to its panel (#booking-<id>)."""
    rows = house_machines(house)
    zone = calendar.house_zone(house)
    clock = HouseTime(house)  # the zone and language looked up once, not per bar
    first_hour, last_hour = _display_hours(house, days)
    segments = []
    for day in days:
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        segments.append(
            (
                (midnight + dt.timedelta(hours=first_hour)).astimezone(dt.UTC),
                (midnight + dt.timedelta(hours=last_hour)).astimezone(dt.UTC),
            )
        )
    min_rem = DAY_MIN_REM if len(days) == 1 else WEEK_MIN_REM
    gantt = Timeline(
        chart_id or ("gantt-proposal" if proposal is not None else "timeline-chart"),
        _("Bookings per machine, %(zone)s", zone=zones.abbreviation(house.timezone)),
        segments,
        [(m.id, m.name, m.code) for m in rows],
        zoom=zoom,
        width_px=None if day_width is None else day_width * len(days),
        min_rem=min_rem,
        rows_label=_("Machine"),
    )
    # Tick labels about 40 px apart at the narrowest the chart is drawn.
    px_per_day = (
        day_width if day_width is not None else (gantt.chart.min_width or min_rem) * 16 / len(days)
    )
    step = tick_step(px_per_day / (last_hour - first_hour))
    for i, day in enumerate(days):
        holiday = _closed_name(house, day)
        gantt.column(
            i,
            format_date(
                day, "full" if px_per_day >= 400 else "EEE d MMM", locale=str(get_locale())
            ),
            holiday or "",
        )
        # No label in the last step of a day, where it would run into the next day's first.
        for hour in range(first_hour, last_hour - step + 1, step):
            gantt.tick(segments[i][0] + dt.timedelta(hours=hour - first_hour), f"{hour:02d}:00")
        open_windows = calendar.open_windows(db(), house, *segments[i])
        gantt.shade_outside(
            segments[i], open_windows, "closed", holiday or _("Outside opening hours")
        )
    shown_ids = {m.id for m in rows}
    start = local_midnight(house, days[0])
    end = local_midnight(house, days[-1] + dt.timedelta(days=1))
    stops = [
        d
        for d in downtimes.downtimes_between(db(), actor(), house.id, start, end)
        if d.machine_id in shown_ids
    ]
    kinds = downtime_kind_words()
    for d in stops:
        gantt.shade(
            d.machine_id,
            d.start_at,
            d.end_at,
            "downtime",
            _(
                "Downtime (%(kind)s): %(start)s – %(end)s. %(reason)s",
                kind=kinds.get(d.kind.value, d.kind.value),
                start=clock.when(d.start_at),
                end=clock.when(d.end_at),
                reason=d.reason,
            ),
        )
    found = [b for b in _house_bookings(house, start, end) if b.machine_id in shown_ids]
    members = members_by_id({b.member_id for b in found})
    words = _status_words()
    # Translated once per chart and filled in per bar (gettext without values gives the
    # pattern, which it would otherwise fill in the same way).
    open_words = _("Open the booking: %(what)s")
    for b in found:
        name = members[b.member_id].business_name if b.member_id in members else f"#{b.member_id}"
        title = f"{name}: {clock.when(b.start_at)} – {clock.hm(b.end_at)} ({words[b.status.value]})"
        gantt.bar(
            b.machine_id,
            b.start_at,
            b.end_at,
            b.status.value,
            title,
            name,
            href=f"#booking-{b.id}" if links else None,
            link_label=open_words % {"what": title},
        )
    for a, kind, title, label in proposal or []:
        gantt.bar(a.machine_id, a.start_at, a.end_at, kind, title, label)
    gantt.now_line(utcnow())
    return gantt.chart, found, stops, members


def _legend() -> list[tuple[str, str]]:
    words = _status_words()
    return [
        ("held", words["held"]),
        ("confirmed", words["confirmed"]),
        ("completed", words["completed"]),
        ("no_show", words["no_show"]),
        ("downtime", _("downtime")),
        ("closed", _("closed")),
        ("now", _("now")),
    ]


def _panel_words() -> dict[str, Markup]:
    """The sentences of a booking's panel, translated once per page (a week's page holds a
    panel per booking) as patterns the template fills in per booking. They are markup as
    Jinja's own `_()` makes them, so what fills them in is escaped and the words are not."""
    return {
        "title": Markup(_("Booking #%(id)s")),
        "reject": Markup(
            _(
                "Reject the booking of %(member)s on %(machine)s, %(when)s? The slot is freed "
                "and the member is told why."
            )
        ),
        "cancel": Markup(
            _(
                "Cancel the booking of %(member)s on %(machine)s, %(when)s? The slot is freed "
                "and the member is told why."
            )
        ),
        "final": Markup(_("A %(status)s booking cannot be changed any more.")),
    }


def _zoom(value: str | None) -> int:
    return int(value) if value in ("2", "4") else 1


@bp.route("/manager/timeline")
@page(Role.manager)
def manager_timeline():  # type: ignore[no-untyped-def]
    house, managed = house_in_view()
    view = "week" if request.args.get("view") == "week" else "day"
    day = parse_day(request.args.get("day"), house)
    zoom = _zoom(request.args.get("zoom"))
    if view == "week":
        first = day - dt.timedelta(days=day.weekday())
        days = [first + dt.timedelta(days=i) for i in range(7)]
        step = dt.timedelta(days=7)
    else:
        days = [day]
        step = dt.timedelta(days=1)
    chart, found, stops, members = house_timeline(house, days, None, zoom=zoom, links=True)
    chart.legend = _legend()
    here = url_for(
        "web.manager_timeline",
        house=house.id,
        view=view,
        day=day.isoformat(),
        zoom=zoom if zoom != 1 else None,
    )
    return render_template(
        "manager/timeline.html",
        house=house,
        houses=managed,
        view=view,
        day=day,
        days=days,
        previous=day - step,
        following=day + step,
        today=today(house),
        chart=chart,
        bookings=found,
        downtimes=stops,
        members=members,
        status_words=_status_words(),
        panel_words=_panel_words(),
        clock=HouseTime(house),
        kind_words=downtime_kind_words(),
        zoom=zoom,
        here=here,
        now=utcnow(),
        held=BookingStatus.held,
        max_reason=MAX_REASON,
    )


# --- the booking's actions that live here: cancel and move --------------------------------
# Confirm and reject are the queue's (api/web/manager/queue.py).


def _managed_booking(booking_id: int) -> Booking:
    """A booking on a machine of a house the manager manages; 404 otherwise, as the API."""
    booking = bookings.get_booking(db(), actor(), booking_id)
    if not actor().manages(booking.machine.house_id):
        raise NotFound(N_("No such booking."))
    return booking


def _back(booking: Booking | None = None):  # type: ignore[no-untyped-def]
    target = safe_next(request.values.get("next"))
    if target:
        return redirect(target)
    house_id = booking.machine.house_id if booking is not None else None
    return redirect(url_for("web.manager_timeline", house=house_id))


def _reason() -> str:
    return (request.form.get("reason") or "").strip()[:MAX_REASON]


@bp.route("/manager/bookings/<int:booking_id>/cancel", methods=["POST"])
@page(Role.manager)
def manager_cancel(booking_id: int):  # type: ignore[no-untyped-def]
    booking = _managed_booking(booking_id)
    reason = _reason()
    if not reason:
        flash(_("Say why the booking is cancelled: the member reads it."), "error")
        return _back(booking)
    try:
        booking = bookings.cancel_booking(db(), actor(), booking_id, reason=reason)
    except DomainError as err:
        db().rollback()
        flash_error(err)
        return _back()
    flash(
        _(
            "Cancelled: %(machine)s, %(when)s. The member is told why.",
            machine=booking.machine.name,
            when=when(booking.start_at, booking.machine.house),
        ),
        "ok",
    )
    return _back(booking)


def _parse_local(day: dt.date, value: str | None, house: ProductionHouse) -> dt.datetime | None:
    """'HH:MM' on `day` in the house's time, as UTC; None when it is not a time."""
    try:
        moment = dt.time.fromisoformat(value or "")
    except ValueError:
        return None
    local = dt.datetime.combine(
        day, moment.replace(second=0, microsecond=0), tzinfo=calendar.house_zone(house)
    )
    return local.astimezone(dt.UTC)


@bp.route("/manager/bookings/<int:booking_id>/move", methods=["GET", "POST"])
@page(Role.manager)
def manager_move(booking_id: int):  # type: ignore[no-untyped-def]
    booking = _managed_booking(booking_id)
    house = booking.machine.house
    zone = calendar.house_zone(house)
    span = booking.end_at - booking.start_at
    next_url = safe_next(request.values.get("next"))
    if request.method == "POST":
        day = parse_day(request.form.get("day"), house)
        start = _parse_local(day, request.form.get("time"), house)
        machine_id = request.form.get("machine_id", type=int)
        if start is None or machine_id is None:
            flash(_("Pick a free time from the list, or give a machine and a start time."), "error")
            return redirect(
                url_for(
                    "web.manager_move", booking_id=booking_id, day=day.isoformat(), next=next_url
                )
            )
        try:
            bookings.move_booking(
                db(), actor(), booking_id, start=start, end=start + span, machine_id=machine_id
            )
        except DomainError as err:
            db().rollback()
            flash_error(err)
            return redirect(
                url_for(
                    "web.manager_move", booking_id=booking_id, day=day.isoformat(), next=next_url
                )
            )
        flash(
            _("Moved: the booking now runs %(when)s. The member is told.", when=when(start, house)),
            "ok",
        )
        return redirect(
            next_url or url_for("web.manager_timeline", house=house.id, day=day.isoformat())
        )
    day = parse_day(
        request.args.get("day") or booking.start_at.astimezone(zone).date().isoformat(), house
    )
    after = max(local_midnight(house, day), utcnow())
    suggestions = bookings.alternative_slots(
        db(), booking.machine, span, after, limit=MOVE_SUGGESTIONS, days=1
    )
    return render_template(
        "manager/move.html",
        booking=booking,
        house=house,
        day=day,
        span=span,
        suggestions=suggestions,
        machines=house_machines(house),
        member=members_by_id({booking.member_id}).get(booking.member_id),
        movable=booking.is_live,
        status_words=_status_words(),
        next=next_url,
        previous=day - dt.timedelta(days=1),
        following=day + dt.timedelta(days=1),
    )
