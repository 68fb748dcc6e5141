"""Loan accounting (issue 16): interest on money paid out only, the schedule rebuilt at each
tranche, early repayment, days past due and collectability, and dated money.

Each expected rupiah is worked out here with plain Decimal arithmetic at 0,5 % a month.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from factoryshare.access import Actor
from factoryshare.errors import Conflict, ValidationFailed
from factoryshare.models import Role
from factoryshare.models.financing import InstallmentStatus, LoanStatus
from factoryshare.services import loans, offtake

SYSTEM = Actor(user_id=None, role=Role.admin)
DAY0 = dt.date(2026, 1, 15)
RATE = Decimal("0.005")


def _r(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _level(balance: int, months: int) -> int:
    factor = (1 + RATE) ** months
    return _r(balance * RATE * factor / (factor - 1))


@pytest.fixture()
def loan(make_cluster, make_member, make_loan):
    """Rp50 juta approved for 12 months at 6 %, Rp20 juta paid out on 15 Jan 2026."""
    return make_loan(
        make_cluster(members=[make_member()]),
        amount=50_000_000,
        tenor_months=12,
        on=DAY0,
        first_tranche=20_000_000,
    )


def _rows(db, app):
    return loans.installments(db, SYSTEM, app.id)


def test_interest_accrues_only_on_the_money_paid_out(db, loan):
    rows = _rows(db, loan)
    view = loans.get_loan(db, SYSTEM, loan.id, on=DAY0)

    assert rows[0].interest == 100_000  # Rp20 juta x 0,5 %, not Rp250.000 on Rp50 juta
    assert rows[0].amount == _level(20_000_000, 12)
    assert sum(r.principal for r in rows) == 20_000_000
    assert view.disbursed == 20_000_000 and view.outstanding == 20_000_000


def test_a_second_tranche_is_re_amortised_over_the_installments_left(db, loan, make_clock):
    before = [(r.principal, r.interest) for r in _rows(db, loan)[:3]]
    with make_clock.at(dt.date(2026, 4, 15)):  # installment 3's due date
        loans.add_tranche(db, SYSTEM, loan.id, 30_000_000, on=dt.date(2026, 4, 15))
    rows = _rows(db, loan)

    balance = 20_000_000
    level = _level(balance, 12)
    for principal, interest in before:
        assert interest == _r(balance * RATE) and principal == level - interest
        balance -= principal
    balance += 30_000_000
    level = _level(balance, 9)
    assert [(r.principal, r.interest) for r in rows[:3]] == before
    for row in rows[3:-1]:
        assert row.interest == _r(balance * RATE) and row.amount == level
        balance -= row.principal
    assert rows[-1].principal == balance  # the last installment takes what is left
    assert sum(r.principal for r in rows) == 50_000_000
    assert loan.status is LoanStatus.repaying


def test_a_tranche_in_the_middle_of_a_month_bears_interest_from_its_day(db, loan, make_clock):
    with make_clock.at(dt.date(2026, 2, 1)):
        loans.add_tranche(db, SYSTEM, loan.id, 30_000_000, on=dt.date(2026, 2, 1))
    first = _rows(db, loan)[0]

    # 17 of the period's 31 days on Rp20 juta, 14 on Rp50 juta.
    assert first.interest == _r(RATE * (20_000_000 * 17 + 50_000_000 * 14) / 31)
    assert first.due_date == dt.date(2026, 2, 15)


def test_what_the_loan_says_is_outstanding_is_disbursed_less_principal_repaid(db, loan, make_clock):
    first = _rows(db, loan)[0]
    with make_clock.at(first.due_date):
        loans.record_repayment(db, SYSTEM, loan.id, 1, first.amount, on=first.due_date)
    view = loans.get_loan(db, SYSTEM, loan.id, on=first.due_date)

    assert view.principal_repaid == first.principal and view.interest_paid == first.interest
    assert view.outstanding == 20_000_000 - first.principal
    assert view.outstanding <= view.disbursed - view.principal_repaid


def _pay_first(db, app, clock):
    first = _rows(db, app)[0]
    with clock.at(first.due_date):
        loans.record_repayment(db, SYSTEM, app.id, 1, first.amount, on=first.due_date)
    return first


def test_an_early_repayment_that_shortens_the_term_keeps_the_installment(db, loan, make_clock):
    first = _pay_first(db, loan, make_clock)
    level = first.amount
    on = dt.date(2026, 3, 1)  # 14 of installment 2's 28 days
    with make_clock.at(on):
        prepaid = loans.prepay(db, SYSTEM, loan.id, 10_000_000, on=on, mode="shorten_term")
    rows = _rows(db, loan)

    balance = 20_000_000 - first.principal
    assert prepaid.principal == 10_000_000 and prepaid.interest == 0
    assert rows[1].interest == _r(RATE * (balance * 14 + (balance - 10_000_000) * 14) / 28)
    assert all(r.amount == level for r in rows[1:-1])
    assert len(rows) < 12 and rows[-1].amount <= level
    assert sum(r.principal for r in rows) + 10_000_000 == 20_000_000
    assert loans.get_loan(db, SYSTEM, loan.id, on=on).outstanding == balance - 10_000_000


def test_an_early_repayment_that_lowers_the_installment_keeps_the_term(db, loan, make_clock):
    first = _pay_first(db, loan, make_clock)
    on = first.due_date  # on a due date: no day of the next period at the old balance
    with make_clock.at(on):
        loans.prepay(db, SYSTEM, loan.id, 10_000_000, on=on, mode="lower_installment")
    rows = _rows(db, loan)

    balance = 20_000_000 - first.principal - 10_000_000
    assert len(rows) == 12
    assert all(r.amount == _level(balance, 11) for r in rows[1:-1])
    assert sum(r.principal for r in rows) + 10_000_000 == 20_000_000


def test_a_full_early_repayment_pays_the_interest_accrued_and_closes_the_loan(db, loan, make_clock):
    first = _pay_first(db, loan, make_clock)
    on = dt.date(2026, 3, 1)
    balance = 20_000_000 - first.principal
    accrued = _r(balance * RATE * 14 / 28)
    assert loans.payoff(db, SYSTEM, loan.id, on).amount == balance + accrued

    with make_clock.at(on), pytest.raises(ValidationFailed) as caught:
        loans.prepay(db, SYSTEM, loan.id, balance, on=on, mode="full")
    assert set(caught.value.errors) == {"amount"}
    with make_clock.at(on):
        prepaid = loans.prepay(db, SYSTEM, loan.id, balance + accrued, on=on, mode="full")

    assert (prepaid.principal, prepaid.interest) == (balance, accrued)
    assert loan.status is LoanStatus.closed
    assert [r.number for r in _rows(db, loan)] == [1]
    view = loans.get_loan(db, SYSTEM, loan.id, on=on)
    assert view.outstanding == 0 and view.principal_repaid == 20_000_000


def test_an_early_repayment_waits_for_the_installments_already_due(db, loan, make_clock):
    with make_clock.at(dt.date(2026, 3, 1)), pytest.raises(Conflict) as caught:
        loans.prepay(db, SYSTEM, loan.id, 1_000_000, on=dt.date(2026, 3, 1))
    assert caught.value.code == "installments_due_first"
    with pytest.raises(ValidationFailed) as caught:
        loans.prepay(db, SYSTEM, loan.id, 1_000_000, on=DAY0, mode="sideways")
    assert set(caught.value.errors) == {"mode"}


def test_days_past_due_and_collectability_are_counted_as_of_a_day(db, loan, make_clock):
    first = _rows(db, loan)[0]  # due 15 Feb 2026
    due = first.due_date

    def grade(on):
        view = loans.get_loan(db, SYSTEM, loan.id, on=on)
        return view.installments[0].days_past_due, view.days_past_due, view.collectability

    assert grade(due) == (0, 0, 1)
    assert grade(due + dt.timedelta(days=1)) == (1, 1, 2)
    assert grade(due + dt.timedelta(days=90))[2] == 2
    assert grade(due + dt.timedelta(days=91))[2] == 3
    assert grade(due + dt.timedelta(days=121))[2] == 4
    assert grade(due + dt.timedelta(days=181))[2] == 5
    paid_on = due + dt.timedelta(days=10)
    with make_clock.at(paid_on):
        loans.record_repayment(db, SYSTEM, loan.id, 1, first.amount, on=paid_on)
    assert grade(paid_on - dt.timedelta(days=1)) == (9, 9, 2)  # as it was that day
    assert grade(paid_on)[2] == 1
    assert loans.get_loan(db, SYSTEM, loan.id, on=paid_on).collectability_label == "Lancar"


# --- Dates -------------------------------------------------------------------------------------


def test_a_tranche_dated_before_the_lenders_approval_or_in_the_future_is_refused(
    db, loan, make_clock
):
    with make_clock.at(dt.date(2026, 2, 1)):
        with pytest.raises(ValidationFailed) as caught:
            loans.add_tranche(db, SYSTEM, loan.id, 1_000_000, on=DAY0 - dt.timedelta(days=1))
        assert set(caught.value.errors) == {"on"} and "approval" in caught.value.errors["on"][0]
        with pytest.raises(ValidationFailed) as caught:
            loans.add_tranche(db, SYSTEM, loan.id, 1_000_000, on=dt.date(2026, 2, 2))
        assert set(caught.value.errors) == {"on"} and "future" in caught.value.errors["on"][0]
    assert loans.disbursed_total(db, loan) == 20_000_000


def test_disbursing_before_the_approval_is_refused_naming_the_day(
    db, make_cluster, make_member, make_loan, make_clock
):
    app = make_loan(
        make_cluster(members=[make_member()]), amount=5_000_000, on=DAY0, until="lender_approved"
    )
    with pytest.raises(ValidationFailed) as caught:
        loans.disburse(db, SYSTEM, app.id, on=DAY0 - dt.timedelta(days=3), amount=5_000_000)
    assert set(caught.value.errors) == {"on"}
    assert app.status is LoanStatus.lender_approved


def test_a_repayment_before_the_loan_was_disbursed_or_in_the_future_is_refused(
    db, loan, make_clock
):
    with make_clock.at(dt.date(2026, 2, 15)):
        with pytest.raises(ValidationFailed) as caught:
            loans.record_repayment(db, SYSTEM, loan.id, 1, 1_000, on=DAY0 - dt.timedelta(days=1))
        assert set(caught.value.errors) == {"on"}
        with pytest.raises(ValidationFailed) as caught:
            loans.record_repayment(db, SYSTEM, loan.id, 1, 1_000, on=dt.date(2026, 2, 16))
        assert set(caught.value.errors) == {"on"}
    assert _rows(db, loan)[0].paid == 0


def test_an_offtake_purchase_before_its_agreement_or_in_the_future_is_refused(
    db, make_offtake_agreement, make_clock
):
    agreement = make_offtake_agreement(quantity=10, made_on=dt.date(2026, 1, 10))
    with make_clock.at(dt.date(2026, 2, 1)):
        for day in (dt.date(2026, 1, 9), dt.date(2026, 2, 2)):
            with pytest.raises(ValidationFailed) as caught:
                offtake.record_purchase(
                    db, SYSTEM, agreement.id, {"delivered_on": day, "quantity": 1}
                )
            assert set(caught.value.errors) == {"delivered_on"}
        purchase = offtake.record_purchase(
            db, SYSTEM, agreement.id, {"delivered_on": dt.date(2026, 1, 10), "quantity": 1}
        )
    assert purchase.quantity == 1


def test_a_purchase_delivered_before_the_loan_was_disbursed_repays_nothing(
    db, make_offtake_agreement, make_loan, make_clock
):
    agreement = make_offtake_agreement(quantity=10, made_on=dt.date(2026, 1, 1))
    app = make_loan(agreement.cluster, amount=5_000_000, on=DAY0, first_tranche=5_000_000)
    with make_clock.at(DAY0):
        purchase = offtake.record_purchase(
            db, SYSTEM, agreement.id, {"delivered_on": DAY0 - dt.timedelta(days=1), "quantity": 1}
        )
    assert purchase.repaid == 0 and purchase.loan_application_id is None
    assert _rows(db, app)[0].status is InstallmentStatus.due
