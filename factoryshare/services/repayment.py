"""Pure loan arithmetic for KUR loans: integer rupiah, half-even rounding, multi-disbursement.

Annuity
-------
Each month's interest is the balance times the monthly rate (the annual rate / 12), rounded
half-even to the rupiah; the level installment is rounded half-even once; the last installment
absorbs the remainder so that the principal sums exactly to the amount lent (Apache Fineract's
rule). Grace months (``grace_months``) pay interest only; the annuity runs over the remaining
months. ``annuity_schedule`` is the schedule of an amount paid out in one go.

Multi-disbursement (tranches) and early repayment: the exact rule
----------------------------------------------------------------
Interest runs only on principal actually paid out, from each tranche's date, as in Fineract's
multi-disbursement loans. The installments fall due monthly from the *first* tranche's date
(one month later, on the same day of the month, at most the 28th); installment k's period runs
from the previous due date (for k = 1: the first tranche's date) up to, not including, its own
due date.

1. Interest of a period = monthly rate x the principal outstanding in the period, pro rata by
   days when the balance changes inside it: for a period of D days in which the balance is B1
   for d1 days and B2 for d2 days (d1 + d2 = D), the interest is
   ``round_half_even(rate/12 x (B1 x d1 + B2 x d2) / D)``. A change on a due date belongs to
   the period that starts there. The principal outstanding falls by each installment's
   scheduled principal on its due date (paid or not: a late payment does not move the
   schedule), rises by each tranche on its date and falls by each early repayment on its date.
2. Each balance change (a tranche, an early repayment) rebuilds the schedule from that date:
   the installments already due on that date, and any installment already paid (even in part)
   before its due date, together with every one before it, are *frozen* and keep their
   amounts; the others are *open* and are recomputed. The principal outstanding after the
   change (disbursed - early repayments - the frozen installments' principal) is re-amortised
   over the open installments (those after the grace months): the level installment is the
   annuity of that principal over their number, each open installment's principal is the
   level installment minus its (pro rata) interest, never below 0 nor above the balance, and
   the last one takes what is left, so the principal of all installments plus the early
   repayments sums to the principal disbursed to the rupiah.
3. An early repayment is principal only and the borrower's aggregator chooses what it does:
   ``lower_installment`` re-amortises as in 2 (same number of installments, a lower level
   installment); ``shorten_term`` keeps the level installment and the balance runs out
   sooner, so the last installments go. A *full* repayment pays the principal outstanding
   plus the interest accrued in the open period up to that date (pro rata by days as in 1)
   and closes the loan.
4. An installment frozen in 2 because it was paid in advance keeps its interest: a change
   inside its period starts (or stops) bearing interest from the next open period.

Worked example (the one in issue 16): Rp50 juta approved, 6 % a year (0.5 % a month), 12
months, Rp20 juta paid out on 5 Jan 2026, Rp30 juta on 5 Apr 2026 (installment 3's due date).
After the first tranche: level installment annuity(20.000.000, 0,5 %, 12) = Rp1.721.329;
installment 1 (5 Jan - 5 Feb) interest 20.000.000 x 0,5 % = Rp100.000 (not the Rp250.000 of
the whole approved amount), principal 1.621.329; installment 2 interest
round(18.378.671 x 0,5 %) = Rp91.893, principal 1.629.436; installment 3 interest Rp83.746,
principal 1.637.583; balance after installment 3: Rp15.111.652. The second tranche on 5 Apr
raises it to Rp45.111.652, re-amortised over the 9 installments left: level installment
annuity(45.111.652, 0,5 %, 9) = Rp5.138.549; installment 4 interest
round(45.111.652 x 0,5 %) = Rp225.558, principal 4.912.991, ..., installment 12 (the last)
principal 5.112.986 + interest 25.565 = Rp5.138.551: it absorbs the rounding. Had the second
tranche come on 20 Apr (15 of installment 4's 30 days), installment 4's interest would be
round(0,5 % x (15.111.652 x 15 + 45.111.652 x 15) / 30) = Rp150.558, its principal
5.138.549 - 150.558 = 4.987.991, and the last installment Rp5.060.498.

Collectability (kolektibilitas, POJK 40/POJK.03/2019) by the days past due of the oldest
unpaid installment: 1 Lancar (0), 2 Dalam Perhatian Khusus (1-90), 3 Kurang Lancar (91-120),
4 Diragukan (121-180), 5 Macet (more than 180).

No database access here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

from dateutil.relativedelta import relativedelta

from factoryshare.errors import ValidationFailed
from factoryshare.i18n import N_


@dataclass(frozen=True)
class ScheduledInstallment:
    number: int
    due_date: date | None
    principal: int
    interest: int
    amount: int
    balance_after: int


@dataclass(frozen=True)
class Row:
    """One installment of a disbursed loan's schedule with the period its interest covers."""

    number: int
    start: date  # the period's first day
    due: date  # its due date (the period ends the day before)
    principal: int
    interest: int

    @property
    def amount(self) -> int:
        return self.principal + self.interest


def _round_half_even(value: Fraction) -> int:
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def monthly_rate(annual_rate_bps: int) -> Fraction:
    return Fraction(annual_rate_bps, 10000 * 12)


def level_installment(principal: int, annual_rate_bps: int, months: int) -> int:
    """The level monthly installment, rounded half-even to the rupiah."""
    rate = monthly_rate(annual_rate_bps)
    if rate == 0:
        return _round_half_even(Fraction(principal, months))
    factor = (1 + rate) ** months
    return _round_half_even(principal * rate * factor / (factor - 1))


def _check_terms(principal: int, annual_rate_bps: int, months: int, grace_months: int) -> None:
    errors: dict[str, list[str]] = {}
    if not isinstance(principal, int) or principal <= 0:
        errors["principal"] = [N_("Must be a positive whole number of rupiah.")]
    if not isinstance(annual_rate_bps, int) or annual_rate_bps < 0:
        errors["annual_rate_bps"] = [N_("Must be zero or more basis points.")]
    if not isinstance(months, int) or months <= 0:
        errors["tenor_months"] = [N_("Must be at least one month.")]
    if not isinstance(grace_months, int) or grace_months < 0:
        errors["grace_months"] = [N_("Must be zero or more months.")]
    elif isinstance(months, int) and grace_months >= months:
        errors["grace_months"] = [N_("Must be shorter than the tenor.")]
    if errors:
        raise ValidationFailed(N_("The loan terms cannot be scheduled."), errors=errors)


def annuity_schedule(
    principal: int,
    annual_rate_bps: int,
    months: int,
    *,
    grace_months: int = 0,
    first_due: date | None = None,
) -> list[ScheduledInstallment]:
    """The whole schedule of an amount paid out at once; principal sums exactly to it."""
    _check_terms(principal, annual_rate_bps, months, grace_months)
    rate = monthly_rate(annual_rate_bps)
    rows: list[ScheduledInstallment] = []
    balance = principal
    for number in range(1, grace_months + 1):
        interest = _round_half_even(balance * rate)
        rows.append(
            ScheduledInstallment(
                number=number,
                due_date=first_due + relativedelta(months=number - 1) if first_due else None,
                principal=0,
                interest=interest,
                amount=interest,
                balance_after=balance,
            )
        )
    amortising = months - grace_months
    installment = level_installment(principal, annual_rate_bps, amortising)
    for step in range(1, amortising + 1):
        number = grace_months + step
        interest = _round_half_even(balance * rate)
        part = balance if step == amortising else min(balance, max(installment - interest, 0))
        balance -= part
        rows.append(
            ScheduledInstallment(
                number=number,
                due_date=first_due + relativedelta(months=number - 1) if first_due else None,
                principal=part,
                interest=interest,
                amount=part + interest,
                balance_after=balance,
            )
        )
    return rows


# --- Multi-disbursement schedules ------------------------------------------------------------


def first_due_date(first_tranche_on: date) -> date:
    """One month after the first tranche, on its day of the month (at most the 28th)."""
    month_index = first_tranche_on.month  # the next month, 0-based
    return date(
        first_tranche_on.year + month_index // 12,
        month_index % 12 + 1,
        min(first_tranche_on.day, 28),
    )


def periods(first_tranche_on: date, months: int) -> list[tuple[date, date]]:
    """(start, due) of installments 1..months of a loan first disbursed on `first_tranche_on`."""
    first = first_due_date(first_tranche_on)
    dues = [first + relativedelta(months=k) for k in range(months)]
    return list(zip([first_tranche_on, *dues[:-1]], dues))


def period_interest(
    start: date,
    due: date,
    opening: int,
    changes: Sequence[tuple[date, int]],
    annual_rate_bps: int,
    *,
    until: date | None = None,
) -> Fraction:
    """Exact interest of the period [start, due) (rule 1), or of its part before `until`.

    `opening` is the balance on `start`; `changes` are the (date, delta) changes inside the
    period (start < date < due), in date order.
    """
    days = (due - start).days
    end = due if until is None else max(start, min(until, due))
    weighted = 0
    balance, at = opening, start
    for when, delta in changes:
        if when >= end:
            break
        weighted += balance * (when - at).days
        balance, at = balance + delta, when
    weighted += balance * (end - at).days
    return monthly_rate(annual_rate_bps) * weighted / days


def reschedule(
    *,
    periods: Sequence[tuple[date, date]],
    frozen: Sequence[Row],
    changes: Sequence[tuple[date, int]],
    annual_rate_bps: int,
    grace_months: int = 0,
    level: int | None = None,
) -> tuple[list[Row], int]:
    """Rows for the open installments (rule 2) and the level installment used.

    `periods` are (start, due) of installments 1..M of the schedule as it stands; `frozen` its
    first rows, which stay as they are; `changes` every balance change so far, (date, +tranche
    or -early repayment). With `level` (``shorten_term``) the level installment is kept and the
    rows after the balance runs out are left out; otherwise it is the annuity of the principal
    outstanding over the open installments after the grace months.
    """
    f = len(frozen)
    open_periods = list(periods[f:])
    if not open_periods:
        raise ValueError("no open installment left to schedule")
    ordered = sorted(changes)
    first_start = open_periods[0][0]
    frozen_principal = sum(r.principal for r in frozen)
    balance = sum(d for when, d in ordered if when <= first_start) - frozen_principal
    outstanding = sum(d for _, d in ordered) - frozen_principal
    if balance < 0 or outstanding < 0:
        raise ValueError("the frozen installments repay more than was disbursed")
    amortising = sum(1 for n in range(f + 1, f + len(open_periods) + 1) if n > grace_months)
    if level is None:
        level = (
            level_installment(outstanding, annual_rate_bps, amortising)
            if amortising and outstanding > 0
            else 0
        )
    rows: list[Row] = []
    for index, (start, due) in enumerate(open_periods):
        number = f + 1 + index
        inside = [(w, d) for w, d in ordered if start < w < due]
        interest = _round_half_even(period_interest(start, due, balance, inside, annual_rate_bps))
        balance += sum(d for _, d in inside)
        last = index == len(open_periods) - 1
        if last:
            part = balance
        elif number <= grace_months:
            part = 0
        else:
            part = min(balance, max(level - interest, 0))
        balance -= part
        rows.append(Row(number=number, start=start, due=due, principal=part, interest=interest))
        if balance == 0 and number > grace_months:
            break  # repaid: no installment after this one
    return rows, level


def accrued_interest(
    row: Row, opening: int, changes: Sequence[tuple[date, int]], annual_rate_bps: int, on: date
) -> int:
    """Interest of an open installment's period accrued before `on` (a full repayment's)."""
    inside = [(w, d) for w, d in sorted(changes) if row.start < w < row.due]
    return _round_half_even(
        period_interest(row.start, row.due, opening, inside, annual_rate_bps, until=on)
    )


# --- Loan quality ----------------------------------------------------------------------------

# (collectability, first day past due it applies from, label); POJK 40/POJK.03/2019.
COLLECTABILITY = (
    (1, 0, "Lancar"),
    (2, 1, "Dalam Perhatian Khusus"),
    (3, 91, "Kurang Lancar"),
    (4, 121, "Diragukan"),
    (5, 181, "Macet"),
)


def collectability(days_past_due: int) -> int:
    """Kolektibilitas 1-5 of a loan whose oldest unpaid installment is that many days late."""
    grade = 1
    for value, from_day, _label in COLLECTABILITY:
        if days_past_due >= from_day:
            grade = value
    return grade


def collectability_label(grade: int) -> str:
    return next(label for value, _d, label in COLLECTABILITY if value == grade)
