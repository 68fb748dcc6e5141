"""The jobs the scheduler knows. Each takes (session, now) and returns counts; each is idempotent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

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
    """Permit states, expiry reminders and bookings/loans at risk; daily at 07:00 house time."""
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


def send_outbox(session: Session, now: dt.datetime) -> dict[str, Any]:
    """Send the due e-mails of the notification outbox (SMTP when SMTP_HOST is set, else the
    log); each once, a failure retried later with back-off and at most MAX_ATTEMPTS times."""
    from factoryshare.services import notifications

    return notifications.send_outbox(session, now).as_dict()


def installment_reminders(session: Session, now: dt.datetime) -> dict[str, Any]:
    """Tell the cluster of installments due within three days and of overdue ones, once each."""
    from factoryshare.subscribers import financing

    return financing.remind_installments(session, now)


JOBS: dict[str, Job] = {
    "expire_holds": expire_holds,
    "installments_due": installments_due,
    "permit_watch": permit_watch,
    "link_financing": link_financing,
    "release_unfunded_holds": release_unfunded_holds,
    "send_outbox": send_outbox,
    "installment_reminders": installment_reminders,
}

# How often the scheduler runs each job (minutes).
INTERVALS: dict[str, int] = {
    "expire_holds": 5,
    "installments_due": 60,
    "link_financing": 15,
    "release_unfunded_holds": 15,
    "send_outbox": 1,
    # Daily: each installment is told of once per kind whenever the job runs.
    "installment_reminders": 24 * 60,
}

# Jobs run once a day at a time of day in the house's zone instead of every few minutes: the
# scheduler fires them at that time in each of Indonesia's zones (and once just after it
# starts, so a scheduler started late still runs the day's). A run acts only on the houses
# whose local time has reached it, and each step is done once a day at most.
DAILY_AT: dict[str, dt.time] = {
    "permit_watch": dt.time(7, 0),
}
