"""Pure annuity schedules for KUR loans: integer rupiah, half-even rounding.

Each month's interest is the declining balance times the monthly rate, rounded half-even to
the rupiah; the level installment is rounded half-even once; the last installment absorbs the
remainder so that the principal sums exactly to the amount lent (Apache Fineract's rule).
Grace months (``grace_months``) pay interest only; the annuity runs over the remaining months.
No database access here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

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


def _round_half_even(value: Fraction) -> int:
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _add_months(start: date, months: int) -> date:
    import calendar

    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def level_installment(principal: int, annual_rate_bps: int, months: int) -> int:
    """The level monthly installment, rounded half-even to the rupiah."""
    rate = Fraction(annual_rate_bps, 10000 * 12)
    if rate == 0:
        return _round_half_even(Fraction(principal, months))
    factor = (1 + rate) ** months
    return _round_half_even(principal * rate * factor / (factor - 1))


def annuity_schedule(
    principal: int,
    annual_rate_bps: int,
    months: int,
    *,
    grace_months: int = 0,
    first_due: date | None = None,
) -> list[ScheduledInstallment]:
    """The whole schedule; principal of the rows sums exactly to ``principal``."""
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

    rate = Fraction(annual_rate_bps, 10000 * 12)
    rows: list[ScheduledInstallment] = []
    balance = principal
    for number in range(1, grace_months + 1):
        interest = _round_half_even(balance * rate)
        rows.append(
            ScheduledInstallment(
                number=number,
                due_date=_add_months(first_due, number - 1) if first_due else None,
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
        if step == amortising:
            part = balance
        else:
            part = min(balance, max(installment - interest, 0))
        balance -= part
        rows.append(
            ScheduledInstallment(
                number=number,
                due_date=_add_months(first_due, number - 1) if first_due else None,
                principal=part,
                interest=interest,
                amount=part + interest,
                balance_after=balance,
            )
        )
    return rows
