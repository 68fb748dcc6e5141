"""Offtake agreements and purchases: the aggregator buys the cluster's product and the loan is
repaid from what it pays (KUR Klaster's closed loop, shared/DOMAIN.md section 2).

An agreement belongs to one of the aggregator's clusters and names one product of one of the
cluster's members, the quantity, the price per unit (integer rupiah) and the delivery dates.
A purchase records goods delivered and paid for; the installments of the cluster's loan that
are due by the delivery date (or, if none is, the next one) are deducted from the payment
and recorded as repayments from an offtake purchase; the rest of the payment is the member's.

Dates: a purchase is delivered on or after the day its agreement was made and not in the
future (the days where the cluster's house is, else WIB; 422 naming `delivered_on`). Nothing is
deducted for a loan not yet disbursed on the delivery day: a repayment never predates the
loan's first tranche.

Scope: the aggregator sees and writes its own agreements; managers read those of clusters
producing in their houses. A member of the cluster reads the agreements for its own products
and its own purchases only: what the aggregator buys from the other members and pays them
is theirs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from factoryshare import audit
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import utcnow
from factoryshare.errors import ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Cluster, Product, ProductionHouse, Role
from factoryshare.models.financing import (
    Installment,
    InstallmentStatus,
    LoanApplication,
    LoanStatus,
    OfftakeAgreement,
    OfftakeDelivery,
    OfftakePurchase,
    RepaymentSource,
)

MAX_QUANTITY = 100_000_000
MAX_UNIT_PRICE = 1_000_000_000_000
MAX_DELIVERIES = 60

# Loans that are being repaid: the loan a purchase repays is one of these.
REPAYABLE = (LoanStatus.disbursing, LoanStatus.repaying)


def _snapshot(agreement: OfftakeAgreement) -> dict[str, Any]:
    return audit.snapshot(
        agreement,
        extra={
            "deliveries": [
                {"due_on": d.due_on.isoformat(), "quantity": d.quantity}
                for d in agreement.deliveries
            ]
        },
    )


def _positive(errors: dict[str, list[str]], field: str, value: Any, upper: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1 or value > upper:
        errors[field] = [N_("Must be a whole number between 1 and %(upper)s.", upper=upper)]


def _deliveries(errors: dict[str, list[str]], quantity: Any, items: Any) -> list[OfftakeDelivery]:
    if not isinstance(items, list) or not items:
        errors["deliveries"] = [N_("Give at least one delivery date with its quantity.")]
        return []
    if len(items) > MAX_DELIVERIES:
        errors["deliveries"] = [
            N_("At most %(max_deliveries)s delivery dates.", max_deliveries=MAX_DELIVERIES)
        ]
        return []
    built: list[OfftakeDelivery] = []
    seen: set[dt.date] = set()
    for i, item in enumerate(items):
        where = f"deliveries[{i}]"
        due_on = item.get("due_on") if isinstance(item, dict) else None
        qty = item.get("quantity") if isinstance(item, dict) else None
        if not isinstance(due_on, dt.date) or isinstance(due_on, dt.datetime):
            errors[where] = [N_("Each delivery needs a date (due_on).")]
            continue
        if due_on in seen:
            errors[where] = [N_("Two deliveries on the same date: merge them.")]
            continue
        seen.add(due_on)
        if not isinstance(qty, int) or isinstance(qty, bool) or not 1 <= qty <= MAX_QUANTITY:
            errors[where] = [
                N_(
                    "The quantity must be a whole number between 1 and %(max_quantity)s.",
                    max_quantity=MAX_QUANTITY,
                )
            ]
            continue
        built.append(OfftakeDelivery(due_on=due_on, quantity=qty))
    if built and isinstance(quantity, int) and len(built) == len(items):
        total = sum(d.quantity for d in built)
        if total != quantity:
            errors["deliveries"] = [
                N_(
                    "The deliveries add up to %(total)s but the agreement is for %(quantity)s.",
                    total=total,
                    quantity=quantity,
                )
            ]
    return sorted(built, key=lambda d: d.due_on)


def create_agreement(session: Session, actor: Actor, data: dict[str, Any]) -> OfftakeAgreement:
    """The cluster's aggregator (or an admin) records an agreement to buy a member's product."""
    actor.require(Role.admin, Role.aggregator)
    cluster = get_scoped(session, actor, Cluster, data["cluster_id"])
    errors: dict[str, list[str]] = {}
    product = (
        session.get(Product, data["product_id"])
        if isinstance(data.get("product_id"), int)
        else None
    )
    member_ids = {m.id for m in cluster.members}
    if product is None or product.member_id not in member_ids:
        errors["product_id"] = [N_("Must be a product of one of the cluster's members.")]
    _positive(errors, "quantity", data.get("quantity"), MAX_QUANTITY)
    _positive(errors, "unit_price", data.get("unit_price"), MAX_UNIT_PRICE)
    deliveries = _deliveries(errors, data.get("quantity"), data.get("deliveries"))
    if errors:
        raise ValidationFailed(N_("The offtake agreement is not valid."), errors=errors)
    agreement = OfftakeAgreement(
        cluster_id=cluster.id,
        aggregator_id=cluster.aggregator_id,
        product_id=product.id,  # type: ignore[union-attr]
        quantity=data["quantity"],
        unit_price=data["unit_price"],
        notes=data.get("notes") or "",
        created_by_id=actor.user_id,
        created_at=utcnow(),
        deliveries=deliveries,
    )
    session.add(agreement)
    session.flush()
    audit.record(session, actor, "offtake_agreement.created", agreement, after=_snapshot(agreement))
    return agreement


def get_agreement(session: Session, actor: Actor, agreement_id: int) -> OfftakeAgreement:
    return get_scoped(session, actor, OfftakeAgreement, agreement_id)


def list_agreements(
    session: Session, actor: Actor, *, cluster_id: int | None = None
) -> Select[OfftakeAgreement]:
    """Agreements in scope (of one cluster if given), by id, their deliveries loaded with them."""
    stmt = (
        scoped(actor, OfftakeAgreement)
        .options(selectinload(OfftakeAgreement.deliveries))
        .order_by(OfftakeAgreement.id)
    )
    if cluster_id is not None:
        stmt = stmt.where(OfftakeAgreement.cluster_id == cluster_id)
    return stmt


def list_purchases(session: Session, actor: Actor, agreement_id: int) -> Select[OfftakePurchase]:
    """The purchases under the agreement in scope (a member: its own), by delivery day then id."""
    agreement = get_agreement(session, actor, agreement_id)
    return (
        scoped(actor, OfftakePurchase)
        .where(OfftakePurchase.agreement_id == agreement.id)
        .order_by(OfftakePurchase.delivered_on, OfftakePurchase.id)
    )


def delivered_quantity(session: Session, agreement: OfftakeAgreement) -> int:
    return sum(
        session.scalars(
            select(OfftakePurchase.quantity).where(OfftakePurchase.agreement_id == agreement.id)
        )
    )


def _zone(session: Session, cluster_id: int) -> ZoneInfo:
    cluster = session.get(Cluster, cluster_id)
    house = session.get(ProductionHouse, cluster.house_id) if cluster and cluster.house_id else None
    return ZoneInfo(house.timezone if house is not None and house.timezone else "Asia/Jakarta")


def agreed_on(session: Session, agreement: OfftakeAgreement) -> dt.date:
    """The day the agreement was made, where the cluster's house is."""
    at = agreement.created_at
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(_zone(session, agreement.cluster_id)).date()


def _check_delivered_on(
    session: Session, agreement: OfftakeAgreement, day: dt.date, errors: dict[str, list[str]]
) -> None:
    today = utcnow().astimezone(_zone(session, agreement.cluster_id)).date()
    agreed = agreed_on(session, agreement)
    if day > today:
        errors["delivered_on"] = [
            N_("A purchase cannot be dated in the future (today is %(today)s).", today=today)
        ]
    elif day < agreed:
        errors["delivered_on"] = [
            N_("A purchase cannot predate its agreement, made on %(agreed)s.", agreed=agreed)
        ]


def repayable_loan(session: Session, cluster_id: int) -> LoanApplication | None:
    """The cluster's oldest loan that still has unpaid installments."""
    return session.scalars(
        select(LoanApplication)
        .where(
            LoanApplication.cluster_id == cluster_id,
            LoanApplication.status.in_(REPAYABLE),
        )
        .order_by(LoanApplication.id)
    ).first()


def _installments_to_deduct(
    session: Session, loan: LoanApplication, delivered_on: dt.date
) -> list[Installment]:
    unpaid = list(
        session.scalars(
            select(Installment)
            .where(
                Installment.loan_application_id == loan.id,
                Installment.status != InstallmentStatus.paid,
            )
            .order_by(Installment.number)
            .execution_options(populate_existing=True)
        )
    )
    due = [i for i in unpaid if i.due_date <= delivered_on]
    return due or unpaid[:1]


def record_purchase(
    session: Session, actor: Actor, agreement_id: int, data: dict[str, Any]
) -> OfftakePurchase:
    """The aggregator records a delivery it bought; the installments due are deducted."""
    from factoryshare.services import loans  # the loan side owns repayments

    actor.require(Role.admin, Role.aggregator)
    agreement = get_agreement(session, actor, agreement_id)
    errors: dict[str, list[str]] = {}
    quantity = data.get("quantity")
    _positive(errors, "quantity", quantity, MAX_QUANTITY)
    delivered_on = data.get("delivered_on")
    if not isinstance(delivered_on, dt.date) or isinstance(delivered_on, dt.datetime):
        errors["delivered_on"] = [N_("Give the delivery date.")]
    else:
        _check_delivered_on(session, agreement, delivered_on, errors)
    amount = data.get("amount")
    if amount is None and isinstance(quantity, int) and "quantity" not in errors:
        amount = quantity * agreement.unit_price
    elif amount is not None:
        _positive(errors, "amount", amount, MAX_UNIT_PRICE * 1000)
    if not errors and isinstance(quantity, int):
        # One purchase at a time per agreement, so two cannot both take the last units.
        session.execute(
            select(OfftakeAgreement.id).where(OfftakeAgreement.id == agreement.id).with_for_update()
        )
        left = agreement.quantity - delivered_quantity(session, agreement)
        if quantity > left:
            errors["quantity"] = [
                N_(
                    "Only %(left)s of the agreed %(quantity)s remain to deliver.",
                    left=left,
                    quantity=agreement.quantity,
                )
            ]
    if errors:
        raise ValidationFailed(N_("The purchase is not valid."), errors=errors)
    purchase = OfftakePurchase(
        agreement_id=agreement.id,
        member_id=agreement.product.member_id,
        delivered_on=delivered_on,
        quantity=quantity,
        amount=amount,
        repaid=0,
        recorded_by_id=actor.user_id,
    )
    session.add(purchase)
    session.flush()
    loan = repayable_loan(session, agreement.cluster_id)
    if loan is not None:
        first = loans.first_tranche_on(session, loan)
        if first is None or first > delivered_on:  # type: ignore[operator]
            loan = None  # not disbursed yet on the delivery day: nothing to repay
    if loan is not None:
        loans.lock(session, loan)
        purchase.loan_application_id = loan.id
        left = amount if amount is not None else 0  # set above whenever quantity is
        for inst in _installments_to_deduct(session, loan, delivered_on):  # type: ignore[arg-type]
            if left <= 0:
                break
            take = min(left, inst.amount - inst.paid)
            loans.apply_repayment(
                session,
                actor,
                loan,
                inst,
                take,
                RepaymentSource.offtake_purchase,
                offtake_purchase_id=purchase.id,
                paid_on=delivered_on,
            )
            left -= take
            purchase.repaid += take
    session.flush()
    audit.record(
        session, actor, "offtake_purchase.recorded", purchase, after=audit.snapshot(purchase)
    )
    return purchase


def member_payout(purchase: OfftakePurchase) -> int:
    """What the member receives once the loan's part is taken."""
    return purchase.amount - purchase.repaid


def products_for_agreement(session: Session, actor: Actor, cluster_id: int) -> list[Product]:
    """The products an agreement of the cluster may name: those of its members (what
    `create_agreement` accepts), in the caller's scope."""
    cluster = get_scoped(session, actor, Cluster, cluster_id)
    member_ids = [m.id for m in cluster.members]
    if not member_ids:
        return []
    return list(
        session.scalars(
            scoped(actor, Product)
            .where(Product.member_id.in_(member_ids))
            .order_by(Product.name, Product.id)
        )
    )


def agreement_progress(session: Session, actor: Actor, agreement_id: int) -> dict[str, int]:
    """What has happened on an agreement so far: the quantity delivered and still to deliver,
    the money paid for it, the part taken for the loan and the part paid to the member (the
    caller's purchases: a member sees its own)."""
    agreement = get_agreement(session, actor, agreement_id)
    bought = list(session.scalars(list_purchases(session, actor, agreement_id)))
    delivered = delivered_quantity(session, agreement)
    return {
        "delivered": delivered,
        "remaining": max(0, agreement.quantity - delivered),
        "value": agreement.quantity * agreement.unit_price,
        "paid": sum(p.amount for p in bought),
        "repaid": sum(p.repaid for p in bought),
        "paid_to_member": sum(member_payout(p) for p in bought),
    }
