"""Offtake purchases repay the cluster's loan; tranches never exceed the approved amount."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factoryshare.access import Actor
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.models import Role
from factoryshare.models.financing import InstallmentStatus, LoanStatus, Repayment, RepaymentSource
from factoryshare.services import loans, offtake

ADMIN = Actor(user_id=None, role=Role.admin)


def _installments(db, app):
    return loans.installments(db, ADMIN, app.id)


def test_a_purchase_pays_the_installment_due_and_leaves_the_rest_to_the_member(
    db, make_offtake_agreement, make_loan
):
    agreement = make_offtake_agreement(quantity=100, unit_price=50_000)
    loan = make_loan(
        agreement.cluster, amount=12_000_000, tenor_months=12, first_tranche=12_000_000
    )
    first = _installments(db, loan)[0]

    purchase = offtake.record_purchase(
        db, ADMIN, agreement.id, {"delivered_on": first.due_date, "quantity": 40}
    )

    assert purchase.amount == 2_000_000
    assert purchase.loan_application_id == loan.id
    assert purchase.repaid == first.amount
    assert offtake.member_payout(purchase) == 2_000_000 - first.amount
    db.refresh(first)
    assert first.status is InstallmentStatus.paid
    repayment = db.scalars(select(Repayment).where(Repayment.installment_id == first.id)).one()
    assert repayment.source is RepaymentSource.offtake_purchase
    assert repayment.offtake_purchase_id == purchase.id


def test_a_purchase_before_anything_is_due_pays_toward_the_next_installment_only(
    db, make_offtake_agreement, make_loan
):
    agreement = make_offtake_agreement(quantity=100, unit_price=10_000)
    loan = make_loan(
        agreement.cluster, amount=12_000_000, tenor_months=12, first_tranche=12_000_000
    )
    first, second = _installments(db, loan)[:2]

    purchase = offtake.record_purchase(
        db, ADMIN, agreement.id, {"delivered_on": dt.date(2026, 1, 20), "quantity": 10}
    )

    assert purchase.repaid == 100_000  # the whole payment, less than the installment
    db.refresh(first)
    db.refresh(second)
    assert first.paid == 100_000 and first.status is InstallmentStatus.due
    assert second.paid == 0


def test_overdue_installments_are_all_taken_from_a_late_purchase(
    db, make_offtake_agreement, make_loan
):
    agreement = make_offtake_agreement(quantity=1000, unit_price=50_000)
    loan = make_loan(
        agreement.cluster, amount=12_000_000, tenor_months=12, first_tranche=12_000_000
    )
    rows = _installments(db, loan)

    purchase = offtake.record_purchase(
        db, ADMIN, agreement.id, {"delivered_on": rows[2].due_date, "quantity": 100}
    )

    assert purchase.repaid == sum(r.amount for r in rows[:3])
    assert [r.status for r in _installments(db, loan)[:4]] == [InstallmentStatus.paid] * 3 + [
        InstallmentStatus.due
    ]


def test_without_a_loan_being_repaid_the_whole_payment_is_the_members(db, make_offtake_agreement):
    agreement = make_offtake_agreement(quantity=10, unit_price=25_000)

    purchase = offtake.record_purchase(
        db, ADMIN, agreement.id, {"delivered_on": dt.date(2026, 3, 1), "quantity": 10}
    )

    assert purchase.loan_application_id is None
    assert offtake.member_payout(purchase) == 250_000


def test_buying_more_than_remains_of_the_agreement_is_refused(db, make_offtake_agreement):
    agreement = make_offtake_agreement(quantity=10)
    offtake.record_purchase(
        db, ADMIN, agreement.id, {"delivered_on": dt.date(2026, 3, 1), "quantity": 8}
    )

    with pytest.raises(ValidationFailed) as caught:
        offtake.record_purchase(
            db, ADMIN, agreement.id, {"delivered_on": dt.date(2026, 3, 2), "quantity": 3}
        )
    assert "Only 2" in caught.value.errors["quantity"][0]


def test_an_agreement_names_every_broken_rule(db, make_cluster, make_member, make_product):
    member = make_member()
    cluster = make_cluster(members=[member])
    outsider_product = make_product()

    with pytest.raises(ValidationFailed) as caught:
        offtake.create_agreement(
            db,
            ADMIN,
            {
                "cluster_id": cluster.id,
                "product_id": outsider_product.id,
                "quantity": 10,
                "unit_price": 0,
                "deliveries": [{"due_on": dt.date(2026, 3, 1), "quantity": 4}],
            },
        )
    assert set(caught.value.errors) == {"product_id", "unit_price", "deliveries"}


def test_tranches_stop_at_the_approved_amount_and_the_last_one_starts_repayment(
    db, make_cluster, make_member, make_loan
):
    member = make_member()
    loan = make_loan(make_cluster(members=[member]), amount=30_000_000, first_tranche=10_000_000)
    assert loan.status is LoanStatus.disbursing

    with pytest.raises(Conflict) as caught:
        loans.add_tranche(db, ADMIN, loan.id, 20_000_001, on=dt.date(2026, 2, 1))
    assert caught.value.code == "beyond_approved_amount" and "amount" in caught.value.errors

    loans.add_tranche(db, ADMIN, loan.id, 20_000_000, on=dt.date(2026, 2, 1))
    assert loan.status is LoanStatus.repaying
    assert loans.disbursed_total(db, loan) == 30_000_000
    with pytest.raises(Conflict):
        loans.add_tranche(db, ADMIN, loan.id, 1, on=dt.date(2026, 2, 2))


def test_the_loan_closes_when_purchases_have_paid_every_rupiah(
    db, make_offtake_agreement, make_loan
):
    agreement = make_offtake_agreement(quantity=1000, unit_price=1_000_000)
    loan = make_loan(agreement.cluster, amount=6_000_000, tenor_months=6, first_tranche=6_000_000)
    rows = _installments(db, loan)
    owed = sum(r.amount for r in rows)
    assert sum(r.principal for r in rows) == 6_000_000

    purchase = offtake.record_purchase(
        db, ADMIN, agreement.id, {"delivered_on": rows[-1].due_date, "quantity": 10}
    )

    assert purchase.repaid == owed
    assert offtake.member_payout(purchase) == 10_000_000 - owed
    assert loan.status is LoanStatus.closed
    assert offtake.repayable_loan(db, agreement.cluster_id) is None
