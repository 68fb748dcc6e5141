"""The jobs the scheduler knows. Each takes (session, now) and returns counts; each is idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from sqlalchemy.orm import Session

Job = Callable[[Session, dt.datetime], dict[str, Any]]


def expire_holds(session: Session, now: dt.datetime) -> dict[str, Any]:
    """Cancel booking holds whose hold period ran out (running it again expires nothing new)."""
    from factoryshare.services import bookings

    return {"expired": bookings.expire_holds(session, now)}


def installments_due(session: Session, now: dt.datetime) -> dict[str, Any]:
    """Mark unpaid installments past their due date overdue, with days in arrears."""
    from factoryshare.services import loans

    return loans.mark_installments_due(session, now.date())


JOBS: dict[str, Job] = {
    "expire_holds": expire_holds,
    "installments_due": installments_due,
}

# How often the scheduler runs each job (minutes).
INTERVALS: dict[str, int] = {
    "expire_holds": 5,
    "installments_due": 60,
}
