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


def permit_watch(session: Session, now: dt.datetime) -> dict[str, Any]:
    """Permit states, expiry reminders and bookings/loans at risk; acts from 07:00 house time."""
    from factoryshare.services import permits

    return permits.run_watch(session, now)


def link_financing(session: Session, now: dt.datetime) -> dict[str, Any]:
    """Attach cluster members' bookings of financed products to the loan that finances them."""
    from factoryshare.services import financing_jobs

    return financing_jobs.link_financing(session, now)


def release_unfunded_holds(session: Session, now: dt.datetime) -> dict[str, Any]:
    """Cancel held bookings whose financing was rejected or declined, and tell the member."""
    from factoryshare.services import financing_jobs

    return financing_jobs.release_unfunded_holds(session, now)


JOBS: dict[str, Job] = {
    "expire_holds": expire_holds,
    "installments_due": installments_due,
    "permit_watch": permit_watch,
    "link_financing": link_financing,
    "release_unfunded_holds": release_unfunded_holds,
}

# How often the scheduler runs each job (minutes).
INTERVALS: dict[str, int] = {
    "expire_holds": 5,
    "installments_due": 60,
    # Hourly, but it only acts from 07:00 house time and each step is done once a day at most.
    "permit_watch": 60,
    "link_financing": 15,
    "release_unfunded_holds": 15,
}
