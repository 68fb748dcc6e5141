"""Scope rules of financing: lenders, KUR schemes, loan applications with their shares and
plan links, offtake agreements and purchases (KUR Klaster, shared/DOMAIN.md section 2).

- A loan application is a cluster's: the aggregator owning the cluster and the cluster's
  members see it; the manager of a house the cluster produces in, or of a house where a
  booking it finances lies, sees it (the loan pays for that house's machine time); the
  lender's officers see the applications put to their institution once the applicant sent
  them (a draft is the applicant's own), nothing else of the members.
- Within an application a member sees only its own part: its own share, and the plan links
  to its own requests and bookings. What the other members borrow and produce is theirs.
- Lenders: an officer its own institution; aggregators and members all of them, to choose
  the lender an application is put to.
- KUR schemes are public reference data: every signed-in role reads them.
- Offtake: the aggregator sees its own agreements, a manager those of clusters producing in
  its houses, a member those for its own products; a member sees only its own purchases
  (what the aggregator buys from the other members and pays them is theirs), everyone else
  the purchases of the agreements it sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import false, or_, select, true

from factoryshare.access.owners import of_house_machines, owned_by_member
from factoryshare.models import Cluster, Product, Role, cluster_members
from factoryshare.models.bookings import Booking
from factoryshare.models.financing import (
    KurScheme,
    Lender,
    LoanApplication,
    LoanPlanLink,
    LoanShare,
    LoanStatus,
    OfftakeAgreement,
    OfftakePurchase,
)
from factoryshare.models.scheduling import ProductionRequest

if TYPE_CHECKING:
    from factoryshare.access import Actor


def lender_scope(actor: Actor) -> Any:
    """An officer its own institution; aggregators and members every lender."""
    if actor.role is Role.lender:
        return Lender.id == actor.lender_id
    if actor.role is Role.aggregator or actor.role is Role.member:
        return true()  # to choose the lender an application is put to
    return false()


def kur_scheme_scope(actor: Actor) -> Any:
    """Every signed-in role reads every scheme."""
    return KurScheme.id.isnot(None)


def loan_application_scope(actor: Actor) -> Any:
    """A lender the applications put to it once sent, an aggregator those of its clusters, a
    member those of the clusters it belongs to, a manager those of clusters producing in its
    houses and those financing a booking on its houses' machines."""
    if actor.role is Role.lender:
        return (LoanApplication.lender_id == (actor.lender_id or 0)) & (
            LoanApplication.status != LoanStatus.draft
        )
    if actor.role is Role.aggregator:
        return LoanApplication.cluster_id.in_(
            select(Cluster.id).where(Cluster.aggregator_id == actor.aggregator_id)
        )
    if actor.role is Role.member:
        return LoanApplication.cluster_id.in_(
            select(cluster_members.c.cluster_id).where(
                cluster_members.c.member_id == actor.member_id
            )
        )
    if actor.role is Role.manager:
        return or_(
            LoanApplication.cluster_id.in_(
                select(Cluster.id).where(Cluster.house_id.in_(actor.house_ids))
            ),
            LoanApplication.id.in_(
                select(LoanPlanLink.loan_application_id)
                .join(Booking, Booking.id == LoanPlanLink.booking_id)
                .where(of_house_machines(actor, Booking))
            ),
        )
    return LoanApplication.id.is_(None)


def _of_applications_in_scope(actor: Actor, model: Any) -> Any:
    return model.loan_application_id.in_(
        select(LoanApplication.id).where(loan_application_scope(actor))
    )


def loan_share_scope(actor: Actor) -> Any:
    """The shares of the applications the actor sees; a member its own share only."""
    in_scope = _of_applications_in_scope(actor, LoanShare)
    if actor.role is Role.member:
        return in_scope & owned_by_member(actor, LoanShare)
    return in_scope


def plan_link_scope(actor: Actor) -> Any:
    """The plan links of the applications the actor sees; a member those to its own
    production requests and its own bookings only."""
    in_scope = _of_applications_in_scope(actor, LoanPlanLink)
    if actor.role is Role.member:
        return in_scope & or_(
            LoanPlanLink.production_request_id.in_(
                select(ProductionRequest.id).where(owned_by_member(actor, ProductionRequest))
            ),
            LoanPlanLink.booking_id.in_(select(Booking.id).where(owned_by_member(actor, Booking))),
        )
    return in_scope


def offtake_agreement_scope(actor: Actor) -> Any:
    """The aggregator its own agreements, a member those for its own products, a manager
    those of clusters producing in its houses."""
    if actor.role is Role.aggregator:
        return OfftakeAgreement.aggregator_id == (actor.aggregator_id or 0)
    if actor.role is Role.member:
        return OfftakeAgreement.product_id.in_(
            select(Product.id).where(owned_by_member(actor, Product))
        )
    if actor.role is Role.manager:
        return OfftakeAgreement.cluster_id.in_(
            select(Cluster.id).where(Cluster.house_id.in_(actor.house_ids))
        )
    return false()


def offtake_purchase_scope(actor: Actor) -> Any:
    """A member its own purchases; everyone else the purchases of the agreements it sees."""
    if actor.role is Role.member:
        return owned_by_member(actor, OfftakePurchase)
    return OfftakePurchase.agreement_id.in_(
        select(OfftakeAgreement.id).where(offtake_agreement_scope(actor))
    )
