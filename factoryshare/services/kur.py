"""KUR schemes (dated reference rows) and the eligibility check for a requested loan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.errors import NotFound, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.messages import rupiah
from factoryshare.models.financing import KurScheme, KurSchemeCode


def list_schemes(session: Session, actor: Actor, *, on: dt.date | None = None) -> Select[KurScheme]:
    """Every scheme (or those in force on `on`), by code, then first day in force, then id."""
    stmt = select(KurScheme).order_by(KurScheme.code, KurScheme.valid_from, KurScheme.id)
    if on is not None:
        stmt = stmt.where(
            KurScheme.valid_from <= on, or_(KurScheme.valid_to.is_(None), KurScheme.valid_to > on)
        )
    return stmt


def scheme_in_force(session: Session, code: KurSchemeCode, on: dt.date) -> KurScheme:
    scheme = session.scalars(
        select(KurScheme)
        .where(
            KurScheme.code == code,
            KurScheme.valid_from <= on,
            or_(KurScheme.valid_to.is_(None), KurScheme.valid_to > on),
        )
        .order_by(KurScheme.valid_from.desc())
    ).first()
    if scheme is None:
        raise NotFound(N_("No KUR scheme of that kind is in force on that date."))
    return scheme


@dataclass(frozen=True)
class Request:
    amount: int
    tenor_months: int
    purpose: str  # "working_capital" or "investment"
    annual_turnover: int
    has_npwp: bool


def check_eligibility(scheme: KurScheme, request: Request) -> None:
    """Raise ValidationFailed naming every rule the request breaks."""
    errors: dict[str, list[str]] = {}
    if request.amount < scheme.min_amount or request.amount > scheme.ceiling:
        errors.setdefault("amount", []).append(
            N_(
                "%(scheme)s lends from %(minimum)s to %(ceiling)s.",
                scheme=scheme.name,
                minimum=rupiah(scheme.min_amount),
                ceiling=rupiah(scheme.ceiling),
            )
        )
    max_tenor = (
        scheme.max_tenor_investment_months
        if request.purpose == "investment"
        else scheme.max_tenor_working_capital_months
    )
    if request.tenor_months < 1 or request.tenor_months > max_tenor:
        errors.setdefault("tenor_months", []).append(
            N_(
                "%(scheme)s allows at most %(max_tenor)s months for this purpose.",
                scheme=scheme.name,
                max_tenor=max_tenor,
            )
        )
    if request.annual_turnover > scheme.turnover_cap:
        errors.setdefault("annual_turnover", []).append(
            "KUR is only for businesses with a turnover of at most Rp4.800.000.000 a year."
            if scheme.turnover_cap == 4_800_000_000
            else "The turnover is above this scheme's cap."
        )
    if (
        scheme.npwp_required_above is not None
        and request.amount > scheme.npwp_required_above
        and not request.has_npwp
    ):
        errors.setdefault("npwp", []).append(N_("An NPWP is required for a loan of this size."))
    if errors:
        raise ValidationFailed(N_("The loan does not fit the KUR scheme."), errors=errors)
