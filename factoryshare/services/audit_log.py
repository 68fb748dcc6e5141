"""Reading the audit trail: who did what to which object, when, with before and after.

Admins read every event; a manager reads the events about objects of the houses it manages
(each event keeps the house of its object from when it was recorded), other roles none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from factoryshare.access import Actor, scoped
from factoryshare.models import AuditEvent, Role
from factoryshare.paging import Page, keyset_page


def list_events(
    session: Session,
    actor: Actor,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    house_id: int | None = None,
) -> Select[tuple[AuditEvent]]:
    actor.require(Role.admin, Role.manager)
    stmt = scoped(actor, AuditEvent)
    if house_id is not None:
        stmt = stmt.where(AuditEvent.house_id == house_id)
    if object_type is not None:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    # Newest first: the trail is read to find out what just happened.
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def page_of_events(
    session: Session,
    actor: Actor,
    *,
    page: int = 1,
    page_size: int = 20,
    after: tuple[Any, ...] | None = None,
    **filters: Any,
) -> Page[AuditEvent]:
    """One page of the trail, newest first, by page number or after the position (at, id) of
    the page before: a range of the index on (at, id) (factoryshare.paging)."""
    return keyset_page(
        session,
        list_events(session, actor, **filters),
        (AuditEvent.at, AuditEvent.id),
        descending=True,
        page=page,
        page_size=page_size,
        after=after,
    )
