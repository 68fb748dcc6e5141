"""Permit warnings and verification."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api.database import db
from api.web import actor, bp, flash_error, page
from api.web.manager.common import house_in_view
from factoryshare.access import scoped
from factoryshare.db import utcnow
from factoryshare.errors import DomainError
from factoryshare.models import Member, Role
from factoryshare.services import agenda, permits

# --- permit warnings -----------------------------------------------------------------------

WARNING_STATES = agenda.PERMIT_WARNING_STATES


def _permit_states() -> dict[str, str]:
    return {
        "valid": _("valid"),
        "expiring": _("expiring soon"),
        "expired": _("expired"),
        "pending": _("pending"),
        "needs_review": _("needs review"),
    }


def _verification_words() -> dict[str, str]:
    return {
        "submitted": _("waiting for verification"),
        "verified": _("verified"),
        "rejected": _("rejected"),
    }


@bp.route("/manager/permits")
@page(Role.manager)
def manager_permits():  # type: ignore[no-untyped-def]
    house, managed = house_in_view()
    summary = permits.overview(db(), actor(), house_id=house.id)
    members = {
        m.id: m for m in db().scalars(scoped(actor(), Member).where(Member.house_id == house.id))
    }
    now = utcnow()
    warnings = []
    for permit in permits.list_permits(db(), actor()):
        if permit.member_id not in members:
            continue
        state = permits.state(db(), permit, now)
        if state in WARNING_STATES:
            warnings.append(
                {
                    "permit": permit,
                    "state": state,
                    "member": members[permit.member_id],
                    "days_left": permits.days_left(db(), permit, now),
                }
            )
    order = {s: i for i, s in enumerate(WARNING_STATES)}
    warnings.sort(key=lambda w: (order[w["state"]], w["permit"].expires_on or dt.date.max))
    type_names = {t.code: t.name for t in db().scalars(permits.list_types(db(), actor()))}
    for product in summary["blocked_products"]:
        for gap in product["missing"]:
            if gap.get("lapse_on"):
                gap["lapse_on"] = dt.date.fromisoformat(gap["lapse_on"])
    # Members' entries waiting for the house to check their number and document.
    waiting = [
        p
        for p in permits.list_permits(db(), actor(), verification="submitted")
        if p.member_id in members
    ]
    return render_template(
        "manager/permits.html",
        house=house,
        houses=managed,
        summary=summary,
        warnings=warnings,
        members=members,
        states=_permit_states(),
        state_order=("valid",) + WARNING_STATES,
        type_names=type_names,
        waiting=waiting,
        verification_words=_verification_words(),
    )


def _back_to_permits():  # type: ignore[no-untyped-def]
    return redirect(url_for("web.manager_permits", house=request.form.get("house") or None))


@bp.route("/manager/permits/<int:permit_id>/verify", methods=["POST"])
@page(Role.manager)
def manager_permit_verify(permit_id: int):  # type: ignore[no-untyped-def]
    try:
        permit = permits.verify_permit(
            db(), actor(), permit_id, note=(request.form.get("note") or "").strip()[:500]
        )
    except DomainError as err:
        db().rollback()
        flash_error(err)
    else:
        flash(
            _(
                "Verified: %(permit)s %(number)s.",
                permit=permit.permit_type.name,
                number=permit.number,
            ),
            "ok",
        )
    return _back_to_permits()


@bp.route("/manager/permits/<int:permit_id>/reject", methods=["POST"])
@page(Role.manager)
def manager_permit_reject(permit_id: int):  # type: ignore[no-untyped-def]
    try:
        permit = permits.reject_permit(
            db(), actor(), permit_id, reason=(request.form.get("reason") or "").strip()[:500]
        )
    except DomainError as err:
        db().rollback()
        flash_error(err)
    else:
        flash(
            _(
                "Rejected: %(permit)s %(number)s. The member is told why.",
                permit=permit.permit_type.name,
                number=permit.number,
            ),
            "ok",
        )
    return _back_to_permits()
