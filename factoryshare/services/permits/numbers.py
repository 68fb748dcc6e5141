"""Permit numbers and dates: the number format per type, the dates a type allows."""

from __future__ import annotations

import datetime as dt
import re

from factoryshare import validation
from factoryshare.errors import ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models.permits import Expiry, PermitStatus, PermitType
from factoryshare.services.permits.core import fail

# -- number formats ---------------------------------------------------------------------------

_SEP = re.compile(r"[\s.\-/]")


def validate_number(code: str, number: str, expires_on: dt.date | None = None) -> str:
    """The normalised permit number for a type code, or ValidationFailed naming the field."""
    raw = (number or "").strip()
    if code == "nib":
        return validation.nib(raw, field="number")
    if code == "pirt":
        digits = _SEP.sub(
            "",
            re.sub(r"^(no\.?\s*)?(sppirt|spp-irt|p-?irt)\s*(no\.?)?\s*:?\s*", "", raw, flags=re.I),
        )
        if not re.fullmatch(r"\d{15}", digits):
            raise fail("number", N_("A P-IRT number is 15 digits, written 1234567890123-45."))
        if expires_on is not None and int(digits[13:]) != expires_on.year % 100:
            message = N_(
                "The last two digits of the P-IRT number (%(digits)s) are its expiry "
                "year, but the expiry date is in %(year)s.",
                digits=digits[13:],
                year=expires_on.year,
            )
            raise ValidationFailed(message, errors={"number": [message], "expires_on": [message]})
        return f"{digits[:13]}-{digits[13:]}"
    if code in ("bpom_md", "bpom_ml"):
        prefix = "MD" if code == "bpom_md" else "ML"
        m = re.fullmatch(r"(?:BPOM\s*RI\s*)?(MD|ML)\s*([\d\s.]+)", raw, flags=re.I)
        digits = _SEP.sub("", m.group(2)) if m else ""
        if m is None or m.group(1).upper() != prefix or not re.fullmatch(r"\d{12,16}", digits):
            raise fail(
                "number",
                N_(
                    "A BPOM %(prefix)s number reads 'BPOM RI %(prefix)s' "
                    "followed by 12 to 16 digits.",
                    prefix=prefix,
                ),
            )
        return f"BPOM RI {prefix} {digits}"
    if code == "halal":
        compact = _SEP.sub("", raw).upper()
        if re.fullmatch(r"ID\d{17}", compact) or re.fullmatch(r"(LPPOM)?\d{14}", compact):
            return compact
        raise fail(
            "number",
            N_(
                "A BPJPH halal certificate number is ID followed by 17 digits "
                "(an older MUI number has 14 digits)."
            ),
        )
    if code == "trademark":
        compact = _SEP.sub("", raw).upper()
        if re.fullmatch(r"IDM\d{9}", compact) or re.fullmatch(r"[DJ]ID\d{10}", compact):
            return compact
        raise fail(
            "number",
            N_(
                "A trademark number is IDM + 9 digits (registered) or "
                "DID/JID + 10 digits (application)."
            ),
        )
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ./\-]{2,59}", raw):
        raise fail(
            "number",
            N_(
                "Give the certificate number as printed (3 to 60 letters, digits, "
                "dots, dashes or slashes)."
            ),
        )
    return raw


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_dates(
    ptype: PermitType, status: PermitStatus, issued_on: dt.date | None, expires_on: dt.date | None
) -> None:
    if ptype.expiry is Expiry.none and expires_on is not None:
        raise fail(
            "expires_on", N_("A %(ptype)s has no expiry date; leave it empty.", ptype=ptype.name)
        )
    if (
        ptype.expiry is Expiry.required
        and expires_on is None
        and status is not PermitStatus.pending
    ):
        raise fail("expires_on", N_("A %(ptype)s has an expiry date; give it.", ptype=ptype.name))
    if status is not PermitStatus.pending and issued_on is None:
        raise fail("issued_on", N_("Give the date the permit was issued."))
    if issued_on is not None and expires_on is not None:
        if expires_on <= issued_on:
            raise fail("expires_on", N_("The expiry date must come after the issue date."))
        if ptype.validity_years and expires_on > _add_years(issued_on, ptype.validity_years):
            raise fail(
                "expires_on",
                N_(
                    "A %(ptype)s is valid for at most %(validity_years)s "
                    "years from its issue date.",
                    ptype=ptype.name,
                    validity_years=ptype.validity_years,
                ),
            )
