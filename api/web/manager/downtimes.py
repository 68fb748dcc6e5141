"""Recording a downtime and what it hit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from api.database import db
from api.web import actor, bp, flash_error, page
from api.web.manager._common import (  # noqa: F401
    _house_in_view,
    _local_midnight,
    _managed_houses,
    _members_by_id,
    _parse_day,
    _today,
)
from api.web.manager.runs import _int_in
from api.web.manager.timeline import _house_machines, _kind_words
from factoryshare.db import utcnow
from factoryshare.errors import DomainError, NotFound
from factoryshare.i18n import N_
from factoryshare.i18n import label as object_label
from factoryshare.models import Downtime, DowntimeKind, ProductionHouse, Role, User
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.models.notifications import Notification
from factoryshare.services import (
    bookings,
    calendar,
    downtimes,
    scheduling,
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
