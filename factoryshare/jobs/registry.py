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


JOBS: dict[str, Job] = {
    "expire_holds": expire_holds,
}

# How often the scheduler runs each job (minutes).
INTERVALS: dict[str, int] = {
    "expire_holds": 5,
}
