"""Schedule runs: start, review against the published schedule, publish or discard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from api.database import db
from api.web import actor, bp, flash_error, hm, page, said, when
from api.web.manager.common import (
    house_in_view,
    members_by_id,
    parse_day,
    today,
)
from api.web.manager.timeline import DAY_VIEW_WIDTH, house_machines, house_timeline
from api.web.words import duration
from factoryshare.db import utcnow
from factoryshare.errors import DomainError, NotFound
from factoryshare.i18n import N_
from factoryshare.i18n import label as object_label
from factoryshare.models import Member, Role
from factoryshare.models.scheduling import RequestOperation, RunStatus, ScheduleRun
from factoryshare.services import (
    calendar,
    run_review,
    scheduling,
    solving,
)

# --- schedule runs -------------------------------------------------------------------------

DEFAULT_HORIZON_DAYS = 7
DEFAULT_TIME_LIMIT = 10
# The run page draws at most this many days of a (up to 62-day) horizon.
RUN_CHART_DAYS = 14
RUN_DAY_WIDTH = 120
ACTIVE_RUNS = (RunStatus.queued, RunStatus.running)


def int_in_range(value: str | None, low: int, high: int) -> int | None:
    """A form field read as a whole number in [low, high]; None when it is not one."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if low <= number <= high else None


def _run_statuses() -> dict[str, str]:
    return {
        "queued": _("queued"),
        "running": _("running"),
        "succeeded": _("ready to review"),
        "failed": _("failed"),
        "published": _("published"),
        "discarded": _("discarded"),
        "stale": _("out of date"),
    }


def _change_words() -> dict[str, str]:
    return {
        "new": _("new"),
        "moved": _("moved"),
        "unchanged": _("unchanged"),
        "dropped": _("dropped"),
    }


@bp.route("/manager/runs", methods=["GET", "POST"])
@page(Role.manager)
def manager_runs():  # type: ignore[no-untyped-def]
    house, managed = house_in_view()
    if request.method == "POST":
        first = parse_day(request.form.get("start_day"), house)
        days = int_in_range(request.form.get("horizon_days"), 1, scheduling.MAX_HORIZON.days)
        limit = int_in_range(request.form.get("time_limit_seconds"), 1, scheduling.MAX_TIME_LIMIT)
        if days is None or limit is None:
            flash(
                _(
                    "Give the horizon in days (1 to %(days)d) and the time limit in seconds "
                    "(1 to %(seconds)d).",
                    days=scheduling.MAX_HORIZON.days,
                    seconds=scheduling.MAX_TIME_LIMIT,
                ),
                "error",
            )
            return redirect(url_for("web.manager_runs", house=house.id))
        start, end = run_review.plan_horizon(house, first, days, utcnow())
        try:
            run = scheduling.queue_run(
                db(),
                actor(),
                house.id,
                {"horizon_start": start, "horizon_end": end, "time_limit_seconds": limit},
            )
        except DomainError as err:
            db().rollback()
            flash_error(err)
            return redirect(url_for("web.manager_runs", house=house.id))
        flash(
            _("Schedule run %(id)d is queued; this page refreshes until it is done.", id=run.id),
            "ok",
        )
        return redirect(url_for("web.manager_run", run_id=run.id))
    runs = list(db().scalars(scheduling.list_house_runs(db(), actor(), house.id).limit(50)))
    return render_template(
        "manager/runs.html",
        house=house,
        houses=managed,
        runs=runs,
        today=today(house),
        horizon_days=DEFAULT_HORIZON_DAYS,
        time_limit=DEFAULT_TIME_LIMIT,
        max_days=scheduling.MAX_HORIZON.days,
        max_limit=scheduling.MAX_TIME_LIMIT,
        statuses=_run_statuses(),
        polling=any(r.status in ACTIVE_RUNS for r in runs),
    )


def _managed_run(run_id: int) -> ScheduleRun:
    run = scheduling.get_run(db(), actor(), run_id)
    if not actor().manages(run.house_id):
        raise NotFound(
            N_(
                "%(name)s %(object_id)s was not found.",
                name=object_label(ScheduleRun),
                object_id=run_id,
            )
        )
    return run


@bp.route("/manager/runs/<int:run_id>")
@page(Role.manager)
def manager_run(run_id: int):  # type: ignore[no-untyped-def]
    run = _managed_run(run_id)
    house = run.house
    changes: list[dict[str, Any]] = []
    proposal_chart = published_chart = None
    requests_by_op: dict[int, Any] = {}
    machine_names = {m.id: m.name for m in house_machines(house)}
    members: dict[int, Member] = {}
    shown_days: list[dt.date] = []
    if run.assignments:
        changes = scheduling.diff_run(db(), actor(), run.id)
        for a in run.assignments:
            requests_by_op[a.operation_id] = a.operation
        for c in changes:
            if c["change"] == "dropped":
                requests_by_op[c["operation_id"]] = db().get(RequestOperation, c["operation_id"])
        members = members_by_id({op.request.member_id for op in requests_by_op.values()})
        zone = calendar.house_zone(house)
        first = min(a.start_at for a in run.assignments).astimezone(zone).date()
        last = max(a.end_at for a in run.assignments).astimezone(zone).date()
        last = min(last, first + dt.timedelta(days=RUN_CHART_DAYS - 1))
        shown_days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        kind_of = {c["operation_id"]: c["change"] for c in changes}
        words = _change_words()
        proposal = []
        for a in run.assignments:
            op = a.operation
            member = members.get(op.request.member_id)
            name = member.business_name if member else f"#{op.request.member_id}"
            change = kind_of.get(a.operation_id, "new")
            title = _(
                "Request %(request)d step %(step)d, %(member)s: %(start)s – %(end)s (%(change)s)",
                request=op.request_id,
                step=op.position,
                member=name,
                start=when(a.start_at, house),
                end=hm(a.end_at, house),
                change=words[change],
            )
            if change != "unchanged":
                proposal.append((a, "moved" if change == "moved" else "proposed", title, name))
        # A short proposal gets the width of the day view; a long one scrolls sideways.
        width = max(RUN_DAY_WIDTH, DAY_VIEW_WIDTH / len(shown_days))
        published_chart = house_timeline(house, shown_days, width, chart_id="gantt-published")[0]
        proposal_chart = house_timeline(house, shown_days, width, proposal)[0]
        proposal_chart.legend = [
            ("proposed", _("new in this run")),
            ("moved", _("moved by this run")),
            ("confirmed", _("confirmed")),
            ("held", _("held")),
            ("downtime", _("downtime")),
            ("closed", _("closed")),
        ]
    utilisation = []
    for key, share in ((run.kpis or {}).get("utilisation") or {}).items():
        utilisation.append((machine_names.get(solving.machine_id_of(key), key), share))
    # The decision: each request's figures, the on-time share over all of them, what publishing
    # would do and whether the published schedule changed since the solve.
    review = run_review.review_run(db(), actor(), run.id)
    for row in review["requests"]:
        row["lateness_text"] = duration(row["lateness_minutes"])
        if row["why_not"]:
            row["why_text"] = said(row["why_not"]["words"])
            row["fixes"] = [said(s["words"]) for s in row["why_not"]["suggestions"]]
    effects = run_review.publish_effects(db(), actor(), run.id)
    changed_since = effects["changed_since"]
    kpis = run.kpis or {}
    return render_template(
        "manager/run.html",
        run=run,
        house=house,
        kpis=kpis,
        changes=changes,
        operations=requests_by_op,
        members=members,
        machine_names=machine_names,
        proposal_chart=proposal_chart,
        published_chart=published_chart,
        shown_days=shown_days,
        utilisation=utilisation,
        statuses=_run_statuses(),
        change_words=_change_words(),
        polling=run.status in ACTIVE_RUNS,
        publishable=effects["publishable"],
        discardable=effects["discardable"],
        review=review,
        effects=effects,
        on_time=review["on_time"],
        lateness_text=duration(review["lateness_minutes"]),
        makespan_text=duration(kpis.get("makespan_minutes")),
        changed_since=changed_since,
        again=effects["rerun_advised"],
        truncated=bool(shown_days) and len(shown_days) == RUN_CHART_DAYS,
    )


def _flash_run_error(err: DomainError) -> None:
    """The schedule services' own refusals in the user's language; others as flash_error words."""
    refused = err.details.get("action") if err.code == "invalid_transition" else err.code
    words = {
        "publish": _("Only a run that is ready to review can be published."),
        "discard": _("A published or discarded run cannot be discarded."),
        "request_not_open": _(
            "A production request of this run has changed since; start a new run."
        ),
        "stale_run": _(
            "The published schedule changed after this run was solved, so it was "
            "not published: queue a fresh run."
        ),
    }.get(refused)
    if words is None:
        flash_error(err)
    else:
        flash(words, "error")


@bp.route("/manager/runs/<int:run_id>/publish", methods=["POST"])
@page(Role.manager)
def manager_run_publish(run_id: int):  # type: ignore[no-untyped-def]
    _managed_run(run_id)
    try:
        run = scheduling.publish_run(db(), actor(), run_id)
    except scheduling.StaleRun as err:
        _flash_run_error(err)  # the run stays marked stale (committed with the redirect)
    except DomainError as err:
        db().rollback()
        _flash_run_error(err)
    else:
        flash(
            ngettext(
                "Published: %(num)d booking made for the members.",
                "Published: %(num)d bookings made for the members.",
                len(run.assignments),
            ),
            "ok",
        )
    return redirect(url_for("web.manager_run", run_id=run_id))


@bp.route("/manager/runs/<int:run_id>/again", methods=["POST"])
@page(Role.manager)
def manager_run_again(run_id: int):  # type: ignore[no-untyped-def]
    _managed_run(run_id)
    try:
        run = scheduling.queue_again(db(), actor(), run_id)
    except DomainError as err:
        db().rollback()
        flash_error(err)
        return redirect(url_for("web.manager_run", run_id=run_id))
    flash(
        _("Schedule run %(id)d is queued; this page refreshes until it is done.", id=run.id), "ok"
    )
    return redirect(url_for("web.manager_run", run_id=run.id))


@bp.route("/manager/runs/<int:run_id>/discard", methods=["POST"])
@page(Role.manager)
def manager_run_discard(run_id: int):  # type: ignore[no-untyped-def]
    _managed_run(run_id)
    try:
        scheduling.discard_run(db(), actor(), run_id)
    except DomainError as err:
        db().rollback()
        _flash_run_error(err)
    else:
        flash(_("The run is discarded; nothing was booked."), "ok")
    return redirect(url_for("web.manager_run", run_id=run_id))
