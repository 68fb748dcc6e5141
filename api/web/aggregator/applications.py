"""The loan applications an aggregator decides: the list, one application with its
production plan on a timeline (the shared Gantt renderer, api/web/gantt.py), the cost per
member, the capacity check and permit flags, the decisions taken so far, and the approve /
reject / ask-for-changes forms."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api.database import db, runtime
from api.web import actor, bp, error_words, flash_error, page, said
from api.web.aggregator.common import (
    MAX_NOTE,
    ROLES,
    hours,
    parse_amount,
    status_words,
    words_context,
    zone_of,
)
from api.web.gantt import Chart, Timeline
from factoryshare.errors import DomainError, NotFound
from factoryshare.models import ProductionHouse
from factoryshare.models.financing import LoanStatus
from factoryshare.services import calendar, financing_capacity, loan_review, loans
from factoryshare.services.loan_review import PlanItem

# --- the plan timeline ---------------------------------------------------------------------


def plan_chart(
    items: list[PlanItem], names: dict[int, str], house: ProductionHouse | str
) -> Chart | None:
    """Members as rows, the plan's dates (house days) across, drawn by the shared Gantt
    renderer (api/web/gantt.py)."""
    if not items:
        return None
    zone = calendar.house_zone(house) if isinstance(house, ProductionHouse) else ZoneInfo(house)
    first = min(i.start for i in items).astimezone(zone).date()
    last = max(i.end for i in items).astimezone(zone).date()
    start = dt.datetime.combine(first, dt.time(0), tzinfo=zone)
    days = (last - first).days + 1
    member_ids = list(
        dict.fromkeys(i.member_id for i in sorted(items, key=lambda i: names.get(i.member_id, "")))
    )
    timeline = Timeline(
        "plan-chart",
        _("The plan per member"),
        [(start, start + dt.timedelta(days=days))],
        [(mid, names.get(mid, str(mid)), "") for mid in member_ids],
        rows_label=_("Member"),
    )
    # A tick a day for up to two weeks, else a tick a week.
    step = 1 if days <= 14 else 7
    for n in range(0, days, step):
        day = first + dt.timedelta(days=n)
        timeline.tick(start + dt.timedelta(days=n), f"{day.day}/{day.month}")
    for item in items:
        timeline.bar(
            item.member_id,
            item.start,
            item.end,
            item.kind,
            f"{names.get(item.member_id, item.member_id)}: {item.what}",
            item.what,
        )
    words = {
        "booked": _("booked"),
        "held": _("held, not yet confirmed"),
        "planned": _("placed by the house's schedule"),
        "window": _("to be made in this window, not yet placed"),
    }
    drawn = {i.kind for i in items}
    timeline.legend([(kind, text) for kind, text in words.items() if kind in drawn])
    return timeline.chart


# --- the workflow's errors in words ----------------------------------------------------


def _decision_error_words(err: DomainError) -> str | None:
    """The workflow's own errors in the user's language (the shared table does not know them)."""
    if err.code == "invalid_transition":
        return _(
            "This application is no longer waiting for a decision; reload the page to "
            "see its status."
        )
    if err.code == "same_approver":
        return _("You gave the first approval already: the second must come from someone else.")
    if err.errors and "reason" in err.errors:  # a refusal or a send-back needs its reason
        return said(err.errors["reason"][0])
    if err.errors and "approved_amount" in err.errors:
        return _("The approved amount must be more than Rp0 and at most the amount requested.")
    if err.errors and "offtake_agreements" in err.errors:
        return _(
            "The cluster has no offtake delivery dates to check against: record its "
            "offtake agreement first."
        )
    if err.errors and "cluster_id" in err.errors:
        return _("The cluster produces in no house yet, so its capacity cannot be checked.")
    return None


def _flash(err: DomainError) -> None:
    words = _decision_error_words(err)
    if words is None:
        flash_error(err)
    else:
        flash(words, "error")


# --- applications --------------------------------------------------------------------------


@bp.route("/aggregator/applications")
@page(*ROLES)
def aggregator_applications():  # type: ignore[no-untyped-def]
    to_decide, others = loan_review.applications_to_decide(db(), actor())
    return render_template(
        "aggregator/applications.html",
        to_decide=to_decide,
        others=others,
        status_words=status_words(),
    )


def _application_page(application_id: int, report: Any = None, capacity_error: str | None = None):  # type: ignore[no-untyped-def]
    me = actor()
    app = loans.get(db(), me, application_id)
    names = loan_review.member_names(db(), me, app.id)
    items = [
        dataclasses.replace(i, what=said(i.what)) for i in loan_review.plan_items(db(), me, app.id)
    ]
    zone = zone_of(loan_review.plan_house(db(), me, app.id))
    flags = [said(f) for f in loan_review.permit_flags(db(), me, app.id, items)]
    return render_template(
        "aggregator/application.html",
        app=app,
        items=items,
        names=names,
        chart=plan_chart(items, names, zone),
        zone=zone,
        shares=loans.shares(db(), me, app.id),
        cost_estimate=loans.cost_estimate(db(), me, app.id),
        flags=flags,
        report=report,
        capacity_error=capacity_error,
        history=loan_review.decision_history(db(), me, app.id),
        is_loan=app.status in loans.LOAN_STATUSES,
        decidable=app.status is LoanStatus.submitted,
        limit=app.cluster.aggregator.approval_limit,
        hours=hours,
        **words_context(),
    )


@bp.route("/aggregator/applications/<int:application_id>")
@page(*ROLES)
def aggregator_application(application_id: int):  # type: ignore[no-untyped-def]
    return _application_page(application_id)


@bp.route("/aggregator/applications/<int:application_id>/capacity-check", methods=["POST"])
@page(*ROLES)
def aggregator_capacity_check(application_id: int):  # type: ignore[no-untyped-def]
    # The check is a question (nothing is stored): its answer, or why it cannot be given, is
    # shown beside its button at once.
    try:
        report = financing_capacity.check(
            db(),
            actor(),
            application_id,
            work_per_second=runtime().settings.solver_work_per_second,
        )
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db().rollback()
        words = _decision_error_words(err)
        if words is None:
            words = error_words(err)
        return _application_page(application_id, capacity_error=words)
    return _application_page(application_id, report=report)


@bp.route("/aggregator/applications/<int:application_id>/decision", methods=["POST"])
@page(*ROLES)
def aggregator_decide(application_id: int):  # type: ignore[no-untyped-def]
    decision = request.form.get("decision")
    reason = (request.form.get("reason") or "").strip()[:MAX_NOTE]
    back = redirect(url_for("web.aggregator_application", application_id=application_id))
    if decision not in ("approve", "reject", "changes"):
        flash(_("Choose approve, reject or ask for changes."), "error")
        return back
    try:
        if decision == "approve":
            amount = parse_amount(request.form.get("approved_amount"))
            app = loans.approve(db(), actor(), application_id, amount)
        elif decision == "reject":
            app = loans.reject(db(), actor(), application_id, reason)
        else:
            app = loans.request_changes(db(), actor(), application_id, reason)
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db().rollback()
        _flash(err)
        return back
    if app.status is LoanStatus.approved:
        flash(_("Application #%(id)s is approved.", id=app.id), "ok")
    elif app.status is LoanStatus.submitted:
        flash(
            _(
                "Your approval of application #%(id)s is recorded. It is above the approval "
                "limit, so a second person must approve it too.",
                id=app.id,
            ),
            "ok",
        )
    elif app.status is LoanStatus.rejected:
        flash(_("Application #%(id)s is rejected.", id=app.id), "ok")
    else:
        flash(_("Application #%(id)s is sent back for changes.", id=app.id), "ok")
    return back
