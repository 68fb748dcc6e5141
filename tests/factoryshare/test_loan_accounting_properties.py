"""Properties of multi-disbursement schedules (services/repayment.py) for any amounts, rates,
terms, tranche dates and early repayments: principal repaid sums to principal disbursed, the
last installment absorbs the rounding, no installment is negative.

The pure engine is driven the way services/loans.py drives it (each balance change rebuilds
the installments not yet due); the last test takes random loans through the services.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.models.financing import LoanStatus
from factoryshare.services import loans, repayment

START = dt.date(2026, 1, 15)


def _simulate(amounts, offsets, rate, tenor, grace, prepay=None):
    """Tranches (the first on START, the others `offsets` days later, in order) and one
    optional early repayment (day, amount, mode); every change rebuilds the open rows."""
    periods = repayment.periods(START, tenor)
    rows: list[repayment.Row] = []
    changes: list[tuple[dt.date, int]] = []
    events = [(START + dt.timedelta(days=d), a, None) for d, a in zip([0, *offsets], amounts)]
    if prepay is not None:
        events.append((START + dt.timedelta(days=prepay[0]), -prepay[1], prepay[2]))
    events.sort(key=lambda e: (e[0], e[1] < 0))
    disbursed = prepaid = 0
    level = None
    for on, delta, mode in events:
        frozen = sum(1 for r in rows if r.due <= on)
        if rows and frozen >= len(rows):
            continue  # after the last due date: the services refuse it
        if delta < 0:
            outstanding = disbursed - prepaid - sum(r.principal for r in rows[:frozen])
            if -delta >= outstanding:
                continue  # that would be a full repayment
            keep = None
            if mode == "shorten_term":
                amortising = [r.amount for r in rows[frozen:-1] if r.number > grace]
                keep = min(amortising) if amortising else None
            prepaid += -delta
        else:
            disbursed += delta
            keep = None
        changes.append((on, delta))
        current = periods[: len(rows)] if rows else periods
        new, level = repayment.reschedule(
            periods=current,
            frozen=rows[:frozen],
            changes=changes,
            annual_rate_bps=rate,
            grace_months=grace,
            level=keep,
        )
        rows = rows[:frozen] + new
    return rows, disbursed, prepaid, level


loan_terms = st.tuples(
    st.lists(st.integers(min_value=1, max_value=5_000_000_000), min_size=1, max_size=4),
    st.lists(st.integers(min_value=1, max_value=1_800), min_size=3, max_size=3),
    st.integers(min_value=0, max_value=2_400),
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=6),
)


@settings(max_examples=300, deadline=None)
@given(terms=loan_terms)
def test_for_any_tranches_the_principal_scheduled_sums_to_the_principal_disbursed(terms):
    amounts, offsets, rate, tenor, grace = terms
    grace = min(grace, tenor - 1)
    rows, disbursed, prepaid, _level = _simulate(amounts, sorted(offsets), rate, tenor, grace)

    assert sum(r.principal for r in rows) + prepaid == disbursed
    assert all(r.principal >= 0 and r.interest >= 0 for r in rows)
    assert [r.number for r in rows] == list(range(1, len(rows) + 1))
    assert all(r.start < r.due for r in rows)


@settings(max_examples=300, deadline=None)
@given(
    terms=loan_terms,
    prepay_day=st.integers(min_value=1, max_value=1_800),
    prepay_share=st.integers(min_value=1, max_value=99),
    mode=st.sampled_from(["shorten_term", "lower_installment"]),
)
def test_early_repayments_keep_the_principal_whole_and_no_installment_negative(
    terms, prepay_day, prepay_share, mode
):
    amounts, offsets, rate, tenor, grace = terms
    grace = min(grace, tenor - 1)
    prepay = (prepay_day, max(1, amounts[0] * prepay_share // 100), mode)
    rows, disbursed, prepaid, _level = _simulate(
        amounts, sorted(offsets), rate, tenor, grace, prepay
    )

    assert sum(r.principal for r in rows) + prepaid == disbursed
    assert all(r.principal >= 0 and r.interest >= 0 for r in rows)


@settings(max_examples=300, deadline=None)
@given(
    amounts=st.lists(st.integers(min_value=1_000, max_value=5_000_000_000), min_size=1, max_size=4),
    months=st.lists(st.integers(min_value=1, max_value=59), min_size=3, max_size=3),
    rate=st.integers(min_value=0, max_value=2_400),
    tenor=st.integers(min_value=2, max_value=60),
)
def test_the_last_installment_absorbs_the_rounding(amounts, months, rate, tenor):
    # Tranches on due dates: every open installment but the last is the level installment to
    # the rupiah, and the last differs from it by the rounding carried only.
    dues = [d for _s, d in repayment.periods(START, tenor)]
    offsets = sorted((dues[min(m, tenor - 1) - 1] - START).days for m in months)
    rows, _disbursed, _prepaid, level = _simulate(amounts, offsets, rate, tenor, 0)
    last_change = (
        START + dt.timedelta(days=offsets[len(amounts) - 2]) if len(amounts) > 1 else START
    )
    open_rows = [r for r in rows if r.due > last_change]
    if len(open_rows) < 2:
        return
    assert all(r.amount == level for r in open_rows[:-1] if r.principal > 0)
    monthly = float(repayment.monthly_rate(rate))
    carried = len(open_rows) * (1 + monthly) ** len(open_rows)
    assert abs(open_rows[-1].amount - level) <= carried + 1


def test_a_tranche_half_way_through_a_month_bears_interest_for_the_days_it_was_out():
    periods = repayment.periods(dt.date(2026, 1, 5), 12)
    first, _ = repayment.reschedule(
        periods=periods, frozen=[], annual_rate_bps=600, changes=[(dt.date(2026, 1, 5), 20_000_000)]
    )
    changes = [(dt.date(2026, 1, 5), 20_000_000), (dt.date(2026, 4, 20), 30_000_000)]
    rebuilt, level = repayment.reschedule(
        periods=periods, frozen=first[:3], changes=changes, annual_rate_bps=600
    )

    assert first[0].interest == 100_000  # on the Rp20 juta paid out, not the Rp50 juta approved
    # 15 of April's 30 days on Rp15.111.652, 15 on Rp45.111.652, at 0,5 % a month.
    assert rebuilt[0].number == 4 and rebuilt[0].interest == 150_558
    assert level == 5_138_549 and rebuilt[0].principal == level - 150_558
    assert sum(r.principal for r in first[:3] + rebuilt) == 50_000_000


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    amounts=st.lists(st.integers(min_value=100_000, max_value=200_000_000), min_size=1, max_size=3),
    gaps=st.lists(st.integers(min_value=0, max_value=200), min_size=2, max_size=2),
    tenor=st.integers(min_value=3, max_value=24),
)
def test_through_the_services_principal_repaid_sums_to_principal_disbursed(
    db, make_cluster, make_member, make_loan, make_clock, amounts, gaps, tenor
):
    system = Actor(user_id=None, role=Role.admin)
    loan = make_loan(
        make_cluster(members=[make_member()]),
        amount=sum(amounts),
        tenor_months=tenor,
        first_tranche=amounts[0],
    )
    day = dt.date(2026, 1, 15)
    for gap, amount in zip(gaps, amounts[1:]):
        day += dt.timedelta(days=gap)
        rows = loans.installments(db, system, loan.id)
        if day >= rows[-1].due_date:
            break
        view = loans.get_loan(db, system, loan.id, on=day)
        assert view.outstanding <= view.disbursed - view.principal_repaid
        with make_clock.at(day):
            loans.add_tranche(db, system, loan.id, amount, on=day)
    disbursed = loans.disbursed_total(db, loan)
    rows = loans.installments(db, system, loan.id)
    assert sum(r.principal for r in rows) == disbursed
    assert all(r.principal >= 0 and r.interest >= 0 for r in rows)
    for row in rows:
        with make_clock.at(row.due_date):
            loans.record_repayment(db, system, loan.id, row.number, row.amount, on=row.due_date)

    view = loans.get_loan(db, system, loan.id, on=rows[-1].due_date)
    assert view.principal_repaid == disbursed and view.outstanding == 0
    assert loan.status is (
        LoanStatus.closed if disbursed == sum(amounts) else LoanStatus.disbursing
    )
