"""The house timeline: a Gantt chart drawn as inline SVG on the server."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_date
from flask import render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from api.database import db
from api.web import actor, bp, hm, page, said, when
from api.web.manager._common import (  # noqa: F401
    _house_in_view,
    _local_midnight,
    _managed_houses,
    _members_by_id,
    _parse_day,
    _today,
)
from factoryshare.db import utcnow
from factoryshare.models import Downtime, Machine, Member, ProductionHouse, Role
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.services import (
    bookings,
    calendar,
    downtimes,
    machines,
)

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
