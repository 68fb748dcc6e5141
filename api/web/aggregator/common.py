"""What the aggregator's pages share, and with them the lender's (api/web/lender.py): who may
open them, the words for statuses, decisions and collectability, the parsers of typed amounts,
counts and dates, and the zone a loan's times are shown in."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask_babel import get_locale
from flask_babel import gettext as _

from api.web import said
from factoryshare.models import ProductionHouse, Role
from factoryshare.models.financing import DecisionKind, LoanStatus
from factoryshare.services import loan_review

# Admins may endorse through the API too, so they may open these pages; the menu is the
# aggregator's.
ROLES = (Role.aggregator, Role.admin)

MAX_NOTE = 1000


# --- words shared with the lender's pages ------------------------------------------------


def status_words() -> dict[str, str]:
    return {
        LoanStatus.draft.value: _("draft"),
        LoanStatus.submitted.value: _("waiting for your decision"),
        LoanStatus.changes_requested.value: _("sent back for changes"),
        LoanStatus.approved.value: _("approved"),
        LoanStatus.rejected.value: _("rejected"),
        LoanStatus.lender_approved.value: _("approved by the lender"),
        LoanStatus.lender_declined.value: _("declined by the lender"),
        LoanStatus.disbursing.value: _("being disbursed"),
        LoanStatus.repaying.value: _("repaying"),
        LoanStatus.closed.value: _("repaid"),
    }


def role_words() -> dict[str, str]:
    return {
        Role.admin.value: _("administrator"),
        Role.manager.value: _("manager"),
        Role.member.value: _("member"),
        Role.aggregator.value: _("aggregator"),
        Role.lender.value: _("lender"),
    }


def decision_words(entry: loan_review.DecisionEntry) -> str:
    """What a decision on record did, in words."""
    if entry.kind is DecisionKind.endorsed:
        if entry.approvals_needed == 2 and entry.approval == 1:
            return _("first approval of two (above the approval limit)")
        if entry.approvals_needed == 2:
            return _("second approval: approved by the aggregator")
        return _("approved by the aggregator")
    return {
        DecisionKind.submitted: _("submitted to the aggregator"),
        DecisionKind.changes_requested: _("sent back for changes"),
        DecisionKind.rejected: _("rejected by the aggregator"),
        DecisionKind.lender_approved: _("approved by the lender"),
        DecisionKind.lender_declined: _("declined by the lender"),
        DecisionKind.tranche: _("tranche paid out"),
    }[entry.kind]


def collectability_words() -> dict[int, str]:
    """Kolektibilitas 1-5 (POJK 40/POJK.03/2019): the regulation's Indonesian name and, on
    English pages, its usual English name."""
    return {
        1: _("1 · current (lancar): nothing past due"),
        2: _("2 · special mention (dalam perhatian khusus): 1-90 days past due"),
        3: _("3 · substandard (kurang lancar): 91-120 days past due"),
        4: _("4 · doubtful (diragukan): 121-180 days past due"),
        5: _("5 · loss (macet): more than 180 days past due"),
    }


def installment_status_words() -> dict[str, str]:
    return {"due": _("to pay"), "overdue": _("overdue"), "paid": _("paid")}


def hours(minutes: int) -> str:
    """Machine minutes as hours with one decimal in the page's language ('2,5' in Indonesian)."""
    return format_decimal(round(minutes / 60, 1), format="#,##0.0", locale=str(get_locale()))


def percent(value: float | None) -> str:
    """A yearly rate as written in the page's language ('6,5%' in Indonesian)."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##", locale=str(get_locale())) + "%"


def words_context() -> dict[str, Any]:
    """What the loan templates of both roles need to say things."""
    return {
        "status_words": status_words(),
        "role_words": role_words(),
        "decision_words": decision_words,
        "collectability_words": collectability_words(),
        "installment_words": installment_status_words(),
        "percent": percent,
        "said": said,
    }


def parse_amount(value: str | None) -> int | None:
    """Whole rupiah as typed, read by babel in the page's language ('1.500.000' or
    '1.500.000,00' in Indonesian, '1,500,000' in English) or else the Indonesian way every page
    shows amounts (Rp1.500.000); an 'Rp' before it and spaces are ignored. None when empty, -1
    when it is not a whole number of rupiah (the service then names the field)."""
    text = "".join((value or "").split())
    if text[:2].lower() == "rp":
        text = text[2:]
    if not text:
        return None
    if not re.fullmatch(r"[0-9.,]+", text):
        return -1  # signs, exponents, NaN: not typed amounts
    for locale in dict.fromkeys((str(get_locale()), "id")):
        try:
            amount = parse_decimal(text, locale=locale, strict=True)
        except NumberFormatError:
            continue
        if amount != amount.to_integral_value() or amount >= 10**15:
            return -1  # sen, or more rupiah than any loan
        return int(amount)
    return -1


def parse_day(value: str | None) -> dt.date | None:
    """A date from an <input type=date> (YYYY-MM-DD); None when empty or not a date."""
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def parse_count(value: str | None) -> int | None:
    text = (value or "").replace(".", "").strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


# --- the zone times are shown in ----------------------------------------------------------


def zone_of(house: ProductionHouse | None) -> ProductionHouse | str:
    # Without a house (no cluster house, no booking) times are shown in WIB.
    return house if house is not None else "Asia/Jakarta"
