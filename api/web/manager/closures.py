"""Closures and opening hours: each change is previewed with the live bookings it would leave
outside the calendar (houses.close_house / change_house with dry_run), then confirmed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from api.database import db
from api.web import actor, bp, day, flash_error, page
from api.web.manager.common import house_in_view, members_by_id, today
from factoryshare.errors import DomainError
from factoryshare.models import WEEKDAYS, ProductionHouse, Role
from factoryshare.services import houses


def _weekday_words() -> dict[str, str]:
    return {
        "mon": _("Monday"),
        "tue": _("Tuesday"),
        "wed": _("Wednesday"),
        "thu": _("Thursday"),
        "fri": _("Friday"),
        "sat": _("Saturday"),
        "sun": _("Sunday"),
    }


def _why_words() -> dict[str, str]:
    return {
        "house_closed": _("the house is closed that day"),
        "holiday": _("a public holiday"),
        "outside_opening_hours": _("outside the new opening hours"),
        "not_aligned": _("off the new slot times"),
    }


def _hours_text(house: ProductionHouse) -> dict[str, str]:
    hours = house.opening_hours or {}
    return {d: ", ".join(f"{a}-{b}" for a, b in hours.get(d) or []) for d in WEEKDAYS}


def _hours_from(form: Any) -> dict[str, list[list[str]]]:
    """The weekday fields ("08:00-12:00, 13:00-17:00"; empty: closed) as the service's map;
    a piece that is not two times joined by "-" is passed on for the service to name."""
    hours: dict[str, list[list[str]]] = {}
    for d in WEEKDAYS:
        pieces = [p.strip() for p in (form.get(f"hours_{d}") or "").split(",") if p.strip()]
        hours[d] = [[t.strip() for t in p.split("-")] if p.count("-") == 1 else [p] for p in pieces]
    return hours


def _parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return None


def _calendar_page(
    house: ProductionHouse, managed: list[ProductionHouse], *, form: Any = None, status: int = 200
):  # type: ignore[no-untyped-def]
    closures = list(db().scalars(houses.list_closures(db(), actor(), house.id, since=today(house))))
    return render_template(
        "manager/calendar.html",
        house=house,
        houses=managed,
        closures=closures,
        hours=_hours_text(house)
        if form is None
        else {d: form.get(f"hours_{d}", "") for d in WEEKDAYS},
        weekdays=[(d, _weekday_words()[d]) for d in WEEKDAYS],
        form=form or {},
        today=today(house),
    ), status


@bp.route("/manager/calendar")
@page(Role.manager)
def manager_calendar():  # type: ignore[no-untyped-def]
    house, managed = house_in_view()
    return _calendar_page(house, managed)


def _preview(
    house: ProductionHouse,
    change: Any,
    *,
    kind: str,
    fields: dict[str, str],
    title: str,
    confirm: str,
):  # type: ignore[no-untyped-def]
    members = members_by_id({b.member_id for b in change.bookings})
    return render_template(
        "manager/calendar_preview.html",
        house=house,
        change=change,
        kind=kind,
        fields=fields,
        title=title,
        confirm=confirm,
        members=members,
        why_words=_why_words(),
        action=url_for("web.manager_closure_add" if kind == "closure" else "web.manager_hours"),
    )


def _applied(change: Any) -> None:
    cancelled = len(change.affected)
    if cancelled:
        flash(
            ngettext(
                "%(num)d booking was cancelled; its member is told, with other free slots.",
                "%(num)d bookings were cancelled; their members are told, with other free slots.",
                cancelled,
            ),
            "ok",
        )
    if change.replan is not None:
        flash(
            _(
                "Planned production work was hit: a re-plan is queued for you to review "
                "(run %(id)d).",
                id=change.replan.id,
            ),
            "info",
        )


@bp.route("/manager/calendar/closures", methods=["POST"])
@page(Role.manager)
def manager_closure_add():  # type: ignore[no-untyped-def]
    house, managed = house_in_view()
    start_on, end_on = (
        _parse_date(request.form.get("start_on")),
        _parse_date(request.form.get("end_on")),
    )
    reason = (request.form.get("reason") or "").strip()[:200]
    if start_on is None or end_on is None:
        flash(_("Give the first and the last day of the closure."), "error")
        return _calendar_page(house, managed, form=request.form, status=422)
    confirmed = request.form.get("step") == "confirm"
    try:
        change = houses.close_house(
            db(),
            actor(),
            house.id,
            start_on=start_on,
            end_on=end_on,
            reason=reason,
            dry_run=not confirmed,
            affected="cancel"
            if confirmed and request.form.get("affected") == "cancel"
            else "refuse",
        )
    except DomainError as err:
        db().rollback()
        if err.code != "bookings_affected":
            flash_error(err)
            return _calendar_page(house, managed, form=request.form, status=err.status)
        # Bookings made since the preview: preview again, with them.
        flash(_("Bookings were made in these days since the preview; look again."), "error")
        change = houses.close_house(
            db(), actor(), house.id, start_on=start_on, end_on=end_on, reason=reason, dry_run=True
        )
        confirmed = False
    if not confirmed:
        count = len(change.bookings)
        period = (
            day(start_on)
            if start_on == end_on
            else _("%(first)s to %(last)s", first=day(start_on), last=day(end_on))
        )
        confirm = (
            ngettext(
                "Close the house from %(period)s? %(num)d booking is cancelled and "
                "its member told.",
                "Close the house from %(period)s? %(num)d bookings are cancelled and "
                "their members told.",
                count,
                period=period,
            )
            if count
            else _("Close the house from %(period)s? No booking is hit.", period=period)
        )
        return _preview(
            house,
            change,
            kind="closure",
            confirm=confirm,
            title=_("Close the house from %(period)s", period=period),
            fields={
                "start_on": start_on.isoformat(),
                "end_on": end_on.isoformat(),
                "reason": reason,
            },
        )
    flash(
        _("The house is closed from %(first)s to %(last)s.", first=day(start_on), last=day(end_on)),
        "ok",
    )
    _applied(change)
    return redirect(url_for("web.manager_calendar", house=house.id))


@bp.route("/manager/calendar/hours", methods=["POST"])
@page(Role.manager)
def manager_hours():  # type: ignore[no-untyped-def]
    house, managed = house_in_view()
    hours = _hours_from(request.form)
    confirmed = request.form.get("step") == "confirm"
    try:
        change = houses.change_house(
            db(),
            actor(),
            house.id,
            {"opening_hours": hours},
            dry_run=not confirmed,
            affected="cancel"
            if confirmed and request.form.get("affected") == "cancel"
            else "refuse",
        )
    except DomainError as err:
        db().rollback()
        if err.code != "bookings_affected":
            flash_error(err)
            return _calendar_page(house, managed, form=request.form, status=err.status)
        flash(_("Bookings were made outside the new hours since the preview; look again."), "error")
        change = houses.change_house(
            db(), actor(), house.id, {"opening_hours": hours}, dry_run=True
        )
        confirmed = False
    if not confirmed:
        count = len(change.bookings)
        confirm = (
            ngettext(
                "Change the opening hours? %(num)d booking is cancelled and its member told.",
                "Change the opening hours? %(num)d bookings are cancelled and their members told.",
                count,
            )
            if count
            else _("Change the opening hours? No booking is hit.")
        )
        return _preview(
            house,
            change,
            kind="hours",
            confirm=confirm,
            title=_("New opening hours"),
            fields={f"hours_{d}": request.form.get(f"hours_{d}", "") for d in WEEKDAYS},
        )
    flash(_("The opening hours are changed."), "ok")
    _applied(change)
    return redirect(url_for("web.manager_calendar", house=house.id))


@bp.route("/manager/calendar/closures/<int:closure_id>/delete", methods=["POST"])
@page(Role.manager)
def manager_closure_delete(closure_id: int):  # type: ignore[no-untyped-def]
    house, _managed = house_in_view()
    try:
        houses.delete_closure(db(), actor(), house.id, closure_id)
    except DomainError as err:
        db().rollback()
        flash_error(err)
    else:
        flash(_("The closure is removed; the house opens on those days again."), "ok")
    return redirect(url_for("web.manager_calendar", house=house.id))
