"""An aggregator's clusters with their exposure, loans and overdue installments, and a loan
with its schedule, tranches and collectability (the page the lender's loan page shares)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import render_template

from api.database import db
from api.web import actor, bp, page
from api.web.aggregator.common import ROLES, words_context, zone_of
from factoryshare.models import ProductionHouse
from factoryshare.models.financing import LoanApplication
from factoryshare.services import clusters, loan_review, loans


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
        zone=zone_of(loan_review.plan_house(db(), me, loan_id)),
        **words_context(),
        **extra,
    )


@bp.route("/aggregator/loans/<int:loan_id>")
@page(*ROLES)
def aggregator_loan(loan_id: int):  # type: ignore[no-untyped-def]
    return loan_page(loan_id, "aggregator/loan.html")
