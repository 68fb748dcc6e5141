"""An aggregator's clusters with their exposure, loans and overdue installments, and a loan
with its schedule, tranches and collectability (the page the lender's loan page shares)."""

from __future__ import annotations

from typing import Any

from flask import render_template

from api.database import db
from api.web import actor, bp, page
from api.web.aggregator.common import ROLES, words_context, zone_of
from factoryshare.services import loan_review, loans


@bp.route("/aggregator/clusters")
@page(*ROLES)
def aggregator_clusters():  # type: ignore[no-untyped-def]
    summaries = loans.cluster_exposures(db(), actor())
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
        zone=zone_of(loan_review.plan_house(db(), me, loan_id)),
        **words_context(),
        **extra,
    )


@bp.route("/aggregator/loans/<int:loan_id>")
@page(*ROLES)
def aggregator_loan(loan_id: int):  # type: ignore[no-untyped-def]
    return loan_page(loan_id, "aggregator/loan.html")
