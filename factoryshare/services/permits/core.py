"""What the modules of the permits package share: scope, the error shape, members and
their houses kept for a session, who may write a member's permits, who is told, verification marks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.db import utcnow
from factoryshare.errors import Forbidden, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Member, ProductionHouse, Role, User
from factoryshare.models.accounts import house_managers
from factoryshare.models.permits import (
    Permit,
    PermitVerification,
    PermitVerificationRecord,
)


def fail(field: str, message: str) -> ValidationFailed:
    """The 422 error naming `field`, with `message` as its text."""
    return ValidationFailed(message, errors={field: [message]})


# session.info key: members and their houses held for the session's life (the identity map
# holds objects weakly, so a list asking for the house of each of many permits read them again).
_KEPT = "permits_members_kept"


def house_of(session: Session, member_id: int) -> ProductionHouse:
    """The house of a member, the member and house kept for the session's life."""
    member = session.get(Member, member_id)
    assert member is not None
    house = session.get(ProductionHouse, member.house_id)
    assert house is not None
    session.info.setdefault(_KEPT, {})[member_id] = (member, house)
    return house


def keep_members(session: Session, member_ids: Iterable[int]) -> None:
    """Read the members of a list's permits and their houses, two statements for the whole list."""
    wanted = sorted(set(member_ids) - set(session.info.get(_KEPT, {})))
    if not wanted:
        return
    members = list(session.scalars(select(Member).where(Member.id.in_(wanted))))
    houses = {
        h.id: h
        for h in session.scalars(
            select(ProductionHouse).where(ProductionHouse.id.in_({m.house_id for m in members}))
        )
    }
    kept = session.info.setdefault(_KEPT, {})
    for m in members:
        kept[m.id] = (m, houses[m.house_id])


def may_write(session: Session, actor: Actor, member: Member) -> None:
    """Forbidden unless the actor is the member or manages the member's house (or is admin)."""
    actor.require(Role.admin, Role.manager, Role.member)
    if not (
        (actor.role is Role.member and actor.member_id == member.id)
        or actor.manages(member.house_id)
    ):
        raise Forbidden(N_("Your role may not change this member's permits."))


def entered_by(actor: Actor, permit: Permit, member: Member, now: dt.datetime) -> None:
    """A new or changed entry: verified in the name of a manager of the member's house or an
    admin who made it, else (the member's own) submitted until someone checks it."""
    verifier = actor.role in (Role.admin, Role.manager) and actor.manages(member.house_id)
    set_verification(
        permit,
        actor,
        PermitVerification.verified if verifier else PermitVerification.submitted,
        None,
        now,
    )


def set_verification(
    permit: Permit, actor: Actor, to: PermitVerification, note: str | None, now: dt.datetime | None
) -> None:
    """Mark the permit `to` and record who did it, when, with what note."""
    permit.verification = to
    permit.verification_records.append(
        PermitVerificationRecord(
            verification=to, by_id=actor.user_id, at=now or utcnow(), note=note or None
        )
    )


def member_user_ids(session: Session, member_id: int) -> list[int]:
    """The active users of a member (who is told about its permits)."""
    return list(
        session.scalars(
            select(User.id).where(User.member_id == member_id, User.is_active.is_(True))
        )
    )


def manager_ids(session: Session, house_id: int) -> list[int]:
    """The users who manage a house."""
    return list(
        session.scalars(
            select(house_managers.c.user_id).where(house_managers.c.house_id == house_id)
        )
    )
