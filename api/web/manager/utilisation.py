"""Utilisation per machine over a week."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import render_template, request

from api.database import db
from api.web import actor, bp, page
from api.web.gantt import fit_label
from api.web.manager.common import house_in_view, local_midnight, parse_day, today
from api.web.words import duration
from factoryshare.models import ProductionHouse, Role
from factoryshare.services import (
    run_review,
)

# --- utilisation ---------------------------------------------------------------------------

# Bars in the utilisation chart, in SVG units.
UTIL_LABEL_WIDTH = 200
UTIL_TRACK_WIDTH = 360
UTIL_ROW_HEIGHT = 30


def utilisation(
    house: ProductionHouse, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Per machine: booked minutes / open minutes over [start, end) (run_review.utilisation_between)."""
    return run_review.utilisation_between(db(), actor(), house.id, start, end)


@bp.route("/manager/utilisation")
@page(Role.manager)
def manager_utilisation():  # type: ignore[no-untyped-def]
    house, managed = house_in_view()
    day = parse_day(request.args.get("week"), house)
    monday = day - dt.timedelta(days=day.weekday())
    start = local_midnight(house, monday)
    end = local_midnight(house, monday + dt.timedelta(days=7))
    rows = utilisation(house, start, end)
    for i, row in enumerate(rows):
        row["y"] = 8 + i * UTIL_ROW_HEIGHT
        row["w"] = UTIL_TRACK_WIDTH * min(1.0, row["share"] or 0.0)
        row["label"] = fit_label(row["machine"].name, UTIL_LABEL_WIDTH, char_width=6.8)
        row["booked_text"] = duration(row["booked"])
        row["open_text"] = duration(row["open"])
    return render_template(
        "manager/utilisation.html",
        house=house,
        houses=managed,
        rows=rows,
        monday=monday,
        sunday=monday + dt.timedelta(days=6),
        previous=monday - dt.timedelta(days=7),
        following=monday + dt.timedelta(days=7),
        today=today(house),
        label_width=UTIL_LABEL_WIDTH,
        track_width=UTIL_TRACK_WIDTH,
        row_height=UTIL_ROW_HEIGHT,
        height=16 + UTIL_ROW_HEIGHT * max(1, len(rows)),
        width=UTIL_LABEL_WIDTH + UTIL_TRACK_WIDTH + 70,
    )
