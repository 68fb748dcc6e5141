"""A manager's pages: the house timeline (a Gantt chart drawn as inline SVG on the server), the
queue of held bookings and open requests, schedule runs (start, review against the published
schedule, publish or discard), utilisation per machine, recording a downtime, and permit
warnings. Every rule lives in the services called here; this module only lays them out.

A manager may manage several houses: each page takes `?house=<id>` and offers a selector; a
house the manager does not manage is answered with 404, as the API does for objects out of scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_date
from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from api.database import db
from api.web import actor, add_nav, bp, flash_error, hm, page, said, when
from factoryshare.access import scoped
from factoryshare.db import utcnow
from factoryshare.errors import DomainError, NotFound
from factoryshare.i18n import N_
from factoryshare.i18n import label as object_label
from factoryshare.models import Downtime, DowntimeKind, Machine, Member, ProductionHouse, Role, User
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.models.notifications import Notification
from factoryshare.models.scheduling import RequestOperation, RunStatus, ScheduleRun
from factoryshare.services import (
    bookings,
    calendar,
    downtimes,
    houses,
    machines,
    permits,
    production_requests,
    run_review,
    scheduling,
)

add_nav("web.manager_timeline", _l("Timeline"), roles={Role.manager})
add_nav("web.manager_queue", _l("Queue"), roles={Role.manager})
add_nav("web.manager_runs", _l("Schedule runs"), roles={Role.manager})
add_nav("web.manager_utilisation", _l("Utilisation"), roles={Role.manager})
add_nav("web.manager_downtime", _l("Record a downtime"), roles={Role.manager})
add_nav("web.manager_permits", _l("Permit warnings"), roles={Role.manager})

# Statuses drawn on the timeline; cancelled and expired bookings free their slot and are left out.
SHOWN_STATUSES = (BookingStatus.held, BookingStatus.confirmed, BookingStatus.completed,
                  BookingStatus.no_show)

# Geometry of the chart, in SVG user units (one unit is one CSS pixel at 100 %).
LABEL_WIDTH = 150
HEADER_HEIGHT = 44
ROW_HEIGHT = 34
BAR_INSET = 5
DAY_VIEW_WIDTH = 900
WEEK_DAY_WIDTH = 150


# --- the house in view ---------------------------------------------------------------------

def _managed_houses() -> list[ProductionHouse]:
    me = actor()
    return [h for h in db().scalars(houses.list_houses(db(), me)) if me.manages(h.id)]


def _house_in_view() -> tuple[ProductionHouse, list[ProductionHouse]]:
    """The house chosen with ?house= (the first managed one when none is asked for).

    Houses are readable by everyone through the services, so the page itself refuses one the
    manager does not manage, with the same 404 the API gives for objects out of scope."""
    managed = _managed_houses()
    wanted = request.values.get("house")
    if wanted:
        try:
            house_id = int(wanted)
        except ValueError:
            raise NotFound(N_("No such house.")) from None
        for house in managed:
            if house.id == house_id:
                return house, managed
        raise NotFound(N_("No such house."))
    if not managed:
        raise NotFound(N_("Your account manages no house yet."))
    return managed[0], managed


def _today(house: ProductionHouse) -> dt.date:
    return utcnow().astimezone(calendar.house_zone(house)).date()


def _parse_day(value: str | None, house: ProductionHouse) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else _today(house)
    except ValueError:
        return _today(house)


def _local_midnight(house: ProductionHouse, day: dt.date) -> dt.datetime:
    zone = calendar.house_zone(house)
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.timezone.utc)


def _members_by_id(ids: set[int]) -> dict[int, Member]:
    if not ids:
        return {}
    return {m.id: m for m in db().scalars(scoped(actor(), Member).where(Member.id.in_(ids)))}


# --- the Gantt chart -----------------------------------------------------------------------

@dataclass
class Shape:
    x: float
    y: float
    w: float
    h: float
    kind: str
    title: str
    label: str = ""


@dataclass
class Chart:
    """Everything the template needs to draw one timeline as SVG."""

    width: float
    height: float
    rows: list[dict[str, Any]]
    days: list[dict[str, Any]]
    ticks: list[tuple[float, str]]
    shades: list[Shape] = field(default_factory=list)
    bars: list[Shape] = field(default_factory=list)
    now_x: float | None = None


def _display_hours(house: ProductionHouse) -> tuple[int, int]:
    """The hours of a day the chart shows: from the earliest opening to the latest closing of
    any weekday, so that a day is not mostly night; the whole day when no hours are set."""
    opens, closes = 24 * 60, 0
    for pairs in (house.opening_hours or {}).values():
        for pair in pairs or []:
            o = calendar._parse_hhmm(pair[0])
            c = calendar._parse_hhmm(pair[1])
            if o is None:
                continue
            opens = min(opens, o.hour * 60 + o.minute)
            closes = max(closes, 24 * 60 if c is None else c.hour * 60 + c.minute)
    if closes <= opens:
        return 0, 24
    return opens // 60, min(24, -(-closes // 60))


def _fit(label: str, width: float, char_width: float = 6.5) -> str:
    """The label cut to what fits in `width` (about 6.5 units a character at the chart's 11 px
    bold); the full text is always in a <title> and in the table beside the chart."""
    room = int((width - 8) / char_width)
    if room >= len(label):
        return label
    return label[: room - 1] + "…" if room >= 4 else ""


class Gantt:
    """Maps moments to x positions over a list of local days, each day cut to the house's
    displayed hours, and collects rows, shaded times and bars."""

    def __init__(self, house: ProductionHouse, days: list[dt.date], day_width: float,
                 rows: list[tuple[Any, str, str]]) -> None:
        self.house = house
        self.zone = calendar.house_zone(house)
        self.first_hour, self.last_hour = _display_hours(house)
        self.day_width = day_width
        self.segments: list[tuple[dt.datetime, dt.datetime]] = []
        for day in days:
            midnight = dt.datetime.combine(day, dt.time(0), tzinfo=self.zone)
            start = midnight + dt.timedelta(hours=self.first_hour)
            end = midnight + dt.timedelta(hours=self.last_hour)
            self.segments.append((start.astimezone(dt.timezone.utc),
                                  end.astimezone(dt.timezone.utc)))
        self.row_y = {row[0]: HEADER_HEIGHT + i * ROW_HEIGHT for i, row in enumerate(rows)}
        self.chart = Chart(
            width=LABEL_WIDTH + day_width * len(days),
            height=HEADER_HEIGHT + ROW_HEIGHT * max(1, len(rows)) + 2,
            rows=[{"y": self.row_y[key], "full": label, "label": _fit(label, LABEL_WIDTH, 7.2),
                   "sub": sub} for key, label, sub in rows],
            days=[], ticks=[])
        step = 1 if day_width >= 500 else (3 if day_width >= 120 else 6)
        for i, day in enumerate(days):
            x = LABEL_WIDTH + i * day_width
            holiday = _closed_name(house, day)
            self.chart.days.append({
                "x": x, "w": day_width, "day": day,
                # A narrow day column gets the short form: "Sen 30 Nov".
                "label": format_date(day, "full" if day_width >= 400 else "EEE d MMM",
                                     locale=str(get_locale())),
                "holiday": holiday, "holiday_label": _fit(holiday, day_width) if holiday else "",
            })
            for hour in range(self.first_hour, self.last_hour, step):
                tx = x + (hour - self.first_hour) / (self.last_hour - self.first_hour) * day_width
                self.chart.ticks.append((tx, f"{hour:02d}:00"))

    @property
    def start(self) -> dt.datetime:
        return self.segments[0][0]

    @property
    def end(self) -> dt.datetime:
        return self.segments[-1][1]

    def _pieces(self, start: dt.datetime, end: dt.datetime) -> list[tuple[float, float]]:
        pieces = []
        for i, (s, e) in enumerate(self.segments):
            lo, hi = max(start, s), min(end, e)
            if hi <= lo:
                continue
            span = (e - s).total_seconds()
            x = LABEL_WIDTH + i * self.day_width + (lo - s).total_seconds() / span * self.day_width
            w = (hi - lo).total_seconds() / span * self.day_width
            pieces.append((x, w))
        return pieces

    def shade(self, row: Any | None, start: dt.datetime, end: dt.datetime, kind: str,
              title: str) -> None:
        """Shade a time on one row, or across every row when `row` is None."""
        if row is None:
            y, h = HEADER_HEIGHT, self.chart.height - HEADER_HEIGHT - 2
        else:
            y, h = self.row_y[row], ROW_HEIGHT
        for x, w in self._pieces(start, end):
            self.chart.shades.append(Shape(x, y, w, h, kind, title))

    def bar(self, row: Any, start: dt.datetime, end: dt.datetime, kind: str, title: str,
            label: str) -> None:
        y = self.row_y[row] + BAR_INSET
        for x, w in self._pieces(start, end):
            self.chart.bars.append(Shape(x, y, max(w, 2.0), ROW_HEIGHT - 2 * BAR_INSET, kind, title,
                                         _fit(label, w)))

    def shade_closed(self) -> None:
        """Shade the displayed times the house is shut: outside opening hours, public holidays,
        cuti bersama and the house's closures (calendar.open_windows decides)."""
        for s, e in self.segments:
            open_windows = calendar.open_windows(db(), self.house, s, e)
            shut = calendar._subtract([(s, e)], open_windows)
            name = _closed_name(self.house, s.astimezone(self.zone).date())
            for a, b in shut:
                self.shade(None, a, b, "closed", name or _("Outside opening hours"))

    def now_line(self, now: dt.datetime) -> None:
        pieces = self._pieces(now, now + dt.timedelta(seconds=1))
        if pieces:
            self.chart.now_x = pieces[0][0]


def _status_words() -> dict[str, str]:
    return {"held": _("held"), "confirmed": _("confirmed"), "completed": _("completed"),
            "no_show": _("no-show"), "cancelled": _("cancelled"), "expired": _("expired")}


def _kind_words() -> dict[str, str]:
    return {"maintenance": _("maintenance"), "breakdown": _("breakdown")}


def _closed_name(house: ProductionHouse, day: dt.date) -> str | None:
    """Why the house is shut all of `day`: the holiday's name or the closure's reason."""
    holiday = said(calendar.holiday_name(day))
    if holiday:
        return holiday
    closure = calendar.closure_on(db(), house, day)
    return (closure.reason or _("Closed")) if closure else None


def _house_bookings(house: ProductionHouse, start: dt.datetime,
                    end: dt.datetime) -> list[Booking]:
    """The house's bookings over [start, end) that hold their machine (SHOWN_STATUSES)."""
    return [b for b in bookings.list_bookings(db(), actor(), house_id=house.id, start=start,
                                              end=end)
            if b.status in SHOWN_STATUSES]


def _house_machines(house: ProductionHouse) -> list[Machine]:
    return [m for m in db().scalars(machines.list_machines(db(), actor(), house_id=house.id))
            if m.status.value != "retired"]


def _house_downtimes(house: ProductionHouse, start: dt.datetime,
                     end: dt.datetime) -> list[Downtime]:
    return list(db().scalars(downtimes.list_downtimes(actor(), house_id=house.id)
                             .where(Downtime.start_at < end, Downtime.end_at > start)))


def house_timeline(house: ProductionHouse, days: list[dt.date], day_width: float,
                   proposal: list[tuple[Any, str, str, str]] | None = None
                   ) -> tuple[Chart, list[Booking], list[Downtime], dict[int, Member]]:
    """The published schedule of `house` over `days`: machines as rows, bookings as bars,
    downtimes and closed times shaded, and the now-line. `proposal` adds a run's proposed
    slots as (assignment, kind, title, label) bars over the same background."""
    rows = _house_machines(house)
    gantt = Gantt(house, days, day_width, [(m.id, m.name, m.code) for m in rows])
    shown_ids = {m.id for m in rows}
    start = _local_midnight(house, days[0])
    end = _local_midnight(house, days[-1] + dt.timedelta(days=1))
    gantt.shade_closed()
    stops = [d for d in _house_downtimes(house, start, end) if d.machine_id in shown_ids]
    kinds = _kind_words()
    for d in stops:
        gantt.shade(d.machine_id, d.start_at, d.end_at, "downtime",
                    _("Downtime (%(kind)s): %(start)s – %(end)s. %(reason)s",
                      kind=kinds.get(d.kind.value, d.kind.value), start=when(d.start_at, house),
                      end=when(d.end_at, house), reason=d.reason))
    found = [b for b in _house_bookings(house, start, end) if b.machine_id in shown_ids]
    members = _members_by_id({b.member_id for b in found})
    words = _status_words()
    for b in found:
        name = members[b.member_id].business_name if b.member_id in members else f"#{b.member_id}"
        gantt.bar(b.machine_id, b.start_at, b.end_at, b.status.value,
                  f"{name}: {when(b.start_at, house)} – {hm(b.end_at, house)} "
                  f"({words[b.status.value]})",
                  name)
    for a, kind, title, label in proposal or []:
        if a.machine_id in shown_ids:
            gantt.bar(a.machine_id, a.start_at, a.end_at, kind, title, label)
    gantt.now_line(utcnow())
    return gantt.chart, found, stops, members


@bp.route("/manager/timeline")
@page(Role.manager)
def manager_timeline():  # type: ignore[no-untyped-def]
    house, managed = _house_in_view()
    view = "week" if request.args.get("view") == "week" else "day"
    day = _parse_day(request.args.get("day"), house)
    if view == "week":
        first = day - dt.timedelta(days=day.weekday())
        days = [first + dt.timedelta(days=i) for i in range(7)]
        step = dt.timedelta(days=7)
        width = WEEK_DAY_WIDTH
    else:
        days = [day]
        step = dt.timedelta(days=1)
        width = DAY_VIEW_WIDTH
    chart, found, stops, members = house_timeline(house, days, width)
    return render_template(
        "manager/timeline.html", house=house, houses=managed, view=view, day=day, days=days,
        previous=day - step, following=day + step, today=_today(house), chart=chart,
        bookings=found, downtimes=stops, members=members, status_words=_status_words(),
        kind_words=_kind_words(),
    )


# --- the queue -----------------------------------------------------------------------------

@bp.route("/manager/queue")
@page(Role.manager)
def manager_queue():  # type: ignore[no-untyped-def]
    house, managed = _house_in_view()
    now = utcnow()
    held = [b for b in bookings.list_bookings(db(), actor(), house_id=house.id, status="held")
            if b.end_at > now]
    open_requests = list(db().scalars(production_requests.list_requests(
        db(), actor(), status="open", house_id=house.id)))
    members = _members_by_id({b.member_id for b in held} | {r.member_id for r in open_requests})
    return render_template("manager/queue.html", house=house, houses=managed, held=held,
                           requests=open_requests, members=members)


def _back_to_queue():  # type: ignore[no-untyped-def]
    return redirect(url_for("web.manager_queue", house=request.form.get("house") or None))


@bp.route("/manager/bookings/<int:booking_id>/confirm", methods=["POST"])
@page(Role.manager)
def manager_confirm(booking_id: int):  # type: ignore[no-untyped-def]
    try:
        booking = bookings.confirm_booking(db(), actor(), booking_id)
    except DomainError as err:
        db().rollback()
        flash_error(err)
    else:
        flash(_("Confirmed: %(machine)s, %(when)s.", machine=booking.machine.name,
                when=when(booking.start_at, booking.machine.house)), "ok")
    return _back_to_queue()


@bp.route("/manager/bookings/<int:booking_id>/reject", methods=["POST"])
@page(Role.manager)
def manager_reject(booking_id: int):  # type: ignore[no-untyped-def]
    try:
        booking = bookings.reject_booking(db(), actor(), booking_id,
                                          reason=request.form.get("reason") or "rejected by the house")
    except DomainError as err:
        db().rollback()
        flash_error(err)
    else:
        flash(_("Rejected: %(machine)s, %(when)s. The slot is free again.",
                machine=booking.machine.name,
                when=when(booking.start_at, booking.machine.house)), "ok")
    return _back_to_queue()


# --- schedule runs -------------------------------------------------------------------------

DEFAULT_HORIZON_DAYS = 7
DEFAULT_TIME_LIMIT = 10
# The run page draws at most this many days of a (up to 62-day) horizon.
RUN_CHART_DAYS = 14
RUN_DAY_WIDTH = 120
ACTIVE_RUNS = (RunStatus.queued, RunStatus.running)


def _int_in(value: str | None, low: int, high: int) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if low <= number <= high else None


def _run_statuses() -> dict[str, str]:
    return {"queued": _("queued"), "running": _("running"), "succeeded": _("ready to review"),
            "failed": _("failed"), "published": _("published"), "discarded": _("discarded"),
            "stale": _("out of date")}


def _change_words() -> dict[str, str]:
    return {"new": _("new"), "moved": _("moved"), "unchanged": _("unchanged"),
            "dropped": _("dropped")}


@bp.route("/manager/runs", methods=["GET", "POST"])
@page(Role.manager)
def manager_runs():  # type: ignore[no-untyped-def]
    house, managed = _house_in_view()
    if request.method == "POST":
        first = _parse_day(request.form.get("start_day"), house)
        days = _int_in(request.form.get("horizon_days"), 1, scheduling.MAX_HORIZON.days)
        limit = _int_in(request.form.get("time_limit_seconds"), 1, scheduling.MAX_TIME_LIMIT)
        if days is None or limit is None:
            flash(_("Give the horizon in days (1 to %(days)d) and the time limit in seconds "
                    "(1 to %(seconds)d).", days=scheduling.MAX_HORIZON.days,
                    seconds=scheduling.MAX_TIME_LIMIT), "error")
            return redirect(url_for("web.manager_runs", house=house.id))
        # The horizon runs from the chosen day's local midnight, but never from the past:
        # nothing can be placed before now.
        start = max(_local_midnight(house, first),
                    utcnow().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1))
        end = _local_midnight(house, first + dt.timedelta(days=days))
        try:
            run = scheduling.queue_run(db(), actor(), house.id, {
                "horizon_start": start, "horizon_end": end, "time_limit_seconds": limit})
        except DomainError as err:
            db().rollback()
            flash_error(err)
            return redirect(url_for("web.manager_runs", house=house.id))
        flash(_("Schedule run %(id)d is queued; this page refreshes until it is done.",
                id=run.id), "ok")
        return redirect(url_for("web.manager_run", run_id=run.id))
    runs = list(db().scalars(scheduling.list_house_runs(db(), actor(), house.id).limit(50)))
    return render_template(
        "manager/runs.html", house=house, houses=managed, runs=runs, today=_today(house),
        horizon_days=DEFAULT_HORIZON_DAYS, time_limit=DEFAULT_TIME_LIMIT,
        max_days=scheduling.MAX_HORIZON.days, max_limit=scheduling.MAX_TIME_LIMIT,
        statuses=_run_statuses(), polling=any(r.status in ACTIVE_RUNS for r in runs))


def _managed_run(run_id: int) -> ScheduleRun:
    run = scheduling.get_run(db(), actor(), run_id)
    if not actor().manages(run.house_id):
        raise NotFound(N_("%(name)s %(object_id)s was not found.", name=object_label(ScheduleRun), object_id=run_id))
    return run


@bp.route("/manager/runs/<int:run_id>")
@page(Role.manager)
def manager_run(run_id: int):  # type: ignore[no-untyped-def]
    run = _managed_run(run_id)
    house = run.house
    changes: list[dict[str, Any]] = []
    proposal_chart = published_chart = None
    requests_by_op: dict[int, Any] = {}
    machine_names = {m.id: m.name for m in _house_machines(house)}
    members: dict[int, Member] = {}
    shown_days: list[dt.date] = []
    if run.assignments:
        changes = scheduling.diff_run(db(), actor(), run.id)
        for a in run.assignments:
            requests_by_op[a.operation_id] = a.operation
        for c in changes:
            if c["change"] == "dropped":
                requests_by_op[c["operation_id"]] = db().get(RequestOperation, c["operation_id"])
        members = _members_by_id({op.request.member_id for op in requests_by_op.values()})
        zone = calendar.house_zone(house)
        first = min(a.start_at for a in run.assignments).astimezone(zone).date()
        last = max(a.end_at for a in run.assignments).astimezone(zone).date()
        last = min(last, first + dt.timedelta(days=RUN_CHART_DAYS - 1))
        shown_days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        kind_of = {c["operation_id"]: c["change"] for c in changes}
        words = _change_words()
        proposal = []
        for a in run.assignments:
            op = a.operation
            member = members.get(op.request.member_id)
            name = member.business_name if member else f"#{op.request.member_id}"
            change = kind_of.get(a.operation_id, "new")
            title = _("Request %(request)d step %(step)d, %(member)s: %(start)s – %(end)s "
                      "(%(change)s)", request=op.request_id, step=op.position, member=name,
                      start=when(a.start_at, house), end=hm(a.end_at, house), change=words[change])
            if change != "unchanged":
                proposal.append((a, "moved" if change == "moved" else "proposed", title, name))
        # A short proposal gets the width of the day view; a long one scrolls sideways.
        width = max(RUN_DAY_WIDTH, DAY_VIEW_WIDTH / len(shown_days))
        published_chart = house_timeline(house, shown_days, width)[0]
        proposal_chart = house_timeline(house, shown_days, width, proposal)[0]
    utilisation = []
    # A stale run: the bookings that changed since it was solved, for the manager to see why.
    changed_since = (scheduling.changed_since_solve(db(), run)
                     if run.status is RunStatus.stale else [])
    for key, share in ((run.kpis or {}).get("utilisation") or {}).items():
        machine_id = int(str(key).split("-")[-1]) if str(key).split("-")[-1].isdigit() else None
        utilisation.append((machine_names.get(machine_id, key), share))
    return render_template(
        "manager/run.html", run=run, house=house, kpis=run.kpis or {}, changes=changes,
        operations=requests_by_op, members=members, machine_names=machine_names,
        proposal_chart=proposal_chart, published_chart=published_chart, shown_days=shown_days,
        utilisation=utilisation, statuses=_run_statuses(), change_words=_change_words(),
        polling=run.status in ACTIVE_RUNS, publishable=run.status is RunStatus.succeeded,
        discardable=run.status not in (RunStatus.published, RunStatus.discarded),
        changed_since=changed_since, again=run.status in (RunStatus.stale, RunStatus.failed),
        truncated=bool(shown_days) and len(shown_days) == RUN_CHART_DAYS)


def _flash_run_error(err: DomainError) -> None:
    """The schedule services' own refusals in the user's language; others as flash_error words."""
    refused = err.details.get("action") if err.code == "invalid_transition" else err.code
    words = {
        "publish": _("Only a run that is ready to review can be published."),
        "discard": _("A published or discarded run cannot be discarded."),
        "request_not_open": _("A production request of this run has changed since; "
                              "start a new run."),
        "stale_run": _("The published schedule changed after this run was solved, so it was "
                       "not published: queue a fresh run."),
    }.get(refused)
    if words is None:
        flash_error(err)
    else:
        flash(words, "error")


@bp.route("/manager/runs/<int:run_id>/publish", methods=["POST"])
@page(Role.manager)
def manager_run_publish(run_id: int):  # type: ignore[no-untyped-def]
    _managed_run(run_id)
    try:
        run = scheduling.publish_run(db(), actor(), run_id)
    except scheduling.StaleRun as err:
        _flash_run_error(err)  # the run stays marked stale (committed with the redirect)
    except DomainError as err:
        db().rollback()
        _flash_run_error(err)
    else:
        flash(ngettext("Published: %(num)d booking made for the members.",
                       "Published: %(num)d bookings made for the members.",
                       len(run.assignments)), "ok")
    return redirect(url_for("web.manager_run", run_id=run_id))


@bp.route("/manager/runs/<int:run_id>/again", methods=["POST"])
@page(Role.manager)
def manager_run_again(run_id: int):  # type: ignore[no-untyped-def]
    _managed_run(run_id)
    try:
        run = scheduling.queue_again(db(), actor(), run_id)
    except DomainError as err:
        db().rollback()
        flash_error(err)
        return redirect(url_for("web.manager_run", run_id=run_id))
    flash(_("Schedule run %(id)d is queued; this page refreshes until it is done.",
            id=run.id), "ok")
    return redirect(url_for("web.manager_run", run_id=run.id))


@bp.route("/manager/runs/<int:run_id>/discard", methods=["POST"])
@page(Role.manager)
def manager_run_discard(run_id: int):  # type: ignore[no-untyped-def]
    _managed_run(run_id)
    try:
        scheduling.discard_run(db(), actor(), run_id)
    except DomainError as err:
        db().rollback()
        _flash_run_error(err)
    else:
        flash(_("The run is discarded; nothing was booked."), "ok")
    return redirect(url_for("web.manager_run", run_id=run_id))


# --- utilisation ---------------------------------------------------------------------------

# Bars in the utilisation chart, in SVG units.
UTIL_LABEL_WIDTH = 200
UTIL_TRACK_WIDTH = 360
UTIL_ROW_HEIGHT = 30
# A machine booked beyond this share of its open time is drawn in the warning colour.
BUSY_SHARE = 0.85


def utilisation(house: ProductionHouse, start: dt.datetime,
                end: dt.datetime) -> list[dict[str, Any]]:
    """Per machine: booked minutes / open minutes over [start, end) (run_review.utilisation_between)."""
    return run_review.utilisation_between(db(), actor(), house.id, start, end)


def _duration(minutes: int) -> str:
    hours, rest = divmod(int(minutes), 60)
    return _("%(h)d h %(m)02d min", h=hours, m=rest) if rest else _("%(h)d h", h=hours)


@bp.route("/manager/utilisation")
@page(Role.manager)
def manager_utilisation():  # type: ignore[no-untyped-def]
    house, managed = _house_in_view()
    day = _parse_day(request.args.get("week"), house)
    monday = day - dt.timedelta(days=day.weekday())
    start = _local_midnight(house, monday)
    end = _local_midnight(house, monday + dt.timedelta(days=7))
    rows = utilisation(house, start, end)
    for i, row in enumerate(rows):
        row["y"] = 8 + i * UTIL_ROW_HEIGHT
        row["w"] = UTIL_TRACK_WIDTH * min(1.0, row["share"] or 0.0)
        row["busy"] = (row["share"] or 0.0) >= BUSY_SHARE
        row["label"] = _fit(row["machine"].name, UTIL_LABEL_WIDTH, 6.8)
        row["booked_text"] = _duration(row["booked"])
        row["open_text"] = _duration(row["open"])
    return render_template(
        "manager/utilisation.html", house=house, houses=managed, rows=rows, monday=monday,
        sunday=monday + dt.timedelta(days=6), previous=monday - dt.timedelta(days=7),
        following=monday + dt.timedelta(days=7), today=_today(house),
        label_width=UTIL_LABEL_WIDTH, track_width=UTIL_TRACK_WIDTH, row_height=UTIL_ROW_HEIGHT,
        height=16 + UTIL_ROW_HEIGHT * max(1, len(rows)),
        width=UTIL_LABEL_WIDTH + UTIL_TRACK_WIDTH + 70)


# --- recording a downtime ------------------------------------------------------------------

def _parse_local(value: str | None, house: ProductionHouse) -> dt.datetime | None:
    """A datetime-local field ("2026-11-30T13:00") read in the house's zone, as UTC."""
    try:
        moment = dt.datetime.fromisoformat(value or "")
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=calendar.house_zone(house))
    return moment.astimezone(dt.timezone.utc)


@dataclass
class Hit:
    """A booking a downtime hit, what became of it, and who was told."""

    booking: Booking
    action: str  # "cancelled" or "kept"
    told: list[User] = field(default_factory=list)
    alternatives: list[tuple[str, dt.datetime, dt.datetime]] = field(default_factory=list)


def _hits(downtime: Downtime) -> list[Hit]:
    """The bookings `downtime` hit, read back from what record_downtime left behind: the
    messages it wrote (keyed downtime:<id>:booking:<id>, with the alternatives offered), the
    bookings it cancelled (reason "machine downtime...") and the live ones it kept."""
    prefix = f"downtime:{downtime.id}:booking:"
    notes = db().execute(
        select(Notification, User).join(User, User.id == Notification.user_id)
        .where(Notification.key.like(prefix + "%")).order_by(User.name, User.id))
    told: dict[int, list[tuple[Notification, User]]] = {}
    for note, user in notes:
        tail = (note.key or "")[len(prefix):]
        if tail.isdigit():
            told.setdefault(int(tail), []).append((note, user))
    hits = []
    for b in bookings.list_bookings(db(), actor(), machine_id=downtime.machine_id,
                                    start=downtime.start_at, end=downtime.end_at):
        cancelled_by_it = (b.status is BookingStatus.cancelled
                           and (b.cancelled_reason or "").startswith("machine downtime"))
        if b.id not in told and not b.is_live and not cancelled_by_it:
            continue
        hit = Hit(b, "cancelled" if b.status is BookingStatus.cancelled else "kept")
        for note, user in told.get(b.id, []):
            hit.told.append(user)
            if not hit.alternatives:
                for alt in (note.context or {}).get("alternatives") or []:
                    try:
                        hit.alternatives.append((str(alt["machine"]),
                                                 dt.datetime.fromisoformat(alt["start"]),
                                                 dt.datetime.fromisoformat(alt["end"])))
                    except (KeyError, TypeError, ValueError):
                        continue
        hits.append(hit)
    return hits


@bp.route("/manager/downtimes", methods=["GET", "POST"])
@page(Role.manager)
def manager_downtime():  # type: ignore[no-untyped-def]
    house, managed = _house_in_view()
    rows = _house_machines(house)
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        machine_id = _int_in(request.form.get("machine_id"), 1, 2**31 - 1)
        start = _parse_local(request.form.get("start"), house)
        end = _parse_local(request.form.get("end"), house)
        kind = request.form.get("kind") or DowntimeKind.maintenance.value
        affected = request.form.get("affected") or "keep"
        complete = (machine_id in {m.id for m in rows} and start is not None and end is not None
                    and kind in {k.value for k in DowntimeKind}
                    and affected in downtimes.AFFECTED_CHOICES)
        if not complete:
            flash(_("Choose a machine of this house, a start and an end, the kind and what happens "
                    "to the bookings it hits."), "error")
        else:
            try:
                result = downtimes.record_downtime(
                    db(), actor(), machine_id=machine_id, start=start, end=end, kind=kind,
                    reason=(request.form.get("reason") or "").strip()[:300], affected=affected)
            except DomainError as err:
                db().rollback()
                flash_error(err)
            else:
                # Post/redirect/get: reloading the result page must not record it twice.
                return redirect(url_for("web.manager_downtime_result",
                                        downtime_id=result.downtime.id))
    now = utcnow()
    upcoming = [d for d in db().scalars(downtimes.list_downtimes(actor(), house_id=house.id)
                                        .where(Downtime.end_at > now))]
    return render_template(
        "manager/downtime.html", house=house, houses=managed, machines=rows, form=form,
        kinds=[(k.value, _kind_words()[k.value]) for k in DowntimeKind], upcoming=upcoming,
        kind_words=_kind_words())


@bp.route("/manager/downtimes/<int:downtime_id>")
@page(Role.manager)
def manager_downtime_result(downtime_id: int):  # type: ignore[no-untyped-def]
    downtime = downtimes.get_downtime(db(), actor(), downtime_id)
    house = downtime.machine.house
    if not actor().manages(house.id):
        raise NotFound(N_("%(name)s %(object_id)s was not found.", name=object_label(Downtime), object_id=downtime_id))
    hits = _hits(downtime)
    replan = next((r for r in db().scalars(scheduling.list_house_runs(db(), actor(), house.id))
                   if r.purpose == "replan"
                   and (r.policies or {}).get("downtime_id") == downtime.id), None)
    return render_template(
        "manager/downtime_result.html", house=house, downtime=downtime, hits=hits, replan=replan,
        members=_members_by_id({h.booking.member_id for h in hits}), kind_words=_kind_words(),
        local_day=downtime.start_at.astimezone(calendar.house_zone(house)).date())


# --- permit warnings -----------------------------------------------------------------------

WARNING_STATES = ("expired", "expiring", "needs_review", "pending")


def _permit_states() -> dict[str, str]:
    return {"valid": _("valid"), "expiring": _("expiring soon"), "expired": _("expired"),
            "pending": _("pending"), "needs_review": _("needs review")}


def _verification_words() -> dict[str, str]:
    return {"submitted": _("waiting for verification"), "verified": _("verified"),
            "rejected": _("rejected")}


@bp.route("/manager/permits")
@page(Role.manager)
def manager_permits():  # type: ignore[no-untyped-def]
    house, managed = _house_in_view()
    summary = permits.overview(db(), actor(), house_id=house.id)
    members = {m.id: m for m in db().scalars(
        scoped(actor(), Member).where(Member.house_id == house.id))}
    now = utcnow()
    warnings = []
    for permit in permits.list_permits(db(), actor()):
        if permit.member_id not in members:
            continue
        state = permits.state(db(), permit, now)
        if state in WARNING_STATES:
            warnings.append({"permit": permit, "state": state, "member": members[permit.member_id],
                             "days_left": permits.days_left(db(), permit, now)})
    order = {s: i for i, s in enumerate(WARNING_STATES)}
    warnings.sort(key=lambda w: (order[w["state"]], w["permit"].expires_on or dt.date.max))
    type_names = {t.code: t.name for t in db().scalars(permits.list_types(db(), actor()))}
    for product in summary["blocked_products"]:
        for gap in product["missing"]:
            if gap.get("lapse_on"):
                gap["lapse_on"] = dt.date.fromisoformat(gap["lapse_on"])
    # Members' entries waiting for the house to check their number and document.
    waiting = [p for p in permits.list_permits(db(), actor(), verification="submitted")
               if p.member_id in members]
    return render_template(
        "manager/permits.html", house=house, houses=managed, summary=summary, warnings=warnings,
        members=members, states=_permit_states(), state_order=("valid",) + WARNING_STATES,
        type_names=type_names, waiting=waiting, verification_words=_verification_words())


def _back_to_permits():  # type: ignore[no-untyped-def]
    return redirect(url_for("web.manager_permits", house=request.form.get("house") or None))


@bp.route("/manager/permits/<int:permit_id>/verify", methods=["POST"])
@page(Role.manager)
def manager_permit_verify(permit_id: int):  # type: ignore[no-untyped-def]
    try:
        permit = permits.verify_permit(db(), actor(), permit_id,
                                       note=(request.form.get("note") or "").strip()[:500])
    except DomainError as err:
        db().rollback()
        flash_error(err)
    else:
        flash(_("Verified: %(permit)s %(number)s.", permit=permit.permit_type.name,
                number=permit.number), "ok")
    return _back_to_permits()


@bp.route("/manager/permits/<int:permit_id>/reject", methods=["POST"])
@page(Role.manager)
def manager_permit_reject(permit_id: int):  # type: ignore[no-untyped-def]
    try:
        permit = permits.reject_permit(db(), actor(), permit_id,
                                       reason=(request.form.get("reason") or "").strip()[:500])
    except DomainError as err:
        db().rollback()
        flash_error(err)
    else:
        flash(_("Rejected: %(permit)s %(number)s. The member is told why.",
                permit=permit.permit_type.name, number=permit.number), "ok")
    return _back_to_permits()
