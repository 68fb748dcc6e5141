"""Utilisation per machine over a week."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import render_template, request

from api.database import db
from api.web import actor, bp, page
from api.web.manager._common import _house_in_view, _local_midnight, _parse_day, _today
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


def _fit(label: str, width: float, char_width: float = 6.8) -> str:
    """The label cut to what fits in `width` SVG units; the full name is in the <title> and in
    the table beside the chart."""
    room = int((width - 8) / char_width)
    if room >= len(label):
        return label
    return label[: room - 1] + "…" if room >= 4 else ""


def utilisation(
    house: ProductionHouse, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Per machine: booked minutes / open minutes over [start, end) (run_review.utilisation_between)."""
    return run_review.utilisation_between(db(), actor(), house.id, start, end)


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
        row["label"] = _fit(row["machine"].name, UTIL_LABEL_WIDTH)
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
        today=_today(house),
        label_width=UTIL_LABEL_WIDTH,
        track_width=UTIL_TRACK_WIDTH,
        row_height=UTIL_ROW_HEIGHT,
        height=16 + UTIL_ROW_HEIGHT * max(1, len(rows)),
        width=UTIL_LABEL_WIDTH + UTIL_TRACK_WIDTH + 70,
    )
