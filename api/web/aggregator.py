"""An aggregator's pages: the loan applications to decide (each with its production plan on a
timeline drawn as inline SVG, the cost per member, the capacity check and permit flags, the
decisions taken so far and the approve / reject / ask-for-changes forms), the clusters with
their exposure, loans and overdue installments, each loan with its schedule and
collectability, and the offtake agreements with their purchases. Every rule lives in the
services called here (loans, loan_review, financing_capacity, offtake); this module only lays
them out. The words shared with the lender's pages (statuses, decisions, collectability) are
here too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from api.database import db
from api.web import actor, add_nav, bp, flash_error, page, rupiah, said
from api.web.gantt import Chart, Timeline
from factoryshare.errors import DomainError, NotFound, ValidationFailed
from factoryshare.models import ProductionHouse, Role
from factoryshare.models.financing import DecisionKind, LoanApplication, LoanStatus
from factoryshare.services import (
    calendar,
    clusters,
    financing_capacity,
    loan_review,
    loans,
    offtake,
)
from factoryshare.services.loan_review import PlanItem

add_nav("web.aggregator_applications", _l("Loan applications"), roles={Role.aggregator})
add_nav("web.aggregator_clusters", _l("Clusters"), roles={Role.aggregator})
add_nav("web.aggregator_offtake", _l("Offtake"), roles={Role.aggregator})

# Admins may endorse through the API too, so they may open these pages; the menu is the
# aggregator's.
ROLES = (Role.aggregator, Role.admin)

MAX_NOTE = 1000
# Delivery rows on the new-agreement form (the service takes up to offtake.MAX_DELIVERIES).
DELIVERY_ROWS = 6


# --- words shared with the lender's pages ------------------------------------------------


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


def role_words() -> dict[str, str]:
    return {
        Role.admin.value: _("administrator"),
        Role.manager.value: _("manager"),
        Role.member.value: _("member"),
        Role.aggregator.value: _("aggregator"),
        Role.lender.value: _("lender"),
    }


def decision_words(entry: loan_review.DecisionEntry) -> str:
    """What a decision on record did, in words."""
    if entry.kind is DecisionKind.endorsed:
        if entry.approvals_needed == 2 and entry.approval == 1:
            return _("first approval of two (above the approval limit)")
        if entry.approvals_needed == 2:
            return _("second approval: approved by the aggregator")
        return _("approved by the aggregator")
    return {
        DecisionKind.submitted: _("submitted to the aggregator"),
        DecisionKind.changes_requested: _("sent back for changes"),
        DecisionKind.rejected: _("rejected by the aggregator"),
        DecisionKind.lender_approved: _("approved by the lender"),
        DecisionKind.lender_declined: _("declined by the lender"),
        DecisionKind.tranche: _("tranche paid out"),
    }[entry.kind]


def collectability_words() -> dict[int, str]:
    """Kolektibilitas 1-5 (POJK 40/POJK.03/2019): the regulation's Indonesian name and, on
    English pages, its usual English name."""
    return {
        1: _("1 · current (lancar): nothing past due"),
        2: _("2 · special mention (dalam perhatian khusus): 1-90 days past due"),
        3: _("3 · substandard (kurang lancar): 91-120 days past due"),
        4: _("4 · doubtful (diragukan): 121-180 days past due"),
        5: _("5 · loss (macet): more than 180 days past due"),
    }


def installment_status_words() -> dict[str, str]:
    return {"due": _("to pay"), "overdue": _("overdue"), "paid": _("paid")}


def hours(minutes: int) -> str:
    """Machine minutes as hours with one decimal in the page's language ('2,5' in Indonesian)."""
    return format_decimal(round(minutes / 60, 1), format="#,##0.0", locale=str(get_locale()))


def percent(value: float | None) -> str:
    """A yearly rate as written in the page's language ('6,5%' in Indonesian)."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##", locale=str(get_locale())) + "%"


def words_context() -> dict[str, Any]:
    """What the loan templates of both roles need to say things."""
    return {
        "status_words": status_words(),
        "role_words": role_words(),
        "decision_words": decision_words,
        "collectability_words": collectability_words(),
        "installment_words": installment_status_words(),
        "percent": percent,
        "said": said,
    }


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


def parse_amount(value: str | None) -> int | None:
    """Whole rupiah as typed, read by babel in the page's language ('1.500.000' or
    '1.500.000,00' in Indonesian, '1,500,000' in English) or else the Indonesian way every page
    shows amounts (Rp1.500.000); an 'Rp' before it and spaces are ignored. None when empty, -1
    when it is not a whole number of rupiah (the service then names the field)."""
    text = "".join((value or "").split())
    if text[:2].lower() == "rp":
        text = text[2:]
    if not text:
        return None
    if not re.fullmatch(r"[0-9.,]+", text):
        return -1  # signs, exponents, NaN: not typed amounts
    for locale in dict.fromkeys((str(get_locale()), "id")):
        try:
            amount = parse_decimal(text, locale=locale, strict=True)
        except NumberFormatError:
            continue
        if amount != amount.to_integral_value() or amount >= 10**15:
            return -1  # sen, or more rupiah than any loan
        return int(amount)
    return -1


def parse_day(value: str | None) -> dt.date | None:
    """A date from an <input type=date> (YYYY-MM-DD); None when empty or not a date."""
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def parse_count(value: str | None) -> int | None:
    text = (value or "").replace(".", "").strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


# --- the plan timeline ---------------------------------------------------------------------


def _plan_chart(
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


def _zone_of(house: ProductionHouse | None) -> ProductionHouse | str:
    # Without a house (no cluster house, no booking) times are shown in WIB.
    return house if house is not None else "Asia/Jakarta"


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
    zone_of = _zone_of(loan_review.plan_house(db(), me, app.id))
    flags = [said(f) for f in loan_review.permit_flags(db(), me, app.id, items)]
    return render_template(
        "aggregator/application.html",
        app=app,
        items=items,
        names=names,
        chart=_plan_chart(items, names, zone_of),
        zone=zone_of,
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
        report = financing_capacity.check(db(), actor(), application_id)
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db().rollback()
        words = _decision_error_words(err)
        if words is None:
            from api.web import error_words

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


# --- clusters and loans --------------------------------------------------------------------


@dataclass
class ClusterSummary:
    cluster: Any
    house: ProductionHouse | None
    loans: list[loans.LoanView]
    overdue: list[tuple[LoanApplication, loans.InstallmentView]] = field(default_factory=list)

    @property
    def exposure(self) -> int:
        """Money paid out and not yet paid back (principal outstanding, from the service)."""
        return sum(v.outstanding for v in self.loans)

    @property
    def overdue_amount(self) -> int:
        return sum(inst.amount - inst.paid for _app, inst in self.overdue)


@bp.route("/aggregator/clusters")
@page(*ROLES)
def aggregator_clusters():  # type: ignore[no-untyped-def]
    me = actor()
    views = loans.list_loans(db(), me)
    summaries: list[ClusterSummary] = []
    for cluster in db().scalars(clusters.list_clusters(db(), me)):
        mine = [v for v in views if v.application.cluster_id == cluster.id]
        # Overdue: past its due date and not paid by today (the service's days past due).
        overdue = [(v.application, i) for v in mine for i in v.installments if i.days_past_due > 0]
        house = db().get(ProductionHouse, cluster.house_id) if cluster.house_id else None
        summaries.append(ClusterSummary(cluster, house, mine, overdue))
    return render_template("aggregator/clusters.html", summaries=summaries, **words_context())


def loan_page(loan_id: int, template: str, **extra: Any):  # type: ignore[no-untyped-def]
    """A loan with its schedule, what is overdue and its collectability (both roles)."""
    me = actor()
    view = loans.get_loan(db(), me, loan_id)
    return render_template(
        template,
        view=view,
        app=view.application,
        tranches=loans.tranches(db(), me, loan_id),
        history=loan_review.decision_history(db(), me, loan_id),
        zone=_zone_of(loan_review.plan_house(db(), me, loan_id)),
        **words_context(),
        **extra,
    )


@bp.route("/aggregator/loans/<int:loan_id>")
@page(*ROLES)
def aggregator_loan(loan_id: int):  # type: ignore[no-untyped-def]
    return loan_page(loan_id, "aggregator/loan.html")


# --- offtake agreements and purchases -----------------------------------------------------


def _agreement_form_values() -> dict[str, Any]:
    form = request.form
    return {
        "cluster_id": form.get("cluster_id", ""),
        "product_id": form.get("product_id", ""),
        "quantity": form.get("quantity", ""),
        "unit_price": form.get("unit_price", ""),
        "notes": form.get("notes", ""),
        "due_on": form.getlist("due_on"),
        "delivery_quantity": form.getlist("delivery_quantity"),
    }


def _offtake_page(
    values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status: int = 200
):  # type: ignore[no-untyped-def]
    me = actor()
    mine = list(db().scalars(clusters.list_clusters(db(), me)))
    choices = [(c, offtake.products_for_agreement(db(), me, c.id)) for c in mine]
    agreements = list(db().scalars(offtake.list_agreements(db(), me)))
    progress = {a.id: offtake.agreement_progress(db(), me, a.id) for a in agreements}
    return render_template(
        "aggregator/offtake.html",
        agreements=agreements,
        progress=progress,
        choices=choices,
        has_products=any(items for _c, items in choices),
        values=values or {},
        errors=errors or {},
        rows=DELIVERY_ROWS,
    ), status


def _field_errors(err: ValidationFailed) -> dict[str, str]:
    """The service's errors by form field, in the page's language (deliveries[i] → deliveries)."""
    lang = str(get_locale())
    from factoryshare import i18n

    found: dict[str, str] = {}
    for key, messages in (err.errors or {}).items():
        name = key.split("[")[0]
        text = " ".join(
            str(m)
            for m in i18n.translate(messages if isinstance(messages, list) else [messages], lang)
        )
        found[name] = f"{found[name]} {text}".strip() if name in found else text
    return found


@bp.route("/aggregator/offtake")
@page(*ROLES)
def aggregator_offtake():  # type: ignore[no-untyped-def]
    return _offtake_page()


@bp.route("/aggregator/offtake", methods=["POST"])
@page(*ROLES)
def aggregator_offtake_create():  # type: ignore[no-untyped-def]
    values = _agreement_form_values()
    deliveries: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for n, (day_text, qty_text) in enumerate(zip(values["due_on"], values["delivery_quantity"])):
        if not day_text.strip() and not qty_text.strip():
            continue  # an empty row
        due_on, qty = parse_day(day_text), parse_count(qty_text)
        if due_on is None or qty is None:
            errors["deliveries"] = _(
                "Delivery %(n)s needs both a date and a whole quantity.", n=n + 1
            )
            continue
        deliveries.append({"due_on": due_on, "quantity": qty})
    cluster_id = parse_count(values["cluster_id"])
    if cluster_id is None:
        errors["cluster_id"] = _("Choose the cluster.")
    if errors:
        return _offtake_page(values, errors, 422)
    data = {
        "cluster_id": cluster_id,
        "product_id": parse_count(values["product_id"]),
        "quantity": parse_count(values["quantity"]),
        "unit_price": parse_amount(values["unit_price"]),
        "deliveries": deliveries,
        "notes": values["notes"].strip()[:MAX_NOTE],
    }
    try:
        agreement = offtake.create_agreement(db(), actor(), data)
    except ValidationFailed as err:
        db().rollback()
        return _offtake_page(values, _field_errors(err), 422)
    flash(_("Offtake agreement #%(id)s is recorded.", id=agreement.id), "ok")
    return redirect(url_for("web.aggregator_agreement", agreement_id=agreement.id))


def _agreement_page(
    agreement_id: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    me = actor()
    agreement = offtake.get_agreement(db(), me, agreement_id)
    cluster = agreement.cluster
    house = db().get(ProductionHouse, cluster.house_id) if cluster.house_id else None
    member = next((m for m in cluster.members if m.id == agreement.product.member_id), None)
    return render_template(
        "aggregator/agreement.html",
        agreement=agreement,
        member=member,
        purchases=list(db().scalars(offtake.list_purchases(db(), me, agreement_id))),
        progress=offtake.agreement_progress(db(), me, agreement_id),
        loan=offtake.repayable_loan(db(), agreement.cluster_id),
        payout=offtake.member_payout,
        zone=_zone_of(house),
        values=values or {},
        errors=errors or {},
        **words_context(),
    ), status


@bp.route("/aggregator/offtake/<int:agreement_id>")
@page(*ROLES)
def aggregator_agreement(agreement_id: int):  # type: ignore[no-untyped-def]
    return _agreement_page(agreement_id)


@bp.route("/aggregator/offtake/<int:agreement_id>/purchases", methods=["POST"])
@page(*ROLES)
def aggregator_purchase(agreement_id: int):  # type: ignore[no-untyped-def]
    form = request.form
    values = {k: form.get(k, "") for k in ("delivered_on", "quantity", "amount")}
    data = {
        "delivered_on": parse_day(values["delivered_on"]),
        "quantity": parse_count(values["quantity"]),
        "amount": parse_amount(values["amount"]),
    }
    try:
        purchase = offtake.record_purchase(db(), actor(), agreement_id, data)
    except ValidationFailed as err:
        db().rollback()
        return _agreement_page(agreement_id, values, _field_errors(err), 422)
    if purchase.repaid:
        flash(
            _(
                "The purchase is recorded: %(repaid)s of it repays the loan's installments "
                "and %(member)s goes to the member.",
                repaid=rupiah(purchase.repaid),
                member=rupiah(offtake.member_payout(purchase)),
            ),
            "ok",
        )
    else:
        flash(
            _(
                "The purchase is recorded: all %(amount)s goes to the member.",
                amount=rupiah(purchase.amount),
            ),
            "ok",
        )
    return redirect(url_for("web.aggregator_agreement", agreement_id=agreement_id))
