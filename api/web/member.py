"""A member's pages: the day grid of free slots, the review before booking, my bookings (cancel,
move), my production requests (ask with an estimate first, where the plan placed each, withdraw)
and the inbox. Every rule lives in the services called here (slot_grid, request_estimate,
bookings, production_requests, run_review, notifications); the views parse and render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from api.database import db
from api.web import actor, add_nav, bp, flash_error, page, said, when
from factoryshare.db import utcnow
from factoryshare.errors import DomainError
from factoryshare.i18n import N_
from factoryshare.models import ProductionHouse, Role
from factoryshare.models.bookings import LIVE_STATUSES
from factoryshare.services import (
    bookings,
    notifications,
    production_requests,
    products,
    request_estimate,
    run_review,
    slot_grid,
    solving,
)

add_nav("web.find_slot", _l("Book a machine"), roles={Role.member})
add_nav("web.my_bookings", _l("My bookings"), roles={Role.member})
add_nav("web.my_requests", _l("My production"), roles={Role.member})
add_nav(
    "web.inbox",
    _l("Inbox"),
    roles={Role.member},
    badge=lambda me: notifications.unread_count(db(), me),
)

INBOX_SIZE = 50


def my_house() -> ProductionHouse:
    """The house of the signed-in member."""
    return slot_grid.member_house(db(), actor())


def house_today(house: ProductionHouse) -> dt.date:
    """Today's date in the house's time zone."""
    return slot_grid.today(house, utcnow())


def _parse_day(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _parse_moment(value: str | None) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _parse_int(value: str | None, default: int | None = None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return default
    return number if 0 < number < 2**31 else default


def _grid_args() -> dict[str, Any]:
    """The grid's query (what for, day, how long) carried from page to page."""
    return {
        "capability": request.values.get("capability") or None,
        "day": request.values.get("day") or None,
        "duration": request.values.get("duration") or None,
    }


# -- booking: the day grid, the review, the booking --------------------------------------------


@bp.route("/slots")
@page(Role.member)
def find_slot():  # type: ignore[no-untyped-def]
    house = my_house()
    capabilities = slot_grid.house_capabilities(db(), actor(), house.id)
    capability = request.args.get("capability") or None
    if capability not in {c.code for c in capabilities}:
        capability = None
    day = _parse_day(request.args.get("day"), house_today(house))
    durations = slot_grid.durations(house)
    duration = _parse_int(request.args.get("duration"), 60)
    if duration not in durations:
        duration = 60 if 60 in durations else durations[0]
    grid = slot_grid.day_grid(
        db(), actor(), house.id, day, duration_minutes=duration, capability=capability
    )
    return render_template(
        "member/find_slot.html",
        house=house,
        capabilities=capabilities,
        capability=capability,
        grid=grid,
        day=day,
        duration=duration,
        durations=durations,
        holiday=said(grid.holiday),
        closure_reason=said(grid.closure_reason),
    )


@bp.route("/slots/review")
@page(Role.member)
def review_slot():  # type: ignore[no-untyped-def]
    back = url_for("web.find_slot", **_grid_args())
    machine_id = _parse_int(request.args.get("machine_id"))
    start = _parse_moment(request.args.get("start"))
    end = _parse_moment(request.args.get("end"))
    if machine_id is None or start is None or end is None:
        flash(_("Pick a slot from the grid."), "error")
        return redirect(back)
    try:
        review = slot_grid.review_slot(db(), actor(), machine_id, start, end)
    except DomainError as err:
        db().rollback()
        flash_error(err)
        return redirect(back)
    return render_template(
        "member/review.html",
        review=review,
        house=review.house,
        back=back,
        grid_args=_grid_args(),
        rule=said(review.cancellation_rule),
    )


@bp.route("/bookings", methods=["POST"])
@page(Role.member)
def book():  # type: ignore[no-untyped-def]
    machine_id = _parse_int(request.form.get("machine_id"))
    start = _parse_moment(request.form.get("start"))
    end = _parse_moment(request.form.get("end"))
    back = url_for("web.find_slot", **_grid_args())
    if machine_id is None or start is None or end is None:
        flash(_("Pick a slot from the grid."), "error")
        return redirect(back)
    try:
        booking = bookings.create_booking(
            db(), actor(), machine_id=machine_id, start=start, end=end
        )
    except DomainError as err:
        db().rollback()
        flash_error(err)
        return redirect(back)
    house = booking.machine.house
    if booking.status.value == "held":
        flash(
            _(
                "Held: %(machine)s, %(when)s. The house will confirm it.",
                machine=booking.machine.name,
                when=when(booking.start_at, house),
            ),
            "ok",
        )
    else:
        flash(
            _(
                "Booked: %(machine)s, %(when)s.",
                machine=booking.machine.name,
                when=when(booking.start_at, house),
            ),
            "ok",
        )
    return redirect(url_for("web.my_bookings"))


@bp.route("/bookings")
@page(Role.member)
def my_bookings():  # type: ignore[no-untyped-def]
    upcoming, past = bookings.upcoming_and_recent(db(), actor())
    return render_template("member/bookings.html", upcoming=upcoming, past=past, live=LIVE_STATUSES)


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@page(Role.member)
def cancel(booking_id: int):  # type: ignore[no-untyped-def]
    try:
        bookings.cancel_booking(db(), actor(), booking_id, reason=N_("cancelled by the member"))
    except DomainError as err:
        db().rollback()
        flash_error(err)
    else:
        flash(_("The booking is cancelled."), "ok")
    return redirect(url_for("web.my_bookings"))


@bp.route("/bookings/<int:booking_id>/move", methods=["GET", "POST"])
@page(Role.member)
def move(booking_id: int):  # type: ignore[no-untyped-def]
    if request.method == "POST":
        start = _parse_moment(request.form.get("start"))
        end = _parse_moment(request.form.get("end"))
        if start is None or end is None:
            flash(_("Pick a slot from the grid."), "error")
            return redirect(url_for("web.move", booking_id=booking_id))
        try:
            bookings.move_booking(db(), actor(), booking_id, start=start, end=end)
        except DomainError as err:
            db().rollback()
            flash_error(err)
            return redirect(
                url_for("web.move", booking_id=booking_id, day=request.form.get("day") or None)
            )
        flash(_("The booking is moved."), "ok")
        return redirect(url_for("web.my_bookings"))
    try:
        day = dt.date.fromisoformat(request.args.get("day") or "")
    except ValueError:
        day = None  # the booking's own day
    booking, grid = slot_grid.move_grid(db(), actor(), booking_id, day)
    house = booking.machine.house
    return render_template(
        "member/move.html",
        booking=booking,
        house=house,
        grid=grid,
        day=grid.day,
        movable=booking.status in LIVE_STATUSES,
        holiday=said(grid.holiday),
        closure_reason=said(grid.closure_reason),
    )


# -- production: ask (with the estimate first), follow, withdraw --------------------------------


def _my_products() -> list[Any]:
    return [
        p
        for p in db().scalars(products.list_products(db(), actor(), member_id=actor().member_id))
        if p.routing
    ]


@bp.route("/production")
@page(Role.member)
def my_requests():  # type: ignore[no-untyped-def]
    requests_ = list(db().scalars(production_requests.list_requests(db(), actor())))
    operation_ids = [op.id for r in requests_ for op in r.operations]
    placed = solving.published_bookings(db(), operation_ids) if operation_ids else {}
    return render_template(
        "member/requests.html",
        requests=requests_,
        placed=placed,
        why_not=solving.why_not_placed(db(), requests_),
        can_ask=bool(_my_products()),
    )


def _request_form(house: ProductionHouse) -> dict[str, Any]:
    """The request form's values (the query of the estimate, the form of the request)."""
    today = house_today(house)
    earliest = _parse_day(request.values.get("earliest_on"), today + dt.timedelta(days=1))
    return {
        "product_id": _parse_int(request.values.get("product_id")),
        "quantity": _parse_int(request.values.get("quantity")),
        "earliest_on": earliest,
        "due_on": _parse_day(request.values.get("due_on"), earliest + dt.timedelta(days=14)),
    }


@bp.route("/production/new")
@page(Role.member)
def ask_production():  # type: ignore[no-untyped-def]
    house = my_house()
    form = _request_form(house)
    estimate = None
    if "estimate" in request.args:
        if form["product_id"] is None or form["quantity"] is None:
            flash(_("Choose a product and a quantity of at least 1."), "error")
        else:
            start, due = request_estimate.request_window(house, form["earliest_on"], form["due_on"])
            try:
                estimate = request_estimate.estimate_request(
                    db(),
                    actor(),
                    product_id=form["product_id"],
                    quantity=form["quantity"],
                    earliest_start=start,
                    due=due,
                )
            except DomainError as err:
                db().rollback()
                flash_error(err)
    return render_template(
        "member/ask.html",
        house=house,
        products=_my_products(),
        form=form,
        estimate=estimate,
        why_not=estimate.why_not if estimate else None,
    )


@bp.route("/production", methods=["POST"])
@page(Role.member)
def submit_production():  # type: ignore[no-untyped-def]
    house = my_house()
    form = _request_form(house)
    back = url_for(
        "web.ask_production",
        product_id=form["product_id"],
        quantity=form["quantity"],
        earliest_on=form["earliest_on"].isoformat(),
        due_on=form["due_on"].isoformat(),
    )
    if form["product_id"] is None or form["quantity"] is None:
        flash(_("Choose a product and a quantity of at least 1."), "error")
        return redirect(back)
    start, due = request_estimate.request_window(house, form["earliest_on"], form["due_on"])
    try:
        made = production_requests.create_request(
            db(),
            actor(),
            {
                "product_id": form["product_id"],
                "quantity": form["quantity"],
                "earliest_start": start,
                "due": due,
            },
        )
    except DomainError as err:
        db().rollback()
        flash_error(err)
        return redirect(back)
    flash(_("Your request is in the house's queue: the next plan places it."), "ok")
    return redirect(url_for("web.my_request", request_id=made.id))


@bp.route("/production/<int:request_id>")
@page(Role.member)
def my_request(request_id: int):  # type: ignore[no-untyped-def]
    made = run_review.get_request_placed(db(), actor(), request_id)
    placement = made.placement  # type: ignore[attr-defined]
    return render_template(
        "member/request.html",
        r=made,
        house=made.house,
        bookings=placement["bookings"],
        why_not=placement["why_not"],
        why_not_words=said(placement["why_not"]["words"]) if placement["why_not"] else None,
        withdrawable=production_requests.withdrawable(made),
    )


@bp.route("/production/<int:request_id>/withdraw", methods=["POST"])
@page(Role.member)
def withdraw_request(request_id: int):  # type: ignore[no-untyped-def]
    try:
        production_requests.cancel_request(db(), actor(), request_id)
    except DomainError as err:
        db().rollback()
        flash_error(err)
    else:
        flash(_("The request is withdrawn."), "ok")
    return redirect(url_for("web.my_request", request_id=request_id))


# -- the inbox ---------------------------------------------------------------------------------


@bp.route("/inbox")
@page(Role.member)
def inbox():  # type: ignore[no-untyped-def]
    messages = list(db().scalars(notifications.list_notifications(db(), actor()).limit(INBOX_SIZE)))
    return render_template(
        "member/inbox.html",
        messages=messages,
        unread=sum(1 for m in messages if m.read_at is None),
        house=my_house(),
    )


@bp.route("/inbox/<int:notification_id>/read", methods=["POST"])
@page(Role.member)
def read_notification(notification_id: int):  # type: ignore[no-untyped-def]
    try:
        notifications.mark_read(db(), actor(), notification_id)
    except DomainError as err:
        db().rollback()
        flash_error(err)
    return redirect(url_for("web.inbox"))


@bp.route("/inbox/read-all", methods=["POST"])
@page(Role.member)
def read_all_notifications():  # type: ignore[no-untyped-def]
    marked = notifications.mark_all_read(db(), actor())
    if marked:
        flash(_("Every message is marked read."), "ok")
    return redirect(url_for("web.inbox"))
