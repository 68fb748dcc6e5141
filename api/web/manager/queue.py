"""The queue of held bookings and open requests, with confirm and reject."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api.database import db
from api.web import actor, bp, flash_error, page, safe_next, when
from api.web.manager.common import house_in_view, members_by_id
from factoryshare.errors import DomainError
from factoryshare.models import Role
from factoryshare.services import agenda, bookings, production_requests

# --- the queue -----------------------------------------------------------------------------


@bp.route("/manager/queue")
@page(Role.manager)
def manager_queue():  # type: ignore[no-untyped-def]
    house, managed = house_in_view()
    held = agenda.waiting_holds(db(), actor(), house.id)
    open_requests = list(
        db().scalars(
            production_requests.list_requests(db(), actor(), status="open", house_id=house.id)
        )
    )
    members = members_by_id({b.member_id for b in held} | {r.member_id for r in open_requests})
    return render_template(
        "manager/queue.html",
        house=house,
        houses=managed,
        held=held,
        requests=open_requests,
        members=members,
    )


def _back_to_queue():  # type: ignore[no-untyped-def]
    """Back where the form was (`next`: the timeline's booking panel), else to the queue."""
    return redirect(
        safe_next(request.form.get("next"))
        or url_for("web.manager_queue", house=request.form.get("house") or None)
    )


@bp.route("/manager/bookings/<int:booking_id>/confirm", methods=["POST"])
@page(Role.manager)
def manager_confirm(booking_id: int):  # type: ignore[no-untyped-def]
    try:
        booking = bookings.confirm_booking(db(), actor(), booking_id)
    except DomainError as err:
        db().rollback()
        flash_error(err)
    else:
        flash(
            _(
                "Confirmed: %(machine)s, %(when)s.",
                machine=booking.machine.name,
                when=when(booking.start_at, booking.machine.house),
            ),
            "ok",
        )
    return _back_to_queue()


@bp.route("/manager/bookings/<int:booking_id>/reject", methods=["POST"])
@page(Role.manager)
def manager_reject(booking_id: int):  # type: ignore[no-untyped-def]
    try:
        booking = bookings.reject_booking(
            db(), actor(), booking_id, reason=(request.form.get("reason") or "")[:300]
        )
    except DomainError as err:
        db().rollback()
        flash_error(err)
    else:
        flash(
            _(
                "Rejected: %(machine)s, %(when)s. The slot is free again.",
                machine=booking.machine.name,
                when=when(booking.start_at, booking.machine.house),
            ),
            "ok",
        )
    return _back_to_queue()
