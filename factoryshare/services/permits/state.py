"""The derived state of a permit (valid, expiring, expired, pending, needs_review) and
whether an entry counts at the gate.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from factoryshare.db import utcnow
from factoryshare.models import ProductionHouse
from factoryshare.models.permits import Permit, PermitStatus, PermitVerification
from factoryshare.services import calendar
from factoryshare.services.permits.core import house_of

STATES = ("valid", "expiring", "expired", "pending", "needs_review")
VERIFICATIONS = tuple(v.value for v in PermitVerification)


# -- derived state ----------------------------------------------------------------------------


def local_today(house: ProductionHouse, now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(calendar.house_zone(house)).date()


def lapse_moment(house: ProductionHouse, expires_on: dt.date) -> dt.datetime:
    """The instant a permit stops being valid: 00:00 house time the day after `expires_on`."""
    local = dt.datetime.combine(
        expires_on + dt.timedelta(days=1), dt.time(0), tzinfo=calendar.house_zone(house)
    )
    return local.astimezone(dt.UTC)


def state_on(permit: Permit, today: dt.date) -> str:
    if permit.status is PermitStatus.pending:
        return "pending"
    if permit.status is PermitStatus.needs_review:
        return "needs_review"
    if permit.expires_on is None:
        return "valid"
    if today > permit.expires_on:
        return "expired"
    if (permit.expires_on - today).days <= permit.permit_type.renewal_window_days:
        return "expiring"
    return "valid"


def state(session: Session, permit: Permit, now: dt.datetime | None = None) -> str:
    return state_on(permit, local_today(house_of(session, permit.member_id), now))


def days_left(session: Session, permit: Permit, now: dt.datetime | None = None) -> int | None:
    if permit.expires_on is None:
        return None
    return (permit.expires_on - local_today(house_of(session, permit.member_id), now)).days


def counts(house: ProductionHouse, permit: Permit) -> bool:
    """Whether the entry counts at the gate: verified, or submitted in a house that trusts its
    members' entries. A rejected permit never counts."""
    if permit.verification is PermitVerification.verified:
        return True
    return permit.verification is PermitVerification.submitted and bool(house.trust_member_permits)


def counts_for_gate(session: Session, permit: Permit) -> bool:
    return counts(house_of(session, permit.member_id), permit)
