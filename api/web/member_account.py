"""A member's own records: permits, its share of cluster loans, the monthly statement and the
calendar feed address. Every figure comes from the services the API calls."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from api.database import db
from api.web import actor, add_nav, bp, flash_error, page
from api.web.member import house_today, my_house
from factoryshare.errors import DomainError, NotFound
from factoryshare.models import Role
from factoryshare.services import calendar_feeds, loans, permits, statements

add_nav("web.my_statement", _l("Statement"), roles={Role.member})
add_nav("web.my_permits", _l("My permits"), roles={Role.member})
add_nav("web.my_loans", _l("My loans"), roles={Role.member})
add_nav("web.my_calendar", _l("Calendar"), roles={Role.member})


@bp.route("/permits")
@page(Role.member)
def my_permits():  # type: ignore[no-untyped-def]
    me = actor()
    rows = []
    for permit in permits.list_permits(db(), me, member_id=me.member_id):
        rows.append(
            {
                "permit": permit,
                "state": permits.state(db(), permit),
                "days_left": permits.days_left(db(), permit),
                "counts": permits.counts_for_gate(db(), permit),
            }
        )
    return render_template("member/permits.html", rows=rows, house=my_house())


def _my_part(amount: int, share: int | None, approved: int | None) -> int | None:
    """A member's pro-rata part of a cluster installment (its share of the approved amount)."""
    if not share or not approved:
        return None
    return amount * share // approved


@bp.route("/loans")
@page(Role.member)
def my_loans():  # type: ignore[no-untyped-def]
    me = actor()
    views = []
    for view in loans.list_loans(db(), me):
        app = view.application
        approved = app.approved_amount or app.requested_amount
        rows = [
            {"installment": inst, "mine": _my_part(inst.amount, view.my_share, approved)}
            for inst in loans.installments(db(), me, app.id)
        ]
        views.append({"view": view, "approved": approved, "installments": rows})
    return render_template("member/loans.html", loans=views, today=house_today(my_house()))


@bp.route("/statement")
@page(Role.member)
def my_statement():  # type: ignore[no-untyped-def]
    me = actor()
    house = my_house()
    today = house_today(house)
    month = request.args.get("month") or f"{today:%Y-%m}"
    try:
        statement = statements.member_statement(db(), me, me.member_id or 0, month)
    except DomainError as err:
        flash_error(err)
        return redirect(url_for("web.my_statement"))
    year, mon = statements.parse_month(statement.month)
    previous = dt.date(year, mon, 1) - dt.timedelta(days=1)
    following = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return render_template(
        "member/statement.html",
        statement=statement,
        house=house,
        month_name=format_date(dt.date(year, mon, 1), "LLLL yyyy", locale=str(get_locale())),
        previous=f"{previous:%Y-%m}",
        following=f"{following:%Y-%m}",
        csv_url=url_for(
            "statements.MemberStatementCsv",
            member_id=me.member_id,
            month=statement.month,
            language=request.args.get("lang") or None,
        ),
    )


@bp.route("/calendar", methods=["GET", "POST"])
@page(Role.member)
def my_calendar():  # type: ignore[no-untyped-def]
    me = actor()
    address = None
    if request.method == "POST":
        if request.form.get("action") == "revoke":
            try:
                calendar_feeds.revoke_feed(db(), me)
            except DomainError as err:
                db().rollback()
                flash_error(err)
            else:
                flash(_("The old address no longer works."), "ok")
            return redirect(url_for("web.my_calendar"))
        issued = calendar_feeds.issue_feed(db(), me)
        # The token is kept only as a hash: this answer is the one place it is shown.
        address = url_for("calendar_ics.FeedDocument", token=issued.token, _external=True)
    try:
        feed = calendar_feeds.get_feed(db(), me)
    except NotFound:
        feed = None
    return render_template(
        "member/calendar.html",
        feed=feed,
        address=address,
        webcal=("webcal://" + address.split("://", 1)[1]) if address else None,
        house=my_house(),
    )
