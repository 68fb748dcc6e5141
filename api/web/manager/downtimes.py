"""Recording a downtime and what it hit."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api.database import db
from api.web import actor, bp, flash_error, page
from api.web.manager.common import house_in_view, members_by_id
from api.web.manager.runs import int_in_range
from api.web.manager.timeline import downtime_kind_words, house_machines
from factoryshare.db import utcnow
from factoryshare.errors import DomainError
from factoryshare.models import DowntimeKind, ProductionHouse, Role
from factoryshare.services import (
    calendar,
    downtimes,
)

# --- recording a downtime ------------------------------------------------------------------


def _parse_local(value: str | None, house: ProductionHouse) -> dt.datetime | None:
    """A datetime-local field ("2026-11-30T13:00") read in the house's zone, as UTC."""
    try:
        moment = dt.datetime.fromisoformat(value or "")
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=calendar.house_zone(house))
    return moment.astimezone(dt.UTC)


@bp.route("/manager/downtimes", methods=["GET", "POST"])
@page(Role.manager)
def manager_downtime():  # type: ignore[no-untyped-def]
    house, managed = house_in_view()
    rows = house_machines(house)
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        machine_id = int_in_range(request.form.get("machine_id"), 1, 2**31 - 1)
        start = _parse_local(request.form.get("start"), house)
        end = _parse_local(request.form.get("end"), house)
        kind = request.form.get("kind") or DowntimeKind.maintenance.value
        affected = request.form.get("affected") or "keep"
        complete = (
            machine_id in {m.id for m in rows}
            and start is not None
            and end is not None
            and kind in {k.value for k in DowntimeKind}
            and affected in downtimes.AFFECTED_CHOICES
        )
        if not complete:
            flash(
                _(
                    "Choose a machine of this house, a start and an end, the kind and what happens "
                    "to the bookings it hits."
                ),
                "error",
            )
        else:
            try:
                result = downtimes.record_downtime(
                    db(),
                    actor(),
                    machine_id=machine_id,
                    start=start,
                    end=end,
                    kind=kind,
                    reason=(request.form.get("reason") or "").strip()[:300],
                    affected=affected,
                )
            except DomainError as err:
                db().rollback()
                flash_error(err)
            else:
                # Post/redirect/get: reloading the result page must not record it twice.
                return redirect(
                    url_for("web.manager_downtime_result", downtime_id=result.downtime.id)
                )
    upcoming = list(
        db().scalars(
            downtimes.list_downtimes(db(), actor(), house_id=house.id, ending_after=utcnow())
        )
    )
    return render_template(
        "manager/downtime.html",
        house=house,
        houses=managed,
        machines=rows,
        form=form,
        kinds=[(k.value, downtime_kind_words()[k.value]) for k in DowntimeKind],
        upcoming=upcoming,
        kind_words=downtime_kind_words(),
    )


@bp.route("/manager/downtimes/<int:downtime_id>")
@page(Role.manager)
def manager_downtime_result(downtime_id: int):  # type: ignore[no-untyped-def]
    hits = downtimes.downtime_hits(db(), actor(), downtime_id)
    downtime = downtimes.get_downtime(db(), actor(), downtime_id)
    house = downtime.machine.house
    replan = downtimes.replan_run(db(), actor(), downtime_id)
    return render_template(
        "manager/downtime_result.html",
        house=house,
        downtime=downtime,
        hits=hits,
        replan=replan,
        members=members_by_id({h.booking.member_id for h in hits}),
        kind_words=downtime_kind_words(),
        local_day=downtime.start_at.astimezone(calendar.house_zone(house)).date(),
    )
