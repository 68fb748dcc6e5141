"""A lender's pages (a bank's or cooperative's credit officer): the applications put to its
institution with their decision history, the credit decision (approve with the bank's
reference, amount, rate and term, or decline with a reason), the first and later tranches,
and the loans with their schedule, what is overdue and the collectability (kolektibilitas).

The lender sees what services/loans/ scopes to it (the applications put to its institution
once submitted and the loans made from them; nothing of the members beyond the cluster's
name). Every rule lives in the services; this module only parses the forms and lays out.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from api.database import db
from api.web import actor, add_nav, bp, error_words, page, rupiah
from api.web.aggregator.clusters import loan_page
from api.web.aggregator.common import (
    MAX_NOTE,
    parse_amount,
    parse_count,
    parse_day,
    status_words,
    words_context,
)
from factoryshare.errors import DomainError, NotFound
from factoryshare.models import Role
from factoryshare.models.financing import LoanStatus
from factoryshare.services import loan_review, loans

add_nav("web.lender_applications", _l("Loan applications"), roles={Role.lender})
add_nav("web.lender_loans", _l("Loans"), roles={Role.lender})

ROLES = (Role.lender,)


def lender_status_words() -> dict[str, str]:
    """The statuses as the lender reads them (an endorsed application waits for it)."""
    words = status_words()
    words.update(
        {
            LoanStatus.submitted.value: _("with the aggregator"),
            LoanStatus.approved.value: _("endorsed: waiting for your decision"),
            LoanStatus.lender_approved.value: _("approved by you: to disburse"),
            LoanStatus.lender_declined.value: _("declined by you"),
        }
    )
    return words


@bp.route("/lender/applications")
@page(*ROLES)
def lender_applications():  # type: ignore[no-untyped-def]
    to_decide, others = loan_review.applications_to_decide(db(), actor())
    return render_template(
        "lender/applications.html",
        to_decide=to_decide,
        others=others,
        status_words=lender_status_words(),
    )


@bp.route("/lender/applications/<int:application_id>")
@page(*ROLES)
def lender_application(application_id: int):  # type: ignore[no-untyped-def]
    me = actor()
    app = loans.get(db(), me, application_id)
    house = loan_review.plan_house(db(), me, app.id)
    context = words_context()
    context["status_words"] = lender_status_words()
    return render_template(
        "lender/application.html",
        app=app,
        zone=house if house is not None else "Asia/Jakarta",
        history=loan_review.decision_history(db(), me, app.id),
        cost_estimate=loans.cost_estimate(db(), me, app.id),
        disbursed=loans.disbursed_total(db(), app),
        today=loans.today(db(), app),
        is_loan=app.status in loans.LOAN_STATUSES,
        **context,
    )


def _rate(value: str | None) -> Any:
    """A yearly rate as typed ('6', '6,5', '6.5'); None when empty (the scheme's rate), the
    text itself when it is no number (the service names the field)."""
    text = (value or "").strip().replace(",", ".").removesuffix("%").strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


def _months(value: str | None) -> int | None:
    """A term in months as typed; None when empty (the term applied for), -1 when it is no
    whole number (the service names the field)."""
    if not (value or "").strip():
        return None
    count = parse_count(value)
    return -1 if count is None else count


def _back(application_id: int):  # type: ignore[no-untyped-def]
    return redirect(url_for("web.lender_application", application_id=application_id))


def _refused(err: DomainError, application_id: int):  # type: ignore[no-untyped-def]
    if isinstance(err, NotFound):
        raise err
    db().rollback()
    if err.code == "invalid_transition":
        flash(
            _(
                "This application is no longer waiting for this step; reload the page to see "
                "its status."
            ),
            "error",
        )
    else:
        flash(error_words(err), "error")
    return _back(application_id)


@bp.route("/lender/applications/<int:application_id>/decision", methods=["POST"])
@page(*ROLES)
def lender_decide(application_id: int):  # type: ignore[no-untyped-def]
    form = request.form
    decision = form.get("decision")
    if decision not in ("approve", "decline"):
        flash(_("Choose approve or decline."), "error")
        return _back(application_id)
    reason = (form.get("reason") or "").strip()[:MAX_NOTE]
    try:
        if decision == "approve":
            app = loans.lender_decision(
                db(),
                actor(),
                application_id,
                True,
                reference=form.get("reference", ""),
                approved_amount=parse_amount(form.get("approved_amount")),
                rate_percent=_rate(form.get("rate_percent")),
                tenor_months=_months(form.get("tenor_months")),
                note=reason,
            )
        else:
            app = loans.lender_decision(
                db(),
                actor(),
                application_id,
                False,
                reference=form.get("reference", ""),
                note=reason,
            )
    except DomainError as err:
        return _refused(err, application_id)
    if app.status is LoanStatus.lender_approved:
        flash(
            _(
                "The loan of application #%(id)s is approved for %(amount)s.",
                id=app.id,
                amount=rupiah(app.approved_amount),
            ),
            "ok",
        )
    else:
        flash(_("The loan of application #%(id)s is declined.", id=app.id), "ok")
    return _back(application_id)


@bp.route("/lender/applications/<int:application_id>/tranche", methods=["POST"])
@page(*ROLES)
def lender_tranche(application_id: int):  # type: ignore[no-untyped-def]
    """The first tranche starts disbursing; the later ones add to it (the service decides)."""
    form = request.form
    amount = parse_amount(form.get("amount"))
    on = parse_day(form.get("on"))
    if amount is None:
        flash(_("Give the amount to pay out."), "error")
        return _back(application_id)
    if (form.get("on") or "").strip() and on is None:
        flash(_("The payout date is not a date."), "error")
        return _back(application_id)
    try:
        loans.pay_out(db(), actor(), application_id, amount, on=on)
    except DomainError as err:
        return _refused(err, application_id)
    flash(
        _("%(amount)s is paid out on loan #%(id)s.", amount=rupiah(amount), id=application_id), "ok"
    )
    return _back(application_id)


@bp.route("/lender/loans")
@page(*ROLES)
def lender_loans():  # type: ignore[no-untyped-def]
    return render_template(
        "lender/loans.html", views=loans.list_loans(db(), actor()), **words_context()
    )


@bp.route("/lender/loans/<int:loan_id>")
@page(*ROLES)
def lender_loan(loan_id: int):  # type: ignore[no-untyped-def]
    return loan_page(loan_id, "lender/loan.html")
