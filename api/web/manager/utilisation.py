"""Utilisation per machine over a week."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from api.database import db
from api.web import actor, bp, page
from api.web.manager._common import (  # noqa: F401
    _house_in_view,
    _local_midnight,
    _managed_houses,
    _members_by_id,
    _parse_day,
    _today,
)
from api.web.manager.timeline import _fit
from factoryshare.models import ProductionHouse, Role
from factoryshare.services import (
    run_review,
)

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
