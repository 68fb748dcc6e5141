"""Scope rule of notifications: a message is its recipient's.

Everyone sees only the messages addressed to them; admins see all (to follow the outbox),
but only the recipient marks a message read (`addressed_to`, which holds for admins too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from factoryshare.models.notifications import Notification

if TYPE_CHECKING:
    from factoryshare.access import Actor


def addressed_to(actor: Actor) -> Any:
    """The messages whose recipient is the actor itself, whatever its role."""
    return Notification.user_id == actor.user_id


def notification_scope(actor: Actor) -> Any:
    """Every role but admin: its own messages."""
    return addressed_to(actor)
