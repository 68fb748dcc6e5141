"""An admin's pages: houses (with their zone, opening hours and machines), users (filter by
role, deactivate or reactivate), the latest runs of each scheduled job and the audit log.
Every rule lives in the services called here; this module only lays them out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_datetime
from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from api.database import db
from api.schemas import paginate
from api.web import actor, add_nav, bp, flash_error, page, zone_name
from api.web.words import role_label
from factoryshare import jobs
from factoryshare.errors import DomainError, NotFound
from factoryshare.jobs.registry import INTERVALS, JOBS
from factoryshare.models import Role
from factoryshare.services import accounts, audit_log, houses, machines, users

add_nav("web.admin_houses", _l("Houses"), roles={Role.admin})
add_nav("web.admin_users", _l("Users"), roles={Role.admin})
add_nav("web.admin_jobs", _l("Job runs"), roles={Role.admin})
add_nav("web.admin_audit", _l("Audit log"), roles={Role.admin})

PAGE_SIZE = 25
RECENT_RUNS = 20
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _page_number() -> int:
    try:
        number = int(request.args.get("page") or 1)
    except ValueError:
        return 1
    return min(max(number, 1), 100_000)


def role_words() -> dict[str, str]:
    return {role.value: role_label(role) for role in Role}


def utc(value: dt.datetime | None) -> str:
    """A moment in UTC: job runs and audit entries belong to no single house's zone."""
    if value is None:
        return ""
    text = format_datetime(
        value, "EEE d MMM yyyy HH:mm:ss", tzinfo=dt.UTC, locale=str(get_locale())
    )
    return f"{text} UTC"


def weekday_words() -> dict[str, str]:
    return {
        "mon": _("Monday"),
        "tue": _("Tuesday"),
        "wed": _("Wednesday"),
        "thu": _("Thursday"),
        "fri": _("Friday"),
        "sat": _("Saturday"),
        "sun": _("Sunday"),
    }


# --- houses --------------------------------------------------------------------------------


@bp.route("/admin/houses")
@page(Role.admin)
def admin_houses():  # type: ignore[no-untyped-def]
    me = actor()
    rows = list(db().scalars(houses.list_houses(db(), me)))
    counts: dict[int, int] = {}
    for house in rows:
        stmt = machines.list_machines(db(), me, house_id=house.id)
        counts[house.id] = (
            db().scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        )
    return render_template("admin/houses.html", houses=rows, counts=counts)


@bp.route("/admin/houses/<int:house_id>")
@page(Role.admin)
def admin_house(house_id: int):  # type: ignore[no-untyped-def]
    me = actor()
    house = houses.get_house(db(), me, house_id)
    house_machines = list(db().scalars(machines.list_machines(db(), me, house_id=house.id)))
    hours = [(weekday_words()[d], (house.opening_hours or {}).get(d) or []) for d in WEEKDAYS]
    managers = list(
        db().scalars(users.list_users(db(), me, role=Role.manager.value, house_id=house.id))
    )
    return render_template(
        "admin/house.html",
        house=house,
        machines=house_machines,
        hours=hours,
        managers=managers,
        zone=zone_name(house),
    )


# --- users ---------------------------------------------------------------------------------


def _user_filters() -> dict[str, Any]:
    role = request.args.get("role") or None
    if role not in {r.value for r in Role}:
        role = None
    search = (request.args.get("search") or "").strip()[:120] or None
    return {"role": role, "search": search}


@bp.route("/admin/users")
@page(Role.admin)
def admin_users():  # type: ignore[no-untyped-def]
    filters = _user_filters()
    listing = paginate(
        db(),
        users.list_users(db(), actor(), **filters),
        {"page": _page_number(), "page_size": PAGE_SIZE},
    )
    return render_template(
        "admin/users.html",
        listing=listing,
        filters=filters,
        role_words=role_words(),
        pages=_pages(listing),
    )


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
@page(Role.admin)
def admin_user_active(user_id: int):  # type: ignore[no-untyped-def]
    active = request.form.get("active") == "1"
    back = redirect(
        url_for(
            "web.admin_users",
            role=request.form.get("role") or None,
            search=request.form.get("search") or None,
            page=request.form.get("page") or None,
        )
    )
    me = actor()
    # Signing oneself out for good would leave no way back in through the pages.
    if not active and me.user_id == user_id:
        flash(_("You cannot deactivate your own account."), "error")
        return back
    try:
        user = accounts.update_user(db(), me, user_id, {"is_active": active})
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db().rollback()
        flash_error(err)
        return back
    if active:
        flash(_("%(email)s can sign in again.", email=user.email), "ok")
    else:
        flash(_("%(email)s is deactivated and can no longer sign in.", email=user.email), "ok")
    return back


def _pages(listing: dict[str, Any]) -> dict[str, int | None]:
    last = max(1, -(-listing["total"] // listing["page_size"]))
    current = listing["page"]
    return {
        "current": current,
        "last": last,
        "previous": current - 1 if current > 1 else None,
        "next": current + 1 if current < last else None,
    }


# --- job runs ------------------------------------------------------------------------------


@bp.route("/admin/jobs")
@page(Role.admin)
def admin_jobs():  # type: ignore[no-untyped-def]
    me = actor()
    latest = []
    for name in JOBS:
        run = db().scalars(jobs.list_runs(db(), me, name).limit(1)).first()
        latest.append({"job": name, "every": INTERVALS.get(name), "run": run})
    recent = list(db().scalars(jobs.list_runs(db(), me).limit(RECENT_RUNS)))
    return render_template("admin/jobs.html", latest=latest, recent=recent, utc=utc)


# --- the audit log -------------------------------------------------------------------------


@bp.route("/admin/audit")
@page(Role.admin)
def admin_audit():  # type: ignore[no-untyped-def]
    me = actor()
    action = (request.args.get("action") or "").strip()[:60] or None
    who = (request.args.get("actor") or "").strip()[:254] or None
    filters: dict[str, Any] = {"action": action}
    unknown_actor = False
    if who is not None:
        # The actor is asked for by e-mail, as admins know people; the trail stores user ids.
        found = db().scalars(users.list_users(db(), me, search=who)).all()
        exact = [u for u in found if u.email == who.lower()]
        match = exact or (found if len(found) == 1 else [])
        if match:
            filters["actor_id"] = match[0].id
        else:
            unknown_actor = True
    listing = (
        {"items": [], "page": 1, "page_size": PAGE_SIZE, "total": 0}
        if unknown_actor
        else paginate(
            db(),
            audit_log.list_events(db(), me, **filters),
            {"page": _page_number(), "page_size": PAGE_SIZE},
        )
    )
    actor_ids = {e.actor_id for e in listing["items"] if e.actor_id is not None}
    emails = {user_id: users.get_user(db(), me, user_id).email for user_id in actor_ids}
    return render_template(
        "admin/audit.html",
        listing=listing,
        action=action or "",
        who=who or "",
        emails=emails,
        unknown_actor=unknown_actor,
        pages=_pages(listing),
        utc=utc,
    )
