"""An aggregator's pages: the loan applications to decide (each with its production plan on a
timeline drawn as inline SVG, the cost per member, the capacity check and permit flags, and the
approve / reject / ask-for-changes buttons) and the clusters with their exposure and overdue
installments. Every rule lives in the services called here; this module only lays them out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from babel.numbers import format_decimal
from flask_babel import get_locale, gettext as _, lazy_gettext as _l

from api.database import db
from api.web import actor, add_nav, bp, flash_error, page
from factoryshare.errors import DomainError, NotFound
from factoryshare.models import Member, ProductionHouse, Role
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.models.financing import InstallmentStatus, LoanApplication, LoanStatus
from factoryshare.models.scheduling import ProductionRequest, RequestStatus
from factoryshare.services import (
    calendar,
    clusters,
    financing_capacity,
    houses,
    loans,
    permits,
    solving,
)

add_nav("web.aggregator_applications", _l("Loan applications"), roles={Role.aggregator})
add_nav("web.aggregator_clusters", _l("Clusters"), roles={Role.aggregator})

# Admins may endorse through the API too, so they may open these pages; the menu is the
# aggregator's.
ROLES = (Role.aggregator, Role.admin)

# Geometry of the plan timeline, in SVG user units.
LABEL_WIDTH = 170
HEADER_HEIGHT = 40
ROW_HEIGHT = 30
BAR_INSET = 5
PLOT_WIDTH = 640
MAX_NOTE = 1000


def status_words() -> dict[str, str]:
    return {
        LoanStatus.draft.value: _("draft"),
        LoanStatus.submitted.value: _("waiting for your decision"),
        LoanStatus.changes_requested.value: _("sent back for changes"),
        LoanStatus.approved.value: _("approved"),
        LoanStatus.rejected.value: _("rejected"),
        LoanStatus.lender_approved.value: _("approved by the lender"),
        LoanStatus.lender_declined.value: _("declined by the lender"),
        LoanStatus.disbursing.value: _("being disbursed"),
        LoanStatus.repaying.value: _("repaying"),
        LoanStatus.closed.value: _("repaid"),
    }


def hours(minutes: int) -> str:
    """Machine minutes as hours with one decimal in the page's language ('2,5' in Indonesian)."""
    return format_decimal(round(minutes / 60, 1), format="#,##0.0", locale=str(get_locale()))


def _decision_error_words(err: DomainError) -> str | None:
    """The workflow's own errors in the user's language (the shared table does not know them)."""
    if err.code == "invalid_transition":
        return _("This application is no longer waiting for a decision; reload the page to "
                 "see its status.")
    if err.code == "same_approver":
        return _("You gave the first approval already: the second must come from someone else.")
    if err.errors and "approved_amount" in err.errors:
        return _("The approved amount must be more than Rp0 and at most the amount requested.")
    if err.errors and "offtake_agreements" in err.errors:
        return _("The cluster has no offtake delivery dates to check against: record its "
                 "offtake agreement first.")
    if err.errors and "cluster_id" in err.errors:
        return _("The cluster produces in no house yet, so its capacity cannot be checked.")
    return None


def _flash(err: DomainError) -> None:
    words = _decision_error_words(err)
    if words is None:
        flash_error(err)
    else:
        flash(words, "error")


# --- the plan timeline ---------------------------------------------------------------------

@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    kind: str  # booked | held | planned | window
    title: str


@dataclass
class PlanChart:
    width: float
    height: float
    rows: list[tuple[str, float]]
    ticks: list[tuple[float, str]]
    bars: list[Bar] = field(default_factory=list)


@dataclass
class PlanItem:
    """One piece of the plan on the timeline and in the table beside it."""

    member_id: int
    kind: str
    start: dt.datetime
    end: dt.datetime
    what: str
    product_id: int | None


def _plan_items(app: LoanApplication) -> list[PlanItem]:
    """The plan's bookings at their times; its production requests where the published
    schedule placed them, or as the window they must be made in while not yet placed."""
    items: list[PlanItem] = []
    for link in loans.plan_links(db(), actor(), app.id):
        if link.booking_id is not None:
            booking = db().get(Booking, link.booking_id)
            if booking is None or booking.status is BookingStatus.cancelled:
                continue
            kind = "held" if booking.status is BookingStatus.held else "booked"
            items.append(PlanItem(booking.member_id, kind, booking.start_at, booking.end_at,
                                  booking.machine.name, booking.product_id))
        elif link.production_request_id is not None:
            req = db().get(ProductionRequest, link.production_request_id)
            if req is None or req.status is RequestStatus.cancelled:
                continue
            placed = solving.published_bookings(db(), [op.id for op in req.operations])
            live = [b for b in placed.values() if b.status is not BookingStatus.cancelled]
            if live:
                for b in sorted(live, key=lambda b: b.start_at):
                    items.append(PlanItem(req.member_id, "planned", b.start_at, b.end_at,
                                          f"{req.product.name} · {b.machine.name}", req.product_id))
            else:
                items.append(PlanItem(req.member_id, "window", req.earliest_start, req.due,
                                      _("%(product)s × %(quantity)s, not yet placed",
                                        product=req.product.name, quantity=req.quantity),
                                      req.product_id))
    items.sort(key=lambda i: (i.start, i.member_id))
    return items


def _plan_chart(items: list[PlanItem], names: dict[int, str], house: ProductionHouse | str) -> PlanChart | None:
    """Members as rows, the plan's dates (house days) across."""
    if not items:
        return None
    zone = calendar.house_zone(house) if isinstance(house, ProductionHouse) else ZoneInfo(house)
    first = min(i.start for i in items).astimezone(zone).date()
    last = max(i.end for i in items).astimezone(zone).date()
    start = dt.datetime.combine(first, dt.time(0), tzinfo=zone)
    days = (last - first).days + 1
    end = start + dt.timedelta(days=days)
    span = (end - start).total_seconds()
    member_ids = list(dict.fromkeys(i.member_id for i in sorted(items, key=lambda i: names.get(i.member_id, ""))))
    row_y = {mid: HEADER_HEIGHT + n * ROW_HEIGHT for n, mid in enumerate(member_ids)}
    chart = PlanChart(width=LABEL_WIDTH + PLOT_WIDTH,
                      height=HEADER_HEIGHT + ROW_HEIGHT * len(member_ids) + 2,
                      rows=[(names.get(mid, str(mid)), row_y[mid]) for mid in member_ids], ticks=[])
    # A tick a day for up to two weeks, else a tick a week.
    step = 1 if days <= 14 else 7
    for n in range(0, days, step):
        day = first + dt.timedelta(days=n)
        chart.ticks.append((LABEL_WIDTH + n / days * PLOT_WIDTH, f"{day.day}/{day.month}"))

    def x_of(moment: dt.datetime) -> float:
        return LABEL_WIDTH + (moment - start).total_seconds() / span * PLOT_WIDTH

    for item in items:
        x0, x1 = x_of(item.start), x_of(item.end)
        chart.bars.append(Bar(x=x0, y=row_y[item.member_id] + BAR_INSET, w=max(2.0, x1 - x0),
                              h=ROW_HEIGHT - 2 * BAR_INSET, kind=item.kind,
                              title=f"{names.get(item.member_id, item.member_id)}: {item.what}"))
    return chart


def _permit_flags(items: list[PlanItem], names: dict[int, str]) -> list[str]:
    """What keeps a product of the plan from being made over its planned time, in words."""
    from factoryshare.models import Product

    type_names = {t.code: t.name for t in db().scalars(permits.list_types(db(), actor()))}
    flags: list[str] = []
    for item in items:
        if item.product_id is None:
            continue
        product = db().get(Product, item.product_id)
        if product is None:
            continue
        for gap in permits.gaps(db(), product, item.start, item.end):
            which = _(" or ").join(type_names.get(code, code) for code in gap.types)
            who = f"{names.get(item.member_id, item.member_id)}, {product.name}"
            if gap.problem == "lapses" and gap.lapse_on is not None:
                words = _("%(who)s: %(permit)s is valid only until %(day)s, before the planned "
                          "production ends.", who=who, permit=which, day=gap.lapse_on.isoformat())
            elif gap.lapse_on is not None:
                words = _("%(who)s: %(permit)s expired on %(day)s.", who=who, permit=which,
                          day=gap.lapse_on.isoformat())
            else:
                words = _("%(who)s: no valid %(permit)s.", who=who, permit=which)
            if words not in flags:
                flags.append(words)
    return flags


def _house_of(app: LoanApplication, items: list[PlanItem]) -> ProductionHouse | None:
    """The house whose time the plan is shown in: the cluster's, else that of a booking."""
    if app.cluster.house_id is not None:
        return houses.get_house(db(), actor(), app.cluster.house_id)
    for link in loans.plan_links(db(), actor(), app.id):
        if link.booking_id is not None:
            booking = db().get(Booking, link.booking_id)
            if booking is not None:
                return booking.machine.house
    return None


def _member_names(app: LoanApplication) -> dict[int, str]:
    return {m.id: m.business_name for m in app.cluster.members}


# --- applications --------------------------------------------------------------------------

@bp.route("/aggregator/applications")
@page(*ROLES)
def aggregator_applications():  # type: ignore[no-untyped-def]
    everything = loans.list_applications(db(), actor())
    to_decide = [a for a in everything if a.status is LoanStatus.submitted]
    others = sorted((a for a in everything if a.status is not LoanStatus.submitted),
                    key=lambda a: a.updated_at, reverse=True)
    return render_template("aggregator/applications.html", to_decide=to_decide, others=others,
                           status_words=status_words())


def _application_page(application_id: int, report: Any = None):  # type: ignore[no-untyped-def]
    app = loans.get(db(), actor(), application_id)
    names = _member_names(app)
    items = _plan_items(app)
    house = _house_of(app, items)
    # Without a house (no cluster house, no booking) times are shown in WIB.
    zone_of: ProductionHouse | str = house if house is not None else "Asia/Jakarta"
    shares = loans.shares(db(), actor(), app.id)
    for share in shares:
        if share.member_id not in names:  # a member who has left the cluster since
            member = db().get(Member, share.member_id)
            names[share.member_id] = member.business_name if member else str(share.member_id)
    return render_template(
        "aggregator/application.html", app=app, items=items, names=names,
        chart=_plan_chart(items, names, zone_of), zone=zone_of, shares=shares,
        cost_estimate=loans.cost_estimate(db(), actor(), app.id),
        flags=_permit_flags(items, names), report=report, status_words=status_words(),
        decidable=app.status is LoanStatus.submitted,
        limit=app.cluster.aggregator.approval_limit, hours=hours,
    )


@bp.route("/aggregator/applications/<int:application_id>")
@page(*ROLES)
def aggregator_application(application_id: int):  # type: ignore[no-untyped-def]
    return _application_page(application_id)


@bp.route("/aggregator/applications/<int:application_id>/capacity-check", methods=["POST"])
@page(*ROLES)
def aggregator_capacity_check(application_id: int):  # type: ignore[no-untyped-def]
    # The check is a question (nothing is stored): its answer is shown on the page at once.
    try:
        report = financing_capacity.check(db(), actor(), application_id)
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db().rollback()
        _flash(err)
        return redirect(url_for("web.aggregator_application", application_id=application_id))
    return _application_page(application_id, report=report)


def _parse_amount(value: str | None) -> int | None:
    """Rupiah as typed: digits with optional dots or spaces ('5.000.000'); None when empty."""
    text = (value or "").replace(".", "").replace(" ", "").removeprefix("Rp").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 15:
        return -1
    return int(text)


@bp.route("/aggregator/applications/<int:application_id>/decision", methods=["POST"])
@page(*ROLES)
def aggregator_decide(application_id: int):  # type: ignore[no-untyped-def]
    decision = request.form.get("decision")
    note = (request.form.get("note") or "").strip()[:MAX_NOTE]
    back = redirect(url_for("web.aggregator_application", application_id=application_id))
    if decision not in ("approve", "reject", "changes"):
        flash(_("Choose approve, reject or ask for changes."), "error")
        return back
    # The members read the note to learn why: a refusal or a request for changes needs one.
    if decision in ("reject", "changes") and not note:
        if decision == "reject":
            flash(_("Write a note saying why the application is rejected."), "error")
        else:
            flash(_("Write a note saying what should change."), "error")
        return back
    try:
        if decision == "approve":
            amount = _parse_amount(request.form.get("approved_amount"))
            app = loans.approve(db(), actor(), application_id, amount)
        elif decision == "reject":
            app = loans.reject(db(), actor(), application_id, note)
        else:
            app = loans.request_changes(db(), actor(), application_id, note)
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db().rollback()
        _flash(err)
        return back
    if app.status is LoanStatus.approved:
        flash(_("Application #%(id)s is approved.", id=app.id), "ok")
    elif app.status is LoanStatus.submitted:
        flash(_("Your approval of application #%(id)s is recorded. It is above the approval "
                "limit, so a second person must approve it too.", id=app.id), "ok")
    elif app.status is LoanStatus.rejected:
        flash(_("Application #%(id)s is rejected.", id=app.id), "ok")
    else:
        flash(_("Application #%(id)s is sent back for changes.", id=app.id), "ok")
    return back


# --- clusters ------------------------------------------------------------------------------

@dataclass
class ClusterSummary:
    cluster: Any
    house: ProductionHouse | None
    loans: list[Any]
    exposure: int
    overdue: list[tuple[LoanApplication, Any]]

    @property
    def overdue_amount(self) -> int:
        return sum(inst.amount - inst.paid for _app, inst in self.overdue)


def _principal_repaid(installments: list[Any]) -> int:
    """The principal paid back: a payment covers an installment's interest first (the usual
    rule for annuity installments), the rest its principal."""
    return sum(min(inst.principal, max(0, inst.paid - inst.interest)) for inst in installments)


@bp.route("/aggregator/clusters")
@page(*ROLES)
def aggregator_clusters():  # type: ignore[no-untyped-def]
    me = actor()
    views = loans.list_loans(db(), me)
    summaries: list[ClusterSummary] = []
    for cluster in db().scalars(clusters.list_clusters(db(), me)):
        mine = [v for v in views if v.application.cluster_id == cluster.id]
        exposure = 0
        overdue: list[tuple[LoanApplication, Any]] = []
        for view in mine:
            rows = loans.installments(db(), me, view.application.id)
            # Exposure: money paid out and not yet paid back (principal only).
            exposure += max(0, view.disbursed - _principal_repaid(rows))
            overdue += [(view.application, r) for r in rows if r.status is InstallmentStatus.overdue]
        house = houses.get_house(db(), me, cluster.house_id) if cluster.house_id else None
        summaries.append(ClusterSummary(cluster, house, mine, exposure, overdue))
    return render_template("aggregator/clusters.html", summaries=summaries,
                           status_words=status_words())
