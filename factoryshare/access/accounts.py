"""Scope rules of the accounts and the audit log.

User accounts are kept by admins: no other role lists or reads them (a user reads and edits
its own profile through the signed-in session, not through a scoped load). The audit log is
an admin's; a manager also reads the events about the objects of the houses it manages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import false

from factoryshare.models import AuditEvent, Role

if TYPE_CHECKING:
    from factoryshare.access import Actor


def user_scope(actor: Actor) -> Any:
    """Accounts: admins only."""
    return false()


def audit_event_scope(actor: Actor) -> Any:
    """A manager sees the events about objects of its houses (their house is kept on the
    event); every other role none."""
    if actor.role is Role.manager:
        return AuditEvent.house_id.in_(actor.house_ids)
    return false()
