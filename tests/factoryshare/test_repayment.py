from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factoryshare.errors import ValidationFailed
from factoryshare.services.repayment import annuity_schedule, level_installment


def test_fifty_million_over_36_months_at_six_percent_matches_the_worked_example_to_the_rupiah():
    schedule = annuity_schedule(50_000_000, 600, 36)

    assert len(schedule) == 36
    assert {row.amount for row in schedule[:-1]} == {1_521_097}
    assert schedule[-1].amount == 1_521_093
    assert sum(row.interest for row in schedule) == 4_759_488
    assert schedule[-1].balance_after == 0
    assert schedule[0].interest == 250_000


def test_the_level_installment_is_rounded_half_even_to_the_rupiah():
    assert level_installment(50_000_000, 600, 36) == 1_521_097


def test_grace_months_pay_interest_only_then_the_annuity_repays_everything():
    schedule = annuity_schedule(12_000_000, 600, 12, grace_months=3)

    assert [row.principal for row in schedule[:3]] == [0, 0, 0]
    assert [row.interest for row in schedule[:3]] == [60_000, 60_000, 60_000]
    assert sum(row.principal for row in schedule) == 12_000_000
    assert schedule[-1].balance_after == 0


def test_due_dates_fall_monthly_and_clamp_to_the_end_of_short_months():
    schedule = annuity_schedule(3_000_000, 600, 3, first_due=date(2026, 1, 31))

    assert [row.due_date for row in schedule] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


def test_an_interest_free_loan_splits_the_principal_evenly_with_the_last_taking_the_rest():
    schedule = annuity_schedule(1_000_000, 0, 3)

    assert [row.amount for row in schedule] == [333_333, 333_333, 333_334]


def test_impossible_terms_are_refused_naming_every_field():
    with pytest.raises(ValidationFailed) as caught:
        annuity_schedule(0, -1, 6, grace_months=6)

    assert set(caught.value.errors) == {"principal", "annual_rate_bps", "grace_months"}


@settings(max_examples=200, deadline=None)
@given(
    principal=st.integers(min_value=1, max_value=10_000_000_000),
    rate=st.integers(min_value=0, max_value=2_400),
    months=st.integers(min_value=1, max_value=120),
    grace=st.integers(min_value=0, max_value=24),
)
def test_the_principal_of_every_schedule_sums_exactly_to_the_amount_lent(
    principal, rate, months, grace
):
    grace = min(grace, months - 1)
    schedule = annuity_schedule(principal, rate, months, grace_months=grace)

    assert sum(row.principal for row in schedule) == principal
    assert all(row.principal >= 0 and row.interest >= 0 for row in schedule)
    assert all(row.amount == row.principal + row.interest for row in schedule)
    assert schedule[-1].balance_after == 0
